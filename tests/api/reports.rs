//! The funnel report against numbers worked out by hand, on both backends: bots that must
//! not count, a redelivered webhook, a returning contact, spend entered and imported twice,
//! a campaign without leads, landing-page events sent twice, and a day boundary in a zone
//! that is not UTC. JSON and CSV must say the same.

use std::collections::BTreeMap;

use chatref::{
    campaigns::{CampaignRequest, NewCampaign},
    clicks::{ClickClass, Via},
    db::{ClickRecord, ClueEvent, Db, WebhookCall},
    links::{ClickId, LinkCode, LinkRequest, NewLink, RefTag, TagKey},
    platforms::{
        Platform,
        webhook::{EventKind, InboundEvent},
    },
    reports::{self, ReportRequest, ReportZone},
    secret::Secret,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime, macros::datetime};

use crate::helpers::{Backend, IPHONE, TestApp, TestDatabase, tag_in_location, telegram_text};

const BOT: &str = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";

/// Follows a short link and returns the tag the redirect put in the target.
async fn click(app: &TestApp, code: &str, query_key: &str) -> String {
    let response = app.follow(&format!("/r/{code}"), IPHONE).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let key = app.tag_key().await;
    let value = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == query_key)
        .unwrap()
        .1
        .into_owned();
    if query_key == "start" {
        tag_in_location(&key, &location);
    }
    value
}

async fn telegram(app: &TestApp, account: i64, update_id: i64, user: i64, text: &str) {
    let update = telegram_text(
        update_id,
        user,
        text,
        OffsetDateTime::now_utc().unix_timestamp(),
    );
    assert_eq!(
        app.telegram_update(account, "tg", &update).await,
        StatusCode::OK
    );
}

async fn page_event(app: &TestApp, tag: &str, kind: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/t/event", app.base))
        .header("content-type", "text/plain")
        .body(json!({"click_id": tag, "type": kind}).to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn campaign(app: &TestApp, name: &str, kind: &str) -> i64 {
    let (status, body) = app
        .post("/api/campaigns", json!({"name": name, "kind": kind}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

fn money(v: &Value) -> Option<&str> {
    v.as_str()
}

async fn the_funnel_matches_numbers_worked_out_by_hand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "tg"}))
        .await;
    let chat = campaign(&app, "Chat posters", "direct_to_chat").await;
    let landing = campaign(&app, "Landing ads", "landing_page").await;
    let silent = campaign(&app, "No leads", "direct_to_chat").await;
    let chat_link = app
        .link(chat, json!({"account_id": account, "store": "North"}))
        .await;
    let landing_link = app
        .link(
            landing,
            json!({"destination_url": "https://shop.example/sale"}),
        )
        .await;
    let chat_code = chat_link["code"].as_str().unwrap();
    let landing_code = landing_link["code"].as_str().unwrap();

    // Chat: 4 human clicks, 2 preview bots.
    let mut chat_tags = Vec::new();
    for _ in 0..4 {
        chat_tags.push(click(&app, chat_code, "start").await);
    }
    for _ in 0..2 {
        app.follow(&format!("/r/{chat_code}"), BOT).await;
    }
    // Landing: 5 human clicks, 1 bot.
    let mut landing_tags = Vec::new();
    for _ in 0..5 {
        landing_tags.push(click(&app, landing_code, "chatref_click").await);
    }
    app.follow(&format!("/r/{landing_code}"), BOT).await;

    // Two first messages; one redelivered; the first contact comes back through another click.
    telegram(&app, account, 1, 501, &format!("/start {}", chat_tags[0])).await;
    telegram(&app, account, 1, 501, &format!("/start {}", chat_tags[0])).await;
    telegram(&app, account, 2, 502, &format!("/start {}", chat_tags[1])).await;
    telegram(&app, account, 3, 501, &format!("/start {}", chat_tags[2])).await;

    // Landing: 4 page views (one sent twice), 2 leads (one sent twice).
    for tag in landing_tags
        .iter()
        .take(4)
        .chain(std::iter::once(&landing_tags[0]))
    {
        assert_eq!(page_event(&app, tag, "page_view").await.0, StatusCode::OK);
    }
    assert_eq!(
        page_event(&app, &landing_tags[0], "lead").await.1["recorded"],
        true
    );
    assert_eq!(
        page_event(&app, &landing_tags[0], "lead").await.1["recorded"],
        false
    );
    assert_eq!(
        page_event(&app, &landing_tags[1], "lead").await.1["recorded"],
        true
    );

    // A qualified chat lead and a landing-page purchase of 30.00.
    let (status, _) = app
        .post(
            "/api/conversions",
            json!({"platform": "telegram", "contact_id": "501", "type": "qualified"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Spend: today through the API; yesterday imported twice for the landing campaign.
    let today = time::OffsetDateTime::now_utc().date();
    let yesterday = today.previous_day().unwrap();
    for (id, amount) in [(chat, "100"), (landing, "100"), (silent, "50")] {
        let (status, body) = app
            .post(
                &format!("/api/campaigns/{id}/spend"),
                json!({"date": today.to_string(), "amount": amount}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let csv = format!("date,campaign,amount\n{yesterday},Landing ads,20\n");
    for _ in 0..2 {
        let response = app
            .api(Method::POST, "/api/spend/import")
            .body(csv.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    app.wait_for_metric("chatref_clicks_total{class=\"human\"} 9")
        .await;
    app.wait_for_metric("chatref_clicks_total{class=\"bot\"} 3")
        .await;
    // The landing-page purchase needs its click stored first.
    let (status, body) = app
        .post(
            "/api/conversions",
            json!({"click_id": landing_tags[0], "type": "purchase", "value": "30.00"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let range = format!("from={yesterday}&to={}", today.next_day().unwrap());
    let (status, report) = app.get(&format!("/api/reports/funnel?{range}")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let row = |id: i64| {
        report["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let c = row(chat);
    assert_eq!(
        (c["clicks"].as_i64(), c["bot_clicks"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(
        (c["unique_clicks"].as_i64(), c["leads"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(c["qualified"], 1);
    assert_eq!(c["spend"], "100.00");
    assert_eq!(money(&c["cost_per_lead"]), Some("50.00"));
    assert_eq!(money(&c["cost_per_click"]), Some("25.00"));
    assert_eq!(money(&c["cost_per_qualified"]), Some("100.00"));
    assert_eq!(c["cost_per_purchase"], Value::Null);
    assert_eq!(c["click_to_lead_rate"], 0.5);
    assert_eq!(c["page_views"], 0);
    assert!(
        c["median_seconds_to_lead"]
            .as_i64()
            .is_some_and(|s| (0..600).contains(&s))
    );

    let l = row(landing);
    assert_eq!(
        (l["clicks"].as_i64(), l["bot_clicks"].as_i64()),
        (Some(5), Some(1))
    );
    assert_eq!(
        (l["page_views"].as_i64(), l["leads"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(
        (l["purchases"].as_i64(), l["purchase_value"].as_str()),
        (Some(1), Some("30.00"))
    );
    assert_eq!(l["spend"], "120.00", "imported twice, counted once");
    assert_eq!(money(&l["cost_per_lead"]), Some("60.00"));
    assert_eq!(money(&l["cost_per_click"]), Some("24.00"));
    assert_eq!(l["click_to_view_rate"], 0.8);
    assert_eq!(l["view_to_lead_rate"], 0.5);

    let s = row(silent);
    assert_eq!(
        (s["spend"].as_str(), s["leads"].as_i64()),
        (Some("50.00"), Some(0))
    );
    assert_eq!(
        s["cost_per_lead"],
        Value::Null,
        "no leads: no cost per lead"
    );

    let dtc = &report["by_kind"]["direct_to_chat"];
    assert_eq!(
        (dtc["spend"].as_str(), dtc["leads"].as_i64()),
        (Some("150.00"), Some(2))
    );
    assert_eq!(money(&dtc["cost_per_lead"]), Some("75.00"));
    let lp = &report["by_kind"]["landing_page"];
    assert_eq!(money(&lp["cost_per_lead"]), Some("60.00"));
    assert_eq!(report["comparison"]["cost_per_lead_ratio"], 0.8);
    assert_eq!(
        report["comparison"]["leads_per_1000_spend"]["landing_page"],
        2.0 / 120.0 * 1000.0
    );
    let verdict = report["comparison"]["verdict"].as_str().unwrap();
    assert!(
        verdict.contains("landing-page lead cost 60.00 USD"),
        "{verdict}"
    );
    assert!(verdict.contains("too few leads"), "{verdict}");

    // Breakdowns: the store, the method, the platform.
    let by_store = report["breakdowns"]["by_store"].as_array().unwrap();
    let north = by_store.iter().find(|r| r["value"] == "North").unwrap();
    assert_eq!(
        (north["clicks"].as_i64(), north["leads"].as_i64()),
        (Some(4), Some(2))
    );
    let by_method = report["breakdowns"]["by_method"].as_array().unwrap();
    assert!(
        by_method
            .iter()
            .any(|r| r["value"] == "click_id" && r["kind"] == "direct_to_chat" && r["leads"] == 2)
    );
    let by_platform = report["breakdowns"]["by_platform"].as_array().unwrap();
    assert!(
        by_platform
            .iter()
            .any(|r| r["value"] == "web" && r["clicks"] == 5)
    );
    let by_day = report["breakdowns"]["by_day"].as_array().unwrap();
    assert_eq!(by_day.len(), 3 * 2, "every day of the range for both kinds");
    let day = by_day
        .iter()
        .find(|d| d["date"] == yesterday.to_string() && d["kind"] == "landing_page")
        .unwrap();
    assert_eq!(
        (day["spend"].as_str(), day["leads"].as_i64()),
        (Some("20.00"), Some(0))
    );
    assert_eq!(day["cost_per_lead"], Value::Null);

    // The CSV says the same: same rows, empty where JSON is null.
    let response = app
        .api(Method::GET, &format!("/api/reports/funnel.csv?{range}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let rows: Vec<BTreeMap<String, String>> = reader
        .records()
        .map(|r| {
            header
                .iter()
                .map(str::to_owned)
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect();
    let csv_row = |id: i64| {
        rows.iter()
            .find(|r| r["campaign_id"] == id.to_string())
            .unwrap()
    };
    assert_eq!(csv_row(chat)["cost_per_lead"], "50.00");
    assert_eq!(csv_row(landing)["spend"], "120.00");
    assert_eq!(csv_row(silent)["cost_per_lead"], "");
    let total = rows
        .iter()
        .find(|r| r["row"] == "kind_total" && r["kind"] == "direct_to_chat")
        .unwrap();
    assert_eq!(total["cost_per_lead"], "75.00");

    // The HTML page shows the same figures, with its charts inline and "—" for no cost.
    let response = app
        .api(Method::GET, &format!("/reports/funnel?{range}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("75.00 USD") && page.contains("60.00 USD"),
        "cost per lead of each kind"
    );
    assert!(page.contains("<svg"), "charts inline");
    assert!(page.contains("Chat posters") && page.contains("—"));
    assert!(
        page.contains("href=\"/reports/funnel.csv?"),
        "CSV link keeps the filters"
    );
    let anonymous = app
        .client
        .get(format!("{}/reports/funnel", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.status(),
        StatusCode::SEE_OTHER,
        "a browser is sent to sign in"
    );
    assert_eq!(
        anonymous.headers()["location"],
        "/login?next=%2Freports%2Ffunnel"
    );

    // The report folder of the CLI holds the same numbers.
    let out = tempfile::tempdir().unwrap();
    let folder = out.path().join("november");
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_chatref"))
        .args([
            "report",
            "--from",
            &yesterday.to_string(),
            "--to",
            &today.next_day().unwrap().to_string(),
        ])
        .arg("--out")
        .arg(&folder)
        .env("CHATREF_DATABASE_URL", &app.database.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let printed = String::from_utf8_lossy(&cli.stdout);
    assert!(
        printed.contains("60.00 USD") && printed.contains("75.00 USD"),
        "{printed}"
    );
    for file in [
        "index.html",
        "funnel.csv",
        "funnel.json",
        "funnel.png",
        "cost_per_lead.png",
        "leads_by_store.png",
        "by_country.png",
    ] {
        assert!(folder.join(file).is_file(), "{file} missing");
    }
    let saved: Value =
        serde_json::from_slice(&std::fs::read(folder.join("funnel.json")).unwrap()).unwrap();
    assert_eq!(
        saved["by_kind"], report["by_kind"],
        "the folder's JSON is the API's"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("funnel.csv")).unwrap(),
        text,
        "same CSV"
    );
    let index = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(index.contains("<svg") && index.contains("funnel.csv") && !index.contains("/api/"));

    // Filters: one campaign, one kind.
    let (_, only) = app
        .get(&format!("/api/reports/funnel?{range}&campaign={landing}"))
        .await;
    assert_eq!(only["campaigns"].as_array().unwrap().len(), 1);
    assert_eq!(only["by_kind"]["direct_to_chat"]["clicks"], 0);
    let (_, kind) = app
        .get(&format!("/api/reports/funnel?{range}&kind=direct_to_chat"))
        .await;
    assert_eq!(kind["campaigns"].as_array().unwrap().len(), 2);
    let (_, store) = app
        .get(&format!("/api/reports/funnel?{range}&store=North"))
        .await;
    assert_eq!(store["by_kind"]["direct_to_chat"]["clicks"], 4);
    assert_eq!(store["by_kind"]["landing_page"]["clicks"], 0);
    assert!(!store["notes"].as_array().unwrap().is_empty());
}

async fn bad_report_requests_say_why(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, word) in [
        ("from=2026-11-10&to=2026-11-01", "after"),
        ("from=2020-01-01&to=2026-11-01", "at most"),
        ("campaign=999", "does not exist"),
        ("from=11/01/2026", "date"),
        ("kind=billboard", "direct_to_chat"),
        ("platform=kik", "platform"),
        ("colour=red", "unknown parameter"),
    ] {
        let (status, body) = app.get(&format!("/api/reports/funnel?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(word), "{query}: {message}");
    }
    let response = app
        .client
        .get(format!("{}/api/reports/funnel", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn forged_landing_page_events_store_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let landing = campaign(&app, "Landing ads", "landing_page").await;
    let link = app
        .link(landing, json!({"destination_url": "https://shop.example"}))
        .await;
    let tag = click(&app, link["code"].as_str().unwrap(), "chatref_click").await;
    let mut forged = tag.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for (body, code) in [
        (json!({"click_id": forged, "type": "lead"}), "unknown_click"),
        (
            json!({"click_id": "nonsense", "type": "page_view"}),
            "unknown_click",
        ),
        (
            json!({"click_id": tag, "type": "purchase"}),
            "invalid_request",
        ),
    ] {
        let response = app
            .client
            .post(format!("{}/t/event", app.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], code, "{body}");
    }
    // The pixel form records a view and answers a GIF.
    let response = app
        .client
        .get(format!(
            "{}/t/event.gif?click_id={tag}&type=page_view",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/gif");
    let preflight = app
        .client
        .request(Method::OPTIONS, format!("{}/t/event", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let snippet = app
        .client
        .get(format!("{}/t/snippet.js", app.base))
        .send()
        .await
        .unwrap();
    let script = snippet.text().await.unwrap();
    assert!(
        script.contains(r#"var origin = "https://go.example.test";"#),
        "{script}"
    );
    assert!(script.contains("chatref_click") && script.contains("/t/event"));

    let today = OffsetDateTime::now_utc().date();
    let (_, report) = app
        .get(&format!(
            "/api/reports/funnel?to={}",
            today.next_day().unwrap()
        ))
        .await;
    assert_eq!(report["by_kind"]["landing_page"]["page_views"], 1);
    assert_eq!(
        report["by_kind"]["landing_page"]["leads"], 0,
        "forged leads are not stored"
    );
}

/// A click and a first message either side of midnight in São Paulo (UTC−3).
async fn days_are_calendar_days_of_the_report_time_zone(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let db: Db = database.connect().await;
    let key = TagKey::new(&Secret::new("zone"));
    let campaign = db
        .insert_campaign(
            &NewCampaign::parse(CampaignRequest {
                name: "Night".into(),
                kind: "direct_to_chat".into(),
                channel: None,
                currency: Some("BRL".into()),
                budget: None,
                starts_on: None,
                ends_on: None,
                ad_ids: vec![],
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let account = db
        .insert_account(
            &chatref::accounts::NewAccount::parse(chatref::accounts::AccountRequest {
                platform: "telegram".into(),
                handle: "NightShopBot".into(),
                name: None,
                external_id: None,
                secrets: BTreeMap::new(),
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let link = NewLink::parse(
        &campaign,
        Some(&account),
        LinkRequest {
            account_id: Some(account.id),
            destination_url: None,
            label: None,
            store: None,
            prefill_text: None,
            utm: BTreeMap::new(),
            wechat_qr_url: None,
        },
    )
    .unwrap();
    let link = db.insert_links(&[link]).await.unwrap().remove(0);
    let record = |id: &ClickId, at: OffsetDateTime| ClickRecord {
        click_id: id.as_str().to_owned(),
        link_id: link.id,
        at,
        via: Via::Link,
        class: ClickClass::Human,
        visitor: id.as_str().to_owned(),
        country: Some("BR".into()),
        region: None,
        city: None,
        device: Some("Mobile".into()),
        os: None,
        browser: None,
        referrer_host: None,
        user_agent: None,
    };
    let late = ClickId::generate();
    let early = ClickId::generate();
    // 23:30 on 4 Nov and 00:30 on 5 Nov, São Paulo time.
    db.insert_clicks(&[
        record(&late, datetime!(2026-11-05 02:30 UTC)),
        record(&early, datetime!(2026-11-05 03:30 UTC)),
    ])
    .await
    .unwrap();
    let code = LinkCode::parse(&link.code).unwrap();
    let message = |user: &str, click: &ClickId, at: OffsetDateTime| {
        let event = InboundEvent {
            contact_id: user.into(),
            dedupe_key: user.into(),
            at,
            kind: EventKind::Message,
            ref_value: Some(RefTag::for_click(&key, &code, click)),
            ad_id: None,
            ctwa_clid: None,
            text: None,
            recipient: None,
        };
        ClueEvent {
            clue: chatref::attribution::Clue::of(&key, &event),
            event,
        }
    };
    db.ingest_webhooks(&[WebhookCall {
        platform: Platform::Telegram,
        account_id: account.id,
        body: b"zone".to_vec(),
        events: vec![
            message("a", &late, datetime!(2026-11-05 02:50 UTC)),
            message("b", &early, datetime!(2026-11-05 03:45 UTC)),
        ],
        skipped_entries: 0,
        received_at: datetime!(2026-11-05 04:00 UTC),
    }])
    .await
    .unwrap();
    for (day, amount) in [("2026-11-04", "10"), ("2026-11-05", "30")] {
        chatref::spend::record(
            &db,
            campaign.id,
            chatref::spend::SpendRequest {
                date: day.into(),
                amount: chatref::money::AmountInput::Text(amount.into()),
                impressions: None,
                clicks: None,
            },
        )
        .await
        .unwrap();
    }

    let zone = ReportZone::parse("America/Sao_Paulo").unwrap();
    let on = |from: &str, to: &str| ReportRequest {
        from: Some(from.into()),
        to: Some(to.into()),
        ..ReportRequest::default()
    };
    let fifth = reports::funnel(&db, &zone, &on("2026-11-05", "2026-11-05"))
        .await
        .unwrap();
    let f = &fifth.by_kind.direct_to_chat;
    assert_eq!(
        (f.counts.clicks, f.counts.leads),
        (1, 1),
        "only the 00:30 click and its message"
    );
    assert_eq!(f.counts.spend.to_string(), "30.00");
    assert_eq!(f.median_seconds_to_lead, Some(15 * 60));
    assert_eq!(fifth.currency, "BRL");

    let both = reports::funnel(&db, &zone, &on("2026-11-04", "2026-11-05"))
        .await
        .unwrap();
    let days: Vec<(Date, i64, i64, String)> = both
        .breakdowns
        .by_day
        .iter()
        .map(|d| (d.date, d.clicks, d.leads, d.spend.to_string()))
        .collect();
    assert_eq!(
        days,
        [
            (time::macros::date!(2026 - 11 - 04), 1, 1, "10.00".into()),
            (time::macros::date!(2026 - 11 - 05), 1, 1, "30.00".into()),
        ]
    );
    assert_eq!(
        both.by_kind.direct_to_chat.p90_seconds_to_lead,
        Some(20 * 60)
    );
    // In UTC both happened on the 5th.
    let utc = reports::funnel(&db, &ReportZone::default(), &on("2026-11-05", "2026-11-05"))
        .await
        .unwrap();
    assert_eq!(utc.by_kind.direct_to_chat.counts.clicks, 2);
    let country = &both.breakdowns.by_country;
    assert_eq!(
        (
            country[0].value.as_str(),
            country[0].clicks,
            country[0].leads
        ),
        ("BR", 2, 2)
    );
    db.close().await;
}

crate::on_both_backends!(
    the_funnel_matches_numbers_worked_out_by_hand,
    bad_report_requests_say_why,
    forged_landing_page_events_store_nothing,
    days_are_calendar_days_of_the_report_time_zone,
);
