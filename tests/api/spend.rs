//! Ad spend: per-day upserts, imports of ad platform exports, and what bad files get.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

async fn named_campaign(app: &TestApp, name: &str, currency: &str) -> i64 {
    let (status, body) = app
        .post(
            "/api/campaigns",
            json!({"name": name, "kind": "landing_page", "currency": currency}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn import(app: &TestApp, body: &'static [u8]) -> (StatusCode, Value) {
    let response = app
        .api(Method::POST, "/api/spend/import")
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn spend_of(app: &TestApp, campaign: i64) -> Vec<(String, String, String)> {
    let (status, list) = app.get(&format!("/api/campaigns/{campaign}/spend")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["date"].as_str().unwrap().to_owned(),
                e["source"].as_str().unwrap().to_owned(),
                e["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn spend_is_upserted_per_day_and_exact(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = named_campaign(&app, "Summer", "USD").await;
    let path = format!("/api/campaigns/{campaign}/spend");
    let (status, entry) = app
        .post(
            &path,
            json!({"date": "2026-11-05", "amount": "1234567890123.456789", "impressions": 1000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["amount"], "1234567890123.456789");
    let (status, _) = app
        .post(&path, json!({"date": "2026-11-05", "amount": "20.5"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        spend_of(&app, campaign).await,
        [("2026-11-05".into(), "api".into(), "20.50".into())],
        "the same day is replaced, not added"
    );
    for bad in [
        json!({"date": "05/11/2026", "amount": "1"}),
        json!({"date": "2026-11-05", "amount": "-1"}),
        json!({"date": "2026-11-05", "amount": "ten"}),
        json!({"date": "2026-11-05", "amount": "1", "impressions": -3}),
    ] {
        let (status, body) = app.post(&path, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        assert!(body["error"]["message"].is_string());
    }
    let (status, _) = app
        .post(
            "/api/campaigns/999/spend",
            json!({"date": "2026-11-05", "amount": "1"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

const META_PT: &[u8] =
    "\u{feff}Nome da campanha;Dia;Valor usado (BRL);Impressões;Cliques no link\n\
Verão;2026-11-05;\"1.234,56\";10.000;321\n\
Verão;2026-11-06;99,90;2.000;40\n\
Outra campanha;2026-11-06;5,00;100;1\n"
        .as_bytes();

async fn a_meta_export_imports_once_however_often_it_is_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = named_campaign(&app, "Verão", "BRL").await;
    for _ in 0..2 {
        let (status, outcome) = import(&app, META_PT).await;
        assert_eq!(status, StatusCode::OK, "{outcome}");
        assert_eq!(outcome["format"], "meta_ads");
        assert_eq!(outcome["imported"], 2);
        assert_eq!(outcome["unmatched"][0]["campaign"], "Outra campanha");
        assert_eq!(outcome["unmatched"][0]["amount"], "5.00");
    }
    assert_eq!(
        spend_of(&app, campaign).await,
        [
            ("2026-11-05".into(), "meta_ads".into(), "1234.56".into()),
            ("2026-11-06".into(), "meta_ads".into(), "99.90".into()),
        ]
    );
    // Mapping the other campaign's id makes the next import match it by id.
    let other = named_campaign(&app, "Renamed here", "USD").await;
    let (status, _) = app
        .post(
            &format!("/api/campaigns/{other}/external_ids"),
            json!({"external_id": "120210"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, outcome) = import(
        &app,
        b"Campaign name,Campaign ID,Day,Amount spent (USD)\nAnything,120210,2026-11-07,\"1,250.50\"\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(
        spend_of(&app, other).await,
        [("2026-11-07".into(), "meta_ads".into(), "1250.50".into())]
    );
}

async fn a_file_with_bad_rows_imports_nothing_and_names_each_line(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = named_campaign(&app, "Summer", "USD").await;
    let (status, body) = import(
        &app,
        b"date,campaign,amount\n2026-11-01,Summer,10\n2026-11-02,Summer,-4\nyesterday,Summer,3\n2026-11-03,Summer,12.5\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["imported"], 0);
    let lines: Vec<i64> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4]);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was imported")
    );
    assert!(spend_of(&app, campaign).await.is_empty(), "nothing stored");

    // A file in the campaign's name but another currency is refused for that row.
    let (status, body) = import(
        &app,
        b"Campaign name,Day,Amount spent (EUR)\nSummer,2026-11-01,10\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("EUR")
    );

    for (file, word) in [
        (&b""[..], "empty"),
        (&b"foo,bar\n1,2\n"[..], "column"),
        (
            &b"date,campaign,amount\n2026-11-01,Summer,\xff\xfe1\n"[..],
            "utf-8",
        ),
    ] {
        let (status, body) = import(&app, file).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["error"]["message"].as_str().unwrap().to_lowercase();
        assert!(message.contains(word), "{message}");
    }
    assert!(spend_of(&app, campaign).await.is_empty());
}

crate::on_both_backends!(
    spend_is_upserted_per_day_and_exact,
    a_meta_export_imports_once_however_often_it_is_sent,
    a_file_with_bad_rows_imports_nothing_and_names_each_line,
);
