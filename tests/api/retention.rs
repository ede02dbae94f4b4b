//! The raw webhook log at scale: `attribution rebuild` in batches gives exactly what live
//! ingestion gave (and again after an interrupted run), and payloads that created nothing
//! are pruned after the retention period while everything a rebuild needs is kept.

use std::{process::Output, sync::Arc};

use chatref::{
    clock::{Clock, SimulatedClock},
    db::Db,
    retention::RetentionDays,
};
use serde_json::{Value, json};
use time::{OffsetDateTime, macros::datetime};

use crate::{
    cli::json_of,
    helpers::{Backend, IPHONE, TestApp, TestDatabase, telegram_text},
};

const SECRET: &str = "tg-secret";

/// Runs the `chatref` binary against `db` with extra `CHATREF_*` variables.
fn chatref(db: &TestDatabase, env: &[(&str, &str)], args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chatref"))
        .args(args)
        .env("CHATREF_DATABASE_URL", &db.url)
        .env("CHATREF_PUBLIC_URL", "https://go.example.test")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A link of `campaign` to the Telegram account; returns its code.
async fn link(app: &TestApp, campaign: i64, account: i64, store: &str) -> String {
    let link = app
        .link(campaign, json!({"account_id": account, "store": store}))
        .await;
    link["code"].as_str().unwrap().to_owned()
}

/// Follows the link `code` and returns the `start` payload the customer's `/start` then
/// carries (a tag with the new click's id).
async fn start_tag(app: &TestApp, code: &str) -> String {
    let response = app.follow(&format!("/r/{code}"), IPHONE).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "start")
        .unwrap()
        .1
        .into_owned()
}

/// A Telegram `my_chat_member` update (the customer blocked the bot): a status that
/// creates nothing, from the fixture file.
fn member_update(update_id: i64, user: i64) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/telegram/my_chat_member.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("__MSG_ID__", &update_id.to_string())
    .replace("__CONTACT__", &user.to_string())
    .replace("__TS_S__", "1763900000");
    serde_json::from_str(&text).unwrap()
}

async fn send(app: &TestApp, account: i64, update: &Value) {
    assert_eq!(
        app.telegram_update(account, SECRET, update).await,
        reqwest::StatusCode::OK
    );
}

/// Runs a query on whichever pool `db` has.
macro_rules! rows {
    ($db:expr, $row:ty, $sql:expr) => {
        match $db {
            Db::Sqlite { read, .. } => sqlx::query_as::<_, $row>($sql).fetch_all(read).await,
            Db::Postgres(pool) => sqlx::query_as::<_, $row>($sql).fetch_all(pool).await,
        }
        .unwrap()
    };
}

type ConversionRow = (
    String,
    OffsetDateTime,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);
type TouchRow = (
    i64,
    String,
    OffsetDateTime,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// Everything a rebuild recomputes, without the row ids it renumbers: the full contact
/// listing, every conversion and every touch.
#[derive(Debug, PartialEq)]
struct Derived {
    contacts: Vec<Value>,
    conversions: Vec<ConversionRow>,
    touches: Vec<TouchRow>,
}

async fn derived(db: &Db) -> Derived {
    let mut contacts: Vec<Value> = db
        .list_contacts(None)
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            let mut value = serde_json::to_value(row).unwrap();
            value.as_object_mut().unwrap().remove("id");
            value
        })
        .collect();
    contacts.sort_by_key(|c| (c["account_id"].as_i64(), c["platform_user"].to_string()));
    let conversions = rows!(
        db,
        ConversionRow,
        "SELECT type, at, account_id, platform_user, method, campaign_id, link_id, click_id \
         FROM conversions ORDER BY account_id, platform_user, type, at"
    );
    let touches = rows!(
        db,
        TouchRow,
        "SELECT account_id, platform_user, at, method, campaign_id, link_id, click_id \
         FROM touches ORDER BY account_id, platform_user, at, campaign_id"
    );
    Derived {
        contacts,
        conversions,
        touches,
    }
}

/// Each stored payload's outcome, oldest first.
async fn outcomes(db: &Db) -> Vec<Option<String>> {
    rows!(
        db,
        (Option<String>,),
        "SELECT outcome FROM webhook_events ORDER BY id"
    )
    .into_iter()
    .map(|(outcome,)| outcome)
    .collect()
}

async fn a_rebuild_in_batches_gives_exactly_what_ingestion_gave(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": SECRET}))
        .await;
    let first = app.campaign("direct_to_chat").await;
    let second = app.campaign("direct_to_chat").await;
    let north = link(&app, first, account, "North").await;
    let south = link(&app, first, account, "South").await;
    let east = link(&app, second, account, "East").await;
    let mut update_id = 0;
    let mut next = || {
        update_id += 1;
        update_id
    };
    let date = 1_763_900_000;
    // Ten customers from links of the first campaign, each writing again later; two of them
    // come back through the second campaign (touches); one writes without a tag (an
    // unattributed lead); statuses, and one redelivery of an identical body.
    for user in 1..=10 {
        let tag = start_tag(&app, if user % 2 == 0 { &north } else { &south }).await;
        let start = telegram_text(next(), user, &format!("/start {tag}"), date + user);
        send(&app, account, &start).await;
        if user == 3 {
            send(&app, account, &start).await;
        }
        send(
            &app,
            account,
            &telegram_text(next(), user, "hola", date + 100 + user),
        )
        .await;
    }
    for user in [2, 7] {
        let tag = start_tag(&app, &east).await;
        let again = telegram_text(next(), user, &format!("/start {tag}"), date + 200 + user);
        send(&app, account, &again).await;
    }
    send(&app, account, &telegram_text(next(), 99, "hi", date + 300)).await;
    for user in [4, 99] {
        send(&app, account, &member_update(next(), user)).await;
    }
    let db = app.stop().await;
    let before = derived(&db).await;
    assert_eq!(before.contacts.len(), 11);
    assert_eq!(before.touches.len(), 2);
    let stored = db.stored_payloads().await.unwrap().len();
    assert_eq!(stored, 25, "the identical redelivery is kept once");
    let outcomes_before = outcomes(&db).await;

    // 25 payloads, 4 per transaction: six full batches and a last one of one.
    let summary = json_of(&crate::cli::chatref(
        &app.database,
        &["--json", "attribution", "rebuild", "--batch-size", "4"],
    ));
    assert_eq!(summary["payloads"], 25);
    assert_eq!(summary["leads"], 11);
    assert_eq!(summary["touches"], 2);
    assert_eq!(summary["unreadable"], 0);
    assert_eq!(derived(&db).await, before);
    assert_eq!(outcomes(&db).await, outcomes_before);
    assert!(db.interrupted_rebuild().await.unwrap().is_none());

    // A rebuild that dies after its first batch leaves a partial result and a mark; running
    // it again starts over and arrives at the same result.
    let key = app.tag_key().await;
    let crashing = tokio::spawn({
        let db = db.clone();
        async move {
            chatref::attribution::rebuild_in_batches(&db, &key, 4, |done, _| {
                panic!("killed after {done} payloads")
            })
            .await
        }
    });
    assert!(crashing.await.is_err());
    assert!(db.interrupted_rebuild().await.unwrap().is_some());
    assert!(derived(&db).await.contacts.len() < 11);
    let rerun = chatref::attribution::rebuild(&db, &app.tag_key().await)
        .await
        .unwrap();
    assert_eq!((rerun.payloads, rerun.leads), (25, 11));
    assert_eq!(derived(&db).await, before);
    assert!(db.interrupted_rebuild().await.unwrap().is_none());
    db.close().await;
}

async fn old_payloads_that_created_nothing_are_pruned_and_the_rest_kept(backend: Backend) {
    let t0 = datetime!(2026-01-10 00:00 UTC);
    let clock = Arc::new(SimulatedClock::new(t0));
    let mut app = TestApp::spawn_with_clock(backend, |_| {}, clock.clone()).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": SECRET}))
        .await;
    let campaign = app.campaign("direct_to_chat").await;
    let code = link(&app, campaign, account, "North").await;
    let date = 1_763_900_000;
    // Received on day 0: a lead, a follow-up, a status, the same customer through the same
    // campaign again (a tag without effect: kept), an unattributed lead.
    let tag = start_tag(&app, &code).await;
    send(
        &app,
        account,
        &telegram_text(1, 10, &format!("/start {tag}"), date),
    )
    .await;
    send(&app, account, &telegram_text(2, 10, "hello", date + 1)).await;
    send(&app, account, &member_update(3, 10)).await;
    let again = start_tag(&app, &code).await;
    send(
        &app,
        account,
        &telegram_text(4, 10, &format!("/start {again}"), date + 2),
    )
    .await;
    send(&app, account, &telegram_text(5, 11, "hi", date + 3)).await;
    // Received on day 40: a follow-up and a status, both recent.
    clock.set(t0 + time::Duration::days(40));
    send(&app, account, &telegram_text(6, 10, "later", date + 4)).await;
    send(&app, account, &member_update(7, 11)).await;
    let db = app.stop().await;
    let kept = derived(&db).await;
    assert_eq!(
        outcomes(&db).await,
        [
            "created",
            "nothing",
            "nothing",
            "unresolved",
            "created",
            "nothing",
            "nothing"
        ]
        .map(|o| Some(o.to_owned()))
    );

    // A dry run counts the two old ones and deletes nothing.
    let now = clock.now();
    let before = RetentionDays::DEFAULT.cutoff(now).unwrap();
    let dry = chatref::retention::prune(&db, before, true).await.unwrap();
    assert_eq!((dry.payloads, dry.dry_run), (2, true));
    assert_eq!(db.stored_payloads().await.unwrap().len(), 7);

    // The service prunes at start, then daily: another start on day 40 removes them.
    let restarted = TestApp::start(app.database.alias(), |_| {}, clock.clone()).await;
    for _ in 0..500 {
        if db.stored_payloads().await.unwrap().len() == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        outcomes(&db).await,
        ["created", "unresolved", "created", "nothing", "nothing"].map(|o| Some(o.to_owned())),
        "old leads and the tag without effect are kept, and so are recent statuses"
    );
    let again = chatref::retention::prune(&db, before, false).await.unwrap();
    assert_eq!(again.payloads, 0);
    drop(restarted);

    // What was pruned never mattered: a rebuild from the rest gives the same contacts.
    chatref::attribution::rebuild(&db, &app.tag_key().await)
        .await
        .unwrap();
    assert_eq!(derived(&db).await, kept);
    db.close().await;
}

async fn the_prune_command_counts_deletes_and_refuses_bad_settings(backend: Backend) {
    // Stamped in 2020 and 2100: old and recent whatever the day the command runs.
    let clock = Arc::new(SimulatedClock::new(datetime!(2020-01-01 00:00 UTC)));
    let mut app = TestApp::spawn_with_clock(backend, |_| {}, clock.clone()).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": SECRET}))
        .await;
    send(&app, account, &telegram_text(1, 10, "hi", 1_763_900_000)).await;
    send(&app, account, &member_update(2, 10)).await;
    clock.set(datetime!(2100-01-01 00:00 UTC));
    send(&app, account, &member_update(3, 10)).await;
    let db = app.stop().await;
    let database = &app.database;

    let dry = json_of(&chatref(
        database,
        &[],
        &["--json", "webhooks", "prune", "--dry-run"],
    ));
    assert_eq!(
        (dry["payloads"].as_u64(), dry["dry_run"].as_bool()),
        (Some(1), Some(true))
    );
    let text = stdout(&chatref(database, &[], &["webhooks", "prune", "--dry-run"]));
    assert!(text.contains("would delete 1 "), "{text}");
    assert_eq!(db.stored_payloads().await.unwrap().len(), 3);

    let forever = [("CHATREF_RAW_RETENTION_DAYS", "0")];
    let text = stdout(&chatref(database, &forever, &["webhooks", "prune"]));
    assert!(text.contains("nothing pruned"), "{text}");
    assert_eq!(db.stored_payloads().await.unwrap().len(), 3);

    let text = stdout(&chatref(
        database,
        &forever,
        &["webhooks", "prune", "--older-than-days", "30"],
    ));
    assert!(text.contains("deleted 1 "), "{text}");
    assert_eq!(
        outcomes(&db).await,
        [Some("created".to_owned()), Some("nothing".to_owned())]
    );

    for bad in ["thirty", "-1", "30d"] {
        let output = chatref(
            database,
            &[("CHATREF_RAW_RETENTION_DAYS", bad)],
            &["webhooks", "prune"],
        );
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("CHATREF_RAW_RETENTION_DAYS")
                && stderr.contains("whole number of days"),
            "{stderr}"
        );
    }
    let zero = chatref(
        database,
        &[],
        &["webhooks", "prune", "--older-than-days", "0"],
    );
    assert_eq!(zero.status.code(), Some(2), "a usage error");
    assert_eq!(db.stored_payloads().await.unwrap().len(), 2);
    db.close().await;
}

async fn a_body_stored_again_only_ever_raises_its_outcome(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": SECRET}))
        .await;
    let db = app.stop().await;
    let key = app.tag_key().await;
    let call = |body: &str, user: Option<&str>, skipped_entries: u64| {
        let events = user
            .map(|user| {
                let event = chatref::platforms::webhook::InboundEvent {
                    contact_id: user.into(),
                    dedupe_key: format!("{body}-{user}"),
                    at: datetime!(2026-01-10 00:00 UTC),
                    kind: chatref::platforms::webhook::EventKind::Message,
                    ref_value: None,
                    ad_id: None,
                    ctwa_clid: None,
                    text: Some("hi".into()),
                    recipient: None,
                };
                chatref::db::ClueEvent {
                    clue: chatref::attribution::Clue::of(&key, &event),
                    event,
                }
            })
            .into_iter()
            .collect();
        chatref::db::WebhookCall {
            platform: chatref::platforms::Platform::Telegram,
            account_id: account,
            body: body.as_bytes().to_vec(),
            events,
            skipped_entries,
            received_at: datetime!(2026-01-10 00:00 UTC),
        }
    };
    // The same bytes can do more the second time (say, once the recipient's account has
    // its external id); the kept copy must then not be pruned, and never the reverse.
    for (calls, expected) in [
        (
            [call("a", None, 0), call("b", None, 1)],
            ["nothing", "unresolved"],
        ),
        (
            [call("a", None, 1), call("b", None, 0)],
            ["unresolved", "unresolved"],
        ),
        (
            [call("a", Some("u1"), 0), call("b", Some("u2"), 0)],
            ["created", "created"],
        ),
        (
            [call("a", None, 0), call("b", None, 1)],
            ["created", "created"],
        ),
    ] {
        db.ingest_webhooks(&calls).await.unwrap();
        assert_eq!(outcomes(&db).await, expected.map(|o| Some(o.to_owned())));
    }
    db.close().await;
}

crate::on_both_backends!(
    a_body_stored_again_only_ever_raises_its_outcome,
    a_rebuild_in_batches_gives_exactly_what_ingestion_gave,
    old_payloads_that_created_nothing_are_pruned_and_the_rest_kept,
    the_prune_command_counts_deletes_and_refuses_bad_settings,
);
