//! What landing pages call, from the visitor's browser (open, CORS): `POST /t/event` with
//! `{click_id, type, value?}` as JSON (any content type, so `navigator.sendBeacon` works
//! without a preflight), `GET /t/event.gif?click_id=…&type=…` (a 1×1 pixel), and
//! `GET /t/snippet.js` (the copy-paste script).

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::error::ApiError;
use crate::{
    app::AppState,
    page_events::{self, PageEventError, PageEventRequest, Recorded},
};

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Largest event body.
pub const EVENT_BODY_LIMIT: usize = 4 * 1024;

impl From<PageEventError> for ApiError {
    fn from(error: PageEventError) -> Self {
        match error {
            PageEventError::Invalid(m) => ApiError::invalid(m),
            PageEventError::Unknown => {
                ApiError::new(StatusCode::BAD_REQUEST, "unknown_click", error.to_string())
            }
            PageEventError::NotLanding(_) => ApiError::invalid(error.to_string()),
            PageEventError::Db(e) => e.into(),
        }
    }
}

fn cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

/// The CORS preflight of `POST /t/event`.
pub async fn preflight() -> Response {
    cors(StatusCode::NO_CONTENT.into_response())
}

/// `POST /t/event`: `200 {"recorded": true}` for a new event, `false` for a repeat.
pub async fn post(State(state): State<AppState>, body: Bytes) -> Response {
    let result = match serde_json::from_slice::<PageEventRequest>(&body) {
        Ok(request) => page_events::record(&state.db, &state.key, request, state.clock.now())
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::invalid(format!(
            "the body is not {{\"click_id\": \"…\", \"type\": \"page_view\" or \"lead\"}}: {e}"
        ))),
    };
    cors(match result {
        Ok(recorded) => Json::<Recorded>(recorded).into_response(),
        Err(error) => error.into_response(),
    })
}

/// `GET /t/event.gif`: the same as a pixel; errors still answer JSON with their status.
pub async fn pixel(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let request = PageEventRequest {
        click_id: get("click_id").unwrap_or_default(),
        kind: get("type").unwrap_or_default(),
        value: get("value").map(crate::money::AmountInput::Text),
    };
    cors(
        match page_events::record(&state.db, &state.key, request, state.clock.now()).await {
            Ok(_) => (
                [
                    (header::CONTENT_TYPE, "image/gif"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                PIXEL,
            )
                .into_response(),
            Err(error) => ApiError::from(error).into_response(),
        },
    )
}

/// `GET /t/snippet.js`: reads `chatref_click` from the page URL, reports a page view, and
/// offers `chatref.lead()` for the form's submit handler.
pub async fn snippet(State(state): State<AppState>) -> Response {
    let origin = state.config.public_url.as_str().trim_end_matches('/');
    let script = SNIPPET.replace("{{ORIGIN}}", origin);
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        script,
    )
        .into_response()
}

const SNIPPET: &str = r#"/* chatref landing-page snippet: reports a page view, and a lead on chatref.lead(). */
(function () {
  var origin = "{{ORIGIN}}";
  var key = "chatref_click";
  var click = new URLSearchParams(location.search).get(key);
  try {
    if (click) { sessionStorage.setItem(key, click); } else { click = sessionStorage.getItem(key); }
  } catch (e) {}
  function send(type, value) {
    if (!click) { return false; }
    var body = JSON.stringify(value == null ? { click_id: click, type: type } : { click_id: click, type: type, value: String(value) });
    if (navigator.sendBeacon && navigator.sendBeacon(origin + "/t/event", body)) { return true; }
    fetch(origin + "/t/event", { method: "POST", body: body, keepalive: true, mode: "cors" });
    return true;
  }
  window.chatref = { lead: function (value) { return send("lead", value); }, click: click };
  send("page_view");
})();
"#;
