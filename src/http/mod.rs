//! The HTTP contract of DESIGN.md §4: one router, one file per area.

pub mod accounts;
pub mod auth;
pub mod campaigns;
pub mod client_ip;
pub mod contacts;
pub mod conversions;
pub mod error;
pub mod extract;
pub mod health;
pub mod links;
pub mod page_events;
pub mod pages;
pub mod qr;
pub mod redirect;
pub mod reports;
pub mod spend;
pub mod users;
pub mod webhooks;

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    middleware::{self, Next},
    response::Response,
    routing::{delete, get, post},
};

use crate::{app::AppState, telemetry::RequestLabels};

/// Largest API request body; store lists of a few thousand rows fit.
pub const API_BODY_LIMIT: usize = 1024 * 1024;

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/accounts", post(accounts::create).get(accounts::list))
        .route("/campaigns", post(campaigns::create).get(campaigns::list))
        .route("/campaigns/{id}", get(campaigns::show))
        .route("/campaigns/{id}/stores", get(campaigns::stores))
        .route(
            "/campaigns/{id}/links",
            post(links::create).get(links::list),
        )
        .route("/campaigns/{id}/links/bulk", post(links::bulk))
        .route("/links/{id}", get(links::show).patch(links::update))
        .route("/links/{id}/qr.png", get(qr::png))
        .route("/links/{id}/qr.svg", get(qr::svg))
        .route("/campaigns/{id}/qr-sheet", get(qr::sheet))
        .route("/contacts", get(contacts::list))
        .route("/contacts.csv", get(contacts::csv))
        .route("/conversions", post(conversions::create))
        .route(
            "/campaigns/{id}/spend",
            post(spend::record).get(spend::list),
        )
        .route("/campaigns/{id}/external_ids", post(spend::map_external_id))
        .route(
            "/spend/import",
            post(spend::import).layer(DefaultBodyLimit::max(spend::IMPORT_BODY_LIMIT)),
        )
        .route("/reports/funnel", get(reports::json))
        .route("/reports/funnel.csv", get(reports::csv))
        .route("/tokens", get(users::list_tokens).post(users::create_token))
        .route("/tokens/{id}", delete(users::revoke_token))
        .merge(
            Router::new()
                .route("/users", get(users::list).post(users::create))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::admin_only,
                )),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT));

    Router::new()
        // The API description is public, like the contract it documents.
        .route("/api/openapi.json", get(openapi))
        .nest("/api", api)
        .route(
            "/reports/funnel",
            get(reports::page).route_layer(middleware::from_fn_with_state(
                state.clone(),
                auth::bearer_or_session,
            )),
        )
        // The QR images, print sheets, contacts export and report CSV of the dashboard: the
        // API's handlers, reached with the browser's session as well as a bearer token.
        .merge(
            Router::new()
                .route("/links/{id}/qr.png", get(qr::png))
                .route("/links/{id}/qr.svg", get(qr::svg))
                .route("/campaigns/{id}/qr-sheet", get(qr::sheet))
                .route("/contacts.csv", get(contacts::csv))
                .route("/reports/funnel.csv", get(reports::csv))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::bearer_or_session,
                )),
        )
        .route("/", get(pages::home::show))
        .route(
            "/campaigns",
            get(pages::campaigns::list).post(pages::campaigns::create),
        )
        .route("/campaigns/{id}", get(pages::campaign::show))
        .route("/campaigns/{id}/links", post(pages::campaign::create_one))
        .route(
            "/campaigns/{id}/links/bulk",
            post(pages::campaign::create_bulk_links),
        )
        .route("/accounts", get(pages::accounts::list))
        .route("/contacts", get(pages::contacts::list))
        .route("/spend", get(pages::spend::list))
        .route("/spend/import", post(pages::spend::import))
        .route("/store", get(pages::store::show))
        .route(
            "/login",
            get(pages::sign_in::form).post(pages::sign_in::submit),
        )
        .route("/logout", post(pages::sign_in::sign_out))
        .route("/r/{code}", get(redirect::follow))
        .route(
            "/t/event",
            post(page_events::post)
                .options(page_events::preflight)
                .layer(DefaultBodyLimit::max(page_events::EVENT_BODY_LIMIT)),
        )
        .route("/t/event.gif", get(page_events::pixel))
        .route("/t/snippet.js", get(page_events::snippet))
        .route(
            "/webhooks/{platform}/{account_id}",
            get(webhooks::handshake)
                .post(webhooks::receive)
                .layer(DefaultBodyLimit::max(webhooks::WEBHOOK_BODY_LIMIT)),
        )
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}

/// Counts every answered request by method, route pattern and status.
async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Standard methods as static labels: no allocation on the redirect path.
    let method = match *request.method() {
        axum::http::Method::GET => "GET",
        axum::http::Method::HEAD => "HEAD",
        axum::http::Method::POST => "POST",
        axum::http::Method::PUT => "PUT",
        axum::http::Method::DELETE => "DELETE",
        axum::http::Method::PATCH => "PATCH",
        axum::http::Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state.metrics.request(RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    });
    response
}

/// `GET /api/openapi.json`: the OpenAPI 3 document of this API.
async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
}
