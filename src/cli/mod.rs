//! The `chatref` command line: `serve`, `migrate`, and the same account / campaign / link
//! operations as the API, straight on the database, printed as a table or as JSON.

mod attribution;
mod catalog;
mod demo;
mod output;
mod qr;
mod report;
mod spend;
mod users;
mod webhooks;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{app::Application, config::Config, db::Db, telemetry};

/// Ref-tagged chat links, short links and first-message attribution.
#[derive(Debug, Parser)]
#[command(name = "chatref", version, about)]
pub struct Cli {
    /// TOML file with settings (environment variables CHATREF_* override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (redirects, API, webhooks) until Ctrl-C or SIGTERM.
    Serve,
    /// Start the service on a fresh demo database with a simulated month of campaigns,
    /// clicks, chats, landing-page leads and spend; write its report and keep serving.
    Demo(demo::DemoArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Chat accounts (one per platform presence).
    #[command(subcommand)]
    Account(catalog::AccountCommand),
    /// Campaigns.
    #[command(subcommand)]
    Campaign(catalog::CampaignCommand),
    /// Short links and their deep links.
    #[command(subcommand)]
    Link(catalog::LinkCommand),
    /// Contacts (customers who started a chat) and where they came from.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// First-message attribution.
    #[command(subcommand)]
    Attribution(AttributionCommand),
    /// The stored raw webhook log.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// QR codes: single codes, print sheets, ZIPs per store.
    #[command(subcommand)]
    Qr(qr::QrCommand),
    /// Ad spend: add a day, list, import an ad platform's export.
    #[command(subcommand)]
    Spend(spend::SpendCommand),
    /// The funnel report (landing page versus direct to chat) as a folder and a summary.
    Report(report::ReportArgs),
    /// Dashboard users and their roles.
    #[command(subcommand)]
    User(users::UserCommand),
    /// API tokens: make one for a user (shown once), list, revoke.
    #[command(subcommand)]
    Token(users::TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// List contacts with source campaign, link, store and method.
    List {
        #[arg(long)]
        campaign: Option<i64>,
        /// Print CSV (for building broadcast segments per source).
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AttributionCommand {
    /// Recompute contacts, leads and touches from every stored webhook payload, in batches.
    /// Stop the service first: webhooks arriving meanwhile would see half-rebuilt contacts.
    /// If interrupted, run it again: it starts over and arrives at the same result.
    Rebuild {
        /// Payloads per transaction.
        #[arg(long, default_value_t = crate::attribution::REBUILD_BATCH, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
        batch_size: usize,
    },
}

/// Parses the arguments, runs the command, and turns failures into a message on stderr
/// and exit code 1 (2 for usage errors, from clap).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.run_until(crate::app::shutdown_signal()).await?;
            Ok(())
        }
        Command::Demo(args) => demo::run(config, args).await,
        Command::Migrate => {
            let db = open_db(&config).await?;
            println!("migrations applied ({})", db.backend());
            Ok(())
        }
        Command::Account(command) => {
            let db = open_db(&config).await?;
            catalog::account(&db, &config, command, cli.json).await
        }
        Command::Campaign(command) => {
            let db = open_db(&config).await?;
            catalog::campaign(&db, command, cli.json).await
        }
        Command::Link(command) => {
            let db = open_db(&config).await?;
            catalog::link(&db, &config, command, cli.json).await
        }
        Command::Contact(ContactCommand::List { campaign, csv }) => {
            let db = open_db(&config).await?;
            if csv {
                // A page at a time: a million contacts are never held at once.
                let mut before = None;
                let mut header = true;
                loop {
                    let rows =
                        crate::contacts::page(&db, campaign, before, crate::contacts::PAGE).await?;
                    print!("{}", crate::contacts::csv_chunk(&rows, header));
                    header = false;
                    match rows.last() {
                        Some(last) if rows.len() as i64 == crate::contacts::PAGE => {
                            before = Some(last.id)
                        }
                        _ => break,
                    }
                }
                return Ok(());
            }
            let rows = crate::contacts::list(&db, campaign).await?;
            if cli.json {
                output::json(&rows)?;
            } else {
                output::table(
                    &[
                        "id",
                        "platform",
                        "contact",
                        "first seen",
                        "method",
                        "campaign",
                        "store",
                        "click",
                    ],
                    rows.iter()
                        .map(|r| {
                            vec![
                                r.id.to_string(),
                                r.platform.clone(),
                                r.platform_user.clone(),
                                r.first_seen_at.to_string(),
                                r.method.clone(),
                                output::cell(&r.campaign_name),
                                output::cell(&r.store),
                                output::cell(&r.click_id),
                            ]
                        })
                        .collect(),
                );
            }
            Ok(())
        }
        Command::Spend(command) => {
            let db = open_db(&config).await?;
            spend::run(&db, command, cli.json).await
        }
        Command::Report(args) => {
            let db = open_db(&config).await?;
            report::run(&db, &config, args, cli.json).await
        }
        Command::Qr(command) => {
            let db = open_db(&config).await?;
            qr::run(&db, &config, command).await
        }
        Command::User(command) => {
            let db = open_db(&config).await?;
            users::user(&db, command, cli.json).await
        }
        Command::Token(command) => {
            let db = open_db(&config).await?;
            users::token(&db, command, cli.json).await
        }
        Command::Attribution(AttributionCommand::Rebuild { batch_size }) => {
            let db = open_db(&config).await?;
            attribution::rebuild(&db, &config, batch_size, cli.json).await
        }
        Command::Webhooks(command) => {
            let db = open_db(&config).await?;
            webhooks::run(&db, &config, command, cli.json).await
        }
    }
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    // The error names the server (host and port) or the file, never the password.
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok(db)
}
