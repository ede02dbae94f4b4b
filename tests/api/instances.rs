//! Several chatref instances on one PostgreSQL database, as behind a load balancer: what one
//! instance learns (a link edit, a WeChat nonce, a session, failed sign-ins) holds on the
//! others, every click is stored, and the database's uniqueness, not an instance's memory,
//! decides what is a redelivery. PostgreSQL only: SQLite is the single-instance store.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    helpers::{Backend, IPHONE, TestApp, TestDatabase, telegram_text},
    users, wechat,
};

async fn two_instances() -> (TestApp, TestApp) {
    let first = TestApp::spawn(Backend::Postgres).await;
    let second = first.spawn_beside().await;
    (first, second)
}

/// Follows `path` on `app` until it answers `wanted`; panics after a minute.
async fn until_status(app: &TestApp, path: &str, wanted: StatusCode) {
    for _ in 0..600 {
        if app.follow(path, IPHONE).await.status() == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never answered {wanted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_changed_through_one_instance_is_served_so_by_the_others() {
    let (first, second) = two_instances().await;
    let campaign = first.campaign("direct_to_chat").await;
    let account = first.account("telegram", "CoastShopBot", json!({})).await;
    let link = first.link(campaign, json!({"account_id": account})).await;
    let path = format!("/r/{}", link["code"].as_str().unwrap());
    // The second instance has the link in its cache from now on.
    assert_eq!(
        second.follow(&path, IPHONE).await.status(),
        StatusCode::FOUND
    );

    let response = first
        .api(Method::PATCH, &format!("/api/links/{}", link["id"]))
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(first.follow(&path, IPHONE).await.status(), StatusCode::GONE);
    // The other instance notices the change by itself (it checks twice a second).
    until_status(&second, &path, StatusCode::GONE).await;

    // A restarted instance needs nothing from the others.
    let third = first.spawn_beside().await;
    assert_eq!(third.follow(&path, IPHONE).await.status(), StatusCode::GONE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wechat_url_seen_by_one_instance_is_refused_by_the_other() {
    let (first, second) = two_instances().await;
    let campaign = first.campaign("direct_to_chat").await;
    let account = first
        .account("wechat", "gh_a786fbe98353", json!({"token": wechat::TOKEN}))
        .await;
    let (_, scene) = wechat::scene_link(&first, campaign, account).await;
    let captured = wechat::plain_query(wechat::TOKEN, "n-shared");
    let genuine = wechat::follow("oGenuine0001", &scene);
    assert_eq!(
        wechat::push(&first, account, &captured, &genuine).await.0,
        StatusCode::OK
    );
    let forged = wechat::follow("oForged0001", &scene);
    assert_eq!(
        wechat::push(&second, account, &captured, &forged).await,
        (StatusCode::UNAUTHORIZED, json!("replayed"))
    );
    let (_, contacts) = second.get("/api/contacts").await;
    assert_eq!(contacts.as_array().unwrap().len(), 1, "{contacts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_through_every_instance_are_all_stored() {
    let (mut first, mut second) = two_instances().await;
    let campaign = first.campaign("direct_to_chat").await;
    let account = first.account("telegram", "CoastShopBot", json!({})).await;
    let link = first.link(campaign, json!({"account_id": account})).await;
    let path = format!("/r/{}", link["code"].as_str().unwrap());
    let per_instance = 150;
    let mut answers = tokio::task::JoinSet::new();
    for app in [&first, &second] {
        for i in 0..per_instance {
            let (client, url) = (app.client.clone(), format!("{}{path}", app.base));
            answers.spawn(async move {
                client
                    .get(url)
                    .header("user-agent", format!("{IPHONE} n{i}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            });
        }
    }
    while let Some(status) = answers.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::FOUND);
    }
    second.stop().await;
    let db = first.stop().await;
    let counts = db.click_counts(link["id"].as_i64().unwrap()).await.unwrap();
    assert_eq!(counts.human, 2 * per_instance);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_landing_on_the_other_instance_makes_one_lead() {
    let (first, second) = two_instances().await;
    let campaign = first.campaign("direct_to_chat").await;
    let account = first
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let link = first.link(campaign, json!({"account_id": account})).await;
    let path = format!("/r/{}", link["code"].as_str().unwrap());
    let location = first.follow(&path, IPHONE).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    // `https://t.me/CoastShopBot?start=<tag>`: the tag Telegram sends back in `/start`.
    let tag = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "start")
        .map(|(_, v)| v.into_owned())
        .expect("a start parameter");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let update = telegram_text(501, 777, &format!("/start {tag}"), now);
    // Telegram redelivers an update it got no answer for; the load balancer may send it
    // to either instance, even to both at once.
    let (a, b) = tokio::join!(
        first.telegram_update(account, "s", &update),
        second.telegram_update(account, "s", &update)
    );
    assert_eq!((a, b), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        second.telegram_update(account, "s", &update).await,
        StatusCode::OK
    );
    let (_, stats) = second.get(&format!("/api/links/{}", link["id"])).await;
    assert_eq!(stats["leads"], 1, "{stats}");
    let (_, contacts) = first.get("/api/contacts").await;
    assert_eq!(contacts.as_array().unwrap().len(), 1, "{contacts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_sign_in_limits_hold_on_every_instance() {
    let (first, second) = two_instances().await;
    users::add_user(&first, "ann@shop.example", "viewer").await;
    let session = users::session_of(&first, "ann@shop.example").await;
    let home = users::page(&second, "/", &session).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("ann@shop.example"));

    users::add_user(&first, "bob@shop.example", "viewer").await;
    // Failures counted on both instances add up to one account's limit (10).
    for app in [&first, &second].into_iter().cycle().take(10) {
        let failed = users::sign_in_from(app, "bob@shop.example", "wrong password!", None).await;
        assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    }
    for app in [&first, &second] {
        let blocked = users::sign_in_from(app, "bob@shop.example", users::PASSWORD, None).await;
        assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_migrate_the_database_once() {
    let database = TestDatabase::new(Backend::Postgres).await;
    let url = database.url.clone();
    let system = || std::sync::Arc::new(chatref::clock::SystemClock);
    let (first, second) = tokio::join!(
        TestApp::start(database.alias(), |_| {}, system()),
        TestApp::start(database.alias(), |_| {}, system())
    );
    for app in [&first, &second] {
        let health = app
            .client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let (applied, distinct): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT version) FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count() as i64;
    assert_eq!((applied, distinct), (files, files));
    drop((first, second));
    drop(database);
}
