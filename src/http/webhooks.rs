//! `GET|POST /webhooks/{platform}/{account_id}`: verify on the raw bytes, open (decrypt a
//! WeChat safe-mode push), parse, refuse a replayed nonce, attribute, write to the database in
//! one transaction, then answer 200 (empty body, which every platform accepts, WeChat
//! included). Nothing is stored for a refused call.
//!
//! The URL's account verifies the call; its events are stored under the accounts their
//! recipients route to (one Meta app sends every Page's and number's events to one URL; see
//! [`crate::accounts::Routes`]). A batch is refused only when it is not the platform's body at
//! all: an entry that cannot be read, or sent to an id no account has, is logged and counted
//! while the rest is stored, because Meta retries a refused batch for hours and then
//! disables the webhook.

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
    db::{ClueEvent, NonceClaim, WebhookCall},
    platforms::{
        Platform,
        webhook::{Handshake, ReplayNonce, WebhookError, WebhookRequest},
    },
};

/// Largest webhook body accepted (WhatsApp documents up to 3 MB batches but sends far
/// less; the contract caps at 1 MiB).
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

/// How long a nonce is kept beyond its clock window, for clocks of several instances that
/// disagree a little.
const NONCE_MARGIN: time::Duration = time::Duration::minutes(1);

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
    // The body to parse and keep: the plaintext of an encrypted push, so stored payloads can
    // be re-parsed (`chatref attribution rebuild`) without the account's secrets.
    let opened = adapter.open(&request, &secrets)?;
    let parsed = adapter.parse(&opened)?;
    let skipped = parsed.skipped;
    if let Some(nonce) = adapter.replay_nonce(&request, &secrets) {
        refuse_replay(&state, account_id, &nonce, &body).await?;
    }
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
            body: opened.into_owned(),
            events,
            skipped_entries: skipped.len() as u64,
            received_at: state.clock.now(),
        })
        .await?;
    if !skipped.is_empty() {
        tracing::warn!(%platform, account_id, ?skipped, "webhook entries that cannot be read were skipped; the rest of the call is stored");
        state
            .metrics
            .webhook_entries_skipped(platform, skipped.len() as u64);
    }
    if !summary.unrouted.is_empty() {
        tracing::warn!(
            %platform,
            account_id,
            recipients = ?summary.unrouted,
            "webhook events sent to ids no {platform} account has as external_id were not recorded (body kept); set the account's external_id"
        );
        state
            .metrics
            .webhook_events_unrouted(platform, summary.unrouted.len() as u64);
    }
    tracing::info!(%platform, account_id, new_events = summary.new_events, leads = summary.leads, "webhook stored");
    Ok(StatusCode::OK.into_response())
}

/// Claims a verified request's nonce and refuses it when it came before with another body:
/// a signature that leaves the body out would otherwise accept any body under a captured URL
/// for the whole clock window. The same body again is a redelivery and goes on (the inbox
/// dedupes it). The claim is in the database so instances sharing it share the guard.
async fn refuse_replay(
    state: &AppState,
    account_id: i64,
    nonce: &ReplayNonce,
    body: &[u8],
) -> Result<(), ApiError> {
    let forget_before =
        (time::OffsetDateTime::now_utc() - nonce.window - NONCE_MARGIN).unix_timestamp();
    let claim = state
        .db
        .claim_webhook_nonce(
            account_id,
            nonce.timestamp,
            &nonce.nonce,
            body,
            forget_before,
        )
        .await?;
    if claim == NonceClaim::OtherBody {
        tracing::warn!(
            account_id,
            "webhook refused: nonce replayed with another body"
        );
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "replayed",
            "this signed timestamp and nonce already came with another body; refusing a replay",
        ));
    }
    Ok(())
}
