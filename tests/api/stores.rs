//! The store dimension: scans, clicks and chats per store's code.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, IPHONE, TestApp, tag_in_location};

async fn each_store_sees_its_own_scans_and_chats(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let (status, links) = app
        .post(
            &format!("/api/campaigns/{campaign}/links/bulk"),
            json!({"account_id": account, "stores": [{"store": "North"}, {"store": "South"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let north = links[0]["code"].as_str().unwrap().to_owned();
    let south = links[1]["code"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        app.follow(&format!("/r/{north}?via=qr"), IPHONE).await;
    }
    let scan = app.follow(&format!("/r/{south}?via=qr"), IPHONE).await;
    app.follow(&format!("/r/{south}"), IPHONE).await;
    let key = app.tag_key().await;
    let location = scan.headers()["location"].to_str().unwrap().to_owned();
    tag_in_location(&key, &location);
    let start = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "start")
        .unwrap()
        .1
        .into_owned();
    let update = json!({"update_id": 5, "message": {"message_id": 1, "date": 1763900000,
        "from": {"id": 31, "is_bot": false, "first_name": "A"}, "chat": {"id": 31, "type": "private"},
        "text": format!("/start {start}")}});
    let response = app
        .client
        .post(format!("{}/webhooks/telegram/{account}", app.base))
        .header("x-telegram-bot-api-secret-token", "s")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let db = app.stop().await;
    let stats = db.store_stats(campaign).await.unwrap();
    let row = |name: &str| {
        stats
            .iter()
            .find(|s| s.store.as_deref() == Some(name))
            .unwrap()
            .clone()
    };
    assert_eq!(
        (row("North").scans, row("North").clicks, row("North").chats),
        (2, 2, 0)
    );
    assert_eq!(
        (row("South").scans, row("South").clicks, row("South").chats),
        (1, 2, 1)
    );
}

crate::on_both_backends!(each_store_sees_its_own_scans_and_chats);
