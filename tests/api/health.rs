use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};

async fn health_and_metrics_are_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");

    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    for series in [
        "chatref_clicks_total{class=\"human\"} 0",
        "chatref_clicks_dropped_total 0",
        "chatref_click_queue_depth 0",
        "chatref_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
    ] {
        assert!(text.contains(series), "missing `{series}` in\n{text}");
    }
}

async fn the_api_needs_the_admin_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = format!("{}/api/campaigns", app.base);
    for request in [
        app.client.get(&url),
        app.client.get(&url).bearer_auth("wrong"),
        app.client
            .get(&url)
            .header("authorization", "Basic dGVzdA=="),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let (status, _) = app.get("/api/campaigns").await;
    assert_eq!(status, StatusCode::OK);
}

async fn without_an_admin_token_the_api_is_closed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |env| {
        env.remove("CHATREF_ADMIN_TOKEN");
    })
    .await;
    let (status, body) = app.get("/api/accounts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CHATREF_ADMIN_TOKEN")
    );
}

async fn unknown_routes_answer_json_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get("/api/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

crate::on_both_backends!(
    health_and_metrics_are_open,
    the_api_needs_the_admin_token,
    without_an_admin_token_the_api_is_closed,
    unknown_routes_answer_json_404,
);

async fn the_openapi_document_is_public_and_covers_every_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (path, method) in [
        ("/api/accounts", "post"),
        ("/api/accounts", "get"),
        ("/api/campaigns", "post"),
        ("/api/campaigns/{id}", "get"),
        ("/api/campaigns/{id}/stores", "get"),
        ("/api/campaigns/{id}/links", "post"),
        ("/api/campaigns/{id}/links/bulk", "post"),
        ("/api/campaigns/{id}/qr-sheet", "get"),
        ("/api/links/{id}", "get"),
        ("/api/links/{id}", "patch"),
        ("/api/links/{id}/qr.png", "get"),
        ("/api/links/{id}/qr.svg", "get"),
        ("/api/contacts", "get"),
        ("/api/contacts.csv", "get"),
        ("/api/conversions", "post"),
        ("/api/campaigns/{id}/spend", "post"),
        ("/api/campaigns/{id}/spend", "get"),
        ("/api/campaigns/{id}/external_ids", "post"),
        ("/api/spend/import", "post"),
        ("/api/reports/funnel", "get"),
        ("/api/reports/funnel.csv", "get"),
        ("/reports/funnel", "get"),
        ("/api/users", "get"),
        ("/api/users", "post"),
        ("/api/tokens", "get"),
        ("/api/tokens", "post"),
        ("/api/tokens/{id}", "delete"),
        ("/", "get"),
        ("/login", "get"),
        ("/login", "post"),
        ("/logout", "post"),
        ("/campaigns", "get"),
        ("/campaigns", "post"),
        ("/campaigns/{id}", "get"),
        ("/campaigns/{id}/links", "post"),
        ("/campaigns/{id}/links/bulk", "post"),
        ("/links/{id}/qr.png", "get"),
        ("/links/{id}/qr.svg", "get"),
        ("/campaigns/{id}/qr-sheet", "get"),
        ("/accounts", "get"),
        ("/contacts", "get"),
        ("/contacts.csv", "get"),
        ("/spend", "get"),
        ("/spend/import", "post"),
        ("/store", "get"),
        ("/reports/funnel.csv", "get"),
        ("/t/event", "post"),
        ("/t/event.gif", "get"),
        ("/t/snippet.js", "get"),
        ("/r/{code}", "get"),
        ("/webhooks/{platform}/{account_id}", "get"),
        ("/webhooks/{platform}/{account_id}", "post"),
        ("/healthz", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let (status, body) = app.get("/api/contacts?campaign=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_request");
}

crate::on_both_backends!(the_openapi_document_is_public_and_covers_every_route);
