use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn an_account_is_created_and_its_secrets_stay_hidden(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post(
            "/api/accounts",
            json!({"platform": "messenger", "handle": "CoastClothing", "name": "Coast",
                   "secrets": {"app_secret": "s3cr3t-value", "verify_token": "vt"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["platform"], "messenger");
    assert_eq!(body["handle"], "CoastClothing");
    assert_eq!(
        body["webhook_url"],
        format!("https://go.example.test/webhooks/messenger/{id}")
    );
    let (status, list) = app.get("/api/accounts").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let text = list.to_string() + &body.to_string();
    assert!(!text.contains("s3cr3t-value"), "secret leaked: {text}");
    let secrets = app
        .database
        .connect()
        .await
        .webhook_account(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secrets.1["app_secret"].expose(), "s3cr3t-value");
}

async fn handles_are_normalised(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, wa) = app
        .post(
            "/api/accounts",
            json!({"platform": "whatsapp", "handle": "+15551234567"}),
        )
        .await;
    assert_eq!(wa["handle"], "15551234567");
    let (_, tg) = app
        .post(
            "/api/accounts",
            json!({"platform": "telegram", "handle": "@CoastShopBot"}),
        )
        .await;
    assert_eq!(tg["handle"], "CoastShopBot");
}

async fn bad_accounts_are_refused_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (
            json!({"platform": "myspace", "handle": "x"}),
            StatusCode::BAD_REQUEST,
            "unknown platform",
        ),
        (
            json!({"platform": "telegram", "handle": "coastshop"}),
            StatusCode::BAD_REQUEST,
            "end in `bot`",
        ),
        (
            json!({"platform": "whatsapp", "handle": "+1 (555) 123-4567"}),
            StatusCode::BAD_REQUEST,
            "E.164",
        ),
        (
            json!({"platform": "telegram", "handle": "coastbot", "secrets": {"app_secret": "x"}}),
            StatusCode::BAD_REQUEST,
            "secret_token",
        ),
        (
            json!({"platform": "telegram"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "handle",
        ),
        (
            json!({"platform": "telegram", "handle": "coastbot", "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "extra",
        ),
    ];
    for (body, expected, words) in cases {
        let (status, answer) = app.post("/api/accounts", body.clone()).await;
        assert_eq!(status, expected, "{body} → {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(words),
            "{body}: `{message}` should mention {words}"
        );
    }
    let response = app
        .api(Method::POST, "/api/accounts")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "invalid_json");

    let (_, list) = app.get("/api/accounts").await;
    assert_eq!(list, json!([]));
}

async fn the_same_handle_twice_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.account("telegram", "CoastShopBot", json!({})).await;
    let (status, body) = app
        .post(
            "/api/accounts",
            json!({"platform": "telegram", "handle": "@CoastShopBot"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "conflict");
    // Platforms compare handles without case: a handle differing only in case is the same.
    for (platform, handle) in [("telegram", "coastshopbot"), ("instagram", "Coast.Shop")] {
        if platform == "instagram" {
            app.account("instagram", "coast.shop", json!({})).await;
        }
        let (status, body) = app
            .post(
                "/api/accounts",
                json!({"platform": platform, "handle": handle}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{platform} {handle}: {body}");
    }
}

async fn oversized_bodies_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let (status, body) = app
        .post(
            "/api/accounts",
            json!({"platform": "telegram", "handle": huge}),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "payload_too_large");
    let (_, list) = app.get("/api/accounts").await;
    assert_eq!(list, json!([]));
}

crate::on_both_backends!(
    an_account_is_created_and_its_secrets_stay_hidden,
    handles_are_normalised,
    bad_accounts_are_refused_and_nothing_is_stored,
    the_same_handle_twice_is_a_conflict,
    oversized_bodies_are_refused,
);
