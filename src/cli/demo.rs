//! `chatref demo`: start the service on a fresh demo database, run a simulated month of
//! traffic through it, write the report folder, and keep serving.

use std::{path::PathBuf, sync::Arc};

use anyhow::{Context, bail};
use clap::Args;
use rand::{Rng, distr::Alphanumeric};
use time::Duration;

use crate::{
    app::Application,
    clock::SimulatedClock,
    config::Config,
    demo::{self, Demo},
    reports::{self, ReportRequest},
    secret::Secret,
};

/// The demo's own database, so a real `chatref.db` is never touched.
const DEMO_DATABASE: &str = "chatref-demo.db";
/// The dashboard user the demo creates (an admin; the password is printed once per run).
const DEMO_EMAIL: &str = "demo@chatref.example";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the simulated month: the same seed gives the same month.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// SQLite file to create afresh (removed first if it exists).
    #[arg(long, default_value = DEMO_DATABASE)]
    database: PathBuf,
    /// Folder for the report.
    #[arg(long, default_value = "reports/demo")]
    out: PathBuf,
    /// Seed, write the report and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
}

pub async fn run(mut config: Config, args: DemoArgs) -> anyhow::Result<()> {
    if args.database.extension().is_none_or(|e| e != "db") {
        bail!("--database must be a .db file (it is deleted and created afresh)");
    }
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", args.database.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    config.database_url = format!("sqlite://{}", args.database.display());
    // The demo's visitors come from several countries through X-Forwarded-For.
    config.trust_forwarded = true;
    let token = match &config.admin_token {
        Some(token) => token.expose().to_owned(),
        None => {
            let token: String = rand::rng()
                .sample_iter(Alphanumeric)
                .take(24)
                .map(char::from)
                .collect();
            config.admin_token = Some(Secret::new(token.clone()));
            token
        }
    };
    let today = config.timezone.today();
    let last_day = today - Duration::days(1);
    let clock = Arc::new(SimulatedClock::new(config.timezone.start_of(last_day)));
    let zone = config.timezone.clone();
    let app = Application::build_with_clock(config, clock.clone()).await?;
    let addr = app.local_addr();
    let base = format!("http://{addr}");
    let db = app.state().db.clone();
    let metrics = app.state().metrics.clone();
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(app.run_until(stop.clone().cancelled_owned()));

    eprintln!("seeding {} days of traffic into {base} …", demo::DAYS);
    let summary = Demo::new(base.clone(), token.clone(), clock.clone(), args.seed)
        .run(last_day, demo::DAYS)
        .await?;
    clock.release();
    // Every answered click is in the database before the report is made.
    let answered = (summary.clicks + summary.bots) as u64;
    let settled =
        || metrics.clicks_stored_total() + metrics.dropped_total() + metrics.clicks_failed_total();
    while settled() < answered {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Someone to sign in to the dashboard as, with a password made for this run.
    let password: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(16)
        .map(char::from)
        .collect();
    crate::users::create_user(
        &db,
        crate::users::UserRequest {
            email: DEMO_EMAIL.into(),
            role: "admin".into(),
            password: crate::users::NewPassword::parse(password.clone())?,
        },
    )
    .await?;

    let from = last_day - Duration::days(demo::DAYS - 1);
    let request = ReportRequest {
        from: Some(from.to_string()),
        to: Some(last_day.to_string()),
        ..ReportRequest::default()
    };
    let report = reports::funnel(&db, &zone, &request).await?;
    let csv = reports::csv::render(&report);
    tokio::task::block_in_place(|| reports::folder::write(&args.out, &report, &csv))?;

    println!(
        "Seeded {} campaigns: {} clicks (+{} link-preview bots), {} first messages ({} redelivered), {} form leads.",
        summary.campaigns,
        summary.clicks,
        summary.bots,
        summary.first_messages,
        summary.redeliveries,
        summary.form_leads
    );
    println!("{}", report.comparison.verdict);
    println!();
    println!("  Report:      {}/index.html", args.out.display());
    println!("  Admin token: {token}");
    println!(
        "  JSON:        curl -H 'Authorization: Bearer {token}' '{base}/api/reports/funnel?from={from}&to={last_day}'"
    );
    println!("  Dashboard:   {base}/login  (email {DEMO_EMAIL}, password {password})");
    println!(
        "  HTML page:   {base}/reports/funnel?from={from}&to={last_day} (signed in, or the same header)"
    );
    if args.no_serve {
        stop.cancel();
        server.await??;
        return Ok(());
    }
    println!("Serving on {base}; Ctrl-C to stop.");
    crate::app::shutdown_signal().await;
    stop.cancel();
    server.await??;
    Ok(())
}
