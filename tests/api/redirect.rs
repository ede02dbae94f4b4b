use std::time::Duration;

use chatref::{
    clicks::{ClickClass, Via},
    db::{ClickCounts, Db},
};
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Backend, IPHONE, TestApp, tag_in_location},
    links::{chatref, patch},
};

/// A direct-to-chat Telegram link; returns (link id, code).
async fn telegram_link(app: &TestApp) -> (i64, String) {
    let campaign = app.campaign("direct_to_chat").await;
    let account = app.account("telegram", "CoastShopBot", json!({})).await;
    let link = app.link(campaign, json!({"account_id": account})).await;
    (
        link["id"].as_i64().unwrap(),
        link["code"].as_str().unwrap().to_owned(),
    )
}

async fn a_click_redirects_with_a_fresh_click_tag(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let key = app.tag_key().await;
    let (link_id, code) = telegram_link(&app).await;
    let first = app.follow(&format!("/r/{code}"), IPHONE).await;
    assert_eq!(first.status(), StatusCode::FOUND);
    assert_eq!(first.headers()["cache-control"], "private, no-store");
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("https://t.me/CoastShopBot?start="),
        "{location}"
    );
    let tag = tag_in_location(&key, &location);
    assert_eq!(tag.code.as_str(), code);
    let click_id = tag.click_id.expect("a click tag carries the click id");

    let second = app.follow(&format!("/r/{code}"), IPHONE).await;
    let other = tag_in_location(&key, second.headers()["location"].to_str().unwrap());
    assert_ne!(
        other.click_id,
        Some(click_id.clone()),
        "every click gets its own id"
    );

    let db = app.stop().await;
    let clicks = db.clicks_of_link(link_id).await.unwrap();
    assert_eq!(clicks.len(), 2);
    assert_eq!(clicks[0].click_id, click_id.as_str());
    assert_eq!(clicks[0].class, ClickClass::Human);
    assert_eq!(clicks[0].via, Via::Link);
    assert_eq!(clicks[0].os.as_deref(), Some("iOS"));
    assert_eq!(clicks[0].browser.as_deref(), Some("Mobile Safari"));
    assert_eq!(clicks[0].device.as_deref(), Some("iPhone"));
}

async fn unknown_codes_get_a_404_page_not_a_redirect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/r/AAAAAAAA",
        "/r/short",
        "/r/..%2F..%2Fetc",
        "/r/https%3A%2F%2Fevil.example",
    ] {
        let response = app.follow(path, IPHONE).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(response.headers().get("location").is_none());
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("This link does not exist")
        );
    }
}

async fn bots_and_prefetches_are_redirected_but_not_counted(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let (link_id, code) = telegram_link(&app).await;
    let path = format!("/r/{code}");
    let url = format!("{}{path}", app.base);
    let mut expected = ClickCounts::default();
    for ua in [IPHONE, IPHONE] {
        assert_eq!(app.follow(&path, ua).await.status(), StatusCode::FOUND);
        expected.human += 1;
    }
    for ua in [
        "facebookexternalhit/1.1",
        "TelegramBot (like TwitterBot)",
        "WhatsApp/2.21.12.21 A",
        "ViberUrlDownloader",
    ] {
        assert_eq!(
            app.follow(&path, ua).await.status(),
            StatusCode::FOUND,
            "{ua}"
        );
        expected.bot += 1;
    }
    let preview = app
        .client
        .get(&url)
        .header("user-agent", IPHONE)
        .header("x-purpose", "preview")
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), StatusCode::FOUND);
    let prefetch = app
        .client
        .get(&url)
        .header("user-agent", IPHONE)
        .header("sec-purpose", "prefetch")
        .send()
        .await
        .unwrap();
    assert_eq!(prefetch.status(), StatusCode::FOUND);
    let head = app
        .client
        .head(&url)
        .header("user-agent", IPHONE)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::FOUND);
    expected.prefetch += 3;
    expected.unique = 1;

    // Stats are read after the writer's flush interval, without stopping the app.
    let mut counts = ClickCounts::default();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, stats) = app.get(&format!("/api/links/{link_id}")).await;
        assert_eq!(status, StatusCode::OK);
        counts = serde_json::from_value::<serde_json::Value>(stats["clicks"].clone())
            .map(|c| ClickCounts {
                human: c["human"].as_i64().unwrap(),
                bot: c["bot"].as_i64().unwrap(),
                prefetch: c["prefetch"].as_i64().unwrap(),
                unique: c["unique"].as_i64().unwrap(),
                qr_scans: c["qr_scans"].as_i64().unwrap(),
            })
            .unwrap();
        if counts == expected {
            break;
        }
    }
    assert_eq!(counts, expected);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("chatref_clicks_total{class=\"human\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("chatref_clicks_total{class=\"bot\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("chatref_clicks_total{class=\"prefetch\"} 3"),
        "{metrics}"
    );
    app.stop().await;
}

async fn scans_referrers_and_geography_are_recorded_without_the_ip(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mmdb = dir.path().join("city.mmdb");
    write_city_database(&mmdb);
    let mut app = TestApp::spawn_with(backend, |env| {
        env.insert("CHATREF_GEOIP_DB".into(), mmdb.display().to_string());
        env.insert("CHATREF_TRUST_FORWARDED".into(), "true".into());
    })
    .await;
    let (link_id, code) = telegram_link(&app).await;
    let response = app
        .client
        .get(format!("{}/r/{code}?via=qr", app.base))
        .header("user-agent", IPHONE)
        .header("referer", "https://l.facebook.com/l.php?u=private-stuff")
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let db = app.stop().await;
    let clicks = db.clicks_of_link(link_id).await.unwrap();
    assert_eq!(clicks.len(), 1);
    let click = &clicks[0];
    assert_eq!(click.via, Via::Qr);
    assert_eq!(click.referrer_host.as_deref(), Some("l.facebook.com"));
    assert_eq!(click.country.as_deref(), Some("NZ"));
    assert_eq!(click.region.as_deref(), Some("AUK"));
    assert_eq!(click.city.as_deref(), Some("Auckland"));
    let stored = format!("{click:?}");
    assert!(!stored.contains("203.0.113"), "raw IP stored: {stored}");
    assert_eq!(db.click_counts(link_id).await.unwrap().qr_scans, 1);
}

/// A GeoLite2-City-shaped database with one network, so answers are exact.
fn write_city_database(path: &std::path::Path) {
    let mut writer = mmdb_writer::Writer::new("GeoLite2-City");
    let net: mmdb_writer::ipnet::IpNet = "203.0.113.0/24".parse().unwrap();
    writer
        .insert(
            net,
            &json!({
                "country": {"iso_code": "NZ", "names": {"en": "New Zealand"}},
                "subdivisions": [{"iso_code": "AUK", "names": {"en": "Auckland"}}],
                "city": {"names": {"en": "Auckland"}}
            }),
        )
        .unwrap();
    let bytes = writer.to_bytes().unwrap();
    std::fs::write(path, bytes).unwrap();
}

async fn a_graceful_stop_stores_every_queued_click(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let (link_id, code) = telegram_link(&app).await;
    let sent = 300;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..sent {
        let client = app.client.clone();
        let url = format!("{}/r/{code}", app.base);
        tasks.spawn(async move {
            let ua = format!("{IPHONE} n{i}");
            client
                .get(url)
                .header("user-agent", ua)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::FOUND);
    }
    let db = app.stop().await;
    let counts = db.click_counts(link_id).await.unwrap();
    assert_eq!(counts.human, sent);
    assert_eq!(counts.unique, sent);
}

async fn a_full_queue_drops_and_counts_clicks_without_blocking(backend: Backend) {
    let mut app = TestApp::spawn_with(backend, |env| {
        env.insert("CHATREF_CLICK_QUEUE".into(), "1".into());
    })
    .await;
    let (link_id, code) = telegram_link(&app).await;
    let path = format!("/r/{code}");
    // Wait until the writer is running (it builds its user-agent parser first).
    let campaign = app.campaign("landing_page").await;
    let warm = app
        .link(campaign, json!({"destination_url": "https://shop.example"}))
        .await;
    app.follow(&format!("/r/{}", warm["code"].as_str().unwrap()), IPHONE)
        .await;
    for _ in 0..100 {
        let (_, stats) = app.get(&format!("/api/links/{}", warm["id"])).await;
        if stats["clicks"]["human"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Make the clicks table unwritable, then let the writer take one click and stall on it.
    let lock = crate::db::lock_clicks(&app.database.url).await;
    assert_eq!(app.follow(&path, IPHONE).await.status(), StatusCode::FOUND);
    app.wait_for_metric("chatref_clicks_writing 1").await;
    // With room for one click everywhere, the next clicks fill, in turn: the other
    // inserters (PostgreSQL has several), the batch handed over to the next free inserter,
    // the collector's pending batch, and the queue itself.
    let inserters = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => chatref::clicks::writer::POSTGRES_INSERTERS,
    };
    let mut states: Vec<String> = (2..=inserters)
        .map(|n| format!("chatref_clicks_writing {n}"))
        .collect();
    states.extend([
        "chatref_clicks_pending 1".to_owned(),
        "chatref_clicks_pending 2".to_owned(),
        "chatref_click_queue_depth 1".to_owned(),
    ]);
    for filled in &states {
        assert_eq!(app.follow(&path, IPHONE).await.status(), StatusCode::FOUND);
        app.wait_for_metric(filled).await;
    }
    for _ in 0..9 {
        // A redirect that waited on the database would hang here until the guard fails.
        let answer = tokio::time::timeout(Duration::from_secs(60), app.follow(&path, IPHONE))
            .await
            .expect("the redirect waited on the database");
        assert_eq!(answer.status(), StatusCode::FOUND);
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("chatref_clicks_dropped_total 9"),
        "{metrics}"
    );
    assert!(metrics.contains("chatref_click_queue_depth 1"), "{metrics}");
    // Dropping clicks is a health problem a load balancer and an operator should see.
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        health
            .text()
            .await
            .unwrap()
            .contains("clicks are being dropped")
    );
    lock.release().await;
    let db = app.stop().await;
    assert_eq!(
        db.click_counts(link_id).await.unwrap().human,
        inserters as i64 + 3,
        "queued, pending and handed-over clicks are kept"
    );
}

async fn a_wechat_code_url_set_later_replaces_the_cached_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = app.tag_key().await;
    let campaign = app.campaign("direct_to_chat").await;
    let wechat = app
        .account("wechat", "gh_a786fbe98353", json!({"token": "t"}))
        .await;
    let link = app.link(campaign, json!({"account_id": wechat})).await;
    let (id, code) = (link["id"].as_i64().unwrap(), link["code"].as_str().unwrap());
    let path = format!("/r/{code}");
    // Followed before its code URL is known: 404, and the link is now in the cache.
    let before = app.follow(&path, IPHONE).await;
    assert_eq!(before.status(), StatusCode::NOT_FOUND);
    assert!(before.headers().get("location").is_none());

    let (status, changed) = patch(
        &app,
        id,
        json!({"wechat_qr_url": "http://weixin.qq.com/q/02abcDEF"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["deep_link"], "http://weixin.qq.com/q/02abcDEF");
    let after = app.follow(&path, IPHONE).await;
    assert_eq!(after.status(), StatusCode::FOUND);
    assert_eq!(
        after.headers()["location"],
        "http://weixin.qq.com/q/02abcDEF"
    );

    // A chat link's greeting, cached by a first click, changes at once too.
    let whatsapp = app.account("whatsapp", "15551234567", json!({})).await;
    let chat = app
        .link(
            campaign,
            json!({"account_id": whatsapp, "prefill_text": "Hi"}),
        )
        .await;
    let chat_path = format!("/r/{}", chat["code"].as_str().unwrap());
    let first = app.follow(&chat_path, IPHONE).await;
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("text=Hi%20%28Ref%3A%20"), "{location}");
    let (status, _) = patch(
        &app,
        chat["id"].as_i64().unwrap(),
        json!({"prefill_text": "Hola"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let second = app.follow(&chat_path, IPHONE).await;
    let location = second.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("text=Hola%20%28Ref%3A%20"), "{location}");
    tag_in_location(&key, &location);
}

async fn an_inactive_link_says_the_campaign_ended_and_still_counts(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let (link_id, code) = telegram_link(&app).await;
    let path = format!("/r/{code}");
    assert_eq!(app.follow(&path, IPHONE).await.status(), StatusCode::FOUND);

    let (status, changed) = patch(&app, link_id, json!({"active": false})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["active"], false);
    let ended = app
        .client
        .get(format!("{}{path}?via=qr", app.base))
        .header("user-agent", IPHONE)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::GONE);
    assert!(ended.headers().get("location").is_none());
    assert_eq!(ended.headers()["cache-control"], "private, no-store");
    assert!(
        ended.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        ended
            .text()
            .await
            .unwrap()
            .contains("This campaign has ended")
    );

    // Off the print sheet while inactive.
    let sheet = |app: &TestApp| {
        let request = app.api(
            reqwest::Method::GET,
            &format!(
                "/api/campaigns/{}/qr-sheet?format=html",
                changed["campaign_id"]
            ),
        );
        async move { request.send().await.unwrap() }
    };
    let refused = sheet(&app).await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "its only link is inactive"
    );

    let (status, changed) = patch(&app, link_id, json!({"active": true})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(app.follow(&path, IPHONE).await.status(), StatusCode::FOUND);
    let printed = sheet(&app).await;
    assert_eq!(printed.status(), StatusCode::OK);
    assert_eq!(printed.text().await.unwrap().matches("<svg").count(), 1);

    let db = app.stop().await;
    let clicks = db.clicks_of_link(link_id).await.unwrap();
    assert_eq!(clicks.len(), 3, "the scan of the ended link is counted");
    assert_eq!(clicks[1].via, Via::Qr);
    assert_eq!(clicks[1].class, ClickClass::Human);
    assert_eq!(db.click_counts(link_id).await.unwrap().qr_scans, 1);
}

/// Runs one statement on the app's database behind its back (as another tool would).
async fn execute(db: &Db, sql: &str, text: &str, id: i64) {
    match db {
        Db::Sqlite { write, .. } => {
            sqlx::query(sql)
                .bind(text)
                .bind(id)
                .execute(write)
                .await
                .unwrap();
        }
        Db::Postgres(pool) => {
            sqlx::query(sql)
                .bind(text)
                .bind(id)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

async fn unknown_codes_cost_one_lookup_until_links_are_created(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (link_id, _) = telegram_link(&app).await;
    let unknown = "ZZZZ9999";
    for _ in 0..100 {
        let response = app.follow(&format!("/r/{unknown}"), IPHONE).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("This link does not exist")
        );
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("chatref_unknown_code_lookups_total 1\n"),
        "{metrics}"
    );

    // The code comes to exist behind the service's back: still unknown for up to a minute...
    let db = app.database.connect().await;
    execute(
        &db,
        "UPDATE links SET code = $1 WHERE id = $2",
        unknown,
        link_id,
    )
    .await;
    db.close().await;
    let path = format!("/r/{unknown}");
    assert_eq!(
        app.follow(&path, IPHONE).await.status(),
        StatusCode::NOT_FOUND
    );
    // ...but creating a link forgets every unknown code, and a new link redirects at once.
    let campaign = app.campaign("landing_page").await;
    let fresh = app
        .link(campaign, json!({"destination_url": "https://shop.example"}))
        .await;
    assert_eq!(app.follow(&path, IPHONE).await.status(), StatusCode::FOUND);
    let fresh_path = format!("/r/{}", fresh["code"].as_str().unwrap());
    assert_eq!(
        app.follow(&fresh_path, IPHONE).await.status(),
        StatusCode::FOUND
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("chatref_unknown_code_lookups_total 1\n"),
        "{metrics}"
    );
}

async fn changes_made_by_the_cli_reach_a_running_service(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (link_id, code) = telegram_link(&app).await;
    let path = format!("/r/{code}");
    assert_eq!(app.follow(&path, IPHONE).await.status(), StatusCode::FOUND);
    let out = chatref(
        &app.database,
        &["link", "update", &link_id.to_string(), "--active", "false"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another process: the service notices within about a second.
    let mut status = StatusCode::FOUND;
    for _ in 0..50 {
        status = app.follow(&path, IPHONE).await.status();
        if status == StatusCode::GONE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::GONE);
}

crate::on_both_backends!(
    a_click_redirects_with_a_fresh_click_tag,
    unknown_codes_get_a_404_page_not_a_redirect,
    bots_and_prefetches_are_redirected_but_not_counted,
    scans_referrers_and_geography_are_recorded_without_the_ip,
    a_graceful_stop_stores_every_queued_click,
    a_full_queue_drops_and_counts_clicks_without_blocking,
    a_wechat_code_url_set_later_replaces_the_cached_link,
    an_inactive_link_says_the_campaign_ended_and_still_counts,
    unknown_codes_cost_one_lookup_until_links_are_created,
    changes_made_by_the_cli_reach_a_running_service,
);
