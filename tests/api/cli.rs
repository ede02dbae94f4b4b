//! The `chatref` binary against a real database.

use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::{Backend, TestDatabase};

/// Runs the `chatref` binary against `db`.
pub fn chatref(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatref"))
        .args(args)
        .env("CHATREF_DATABASE_URL", &db.url)
        .env("CHATREF_PUBLIC_URL", "https://go.example.test")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// The JSON a successful command printed.
pub fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn the_cli_creates_accounts_campaigns_and_links(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let account = json_of(&chatref(
        &db,
        &[
            "--json",
            "account",
            "create",
            "--platform",
            "telegram",
            "--handle",
            "@CoastShopBot",
            "--secret",
            "secret_token=abc",
        ],
    ));
    let account_id = account[0]["id"].as_i64().unwrap().to_string();
    let campaign = json_of(&chatref(
        &db,
        &[
            "campaign",
            "create",
            "--name",
            "Posters",
            "--kind",
            "direct_to_chat",
            "--channel",
            "offline",
            "--json",
        ],
    ));
    let campaign_id = campaign[0]["id"].as_i64().unwrap().to_string();
    let link = json_of(&chatref(
        &db,
        &[
            "--json",
            "link",
            "create",
            "--campaign",
            &campaign_id,
            "--account",
            &account_id,
            "--store",
            "Store 1",
        ],
    ));
    assert!(
        link[0]["deep_link"]
            .as_str()
            .unwrap()
            .starts_with("https://t.me/CoastShopBot?start=")
    );
    assert!(
        link[0]["short_url"]
            .as_str()
            .unwrap()
            .starts_with("https://go.example.test/r/")
    );

    let table = chatref(&db, &["link", "list", "--campaign", &campaign_id]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Store 1") && text.contains(link[0]["code"].as_str().unwrap()),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("stores.csv");
    std::fs::write(&csv, "store,label\nStore 2,Window\nStore 3,\n").unwrap();
    let bulk = json_of(&chatref(
        &db,
        &[
            "--json",
            "link",
            "bulk",
            "--campaign",
            &campaign_id,
            "--account",
            &account_id,
            "--stores",
            csv.to_str().unwrap(),
        ],
    ));
    assert_eq!(bulk.as_array().unwrap().len(), 2);
    assert_eq!(bulk[0]["label"], "Window");
}

async fn the_cli_reports_bad_input_and_writes_nothing(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let bad = chatref(
        &db,
        &[
            "account",
            "create",
            "--platform",
            "whatsapp",
            "--handle",
            "555-1234",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("E.164"));

    let account = json_of(&chatref(
        &db,
        &[
            "--json",
            "account",
            "create",
            "--platform",
            "line",
            "--handle",
            "@478eozzg",
        ],
    ));
    let account_id = account[0]["id"].as_i64().unwrap().to_string();
    let campaign = json_of(&chatref(
        &db,
        &[
            "--json",
            "campaign",
            "create",
            "--name",
            "P",
            "--kind",
            "direct_to_chat",
        ],
    ));
    let campaign_id = campaign[0]["id"].as_i64().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("stores.csv");
    std::fs::write(&csv, "store\nNorth\n\nnorth\nSouth\n,\n").unwrap();
    let out = chatref(
        &db,
        &[
            "link",
            "bulk",
            "--campaign",
            &campaign_id,
            "--account",
            &account_id,
            "--stores",
            csv.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 2") && err.contains("repeats row 1"),
        "{err}"
    );
    assert!(err.contains("nothing was created"), "{err}");

    let missing = chatref(
        &db,
        &[
            "link",
            "bulk",
            "--campaign",
            &campaign_id,
            "--account",
            &account_id,
            "--stores",
            "/nonexistent.csv",
        ],
    );
    assert_eq!(missing.status.code(), Some(1));

    let list = json_of(&chatref(
        &db,
        &["--json", "link", "list", "--campaign", &campaign_id],
    ));
    assert_eq!(list, serde_json::json!([]));
}

crate::on_both_backends!(
    the_cli_creates_accounts_campaigns_and_links,
    the_cli_reports_bad_input_and_writes_nothing,
);
