//! `GET /campaigns` (every campaign with its clicks, leads, spend and cost per lead over a
//! range) and `POST /campaigns` (the new-campaign form). Figures come from the funnel
//! report's operation, creation from [`crate::campaigns::create`], as for the API.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{CurrentUser, Layout, PageError, render, see_other};
use crate::{
    app::AppState,
    campaigns::{self, CampaignError, CampaignKind, CampaignRequest, InvalidField},
    db::DbError,
    money::{AmountInput, Money},
    reports::{self, ReportError, html::count, html::money_with},
};

/// What the list page shows for one campaign.
pub struct CampaignLine {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub channel: &'static str,
    pub clicks: String,
    pub leads: String,
    pub spend: String,
    pub cost_per_lead: String,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    layout: Layout,
    from: String,
    to: String,
    range_error: Option<String>,
    rows: Vec<CampaignLine>,
    can_change: bool,
    form: CampaignForm,
    error: Option<InvalidField>,
}

super::layout_fields!(CampaignsPage);

impl CampaignsPage {
    /// The form error to show beside `field`, if it is the one at fault.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// How a campaign kind reads on a page.
pub fn kind_label(kind: CampaignKind) -> &'static str {
    match kind {
        CampaignKind::DirectToChat => "Direct to chat",
        CampaignKind::LandingPage => "Landing page",
    }
}

/// An optional amount with its currency, or a dash when there is none (no leads yet).
pub fn money_or_dash(amount: Option<Money>, currency: &str) -> String {
    amount.map_or_else(|| "—".to_owned(), |a| money_with(a, currency))
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`: the range of the figures (the report's default when
/// left out).
#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The new-campaign form as posted; every field defaults to empty so a missing CSRF token
/// is a 403 rather than a parse error.
#[derive(Debug, Default, Deserialize)]
pub struct CampaignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    budget: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    ad_ids: String,
}

fn filled(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

impl CampaignForm {
    /// The API's request for this form: empty fields left out, ad ids separated by spaces,
    /// commas or lines.
    fn request(&self) -> CampaignRequest {
        CampaignRequest {
            name: self.name.clone(),
            kind: self.kind.clone(),
            channel: filled(&self.channel),
            currency: filled(&self.currency),
            budget: filled(&self.budget).map(AmountInput::Text),
            starts_on: filled(&self.starts_on),
            ends_on: filled(&self.ends_on),
            ad_ids: self
                .ad_ids
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    range: RangeQuery,
    form: CampaignForm,
    error: Option<InvalidField>,
) -> Result<CampaignsPage, PageError> {
    let (from, to, range_error, rows) = match reports::campaign_funnels(
        &state.db,
        &state.config.timezone,
        range.from.clone(),
        range.to.clone(),
    )
    .await
    {
        Ok((from, to, rows)) => (from.to_string(), to.to_string(), None, rows),
        Err(ReportError::Invalid(message)) => (
            range.from.unwrap_or_default(),
            range.to.unwrap_or_default(),
            Some(message),
            Vec::new(),
        ),
        Err(ReportError::Db(error)) => return Err(error.into()),
    };
    let rows = rows
        .into_iter()
        .map(|row| {
            let currency = &row.campaign.currency;
            let counts = &row.funnel.counts;
            CampaignLine {
                id: row.campaign.id,
                kind: kind_label(row.campaign.kind),
                channel: row.campaign.channel.as_str(),
                clicks: count(counts.clicks),
                leads: count(counts.leads),
                spend: money_with(counts.spend, currency),
                cost_per_lead: money_or_dash(row.funnel.cost_per_lead, currency),
                name: row.campaign.name,
            }
        })
        .collect();
    Ok(CampaignsPage {
        layout: Layout::new(Some(current)),
        from,
        to,
        range_error,
        rows,
        can_change: current.can_change(),
        form,
        error,
    })
}

/// `GET /campaigns`: the list, and the new-campaign form for marketers.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(range): Query<RangeQuery>,
) -> Result<Response, PageError> {
    let page = page(&state, &current, range, CampaignForm::default(), None).await?;
    let status = if page.range_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(render(status, &page))
}

/// `POST /campaigns`: creates a campaign with the API's validation; on success a 303 to
/// its page, otherwise the list again with the error beside its field.
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<CampaignForm>,
) -> Result<Response, PageError> {
    current.may_change(&form.csrf)?;
    match campaigns::create(&state.db, form.request()).await {
        Ok(created) => Ok(see_other(&format!("/campaigns/{}", created.id))),
        Err(CampaignError::Invalid(error)) => {
            let page = page(&state, &current, RangeQuery::default(), form, Some(error)).await?;
            Ok(render(StatusCode::BAD_REQUEST, &page))
        }
        // Another campaign already claims one of the ad ids.
        Err(CampaignError::Db(DbError::Conflict(message))) => {
            let error = InvalidField {
                field: "ad_ids",
                message,
            };
            let page = page(&state, &current, RangeQuery::default(), form, Some(error)).await?;
            Ok(render(StatusCode::CONFLICT, &page))
        }
        Err(CampaignError::Db(error)) => Ok(PageError::from(error).into_response()),
    }
}
