//! `GET /r/{code}`: the hot path. Find the link (memory first), mint a click id, queue the
//! click, answer 302 to the deep link carrying the click's ref tag. Once the link is cached
//! nothing here waits on the database, except one request every half second (at most 250 ms) that
//! asks whether links were changed by another process. Unknown codes get a 404 page, never a
//! redirect elsewhere, and are remembered for a minute so repeats cost no query; an inactive
//! link gets a "campaign ended" page and its click is still recorded.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    extract::{ConnectInfo, Path, RawQuery, Request, State},
    http::{
        HeaderValue, Method, StatusCode,
        header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, REFERER, USER_AGENT},
    },
    response::{IntoResponse, Response},
};

use super::client_ip::client_ip;
use crate::{
    app::AppState,
    clicks::{RawClick, Via, classify::is_prefetch},
    links::{ClickId, Link, LinkCode, RefTag},
};

const NOT_FOUND_PAGE: &str = include_str!("../../templates/not_found.html");
const CAMPAIGN_ENDED_PAGE: &str = include_str!("../../templates/campaign_ended.html");
/// The longest a request waits to learn whether links changed elsewhere.
const CHANGE_CHECK_TIMEOUT: Duration = Duration::from_millis(250);
const NO_STORE: HeaderValue = HeaderValue::from_static("private, no-store");

pub async fn follow(
    State(state): State<AppState>,
    // A code that is not even UTF-8 (`/r/%ff%fe`) is just another unknown code.
    code: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(query): RawQuery,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    // The request itself, moved rather than its header map cloned: this is the hot path.
    request: Request,
) -> Response {
    let (method, headers) = (request.method(), request.headers());
    let Some(code) = code.ok().and_then(|Path(code)| LinkCode::parse(&code)) else {
        return not_found_page();
    };
    let link = match find_link(&state, &code).await {
        Ok(Some(link)) => link,
        Ok(None) => return not_found_page(),
        Err(()) => return unavailable_page(),
    };
    let click_id = ClickId::generate();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let click = |click_id: ClickId| RawClick {
        click_id,
        link_id: link.id,
        at: state.clock.now(),
        via: via_of(query.as_deref()),
        prefetch: is_prefetch(method == Method::HEAD, header),
        ip: Some(client_ip(&state, peer, headers)),
        user_agent: header(USER_AGENT.as_str()),
        referrer: header(REFERER.as_str()),
    };
    if !link.active {
        // Old posters keep being scanned: counted, then told kindly that it is over.
        state.clicks.record(click(click_id)).await;
        return campaign_ended_page();
    }
    let tag = RefTag::for_click(&state.key, &code, &click_id);
    let Some(target) = link.target_url(&tag) else {
        return not_found_page();
    };
    let Ok(location) = HeaderValue::try_from(target) else {
        return not_found_page();
    };
    // Waits only when the queue is full, and then at most `writer::QUEUE_WAIT`.
    state.clicks.record(click(click_id)).await;

    (
        StatusCode::FOUND,
        [(LOCATION, location), (CACHE_CONTROL, NO_STORE)],
    )
        .into_response()
}

/// The link for a code: from the cache, or loaded once from the database and cached; a code
/// the database does not have is remembered as unknown for a while.
async fn find_link(state: &AppState, code: &LinkCode) -> Result<Option<Arc<Link>>, ()> {
    notice_changes_elsewhere(state).await;
    if let Some(link) = state.links.get(code.as_str()) {
        return Ok(Some(link.clone()));
    }
    if state.unknown_codes.contains(code.as_str()) {
        return Ok(None);
    }
    match state.db.link_by_code(code.as_str()).await {
        Ok(Some(link)) => {
            let link = Arc::new(link);
            state.links.insert(code.as_str().to_owned(), link.clone());
            Ok(Some(link))
        }
        Ok(None) => {
            state.metrics.unknown_code_lookups.inc();
            state.unknown_codes.insert(code.as_str());
            Ok(None)
        }
        Err(error) => {
            tracing::error!(%error, "link lookup failed");
            Err(())
        }
    }
}

/// Drops every cached link and unknown code when links were created or edited by another
/// process (the CLI, another instance) since the last look. One request at a time, about
/// twice a second, asks; a slow or failing database is given up on quickly and the cache
/// serves on.
async fn notice_changes_elsewhere(state: &AppState) {
    let Some(check) = state.link_changes.begin() else {
        return;
    };
    match tokio::time::timeout(CHANGE_CHECK_TIMEOUT, state.db.links_version()).await {
        Ok(Ok(version)) => {
            if check.changed(version) {
                state.links.clear();
                state.unknown_codes.clear();
            }
        }
        Ok(Err(error)) => tracing::warn!(%error, "could not check for link changes"),
        Err(_) => tracing::warn!("checking for link changes timed out"),
    }
}

/// Makes the next redirect of `code` read the link afresh (after this service changed or
/// created it).
pub fn forget_link(state: &AppState, code: &str) {
    state.links.remove(code);
    state.unknown_codes.forget(code);
}

/// `?via=qr` marks a scan of a printed code; anything else is a link click.
fn via_of(query: Option<&str>) -> Via {
    let is_qr = query.is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "via" && v == "qr")
    });
    if is_qr { Via::Qr } else { Via::Link }
}

fn html(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, NO_STORE),
        ],
        body,
    )
        .into_response()
}

fn not_found_page() -> Response {
    html(StatusCode::NOT_FOUND, NOT_FOUND_PAGE)
}

/// 410 Gone: the link exists but was switched off.
fn campaign_ended_page() -> Response {
    html(StatusCode::GONE, CAMPAIGN_ENDED_PAGE)
}

fn unavailable_page() -> Response {
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        "<!doctype html><title>Try again</title><p>This link is briefly unavailable. Please try again in a moment.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_via_qr_marks_a_scan() {
        assert_eq!(via_of(Some("via=qr")), Via::Qr);
        assert_eq!(via_of(Some("utm=x&via=qr")), Via::Qr);
        assert_eq!(via_of(Some("via=QR2")), Via::Link);
        assert_eq!(via_of(None), Via::Link);
    }
}
