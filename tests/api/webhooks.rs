//! Webhooks end to end: signed fixture payloads shaped like each platform's, posted to the
//! running service.

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Backend, IPHONE, TestApp, tag_in_location};

fn fixture(path: &str, values: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for (placeholder, value) in values {
        text = text.replace(placeholder, value);
    }
    text
}

fn meta_signature(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn now_s() -> String {
    time::OffsetDateTime::now_utc().unix_timestamp().to_string()
}

async fn post_telegram(app: &TestApp, account: i64, secret: &str, body: &str) -> StatusCode {
    app.client
        .post(format!("{}/webhooks/telegram/{account}", app.base))
        .header("x-telegram-bot-api-secret-token", secret)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

/// Creates a Telegram link, follows it, and returns (account, link id, click tag).
async fn telegram_click(app: &TestApp, campaign: i64, account: i64, store: &str) -> (i64, String) {
    let link = app
        .link(campaign, json!({"account_id": account, "store": store}))
        .await;
    let response = app
        .follow(&format!("/r/{}", link["code"].as_str().unwrap()), IPHONE)
        .await;
    let key = app.tag_key().await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let tag = tag_in_location(&key, &location);
    let raw = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "start")
        .unwrap()
        .1
        .into_owned();
    assert!(tag.click_id.is_some());
    (link["id"].as_i64().unwrap(), raw)
}

async fn contacts(app: &TestApp) -> Vec<Value> {
    let (status, list) = app.get("/api/contacts").await;
    assert_eq!(status, StatusCode::OK);
    list.as_array().unwrap().clone()
}

async fn a_first_message_is_joined_to_the_exact_click(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account(
            "telegram",
            "CoastShopBot",
            json!({"secret_token": "tg-secret"}),
        )
        .await;
    let (link_id, tag) = telegram_click(&app, campaign, account, "Store 7").await;
    let body = fixture(
        "telegram/start.json",
        &[
            ("__MSG_ID__", "1001"),
            ("__TS_S__", &now_s()),
            ("__CONTACT__", "424242"),
            ("__REF__", &tag),
        ],
    );
    assert_eq!(
        post_telegram(&app, account, "tg-secret", &body).await,
        StatusCode::OK
    );

    let list = contacts(&app).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["platform_user"], "424242");
    assert_eq!(list[0]["method"], "click_id");
    assert_eq!(list[0]["link_id"], link_id);
    assert_eq!(list[0]["store"], "Store 7");
    assert_eq!(list[0]["click_id"], tag.split('-').nth(1).unwrap());

    // A redelivery and a later message change nothing.
    assert_eq!(
        post_telegram(&app, account, "tg-secret", &body).await,
        StatusCode::OK
    );
    let later = fixture(
        "telegram/text.json",
        &[
            ("__MSG_ID__", "1002"),
            ("__TS_S__", &now_s()),
            ("__CONTACT__", "424242"),
            ("__REF__", "x"),
        ],
    );
    assert_eq!(
        post_telegram(&app, account, "tg-secret", &later).await,
        StatusCode::OK
    );
    let (_, stats) = app.get(&format!("/api/links/{link_id}")).await;
    assert_eq!(stats["leads"], 1);
    assert_eq!(contacts(&app).await.len(), 1);

    // After the click is flushed, the time from click to first message is known.
    let db = app.stop().await;
    let rows = chatref::contacts::list(&db, None).await.unwrap();
    assert!(
        rows[0]
            .seconds_from_click
            .is_some_and(|s| (0..60).contains(&s)),
        "{rows:?}"
    );
}

async fn a_whatsapp_code_in_the_prefilled_text_is_attributed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account(
            "whatsapp",
            "15551234567",
            json!({"app_secret": "wa-secret", "verify_token": "vt"}),
        )
        .await;
    let link = app.link(campaign, json!({"account_id": account})).await;
    let response = app
        .follow(&format!("/r/{}", link["code"].as_str().unwrap()), IPHONE)
        .await;
    let key = app.tag_key().await;
    let tag = tag_in_location(&key, response.headers()["location"].to_str().unwrap());
    let tag_text =
        chatref::links::RefTag::for_click(&key, &tag.code, tag.click_id.as_ref().unwrap());
    let body = fixture(
        "whatsapp/text.json",
        &[
            ("__CONTACT__", "16505551234"),
            ("__MSG_ID__", "wamid.A1"),
            ("__TS_S__", &now_s()),
            ("__REF__", &tag_text),
        ],
    );
    let url = format!("{}/webhooks/whatsapp/{account}", app.base);
    let bad = app
        .client
        .post(&url)
        .header("x-hub-signature-256", meta_signature("wrong", &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(
        contacts(&app).await.is_empty(),
        "a refused call stores nothing"
    );
    let good = app
        .client
        .post(&url)
        .header("x-hub-signature-256", meta_signature("wa-secret", &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    let list = contacts(&app).await;
    assert_eq!(list[0]["method"], "click_id");
    assert_eq!(list[0]["campaign_id"], campaign);

    // Meta's handshake echoes the challenge for the right verify token only.
    let ok = app
        .client
        .get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let refused = app
        .client
        .get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

async fn an_ad_referral_is_attributed_to_its_campaign(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, campaign) = app
        .post(
            "/api/campaigns",
            json!({"name": "CTM", "kind": "direct_to_chat", "ad_ids": ["120226305854810726"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let account = app
        .account(
            "messenger",
            "CoastClothing",
            json!({"app_secret": "m-secret"}),
        )
        .await;
    let body = fixture(
        "messenger/message_ad_referral.json",
        &[
            ("__CONTACT__", "PSID1"),
            ("__MSG_ID__", "mid.1"),
            ("__TS_MS__", "1763900000000"),
            ("__REF__", "their_own_ref"),
            ("__AD_ID__", "120226305854810726"),
        ],
    );
    let response = app
        .client
        .post(format!("{}/webhooks/messenger/{account}", app.base))
        .header("x-hub-signature-256", meta_signature("m-secret", &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let list = contacts(&app).await;
    assert_eq!(list[0]["method"], "ad");
    assert_eq!(list[0]["campaign_id"], campaign["id"]);
}

async fn forged_refs_are_kept_but_never_attributed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let link = app.link(campaign, json!({"account_id": account})).await;
    let forged = format!("{}-AAAAAAAAAAAA-AAAAAA", link["code"].as_str().unwrap());
    let body = fixture(
        "telegram/start.json",
        &[
            ("__MSG_ID__", "7"),
            ("__TS_S__", &now_s()),
            ("__CONTACT__", "99"),
            ("__REF__", &forged),
        ],
    );
    assert_eq!(
        post_telegram(&app, account, "s", &body).await,
        StatusCode::OK
    );
    let list = contacts(&app).await;
    assert_eq!(list.len(), 1, "the contact is still a lead");
    assert_eq!(list[0]["method"], "none");
    assert_eq!(list[0]["campaign_id"], Value::Null);
}

async fn a_returning_contact_is_a_touch_not_a_second_lead(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.campaign("direct_to_chat").await;
    let second = app.campaign("direct_to_chat").await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let (first_link, tag1) = telegram_click(&app, first, account, "A").await;
    let (second_link, tag2) = telegram_click(&app, second, account, "B").await;
    for (id, tag) in [("1", &tag1), ("2", &tag2)] {
        let body = fixture(
            "telegram/start.json",
            &[
                ("__MSG_ID__", id),
                ("__TS_S__", &now_s()),
                ("__CONTACT__", "555"),
                ("__REF__", tag),
            ],
        );
        assert_eq!(
            post_telegram(&app, account, "s", &body).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.get(&format!("/api/links/{first_link}")).await.1["leads"],
        1
    );
    assert_eq!(
        app.get(&format!("/api/links/{second_link}")).await.1["leads"],
        0
    );
    let list = contacts(&app).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["campaign_id"], first);
}

async fn bad_webhook_calls_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let line = app.account("line", "@478eozzg", json!({})).await;
    let body = fixture(
        "telegram/start.json",
        &[
            ("__MSG_ID__", "1"),
            ("__TS_S__", &now_s()),
            ("__CONTACT__", "1"),
            ("__REF__", "x"),
        ],
    );
    let url = |platform: &str, id: i64| format!("{}/webhooks/{platform}/{id}", app.base);
    let cases = [
        (
            url("telegram", account),
            Some("wrong"),
            body.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            url("telegram", account),
            None,
            body.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            url("telegram", 999),
            Some("s"),
            body.clone(),
            StatusCode::NOT_FOUND,
        ),
        (
            url("myspace", account),
            Some("s"),
            body.clone(),
            StatusCode::NOT_FOUND,
        ),
        (
            url("viber", account),
            Some("s"),
            body.clone(),
            StatusCode::BAD_REQUEST,
        ),
        (
            url("telegram", account),
            Some("s"),
            "{not json".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            url("telegram", account),
            Some("s"),
            "x".repeat(1024 * 1024 + 10),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            url("line", line),
            Some("s"),
            "{}".into(),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (target, secret, body, expected) in cases {
        let mut request = app.client.post(&target).body(body);
        if let Some(secret) = secret {
            request = request.header("x-telegram-bot-api-secret-token", secret);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), expected, "{target}");
        let answer: Value = response.json().await.unwrap();
        assert!(answer["error"]["code"].is_string(), "{answer}");
    }
    assert!(contacts(&app).await.is_empty());
}

async fn rebuild_and_later_conversions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let (_, tag) = telegram_click(&app, campaign, account, "A").await;
    let body = fixture(
        "telegram/start.json",
        &[
            ("__MSG_ID__", "1"),
            ("__TS_S__", &now_s()),
            ("__CONTACT__", "777"),
            ("__REF__", &tag),
        ],
    );
    assert_eq!(
        post_telegram(&app, account, "s", &body).await,
        StatusCode::OK
    );

    let (status, purchase) = app
        .post("/api/conversions", json!({"platform": "telegram", "contact_id": "777", "type": "purchase", "value": "49.90"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{purchase}");
    assert_eq!(purchase["campaign_id"], campaign);
    assert_eq!(purchase["value"], "49.90");
    let (status, _) = app
        .post(
            "/api/conversions",
            json!({"platform": "telegram", "contact_id": "nobody", "type": "purchase"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            "/api/conversions",
            json!({"platform": "telegram", "contact_id": "777", "type": "refund"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let before = contacts(&app).await;
    let db = app.database.connect().await;
    let key = app.tag_key().await;
    let summary = chatref::attribution::rebuild(&db, &key).await.unwrap();
    assert_eq!(summary.leads, 1);
    assert_eq!(summary.unreadable, 0);
    let after = contacts(&app).await;
    assert_eq!(before[0]["method"], after[0]["method"]);
    assert_eq!(before[0]["click_id"], after[0]["click_id"]);

    // The same through the command line, as an operator runs it after a fix.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chatref"))
        .args(["--json", "attribution", "rebuild"])
        .env("CHATREF_DATABASE_URL", &app.database.url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (summary["payloads"].as_i64(), summary["leads"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(contacts(&app).await[0]["click_id"], before[0]["click_id"]);

    let csv = app
        .api(reqwest::Method::GET, "/api/contacts.csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("platform,account_id,contact,"), "{csv}");
    assert!(
        csv.contains("telegram") && csv.contains("777") && csv.contains("click_id"),
        "{csv}"
    );
}

crate::on_both_backends!(
    a_first_message_is_joined_to_the_exact_click,
    a_whatsapp_code_in_the_prefilled_text_is_attributed,
    an_ad_referral_is_attributed_to_its_campaign,
    forged_refs_are_kept_but_never_attributed,
    a_returning_contact_is_a_touch_not_a_second_lead,
    bad_webhook_calls_are_refused,
    rebuild_and_later_conversions,
);

fn line_signature(secret: &str, body: &str) -> String {
    use base64::Engine;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn wechat_query(token: &str) -> String {
    use sha1::{Digest, Sha1};
    let timestamp = now_s();
    let nonce = "k3J9sLm2";
    let mut parts = [token, timestamp.as_str(), nonce];
    parts.sort();
    let signature = hex::encode(Sha1::digest(parts.concat().as_bytes()));
    format!("signature={signature}&timestamp={timestamp}&nonce={nonce}")
}

async fn static_tags_attribute_by_ref_and_code_in_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;

    // WeChat: the printed parametric code's scene is the link's static tag → `ref`.
    let wechat = app
        .account("wechat", "gh_a786fbe98353", json!({"token": "wx-token"}))
        .await;
    let link = app
        .link(
            campaign,
            json!({"account_id": wechat, "store": "Shanghai 1"}),
        )
        .await;
    let scene = link["ref_tag"].as_str().unwrap();
    let body = fixture(
        "wechat/subscribe_qrscene.xml",
        &[
            ("__CONTACT__", "oW5Ux6ceqP"),
            ("__TS_S__", &now_s()),
            ("__REF__", scene),
        ],
    );
    let url = format!(
        "{}/webhooks/wechat/{wechat}?{}",
        app.base,
        wechat_query("wx-token")
    );
    let response = app
        .client
        .post(&url)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let stale = format!(
        "{}/webhooks/wechat/{wechat}?signature=00&timestamp=1&nonce=1",
        app.base
    );
    assert_eq!(
        app.client
            .post(&stale)
            .body(body)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // LINE: the static deep link's prefilled text, typed or pasted → `code_in_text`.
    let line = app
        .account(
            "line",
            "@478eozzg",
            json!({"channel_secret": "line-secret"}),
        )
        .await;
    let line_link = app.link(campaign, json!({"account_id": line})).await;
    let body = fixture(
        "line/text.json",
        &[
            ("__CONTACT__", "U4af4980629"),
            ("__MSG_ID__", "468789577898262530"),
            ("__TS_MS__", "1763900000000"),
            ("__REF__", line_link["ref_tag"].as_str().unwrap()),
        ],
    );
    let response = app
        .client
        .post(format!("{}/webhooks/line/{line}", app.base))
        .header("x-line-signature", line_signature("line-secret", &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let methods: Vec<(String, String)> = contacts(&app)
        .await
        .iter()
        .map(|c| {
            (
                c["platform"].as_str().unwrap().to_owned(),
                c["method"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        methods.contains(&("wechat".into(), "ref".into())),
        "{methods:?}"
    );
    assert!(
        methods.contains(&("line".into(), "code_in_text".into())),
        "{methods:?}"
    );
    let (_, stats) = app.get(&format!("/api/links/{}", link["id"])).await;
    assert_eq!(stats["leads_by_method"], json!({"ref": 1}));
}

crate::on_both_backends!(static_tags_attribute_by_ref_and_code_in_text);

async fn concurrent_deliveries_and_redeliveries_are_stored_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let (link_id, tag) = telegram_click(&app, campaign, account, "A").await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..60 {
        for _copy in 0..2 {
            let body = fixture(
                "telegram/start.json",
                &[
                    ("__MSG_ID__", &(5000 + n).to_string()),
                    ("__TS_S__", &now_s()),
                    ("__CONTACT__", &(900 + n).to_string()),
                    ("__REF__", &tag),
                ],
            );
            let client = app.client.clone();
            let url = format!("{}/webhooks/telegram/{account}", app.base);
            tasks.spawn(async move {
                client
                    .post(url)
                    .header("x-telegram-bot-api-secret-token", "s")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status()
            });
        }
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(contacts(&app).await.len(), 60);
    assert_eq!(
        app.get(&format!("/api/links/{link_id}")).await.1["leads"],
        60
    );
}

crate::on_both_backends!(concurrent_deliveries_and_redeliveries_are_stored_once);

fn viber_signature(token: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn kinds_we_do_not_use_are_acknowledged_and_ignored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let values = [
        ("__MSG_ID__", "4912661846655238145"),
        ("__TS_S__", "1763900000"),
        ("__TS_MS__", "1763900000000"),
        ("__CONTACT__", "16505551234"),
        ("__REF__", "x"),
    ];
    let meta = app
        .account("messenger", "CoastClothing", json!({"app_secret": "m"}))
        .await;
    let whatsapp = app
        .account("whatsapp", "15551234567", json!({"app_secret": "w"}))
        .await;
    let viber = app
        .account("viber", "coastshop", json!({"auth_token": "v"}))
        .await;
    let calls = [
        (
            "messenger",
            meta,
            "messenger/echo.json",
            "x-hub-signature-256",
            "m",
        ),
        (
            "messenger",
            meta,
            "messenger/delivery_read.json",
            "x-hub-signature-256",
            "m",
        ),
        (
            "whatsapp",
            whatsapp,
            "whatsapp/statuses.json",
            "x-hub-signature-256",
            "w",
        ),
        (
            "viber",
            viber,
            "viber/webhook_check.json",
            "x-viber-content-signature",
            "v",
        ),
        (
            "viber",
            viber,
            "viber/delivered.json",
            "x-viber-content-signature",
            "v",
        ),
    ];
    for (platform, account, file, header, secret) in calls {
        let body = fixture(file, &values);
        let signature = if platform == "viber" {
            viber_signature(secret, &body)
        } else {
            meta_signature(secret, &body)
        };
        let response = app
            .client
            .post(format!("{}/webhooks/{platform}/{account}", app.base))
            .header(header, signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{file}");
    }
    assert!(
        contacts(&app).await.is_empty(),
        "no receipt, echo or status is a lead"
    );
}

crate::on_both_backends!(kinds_we_do_not_use_are_acknowledged_and_ignored);
