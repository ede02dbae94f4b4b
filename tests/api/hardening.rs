//! Bad input from careless users and attackers: NUL characters, header casing, undecodable
//! paths, spreadsheet formulas.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TOKEN, TestApp, telegram_text};

async fn nul_characters_are_refused_in_the_api_and_stripped_from_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post(
            "/api/campaigns",
            json!({"name": "Sum\u{0}mer", "kind": "direct_to_chat"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`name`")
    );
    let (_, campaigns) = app.get("/api/campaigns").await;
    assert_eq!(campaigns.as_array().unwrap().len(), 0, "nothing created");

    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "tg"}))
        .await;
    let update = json!({"update_id": 9, "message": {"message_id": 9, "date": 1763900000,
        "from": {"id": 77, "is_bot": false, "first_name": "A\u{0}"}, "chat": {"id": 77, "type": "private"},
        "text": "/start x\u{0}y"}});
    for _ in 0..2 {
        let status = app.telegram_update(account, "tg", &update).await;
        assert_eq!(status, StatusCode::OK, "stored, not wedged");
    }
    let (_, contacts) = app.get("/api/contacts").await;
    assert_eq!(
        contacts.as_array().unwrap().len(),
        1,
        "one lead, redelivery included"
    );
}

async fn careless_headers_and_paths_get_clear_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let lower = app
        .client
        .get(format!("{}/api/campaigns", app.base))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
    let refused = app
        .client
        .get(format!("{}/api/campaigns", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let odd = app
        .client
        .get(format!("{}/r/%ff%fe", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status(), StatusCode::NOT_FOUND);
    assert!(
        odd.text()
            .await
            .unwrap()
            .contains("This link does not exist")
    );
}

async fn csv_cells_that_look_like_formulas_are_neutralised(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "tg"}))
        .await;
    let (status, campaign) = app
        .post(
            "/api/campaigns",
            json!({"name": "=HYPERLINK(\"http://evil\")", "kind": "direct_to_chat"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = campaign["id"].as_i64().unwrap();
    let link = app
        .link(id, json!({"account_id": account, "store": "@SUM(A1)"}))
        .await;
    let response = app
        .follow(
            &format!("/r/{}", link["code"].as_str().unwrap()),
            crate::helpers::IPHONE,
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let start = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "start")
        .unwrap()
        .1
        .into_owned();
    let update = telegram_text(1, 5, &format!("/start {start}"), 1763900000);
    assert_eq!(
        app.telegram_update(account, "tg", &update).await,
        StatusCode::OK
    );
    let csv = app
        .api(reqwest::Method::GET, "/api/contacts.csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{csv}"
    );
    assert!(csv.contains(",'@SUM(A1),"), "{csv}");
}

/// Opens a connection that sends half a request and never finishes its headers.
async fn slow_client(base: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// Waits until the server closes `stream` (reads EOF), failing after a minute.
async fn closed_by_server(stream: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept a slow connection open");
}

async fn slow_clients_are_cut_off_and_the_redirect_keeps_answering(backend: Backend) {
    let app = TestApp::spawn_with(backend, |env| {
        env.insert("CHATREF_HEADER_TIMEOUT_SECS".into(), "1".into());
    })
    .await;
    let campaign = app.campaign("landing_page").await;
    let link = app
        .link(campaign, json!({"destination_url": "https://shop.example"}))
        .await;
    let path = format!("/r/{}", link["code"].as_str().unwrap());
    let mut slow = Vec::new();
    for _ in 0..300 {
        slow.push(slow_client(&app.base).await);
    }
    for _ in 0..5 {
        let answer = app.follow(&path, crate::helpers::IPHONE).await;
        assert_eq!(
            answer.status(),
            StatusCode::FOUND,
            "redirects answer beside slow sockets"
        );
    }
    for stream in &mut slow {
        closed_by_server(stream).await;
    }
}

async fn past_the_connection_cap_new_connections_are_closed_and_counted(backend: Backend) {
    let app = TestApp::spawn_with(backend, |env| {
        env.insert("CHATREF_MAX_CONNECTIONS".into(), "20".into());
        env.insert("CHATREF_HEADER_TIMEOUT_SECS".into(), "120".into());
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(slow_client(&app.base).await);
    }
    let mut extra = slow_client(&app.base).await;
    closed_by_server(&mut extra).await;
    drop(held);
    // The server frees the slots as it notices the closes; until then it refuses us too.
    for _ in 0..3_000 {
        if let Ok(response) = app.client.get(format!("{}/metrics", app.base)).send().await
            && let Ok(text) = response.text().await
        {
            // At least the one above; our own retries here may have been refused too.
            let refused: u64 = text
                .lines()
                .find_map(|l| l.strip_prefix("chatref_connections_refused_total "))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            assert!(refused >= 1, "{text}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the service never accepted a connection again");
}

async fn contacts_come_in_pages_and_the_csv_holds_them_all(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "tg"}))
        .await;
    for user in 1..=5 {
        let update = telegram_text(user, user, "hello", 1763900000);
        assert_eq!(
            app.telegram_update(account, "tg", &update).await,
            StatusCode::OK
        );
    }
    let mut seen = Vec::new();
    let mut path = "/api/contacts?limit=2".to_owned();
    loop {
        let response = app.api(reqwest::Method::GET, &path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let next = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Vec<serde_json::Value> = response.json().await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|c| c["id"].as_i64().unwrap()));
        match next {
            Some(link) => {
                path = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned();
            }
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, each contact once");
    assert_eq!(seen.len(), 5);
    let (status, body) = app.get("/api/contacts?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let csv = app
        .api(reqwest::Method::GET, "/api/contacts.csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 6, "a header and five contacts: {csv}");
}

crate::on_both_backends!(
    contacts_come_in_pages_and_the_csv_holds_them_all,
    slow_clients_are_cut_off_and_the_redirect_keeps_answering,
    past_the_connection_cap_new_connections_are_closed_and_counted,
    nul_characters_are_refused_in_the_api_and_stripped_from_webhooks,
    careless_headers_and_paths_get_clear_answers,
    csv_cells_that_look_like_formulas_are_neutralised,
);

/// A database that cannot be reached is named by host and port, once, with the driver's
/// reason, and never with the URL's password.
#[test]
fn an_unreachable_database_is_named_once_without_its_password() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chatref"))
        .arg("migrate")
        .env(
            "CHATREF_DATABASE_URL",
            format!("postgres://shop:hunter2secret@127.0.0.1:{port}/chatref"),
        )
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    assert_eq!(
        stderr.matches(&format!("127.0.0.1:{port}")).count(),
        1,
        "{stderr}"
    );
    assert_eq!(stderr.matches("Connection refused").count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: cannot open the database at 127.0.0.1:{port}"
        )),
        "{stderr}"
    );
}
