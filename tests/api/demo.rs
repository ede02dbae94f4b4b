//! `chatref demo` runs its month through the real service: the same seed gives the same
//! month, and what it made adds up in the report.

use std::sync::Arc;

use chatref::{
    clock::SimulatedClock,
    demo::Demo,
    reports::{self, ReportRequest, ReportZone},
};
use time::macros::date;

use crate::helpers::{Backend, TOKEN, TestApp};

async fn seeded(backend: Backend, seed: u64) -> (chatref::demo::Summary, reports::FunnelReport) {
    let clock = Arc::new(SimulatedClock::new(
        time::macros::datetime!(2026-11-01 00:00 UTC),
    ));
    let mut app = TestApp::spawn_with_clock(
        backend,
        |env| {
            env.insert("CHATREF_TRUST_FORWARDED".into(), "true".into());
        },
        clock.clone(),
    )
    .await;
    let summary = Demo::new(app.base.clone(), TOKEN.into(), clock, seed)
        .run(date!(2026 - 11 - 03), 3)
        .await
        .unwrap();
    let db = app.stop().await;
    let request = ReportRequest {
        from: Some("2026-11-01".into()),
        to: Some("2026-11-03".into()),
        ..ReportRequest::default()
    };
    let report = reports::funnel(&db, &ReportZone::default(), &request)
        .await
        .unwrap();
    db.close().await;
    (summary, report)
}

async fn the_same_seed_gives_the_same_month(backend: Backend) {
    let (summary, report) = seeded(backend, 7).await;
    let (again, report_again) = seeded(backend, 7).await;
    assert_eq!(format!("{summary:?}"), format!("{again:?}"));
    assert_eq!(report.by_kind, report_again.by_kind);
    assert_eq!(report.breakdowns.by_day, report_again.breakdowns.by_day);

    // What the demo sent is what the report counts.
    let chat = &report.by_kind.direct_to_chat.counts;
    let page = &report.by_kind.landing_page.counts;
    assert_eq!((chat.clicks + page.clicks) as usize, summary.clicks);
    assert_eq!((chat.bot_clicks + page.bot_clicks) as usize, summary.bots);
    assert_eq!(page.leads as usize, summary.form_leads);
    assert!(chat.leads > 0 && (chat.leads as usize) <= summary.first_messages);
    assert!(chat.spend.micros() > 0 && page.spend.micros() > 0);
    assert_eq!(report.campaigns.len(), 4);
    // Every day of the range has traffic.
    assert!(report.breakdowns.by_day.iter().all(|d| d.clicks > 0));

    let (other, _) = seeded(backend, 8).await;
    assert_ne!(
        format!("{summary:?}"),
        format!("{other:?}"),
        "another seed, another month"
    );
}

crate::on_both_backends!(the_same_seed_gives_the_same_month);

/// The demo prints a dashboard sign-in made for the run, and that password signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_a_dashboard_sign_in_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatref"))
        .args([
            "demo",
            "--no-serve",
            "--database",
            "demo.db",
            "--out",
            "report",
        ])
        .current_dir(dir.path())
        .env("CHATREF_BIND", "127.0.0.1:0")
        .env("CHATREF_GEOIP_DB", "off")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Dashboard:"))
        .expect("a Dashboard line");
    let password = line
        .split("password ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the password");
    assert!(line.contains("email demo@chatref.example"), "{line}");

    let db = chatref::db::Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("demo.db").display()
    ))
    .await
    .unwrap();
    let now = chatref::db::now();
    let user = chatref::users::sign_in::sign_in(
        &db,
        "demo@chatref.example",
        chatref::secret::Secret::new(password.to_owned()),
        None,
        now,
    )
    .await
    .expect("the printed password signs in");
    assert_eq!(user.role.as_str(), "admin");
    db.close().await;
}
