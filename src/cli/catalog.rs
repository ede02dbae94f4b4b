//! `chatref account|campaign|link …`: the API's create/list/show operations on the database.

use std::{collections::BTreeMap, path::PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use super::output::{cell, json, table};
use crate::{
    accounts::{self, AccountRequest, AccountView},
    campaigns::{self, CampaignRequest},
    config::Config,
    db::Db,
    links::{
        BulkLinkRequest, LinkRequest, LinkStats, LinkView, StoreRow, TagKey,
        create::{CreateError, create_bulk, create_link},
        store_list::parse_store_csv,
    },
    money::AmountInput,
};

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add a chat account.
    Create {
        #[arg(long)]
        platform: String,
        /// Page name, IG username, WhatsApp number, bot username, Viber URI, LINE id or WeChat id.
        #[arg(long)]
        handle: String,
        #[arg(long)]
        name: Option<String>,
        /// The platform's id for the account, which routes one app's webhook events to it:
        /// Page id, Instagram account id, WhatsApp phone_number_id or LINE bot user id.
        #[arg(long)]
        external_id: Option<String>,
        /// Webhook secret as NAME=VALUE (repeatable), e.g. app_secret=… verify_token=….
        #[arg(long = "secret", value_parser = key_value)]
        secrets: Vec<(String, String)>,
    },
    /// Set or clear the external id of an existing account (its id and webhook URL stay).
    Update {
        id: i64,
        /// Page id, Instagram account id, WhatsApp phone_number_id or LINE bot user id.
        #[arg(long, required_unless_present = "clear_external_id")]
        external_id: Option<String>,
        /// Remove the external id: the account then takes only its own URL's events.
        #[arg(long, conflicts_with = "external_id")]
        clear_external_id: bool,
    },
    /// List accounts.
    List,
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Create a campaign.
    Create {
        #[arg(long)]
        name: String,
        /// direct_to_chat or landing_page.
        #[arg(long)]
        kind: String,
        /// ads, web, offline, social, email or other.
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        budget: Option<String>,
        #[arg(long)]
        starts_on: Option<String>,
        #[arg(long)]
        ends_on: Option<String>,
        /// Meta ad id or Click-to-WhatsApp source_id belonging to this campaign (repeatable).
        #[arg(long = "ad-id")]
        ad_ids: Vec<String>,
    },
    /// List campaigns.
    List,
    /// Show one campaign.
    Show { id: i64 },
    /// Scans, clicks, chats and later conversions per store (one row per link).
    Stores { id: i64 },
}

#[derive(Debug, Args)]
pub struct Target {
    /// Chat account the link opens (direct-to-chat campaigns).
    #[arg(long, conflicts_with = "destination")]
    account: Option<i64>,
    /// Landing page URL (landing-page campaigns).
    #[arg(long)]
    destination: Option<String>,
    /// Greeting prefilled for WhatsApp, LINE and Viber.
    #[arg(long)]
    prefill: Option<String>,
    /// UTM override as utm_KEY=VALUE (repeatable; landing pages).
    #[arg(long = "utm", value_parser = key_value)]
    utm: Vec<(String, String)>,
}

#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Create one link.
    Create {
        #[arg(long)]
        campaign: i64,
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        store: Option<String>,
        /// WeChat links: the code URL WeChat's qrcode/create returned.
        #[arg(long)]
        wechat_qr_url: Option<String>,
    },
    /// Create one link per store from a CSV file with a `store` column (and optional `label`).
    Bulk {
        #[arg(long)]
        campaign: i64,
        #[command(flatten)]
        target: Target,
        #[arg(long, value_name = "CSV")]
        stores: PathBuf,
    },
    /// List a campaign's links.
    List {
        #[arg(long)]
        campaign: i64,
    },
    /// Show one link with its click counts.
    Show { id: i64 },
    /// Change a link's label, store, prefilled text, UTM, WeChat code URL or active flag
    /// (what it points at and its code stay).
    Update(LinkUpdate),
}

/// `chatref link update ID …`: flags left out keep their value; `--clear-…` removes one.
#[derive(Debug, Args)]
pub struct LinkUpdate {
    /// The link's id.
    id: i64,
    #[arg(long, conflicts_with = "clear_label")]
    label: Option<String>,
    #[arg(long)]
    clear_label: bool,
    #[arg(long, conflicts_with = "clear_store")]
    store: Option<String>,
    #[arg(long)]
    clear_store: bool,
    /// Greeting prefilled for WhatsApp, LINE and Viber.
    #[arg(long, conflicts_with = "clear_prefill")]
    prefill: Option<String>,
    #[arg(long)]
    clear_prefill: bool,
    /// UTM override as utm_KEY=VALUE (repeatable; replaces all of the link's overrides).
    #[arg(long = "utm", value_parser = key_value, conflicts_with = "clear_utm")]
    utm: Vec<(String, String)>,
    #[arg(long)]
    clear_utm: bool,
    /// WeChat links: the code URL WeChat's qrcode/create returned.
    #[arg(long, conflicts_with = "clear_wechat_qr_url")]
    wechat_qr_url: Option<String>,
    #[arg(long)]
    clear_wechat_qr_url: bool,
    /// `false` ends the link: it answers a "campaign ended" page and leaves print sheets.
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
    active: Option<bool>,
}

impl LinkUpdate {
    fn patch(self) -> crate::links::LinkPatch {
        let text = |value: Option<String>, clear: bool| match (value, clear) {
            (Some(value), _) => Some(Some(value)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        crate::links::LinkPatch {
            label: text(self.label, self.clear_label),
            store: text(self.store, self.clear_store),
            prefill_text: text(self.prefill, self.clear_prefill),
            utm: match (self.utm.is_empty(), self.clear_utm) {
                (false, _) => Some(Some(self.utm.into_iter().collect())),
                (true, true) => Some(None),
                (true, false) => None,
            },
            wechat_qr_url: text(self.wechat_qr_url, self.clear_wechat_qr_url),
            active: self.active,
        }
    }
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

pub async fn account(
    db: &Db,
    config: &Config,
    command: AccountCommand,
    as_json: bool,
) -> anyhow::Result<()> {
    let views: Vec<AccountView> = match command {
        AccountCommand::Create {
            platform,
            handle,
            name,
            external_id,
            secrets,
        } => {
            let request = AccountRequest {
                platform,
                handle,
                name,
                external_id,
                secrets: secrets.into_iter().collect(),
            };
            vec![accounts::create(db, config, request).await?]
        }
        AccountCommand::Update {
            id,
            external_id,
            clear_external_id: _,
        } => vec![accounts::set_external_id(db, config, id, external_id.as_deref()).await?],
        AccountCommand::List => accounts::list(db, config).await?,
    };
    if as_json {
        return json(&views);
    }
    table(
        &[
            "id",
            "platform",
            "handle",
            "external id",
            "name",
            "webhook url",
        ],
        views
            .iter()
            .map(|v| {
                vec![
                    v.account.id.to_string(),
                    v.account.platform.to_string(),
                    v.account.handle.clone(),
                    cell(&v.account.external_id),
                    cell(&v.account.name),
                    v.webhook_url.clone(),
                ]
            })
            .collect(),
    );
    Ok(())
}

pub async fn campaign(db: &Db, command: CampaignCommand, as_json: bool) -> anyhow::Result<()> {
    let campaigns = match command {
        CampaignCommand::Create {
            name,
            kind,
            channel,
            currency,
            budget,
            starts_on,
            ends_on,
            ad_ids,
        } => {
            let request = CampaignRequest {
                name,
                kind,
                channel,
                currency,
                budget: budget.map(AmountInput::Text),
                starts_on,
                ends_on,
                ad_ids,
            };
            vec![campaigns::create(db, request).await?]
        }
        CampaignCommand::List => db.list_campaigns().await?,
        CampaignCommand::Stores { id } => {
            let stats = crate::stores::results(db, id).await?;
            if as_json {
                return json(&stats);
            }
            table(
                &[
                    "link",
                    "store",
                    "label",
                    "scans",
                    "clicks",
                    "chats",
                    "qualified",
                    "purchases",
                ],
                stats
                    .iter()
                    .map(|s| {
                        vec![
                            s.link_id.to_string(),
                            cell(&s.store),
                            cell(&s.label),
                            s.scans.to_string(),
                            s.clicks.to_string(),
                            s.chats.to_string(),
                            s.qualified.to_string(),
                            s.purchases.to_string(),
                        ]
                    })
                    .collect(),
            );
            return Ok(());
        }
        CampaignCommand::Show { id } => vec![db.campaign(id).await?],
    };
    if as_json {
        return json(&campaigns);
    }
    table(
        &[
            "id", "name", "kind", "channel", "currency", "budget", "dates", "ad ids",
        ],
        campaigns
            .iter()
            .map(|c| {
                vec![
                    c.id.to_string(),
                    c.name.clone(),
                    c.kind.as_str().into(),
                    c.channel.as_str().into(),
                    c.currency.clone(),
                    cell(&c.budget),
                    format!("{} – {}", cell(&c.starts_on), cell(&c.ends_on)),
                    c.ad_ids.join(" "),
                ]
            })
            .collect(),
    );
    Ok(())
}

pub async fn link(
    db: &Db,
    config: &Config,
    command: LinkCommand,
    as_json: bool,
) -> anyhow::Result<()> {
    let key = TagKey::new(&db.service_secret(config.secret.as_ref()).await?);
    let view = |l: &crate::links::Link| LinkView::new(l, config, &key);
    let views: Vec<LinkView> = match command {
        LinkCommand::Create {
            campaign,
            target,
            label,
            store: store_name,
            wechat_qr_url,
        } => {
            let request = LinkRequest {
                account_id: target.account,
                destination_url: target.destination,
                label,
                store: store_name,
                prefill_text: target.prefill,
                utm: target.utm.into_iter().collect(),
                wechat_qr_url,
            };
            let link = create_link(db, campaign, request).await.map_err(explain)?;
            vec![view(&link)]
        }
        LinkCommand::Bulk {
            campaign,
            target,
            stores,
        } => {
            let rows = read_store_rows(&stores)?;
            let request = BulkLinkRequest {
                account_id: target.account,
                destination_url: target.destination,
                prefill_text: target.prefill,
                utm: target.utm.into_iter().collect::<BTreeMap<_, _>>(),
                stores: rows,
            };
            let links = create_bulk(db, campaign, request).await.map_err(explain)?;
            links.iter().map(view).collect()
        }
        LinkCommand::List { campaign } => LinkView::of_campaign(db, config, &key, campaign).await?,
        LinkCommand::Update(update) => {
            let link = crate::links::update::update(db, update.id, update.patch()).await?;
            vec![view(&link)]
        }
        LinkCommand::Show { id } => {
            let stats = LinkStats::load(db, config, &key, id).await?;
            if as_json {
                return json(&stats);
            }
            table(
                &[
                    "id",
                    "short url",
                    "human",
                    "bot",
                    "prefetch",
                    "unique",
                    "qr scans",
                ],
                vec![vec![
                    stats.link.id.to_string(),
                    stats.link.short_url.clone(),
                    cell(&stats.link.store),
                    stats.clicks.human.to_string(),
                    stats.clicks.bot.to_string(),
                    stats.clicks.prefetch.to_string(),
                    stats.clicks.unique.to_string(),
                    stats.clicks.qr_scans.to_string(),
                    stats.leads.to_string(),
                ]],
            );
            return Ok(());
        }
    };
    if as_json {
        return json(&views);
    }
    table(
        &[
            "id",
            "code",
            "store",
            "label",
            "active",
            "short url",
            "deep link",
        ],
        views
            .iter()
            .map(|v| {
                vec![
                    v.id.to_string(),
                    v.code.clone(),
                    cell(&v.store),
                    cell(&v.label),
                    if v.active { "yes" } else { "no" }.into(),
                    v.short_url.clone(),
                    cell(&v.deep_link),
                ]
            })
            .collect(),
    );
    Ok(())
}

/// Reads a store list file: a header row naming a `store` column (and optionally `label`).
fn read_store_rows(path: &PathBuf) -> anyhow::Result<Vec<StoreRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_store_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Turns per-row errors into one readable message.
fn explain(error: CreateError) -> anyhow::Error {
    match error {
        CreateError::Rows(rows) => {
            let lines: Vec<String> = rows
                .iter()
                .map(|r| format!("  row {}: {}", r.row, r.message))
                .collect();
            anyhow::anyhow!(
                "{} invalid store rows; nothing was created:\n{}",
                rows.len(),
                lines.join("\n")
            )
        }
        other => other.into(),
    }
}
