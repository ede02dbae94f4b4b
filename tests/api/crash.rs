//! The real `chatref serve` process stopped under load: SIGTERM while redirects pour in
//! (every answered click is stored) and kill -9 while webhooks pour in (every acknowledged
//! event is stored, and after a restart and the platform's redelivery, each exactly once).

use std::{
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use reqwest::StatusCode;
use serde_json::json;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::helpers::{Backend, IPHONE, TOKEN, TestDatabase, telegram_text, test_env};

/// A `chatref serve` process on `database`, on a port it picked itself.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(database: &TestDatabase) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chatref"))
            .arg("serve")
            .envs(test_env(&database.url))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        // The service logs `chatref listening addr=127.0.0.1:PORT` once it is bound.
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("chatref exited before listening");
            if let Some(rest) = line.split("addr=").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining the log so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server {
            child,
            base: format!("http://{addr}"),
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post(client: &reqwest::Client, url: String, body: serde_json::Value) -> serde_json::Value {
    let response = client
        .post(url)
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// A Telegram account (webhook secret `s`) and a link of it; returns (account id, link).
async fn telegram_link(client: &reqwest::Client, base: &str) -> (i64, serde_json::Value) {
    let account = post(
        client,
        format!("{base}/api/accounts"),
        json!({"platform": "telegram", "handle": "CoastShopBot", "secrets": {"secret_token": "s"}}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let campaign = post(
        client,
        format!("{base}/api/campaigns"),
        json!({"name": "Posters", "kind": "direct_to_chat", "channel": "offline"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let link = post(
        client,
        format!("{base}/api/campaigns/{campaign}/links"),
        json!({"account_id": account}),
    )
    .await;
    (account, link)
}

async fn sigterm_under_redirect_load_stores_every_answered_click(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let mut server = Server::start(&database).await;
    let client = client();
    let (_, link) = telegram_link(&client, &server.base).await;
    let url = format!("{}/r/{}", server.base, link["code"].as_str().unwrap());

    let answered = Arc::new(AtomicU64::new(0));
    let mut load = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let (client, url, answered) = (client.clone(), url.clone(), answered.clone());
        load.spawn(async move {
            // Each worker clicks until the server stops answering.
            for n in 0.. {
                let sent = client
                    .get(&url)
                    .header("user-agent", format!("{IPHONE} w{worker} n{n}"))
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == StatusCode::FOUND => {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(response) => panic!("unexpected answer {}", response.status()),
                    Err(_) => break,
                }
            }
        });
    }
    while answered.load(Ordering::SeqCst) < 1_500 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    server.signal("-TERM");
    let status = server.child.wait().await.unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status}");
    while load.join_next().await.is_some() {}

    let db = database.connect().await;
    let counts = db.click_counts(link["id"].as_i64().unwrap()).await.unwrap();
    assert_eq!(counts.human as u64, answered.load(Ordering::SeqCst));
}

async fn kill_9_under_webhook_load_loses_no_acknowledged_event(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let mut server = Server::start(&database).await;
    let client = client();
    let (account, link) = telegram_link(&client, &server.base).await;
    // The ref tag a customer's `/start` carries (the link's own tag).
    let tag = link["ref_tag"].as_str().unwrap().to_owned();
    let update = move |n: i64| {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        telegram_text(n, 10_000 + n, &format!("/start {tag}"), now)
    };
    let webhook = format!("/webhooks/telegram/{account}");

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(1));
    let mut load = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url) = (client.clone(), format!("{}{webhook}", server.base));
        let (acknowledged, stop, next, update) = (
            acknowledged.clone(),
            stop.clone(),
            next.clone(),
            update.clone(),
        );
        load.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let n = next.fetch_add(1, Ordering::SeqCst) as i64;
                let sent = client
                    .post(&url)
                    .header("x-telegram-bot-api-secret-token", "s")
                    .json(&update(n))
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == StatusCode::OK => {
                        acknowledged.lock().unwrap().push(n)
                    }
                    _ => break,
                }
            }
        });
    }
    while acknowledged.lock().unwrap().len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    server.signal("-KILL");
    server.child.wait().await.unwrap();
    stop.store(true, Ordering::SeqCst);
    while load.join_next().await.is_some() {}
    let acknowledged = acknowledged.lock().unwrap().clone();
    let sent = next.load(Ordering::SeqCst) as i64 - 1;

    // Every acknowledged update survived the kill.
    let server = Server::start(&database).await;
    let contacts = |body: serde_json::Value| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|c| c["platform_user"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = client
        .get(format!("{}/api/contacts", server.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let stored = contacts(listed.json().await.unwrap());
    for n in &acknowledged {
        let user = (10_000 + n).to_string();
        assert_eq!(
            stored.iter().filter(|u| **u == user).count(),
            1,
            "acknowledged update {n} stored once"
        );
    }

    // Telegram redelivers everything it had no answer for (and, to be sure, we resend all):
    // each update is then stored exactly once.
    for n in 1..=sent {
        let answer = client
            .post(format!("{}{webhook}", server.base))
            .header("x-telegram-bot-api-secret-token", "s")
            .json(&update(n))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let stats: serde_json::Value = client
        .get(format!("{}/api/links/{}", server.base, link["id"]))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["leads"].as_i64(), Some(sent), "{stats}");
}

crate::on_both_backends!(
    sigterm_under_redirect_load_stores_every_answered_click,
    kill_9_under_webhook_load_loses_no_acknowledged_event,
);
