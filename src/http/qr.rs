//! QR endpoints: one link's code as PNG or SVG, and a campaign's print sheet.
//!
//! A printed code is fetched again and again with the same options, so answers carry a
//! strong ETag (hash of what was encoded and every option) with `Cache-Control: private,
//! max-age=86400`; a matching `If-None-Match` gets 304 without rendering, and rendered bytes
//! are kept in a small in-memory cache.

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{
        HeaderMap, HeaderName, HeaderValue, StatusCode,
        header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, IF_NONE_MATCH},
    },
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use super::{error::ApiError, extract::ApiPath};
use crate::{
    app::AppState,
    qr::{self, Paper, QrError, QrOptions},
};

/// Renders at once (each may hold a few hundred MB for the largest codes and sheets); a
/// request past that gets 503 with `Retry-After` rather than adding to the memory peak.
pub const RENDER_PERMITS: usize = 2;

/// A render permit, or 503 `busy` when every permit is taken.
fn render_permit(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state.renders.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "other codes are being rendered; retry in a few seconds",
        )
        .with_retry_after(2)
    })
}

impl From<qr::links::PrintError> for ApiError {
    fn from(error: qr::links::PrintError) -> Self {
        match error {
            qr::links::PrintError::NoLinks(_) | qr::links::PrintError::NothingPrintable { .. } => {
                ApiError::invalid(error.to_string())
            }
            qr::links::PrintError::Db(e) => e.into(),
        }
    }
}

impl From<QrError> for ApiError {
    fn from(error: QrError) -> Self {
        match error {
            QrError::Invalid(m) => ApiError::invalid(m),
            QrError::Output(m) => {
                tracing::error!(message = %m, "rendering failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "render_failed", m)
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Format {
    Png,
    Svg,
}

fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn etag(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION"));
    for part in parts {
        hash.update([0]);
        hash.update(part);
    }
    format!("\"{}\"", &hex::encode(hash.finalize())[..32])
}

fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

fn cached_response(tag: &str, content_type: &'static str, body: Option<Bytes>) -> Response {
    let headers = [
        (ETAG, HeaderValue::from_str(tag).expect("hex etag")),
        (
            CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=86400"),
        ),
        (CONTENT_TYPE, HeaderValue::from_static(content_type)),
    ];
    match body {
        Some(body) => (StatusCode::OK, headers, body).into_response(),
        None => (StatusCode::NOT_MODIFIED, headers).into_response(),
    }
}

async fn code(
    state: AppState,
    id: i64,
    query: Option<String>,
    headers: HeaderMap,
    format: Format,
) -> Result<Response, ApiError> {
    let link = state.db.link(id).await?;
    let mut params = pairs(query.as_deref());
    let options = QrOptions::from_pairs(params.clone())?;
    params.sort();
    let canonical: String = params.iter().map(|(k, v)| format!("{k}={v}&")).collect();
    let text = state.config.qr_url(&link.code);
    let (kind, content_type) = match format {
        Format::Png => ("png", "image/png"),
        Format::Svg => ("svg", "image/svg+xml"),
    };
    let tag = etag(&[kind, &text, &canonical]);
    if not_modified(&headers, &tag) {
        return Ok(cached_response(&tag, content_type, None));
    }
    if let Some(body) = state.qr_cache.get(&tag) {
        return Ok(cached_response(&tag, content_type, Some(body)));
    }
    let permit = render_permit(&state)?;
    let body: Bytes = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match format {
            Format::Png => qr::render_png(&text, &options).map(Bytes::from),
            Format::Svg => qr::render_svg(&text, &options).map(Bytes::from),
        }
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "render_failed",
            e.to_string(),
        )
    })??;
    state.qr_cache.insert(tag.clone(), body.clone());
    Ok(cached_response(&tag, content_type, Some(body)))
}

pub async fn png(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    code(state, id, query, headers, Format::Png).await
}

pub async fn svg(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    code(state, id, query, headers, Format::Svg).await
}

/// `GET /api/campaigns/{id}/qr-sheet?format=pdf|html&paper=a4|letter&caption=…`.
pub async fn sheet(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let mut format = "pdf".to_owned();
    let mut paper = Paper::A4;
    let mut caption = None;
    for (key, value) in pairs(query.as_deref()) {
        match key.as_str() {
            "format" => format = value,
            "paper" => {
                paper = value
                    .parse()
                    .map_err(|e: QrError| ApiError::invalid(e.to_string()))?
            }
            "caption" if !value.trim().is_empty() => caption = Some(value),
            "caption" => {}
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown parameter `{other}`; expected format, paper, caption"
                )));
            }
        }
    }
    let printable = qr::links::printable_links(&state.db, id).await?;
    let items = qr::links::sheet_items(&state.config, &printable.links);
    let permit = render_permit(&state)?;
    let (content_type, file, body): (&'static str, String, Bytes) = match format.as_str() {
        "pdf" => {
            let pdf = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                qr::sheet_pdf(&items, paper, caption.as_deref())
            })
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "render_failed",
                    e.to_string(),
                )
            })??;
            (
                "application/pdf",
                format!("campaign-{id}-qr.pdf"),
                Bytes::from(pdf),
            )
        }
        "html" => {
            let html = qr::sheet_svg_html(&items, paper, caption.as_deref())?;
            (
                "text/html; charset=utf-8",
                format!("campaign-{id}-qr.html"),
                Bytes::from(html),
            )
        }
        other => {
            return Err(ApiError::invalid(format!(
                "format `{other}` is not pdf or html"
            )));
        }
    };
    let mut response = (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("inline; filename=\"{file}\""))
                    .expect("ascii file name"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
        ],
        body,
    )
        .into_response();
    if let Some(warning) = printable.warning() {
        response
            .headers_mut()
            .insert(WARNING_HEADER, header_text(&warning));
    }
    Ok(response)
}

/// Says what a sheet left off (WeChat links without their code URL).
pub const WARNING_HEADER: HeaderName = HeaderName::from_static("x-chatref-warning");

/// `text` as a header value: visible ASCII kept, anything else (store names in any script,
/// control characters) percent-encoded as UTF-8.
fn header_text(text: &str) -> HeaderValue {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '%' || !(c == ' ' || c.is_ascii_graphic()) {
            let mut bytes = [0; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    HeaderValue::from_str(&out).expect("visible ASCII")
}
