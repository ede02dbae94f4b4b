//! One Meta app, several Pages or numbers: every event reaches the one callback URL set on the
//! app, and is routed to the account whose `external_id` it was sent to. Bad entries of a
//! batch are skipped, not the batch.

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{
    cli::{chatref, json_of},
    helpers::{Backend, IPHONE, TestApp, TestDatabase, tag_in_location},
};

/// All Pages and numbers of one Meta app share its app secret.
const APP_SECRET: &str = "one-app-secret";
const PAGE_A: &str = "106712345678901";
const PAGE_B: &str = "106799999999999";
const PAGE_C: &str = "100000000000042";
const NUMBER_A: &str = "106540352242922";
const NUMBER_B: &str = "106540352299999";
const NUMBER_C: &str = "106540352200000";

fn fixture(path: &str, values: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for (placeholder, value) in values {
        text = text.replace(placeholder, value);
    }
    assert!(!text.contains("__"), "unfilled placeholder in {text}");
    text
}

fn meta_signature(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post_meta(app: &TestApp, platform: &str, account: i64, body: &str) -> StatusCode {
    app.client
        .post(format!("{}/webhooks/{platform}/{account}", app.base))
        .header("x-hub-signature-256", meta_signature(body))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

/// Creates a Meta account with the shared app secret and returns its id.
async fn meta_account(app: &TestApp, platform: &str, handle: &str, external_id: &str) -> i64 {
    let (status, body) = app
        .post(
            "/api/accounts",
            json!({"platform": platform, "handle": handle, "external_id": external_id,
                   "secrets": {"app_secret": APP_SECRET, "verify_token": "vt"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["external_id"], external_id);
    body["id"].as_i64().unwrap()
}

/// Creates a link to `account`, follows it as a phone, and returns the link id and the
/// Location the customer's app opened.
async fn click(app: &TestApp, campaign: i64, account: i64) -> (i64, String) {
    let link = app.link(campaign, json!({"account_id": account})).await;
    let response = app
        .follow(&format!("/r/{}", link["code"].as_str().unwrap()), IPHONE)
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        tag_in_location(&app.tag_key().await, &location)
            .click_id
            .is_some()
    );
    (link["id"].as_i64().unwrap(), location)
}

/// A query parameter of a deep link, decoded.
fn param(location: &str, name: &str) -> String {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .unwrap()
        .1
        .into_owned()
}

/// Contacts by platform user id: (account id, method, link id).
async fn contacts(app: &TestApp) -> Vec<(String, i64, String, Option<i64>)> {
    let (status, list) = app.get("/api/contacts").await;
    assert_eq!(status, StatusCode::OK);
    let mut rows: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["platform_user"].as_str().unwrap().to_owned(),
                c["account_id"].as_i64().unwrap(),
                c["method"].as_str().unwrap().to_owned(),
                c["link_id"].as_i64(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The value of one Prometheus series, 0 when absent.
async fn metric(app: &TestApp, series: &str) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

async fn one_app_s_messenger_batch_is_split_between_its_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let page_a = meta_account(&app, "messenger", "CoastClothing", PAGE_A).await;
    let page_b = meta_account(&app, "messenger", "CoastOutlet", PAGE_B).await;
    let (link_a, location_a) = click(&app, campaign, page_a).await;
    let (link_b, location_b) = click(&app, campaign, page_b).await;
    let body = fixture(
        "messenger/batch_two_pages.json",
        &[
            ("__PAGE_A__", PAGE_A),
            ("__PAGE_B__", PAGE_B),
            ("__PAGE_C__", PAGE_C),
            ("__CONTACT_A__", "7700000000000001"),
            ("__CONTACT_B__", "7700000000000002"),
            ("__CONTACT_C__", "7700000000000003"),
            ("__REF_A__", &param(&location_a, "ref")),
            ("__REF_B__", &param(&location_b, "ref")),
            ("__TS_MS__", "1763900000000"),
        ],
    );

    // Meta posts the whole app's batch to the URL set on the app: Page A's here.
    assert_eq!(
        post_meta(&app, "messenger", page_a, &body).await,
        StatusCode::OK
    );
    let expected = vec![
        (
            "7700000000000001".to_owned(),
            page_a,
            "click_id".to_owned(),
            Some(link_a),
        ),
        (
            "7700000000000002".to_owned(),
            page_b,
            "click_id".to_owned(),
            Some(link_b),
        ),
    ];
    assert_eq!(
        contacts(&app).await,
        expected,
        "Page C's customer is no one's"
    );
    let unrouted = r#"chatref_webhook_events_unrouted_total{platform="messenger"}"#;
    assert_eq!(metric(&app, unrouted).await, 1);
    assert_eq!(app.get(&format!("/api/links/{link_b}")).await.1["leads"], 1);

    // A redelivery changes nothing, though it is counted again.
    assert_eq!(
        post_meta(&app, "messenger", page_a, &body).await,
        StatusCode::OK
    );
    assert_eq!(contacts(&app).await, expected);
    assert_eq!(metric(&app, unrouted).await, 2);

    // The body is kept once, under the URL's account; rebuilding routes the same way.
    let db = app.database.connect().await;
    let payloads = db.stored_payloads().await.unwrap();
    assert_eq!(payloads.len(), 1);
    assert_eq!(payloads[0].account_id, page_a);
    assert_eq!(payloads[0].body, body.as_bytes());
    let summary = chatref::attribution::rebuild(&db, &app.tag_key().await)
        .await
        .unwrap();
    assert_eq!((summary.events, summary.leads), (2, 2));
    assert_eq!(contacts(&app).await, expected);
    db.close().await;
}

async fn one_app_s_whatsapp_batch_is_split_between_its_numbers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let number_a = meta_account(&app, "whatsapp", "15551234567", NUMBER_A).await;
    let number_b = meta_account(&app, "whatsapp", "15557654321", NUMBER_B).await;
    let (link_a, location_a) = click(&app, campaign, number_a).await;
    let (link_b, location_b) = click(&app, campaign, number_b).await;
    let body = fixture(
        "whatsapp/batch_two_numbers.json",
        &[
            ("__NUMBER_A__", NUMBER_A),
            ("__NUMBER_B__", NUMBER_B),
            ("__NUMBER_C__", NUMBER_C),
            ("__CONTACT_A__", "16505550001"),
            ("__CONTACT_B__", "16505550002"),
            ("__CONTACT_C__", "16505550003"),
            // The prefilled text the customer sent, as the deep link wrote it.
            ("__TEXT_A__", &param(&location_a, "text")),
            ("__TEXT_B__", &param(&location_b, "text")),
            ("__TS_S__", "1763900000"),
        ],
    );
    // Posted to number B's URL this time: routing does not depend on which URL is set.
    assert_eq!(
        post_meta(&app, "whatsapp", number_b, &body).await,
        StatusCode::OK
    );
    assert_eq!(
        contacts(&app).await,
        vec![
            (
                "16505550001".to_owned(),
                number_a,
                "click_id".to_owned(),
                Some(link_a)
            ),
            (
                "16505550002".to_owned(),
                number_b,
                "click_id".to_owned(),
                Some(link_b)
            ),
        ]
    );
    let unrouted = r#"chatref_webhook_events_unrouted_total{platform="whatsapp"}"#;
    assert_eq!(metric(&app, unrouted).await, 1);
    let db = app.database.connect().await;
    assert_eq!(db.stored_payloads().await.unwrap().len(), 1);
    db.close().await;
}

async fn without_external_ids_the_url_decides_as_before(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account(
            "messenger",
            "CoastClothing",
            json!({"app_secret": APP_SECRET}),
        )
        .await;
    let (link, location) = click(&app, campaign, account).await;
    // Every Page id in the batch is unknown, and no account has an external id.
    let body = fixture(
        "messenger/batch_two_pages.json",
        &[
            ("__PAGE_A__", PAGE_A),
            ("__PAGE_B__", PAGE_B),
            ("__PAGE_C__", PAGE_C),
            ("__CONTACT_A__", "7700000000000001"),
            ("__CONTACT_B__", "7700000000000002"),
            ("__CONTACT_C__", "7700000000000003"),
            ("__REF_A__", &param(&location, "ref")),
            ("__REF_B__", "not_ours"),
            ("__TS_MS__", "1763900000000"),
        ],
    );
    assert_eq!(
        post_meta(&app, "messenger", account, &body).await,
        StatusCode::OK
    );
    let rows = contacts(&app).await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|(_, a, _, _)| *a == account), "{rows:?}");
    assert_eq!(rows[0].3, Some(link));
    let unrouted = r#"chatref_webhook_events_unrouted_total{platform="messenger"}"#;
    assert_eq!(metric(&app, unrouted).await, 0);
}

async fn a_batch_with_bad_entries_stores_the_good_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = meta_account(&app, "messenger", "CoastClothing", PAGE_A).await;
    let (link, location) = click(&app, campaign, account).await;
    let body = fixture(
        "messenger/batch_bad_entries.json",
        &[
            ("__CONTACT__", "7712345678901234"),
            ("__MSG_ID__", "m_good_one"),
            ("__REF__", &param(&location, "ref")),
            ("__TS_MS__", "1763900000000"),
        ],
    );
    assert_eq!(
        post_meta(&app, "messenger", account, &body).await,
        StatusCode::OK
    );
    assert_eq!(
        contacts(&app).await,
        vec![(
            "7712345678901234".to_owned(),
            account,
            "click_id".to_owned(),
            Some(link)
        )]
    );
    let skipped = r#"chatref_webhook_entries_skipped_total{platform="messenger"}"#;
    assert_eq!(metric(&app, skipped).await, 2);

    // A body that is not Meta's at all is still refused, and nothing is kept of it.
    for bad in [
        "{not json",
        r#"{"object": "page"}"#,
        r#"{"object": "instagram", "entry": []}"#,
    ] {
        assert_eq!(
            post_meta(&app, "messenger", account, bad).await,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let db = app.database.connect().await;
    assert_eq!(db.stored_payloads().await.unwrap().len(), 1);
    db.close().await;
}

async fn external_ids_are_stored_checked_and_unique_per_platform(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = meta_account(&app, "messenger", "CoastClothing", PAGE_A).await;
    // The same number on another platform is another id space.
    meta_account(&app, "instagram", "coast.clothing", PAGE_A).await;
    let line_bot = format!("U{}", "4AF4980629".repeat(3) + "AB");
    let (status, line) = app
        .post(
            "/api/accounts",
            json!({"platform": "line", "handle": "@478eozzg", "external_id": line_bot}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    let stored_bot = format!("U{}", "4af4980629".repeat(3) + "ab");
    assert_eq!(line["external_id"], stored_bot, "stored as LINE sends it");
    let (_, plain) = app
        .post(
            "/api/accounts",
            json!({"platform": "telegram", "handle": "CoastShopBot"}),
        )
        .await;
    assert_eq!(plain["external_id"], Value::Null);

    let (status, list) = app.get("/api/accounts").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["external_id"])
        .collect();
    assert_eq!(
        ids,
        [
            &json!(PAGE_A),
            &json!(PAGE_A),
            &line["external_id"],
            &Value::Null
        ]
    );
    assert_eq!(list[0]["id"], page);

    for (body, words) in [
        (
            json!({"platform": "messenger", "handle": "CoastOutlet", "external_id": "CoastOutlet"}),
            "digits",
        ),
        (
            json!({"platform": "whatsapp", "handle": "15557654321", "external_id": "+15557654321"}),
            "phone_number_id",
        ),
        (
            json!({"platform": "line", "handle": "@coastline", "external_id": "@coastline"}),
            "destination",
        ),
        (
            json!({"platform": "telegram", "handle": "OtherShopBot", "external_id": "12345"}),
            "URL of its own",
        ),
    ] {
        let (status, answer) = app.post("/api/accounts", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: `{message}`");
    }
    let (status, answer) = app
        .post(
            "/api/accounts",
            json!({"platform": "messenger", "handle": "CoastOutlet", "external_id": PAGE_A}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "conflict");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("external_id"),
        "{answer}"
    );
    assert_eq!(
        app.get("/api/accounts").await.1.as_array().unwrap().len(),
        4
    );
}

async fn the_cli_sets_and_shows_external_ids(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let created = json_of(&chatref(
        &db,
        &[
            "--json",
            "account",
            "create",
            "--platform",
            "whatsapp",
            "--handle",
            "+15551234567",
            "--external-id",
            NUMBER_A,
            "--secret",
            "app_secret=abc",
        ],
    ));
    assert_eq!(created[0]["external_id"], NUMBER_A);
    // An account made before routing existed gets its id later, keeping its URL.
    let older = json_of(&chatref(
        &db,
        &[
            "--json",
            "account",
            "create",
            "--platform",
            "whatsapp",
            "--handle",
            "15557654321",
        ],
    ));
    assert_eq!(older[0]["external_id"], Value::Null);
    let id = older[0]["id"].as_i64().unwrap().to_string();
    let updated = json_of(&chatref(
        &db,
        &[
            "--json",
            "account",
            "update",
            &id,
            "--external-id",
            NUMBER_B,
        ],
    ));
    assert_eq!(updated[0]["external_id"], NUMBER_B);
    assert_eq!(updated[0]["webhook_url"], older[0]["webhook_url"]);

    let table = chatref(&db, &["account", "list"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(table.status.success());
    assert!(
        text.contains("external id") && text.contains(NUMBER_A) && text.contains(NUMBER_B),
        "{text}"
    );

    let taken = chatref(&db, &["account", "update", &id, "--external-id", NUMBER_A]);
    assert_eq!(taken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&taken.stderr).contains("external_id"));
    let bad = chatref(
        &db,
        &[
            "account",
            "create",
            "--platform",
            "messenger",
            "--handle",
            "CoastClothing",
            "--external-id",
            "CoastClothing",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("digits"));

    let cleared = json_of(&chatref(
        &db,
        &["--json", "account", "update", &id, "--clear-external-id"],
    ));
    assert_eq!(cleared[0]["external_id"], Value::Null);
    let listed = json_of(&chatref(&db, &["--json", "account", "list"]));
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

crate::on_both_backends!(
    one_app_s_messenger_batch_is_split_between_its_pages,
    one_app_s_whatsapp_batch_is_split_between_its_numbers,
    without_external_ids_the_url_decides_as_before,
    a_batch_with_bad_entries_stores_the_good_ones,
    external_ids_are_stored_checked_and_unique_per_platform,
    the_cli_sets_and_shows_external_ids,
);
