//! `GET|POST /webhooks/{platform}/{account_id}`: verify on the raw bytes, parse, attribute,
//! write to the database in one transaction, then answer 200 (empty body, which every platform accepts,
//! WeChat included). Nothing is stored for a refused call.

use axum::{
    body::Bytes,
    extract::{RawQuery, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::{error::ApiError, extract::ApiPath};
use crate::{
    accounts::AccountSecrets,
    app::AppState,
    attribution::Clue,
    db::{ClueEvent, WebhookCall},
    platforms::{
        Platform,
        webhook::{Handshake, WebhookError, WebhookRequest},
    },
};

/// Largest webhook body accepted (WhatsApp documents up to 3 MB batches but sends far
/// less; the contract caps at 1 MiB).
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::Unauthorized(m) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", m)
            }
            WebhookError::NotConfigured(m) => {
                ApiError::new(StatusCode::FORBIDDEN, "not_configured", m)
            }
            WebhookError::Malformed(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_payload", m)
            }
        }
    }
}

/// The account behind the URL, checked against the platform in the URL.
async fn account_for(
    state: &AppState,
    platform: &str,
    account_id: i64,
) -> Result<(Platform, AccountSecrets), ApiError> {
    let platform: Platform = platform.parse().map_err(ApiError::not_found)?;
    let (account_platform, secrets) = state
        .db
        .webhook_account(account_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("account {account_id} does not exist")))?;
    if account_platform != platform {
        return Err(ApiError::invalid(format!(
            "account {account_id} is a {account_platform} account, not {platform}"
        )));
    }
    Ok((platform, secrets))
}

pub async fn handshake(
    State(state): State<AppState>,
    ApiPath((platform, account_id)): ApiPath<(String, i64)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (platform, secrets) = account_for(&state, &platform, account_id).await?;
    match platform
        .adapter()
        .handshake(query.as_deref().unwrap_or_default(), &secrets)?
    {
        Handshake::Echo(body) => Ok((StatusCode::OK, body).into_response()),
    }
}

pub async fn receive(
    State(state): State<AppState>,
    ApiPath((platform, account_id)): ApiPath<(String, i64)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "invalid_body"
        };
        ApiError::new(status, code, rejection.body_text())
    })?;
    let (platform, secrets) = account_for(&state, &platform, account_id).await?;
    let adapter = platform.adapter();
    let request = WebhookRequest {
        headers: &headers,
        query: query.as_deref().unwrap_or_default(),
        body: &body,
    };
    adapter.verify(&request, &secrets)?;
    let parsed = adapter.parse(&body)?;
    let events: Vec<ClueEvent> = parsed
        .events
        .into_iter()
        .map(|event| ClueEvent {
            clue: Clue::of(&state.key, &event),
            event,
        })
        .collect();
    let summary = state
        .inbox
        .store(WebhookCall {
            platform,
            account_id,
            body: body.to_vec(),
            events,
        })
        .await?;
    tracing::info!(%platform, account_id, new_events = summary.new_events, leads = summary.leads, "webhook stored");
    Ok(StatusCode::OK.into_response())
}
