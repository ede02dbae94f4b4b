//! `GET /spend`: the spend imported or entered per campaign and day, and for marketers the
//! import form (`POST /spend/import`: an ad platform's CSV export, pasted or loaded from a
//! file), all rows or none, with every bad line shown. Import is [`crate::spend::import`],
//! as for `POST /api/spend/import`.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{CurrentUser, Layout, PageError, campaigns::money_or_dash, plain, render, see_other};
use crate::{
    app::AppState,
    reports::html::{count, money_with},
    spend::{self, ImportError, LineError, SpendError},
};

/// One day of one campaign's spend from one source.
pub struct SpendLine {
    pub date: String,
    pub source: String,
    pub amount: String,
    pub impressions: String,
    pub clicks: String,
}

/// A campaign with its spend, newest day first.
pub struct CampaignSpend {
    pub id: i64,
    pub name: String,
    pub total: String,
    pub lines: Vec<SpendLine>,
}

#[derive(Template)]
#[template(path = "spend.html")]
struct SpendPage {
    layout: Layout,
    campaigns: Vec<CampaignSpend>,
    can_change: bool,
    notice: Option<String>,
    csv: String,
    error: Option<String>,
    line_errors: Vec<LineError>,
}

super::layout_fields!(SpendPage);

/// `?imported=N&skipped=N&unmatched=N`: what the last import did (after its redirect).
#[derive(Debug, Default, Deserialize)]
pub struct ImportedQuery {
    imported: Option<usize>,
    skipped: Option<usize>,
    unmatched: Option<usize>,
}

/// The import form as posted.
#[derive(Debug, Default, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    csv: String,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    notice: Option<String>,
    csv: String,
    error: Option<String>,
    line_errors: Vec<LineError>,
) -> Result<SpendPage, PageError> {
    let mut campaigns = Vec::new();
    for campaign in state.db.list_campaigns().await? {
        let mut entries = state.db.list_spend(campaign.id).await?;
        entries.sort_by(|a, b| b.date.cmp(&a.date).then(a.source.cmp(&b.source)));
        let total = entries
            .iter()
            .map(|e| e.amount.micros())
            .try_fold(0i64, i64::checked_add)
            .map(crate::money::Money::from_micros);
        let optional = |v: Option<i64>| v.map_or_else(|| "—".to_owned(), count);
        campaigns.push(CampaignSpend {
            id: campaign.id,
            total: money_or_dash(total, &campaign.currency),
            lines: entries
                .iter()
                .map(|e| SpendLine {
                    date: e.date.to_string(),
                    source: e.source.clone(),
                    amount: money_with(e.amount, &campaign.currency),
                    impressions: optional(e.impressions),
                    clicks: optional(e.clicks),
                })
                .collect(),
            name: campaign.name,
        });
    }
    Ok(SpendPage {
        layout: Layout::new(Some(current)),
        campaigns,
        can_change: current.can_change(),
        notice,
        csv,
        error,
        line_errors,
    })
}

/// `GET /spend`.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(imported): Query<ImportedQuery>,
) -> Result<Response, PageError> {
    let notice = imported.imported.map(|n| {
        format!(
            "Imported {n} campaign-days; {} summary or unknown-campaign rows skipped; {} campaigns in the file match none here.",
            imported.skipped.unwrap_or(0),
            imported.unmatched.unwrap_or(0)
        )
    });
    let page = page(&state, &current, notice, String::new(), None, Vec::new()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `POST /spend/import`: all rows or none; a 303 back to the list with what was imported,
/// or the form again with the file's problem or every bad line.
pub async fn import(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<ImportForm>,
) -> Result<Response, PageError> {
    current.may_change(&form.csrf)?;
    let text = form.csv.clone();
    let parsed =
        match tokio::task::spawn_blocking(move || spend::import::parse(text.as_bytes())).await {
            Ok(parsed) => parsed,
            Err(error) => {
                tracing::error!(%error, "reading a spend import failed");
                return Ok(plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The file could not be read. Nothing was imported.",
                ));
            }
        };
    let outcome = match parsed {
        Ok(parsed) => spend::import(&state.db, parsed).await,
        Err(error) => Err(SpendError::Import(error)),
    };
    let (status, error, lines) = match outcome {
        Ok(outcome) => {
            return Ok(see_other(&format!(
                "/spend?imported={}&skipped={}&unmatched={}",
                outcome.imported,
                outcome.skipped,
                outcome.unmatched.len()
            )));
        }
        Err(SpendError::Rows { errors, .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{} rows are invalid; nothing was imported. Fix the lines below and import again.",
                errors.len()
            ),
            errors,
        ),
        Err(SpendError::Import(error @ ImportError::TooLarge { .. })) => {
            (StatusCode::PAYLOAD_TOO_LARGE, error.to_string(), Vec::new())
        }
        Err(SpendError::Import(error)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            error.to_string(),
            Vec::new(),
        ),
        Err(SpendError::Invalid(message)) => (StatusCode::BAD_REQUEST, message, Vec::new()),
        Err(SpendError::Db(error)) => return Ok(PageError::from(error).into_response()),
    };
    let page = page(&state, &current, None, form.csv, Some(error), lines).await?;
    Ok(render(status, &page))
}
