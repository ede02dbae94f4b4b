use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn a_campaign_round_trips(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = app
        .post(
            "/api/campaigns",
            json!({"name": "Black Friday", "kind": "direct_to_chat", "channel": "ads",
                   "currency": "EUR", "budget": "1500.50", "starts_on": "2026-11-20",
                   "ends_on": "2026-11-30", "ad_ids": ["120226305854810726"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, shown) = app.get(&format!("/api/campaigns/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["name"], "Black Friday");
    assert_eq!(shown["kind"], "direct_to_chat");
    assert_eq!(shown["currency"], "EUR");
    assert_eq!(shown["budget"], "1500.50");
    assert_eq!(shown["starts_on"], "2026-11-20");
    assert_eq!(shown["ad_ids"], json!(["120226305854810726"]));
    let (_, list) = app.get("/api/campaigns").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn bad_campaigns_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (body, words) in [
        (json!({"name": "x", "kind": "billboard"}), "direct_to_chat"),
        (json!({"name": "", "kind": "landing_page"}), "name"),
        (
            json!({"name": "x", "kind": "landing_page", "budget": "-5"}),
            "budget",
        ),
        (
            json!({"name": "x", "kind": "landing_page", "currency": "euro"}),
            "ISO 4217",
        ),
        (
            json!({"name": "x", "kind": "landing_page", "starts_on": "23/11/2026"}),
            "starts_on",
        ),
    ] {
        let (status, answer) = app.post("/api/campaigns", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(words),
            "{answer}"
        );
    }
    let (_, list) = app.get("/api/campaigns").await;
    assert_eq!(list, json!([]));
}

async fn an_ad_id_belongs_to_one_campaign(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"name": "A", "kind": "direct_to_chat", "ad_ids": ["111"]});
    assert_eq!(
        app.post("/api/campaigns", body.clone()).await.0,
        StatusCode::CREATED
    );
    let (status, answer) = app
        .post(
            "/api/campaigns",
            json!({"name": "B", "kind": "direct_to_chat", "ad_ids": ["222", "111"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let (_, list) = app.get("/api/campaigns").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the refused campaign must not be half-written"
    );
}

async fn missing_and_malformed_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get("/api/campaigns/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = app.get("/api/campaigns/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_request");
}

crate::on_both_backends!(
    a_campaign_round_trips,
    bad_campaigns_are_refused,
    an_ad_id_belongs_to_one_campaign,
    missing_and_malformed_ids,
);
