//! `GET /campaigns/{id}`: one campaign's links (short URL, deep link, ref tag, QR preview
//! and downloads, print sheet) with the new-link form (`POST /campaigns/{id}/links`) and the
//! bulk store-links form (`POST /campaigns/{id}/links/bulk`: a pasted list or CSV, every bad
//! row shown beside it). Links are made by the same operations as the API's.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use super::{CurrentUser, Layout, PageError, campaigns::kind_label, render, see_other};
use crate::{
    accounts::Account,
    app::AppState,
    campaigns::{Campaign, CampaignKind},
    db::DbError,
    links::{
        BulkLinkRequest, LinkError, LinkRequest, LinkView,
        create::{CreateError, create_bulk, create_link},
        store_list::parse_store_list,
    },
};

/// One row of a refused store list: what was read and, when it is at fault, why.
pub struct BulkRow {
    pub row: usize,
    pub store: String,
    pub label: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    layout: Layout,
    campaign: Campaign,
    kind: &'static str,
    direct_to_chat: bool,
    links: Vec<LinkView>,
    accounts: Vec<Account>,
    can_change: bool,
    forms: Forms,
}

super::layout_fields!(CampaignPage);

/// The page's two forms as last posted, with what was wrong with them.
#[derive(Default)]
struct Forms {
    link: LinkForm,
    link_error: Option<String>,
    bulk: BulkForm,
    bulk_error: Option<String>,
    bulk_rows: Vec<BulkRow>,
}

impl CampaignPage {
    fn account_selected(&self, form_value: &str, id: &i64) -> bool {
        form_value == id.to_string()
    }
}

/// The new-link form as posted (empty fields are left out of the request).
#[derive(Debug, Default, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    destination_url: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    store: String,
    #[serde(default)]
    prefill_text: String,
}

/// The bulk store-links form as posted: the shared target and the store list.
#[derive(Debug, Default, Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    destination_url: String,
    #[serde(default)]
    prefill_text: String,
    #[serde(default)]
    stores: String,
}

fn filled(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The account the form chose; a value that is no number is refused like an unknown account.
fn account_choice(text: &str) -> Result<Option<i64>, String> {
    match filled(text) {
        None => Ok(None),
        Some(id) => id
            .parse()
            .map(Some)
            .map_err(|_| format!("account `{id}` is not an account id")),
    }
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    campaign_id: i64,
    forms: Forms,
) -> Result<CampaignPage, PageError> {
    let campaign = state.db.campaign(campaign_id).await?;
    let links = LinkView::of_campaign(&state.db, &state.config, &state.key, campaign_id).await?;
    let accounts = state.db.list_accounts().await?;
    // The account pickers start on the account the campaign's newest link targets.
    let mut forms = forms;
    if let Some(account_id) = links.iter().rev().find_map(|l| l.account_id) {
        for chosen in [&mut forms.link.account_id, &mut forms.bulk.account_id] {
            if chosen.is_empty() {
                *chosen = account_id.to_string();
            }
        }
    }
    Ok(CampaignPage {
        layout: Layout::new(Some(current)),
        kind: kind_label(campaign.kind),
        direct_to_chat: campaign.kind == CampaignKind::DirectToChat,
        campaign,
        links,
        accounts,
        can_change: current.can_change(),
        forms,
    })
}

/// `GET /campaigns/{id}`.
pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let page = page(&state, &current, id, Forms::default()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// Why a link form was refused, as the message shown with it; a store failure passes on.
fn refusal(error: CreateError) -> Result<(StatusCode, String), PageError> {
    match error {
        CreateError::Link(LinkError::UnknownAccount(id)) => Ok((
            StatusCode::BAD_REQUEST,
            format!("account {id} does not exist"),
        )),
        CreateError::Link(LinkError::Invalid(message)) => Ok((StatusCode::BAD_REQUEST, message)),
        CreateError::Db(DbError::NotFound("account", id)) => Ok((
            StatusCode::BAD_REQUEST,
            format!("account {id} does not exist"),
        )),
        CreateError::Db(DbError::Conflict(message)) => Ok((StatusCode::CONFLICT, message)),
        CreateError::Rows(rows) => Ok((
            StatusCode::BAD_REQUEST,
            format!(
                "{} of the store rows are invalid; nothing was created",
                rows.len()
            ),
        )),
        CreateError::Db(error) => Err(error.into()),
    }
}

/// `POST /campaigns/{id}/links`: one link; a 303 back to the campaign on success.
pub async fn create_one(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    current.may_change(&form.csrf)?;
    let created = match account_choice(&form.account_id) {
        Err(message) => Err((StatusCode::BAD_REQUEST, message)),
        Ok(account_id) => {
            let request = LinkRequest {
                account_id,
                destination_url: filled(&form.destination_url),
                label: filled(&form.label),
                store: filled(&form.store),
                prefill_text: filled(&form.prefill_text),
                ..LinkRequest::default()
            };
            match create_link(&state.db, id, request).await {
                Ok(link) => Ok(link),
                Err(error) => Err(refusal(error)?),
            }
        }
    };
    match created {
        Ok(link) => {
            // Codes are random, so any remembered unknown code could be this one (as the API).
            state.unknown_codes.clear();
            Ok(see_other(&format!("/campaigns/{id}#link-{}", link.id)))
        }
        Err((status, message)) => {
            let forms = Forms {
                link: form,
                link_error: Some(message),
                ..Forms::default()
            };
            let page = page(&state, &current, id, forms).await?;
            Ok(render(status, &page))
        }
    }
}

/// `POST /campaigns/{id}/links/bulk`: one link per store of the list, all or nothing; a
/// refused list comes back with every bad row marked.
pub async fn create_bulk_links(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<BulkForm>,
) -> Result<Response, PageError> {
    current.may_change(&form.csrf)?;
    let stores = match parse_store_list(&form.stores) {
        Ok(stores) => stores,
        Err(message) => return refused_bulk(&state, &current, id, form, message, Vec::new()).await,
    };
    let account_id = match account_choice(&form.account_id) {
        Ok(account_id) => account_id,
        Err(message) => return refused_bulk(&state, &current, id, form, message, Vec::new()).await,
    };
    let request = BulkLinkRequest {
        account_id,
        destination_url: filled(&form.destination_url),
        prefill_text: filled(&form.prefill_text),
        utm: Default::default(),
        stores: stores.clone(),
    };
    match create_bulk(&state.db, id, request).await {
        Ok(_) => {
            state.unknown_codes.clear();
            Ok(see_other(&format!("/campaigns/{id}#links")))
        }
        Err(CreateError::Rows(errors)) => {
            let message = format!(
                "{} of the {} store rows are invalid; nothing was created. Fix the rows marked below and send the list again.",
                errors.iter().filter(|e| e.row > 0).count().max(1),
                stores.len()
            );
            let general: Vec<String> = errors
                .iter()
                .filter(|e| e.row == 0)
                .map(|e| e.message.clone())
                .collect();
            let rows = stores
                .iter()
                .enumerate()
                .map(|(index, row)| BulkRow {
                    row: index + 1,
                    store: row.store.clone(),
                    label: row.label.clone().unwrap_or_default(),
                    error: errors
                        .iter()
                        .find(|e| e.row == index + 1)
                        .map(|e| e.message.clone()),
                })
                .collect();
            let message = if general.is_empty() {
                message
            } else {
                general.join("; ")
            };
            refused_bulk(&state, &current, id, form, message, rows).await
        }
        Err(error) => {
            let (_, message) = refusal(error)?;
            refused_bulk(&state, &current, id, form, message, Vec::new()).await
        }
    }
}

async fn refused_bulk(
    state: &AppState,
    current: &CurrentUser,
    id: i64,
    form: BulkForm,
    message: String,
    rows: Vec<BulkRow>,
) -> Result<Response, PageError> {
    let forms = Forms {
        bulk: form,
        bulk_error: Some(message),
        bulk_rows: rows,
        ..Forms::default()
    };
    let page = page(state, current, id, forms).await?;
    Ok(render(StatusCode::BAD_REQUEST, &page))
}
