//! Benchmark of the funnel report on a large generated account (`scripts/bench-report`).
//!
//! Generates, inside the database itself (so 10 million rows take minutes, not hours):
//! 1,000 campaigns (half direct-to-chat, half landing-page) with one link each, `clicks`
//! clicks spread over 90 days (5 % bots), first messages for a tenth of the direct-to-chat
//! clicks, page views and form leads for landing-page clicks, and spend for every campaign
//! and day. Then times the 30-day report for the whole account and for one campaign,
//! `runs` times each, and prints the median and the slowest run; and checks, once, that the
//! report equals a direct count of the raw rows.
//!
//! Usage: funnel_bench <database url> <clicks> <runs>

use std::time::{Duration, Instant};

use chatref::{
    db::Db,
    reports::{self, ReportRequest, ReportZone},
};

const CAMPAIGNS: i64 = 1_000;
const DAYS: i64 = 90;
/// 2026-09-03 00:00 UTC: the generated 90 days end on 2026-12-01.
const FIRST_SECOND: i64 = 1_788_393_600;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, clicks, runs] = args.as_slice() else {
        anyhow::bail!("usage: funnel_bench <database url> <clicks> <runs>");
    };
    let clicks: i64 = clicks.parse()?;
    let runs: usize = runs.parse()?;
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let started = Instant::now();
    generate(&db, clicks).await?;
    eprintln!("generated {clicks} clicks in {:.1?}", started.elapsed());

    let zone = ReportZone::default();
    let last_30 = ReportRequest {
        from: Some("2026-11-02".into()),
        to: Some("2026-12-01".into()),
        ..ReportRequest::default()
    };
    let one = ReportRequest {
        campaigns: vec!["7".into()],
        ..last_30.clone()
    };
    for (name, request) in [("whole account", &last_30), ("one campaign", &one)] {
        let mut times = Vec::with_capacity(runs);
        let mut report = None;
        for _ in 0..runs {
            let t = Instant::now();
            report = Some(reports::funnel(&db, &zone, request).await?);
            times.push(t.elapsed());
        }
        times.sort();
        let report = report.expect("at least one run");
        println!(
            "{} {name}: median {:.1} ms, slowest {:.1} ms ({} runs; {} clicks, {} leads in range)",
            db.backend(),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1]),
            runs,
            report.by_kind.direct_to_chat.counts.clicks + report.by_kind.landing_page.counts.clicks,
            report.by_kind.direct_to_chat.counts.leads + report.by_kind.landing_page.counts.leads,
        );
    }
    spot_check(&db, &zone, &last_30).await?;
    db.close().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// The report's human clicks against a plain count of the raw rows in the same range.
async fn spot_check(db: &Db, zone: &ReportZone, request: &ReportRequest) -> anyhow::Result<()> {
    let report = reports::funnel(db, zone, request).await?;
    let counted =
        report.by_kind.direct_to_chat.counts.clicks + report.by_kind.landing_page.counts.clicks;
    let start = zone.start_of(report.from).unix_timestamp();
    let end = zone
        .start_of(report.to.next_day().expect("in range"))
        .unix_timestamp();
    let raw: i64 = match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(
            "SELECT COUNT(*) FROM clicks WHERE class = 'human' AND unixepoch(at) >= $1 AND unixepoch(at) < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(read)
        .await?,
        Db::Postgres(pool) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM clicks WHERE class = 'human' AND at >= to_timestamp($1) AND at < to_timestamp($2)",
        )
        .bind(start as f64)
        .bind(end as f64)
        .fetch_one(pool)
        .await?,
    };
    anyhow::ensure!(
        raw == counted,
        "report says {counted} human clicks, the raw rows {raw}"
    );
    println!(
        "{} spot check: report = raw scan ({raw} human clicks)",
        db.backend()
    );
    Ok(())
}

/// Fills an empty database; the SQL differs only in how each backend makes a series of
/// numbers and a time from a number of seconds.
async fn generate(db: &Db, clicks: i64) -> anyhow::Result<()> {
    let (series, time_of, text_id) = match db {
        Db::Sqlite { .. } => (
            "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $1) SELECT g FROM s",
            "strftime('%Y-%m-%dT%H:%M:%SZ', $2 + (g * 7919) % $3, 'unixepoch')",
            "'c' || g",
        ),
        Db::Postgres(_) => (
            "SELECT g FROM generate_series(1, $1::bigint) g",
            "to_timestamp(CAST($2 + (g * 7919) % $3 AS DOUBLE PRECISION))",
            "'c' || g",
        ),
    };
    let seconds = DAYS * 86_400;
    let statements = [
        format!(
            "INSERT INTO accounts (platform, handle, name, secrets, created_at) \
             SELECT 'telegram', 'BenchBot' || g, NULL, '{{}}', {now} FROM ({series}) n",
            now = time_of.replace("(g * 7919) % $3", "0"),
        ),
        format!(
            "INSERT INTO campaigns (name, kind, channel, currency, created_at) \
             SELECT 'Campaign ' || g, CASE WHEN g % 2 = 0 THEN 'direct_to_chat' ELSE 'landing_page' END, \
             'ads', 'USD', {now} FROM ({series}) n",
            now = time_of.replace("(g * 7919) % $3", "0"),
        ),
        format!(
            "INSERT INTO links (campaign_id, account_id, destination_url, code, utm, created_at) \
             SELECT g, CASE WHEN g % 2 = 0 THEN 1 ELSE NULL END, \
             CASE WHEN g % 2 = 0 THEN NULL ELSE 'https://shop.example/' || g END, 'L' || g, '{{}}', {now} \
             FROM ({series}) n",
            now = time_of.replace("(g * 7919) % $3", "0"),
        ),
        format!(
            "INSERT INTO clicks (click_id, link_id, at, via, class, visitor, country, device) \
             SELECT {text_id}, 1 + g % {CAMPAIGNS}, {time_of}, CASE WHEN g % 3 = 0 THEN 'qr' ELSE 'link' END, \
             CASE WHEN g % 20 = 0 THEN 'bot' ELSE 'human' END, 'v' || (g % 2000003), \
             CASE g % 5 WHEN 0 THEN 'BR' WHEN 1 THEN 'US' WHEN 2 THEN 'MX' WHEN 3 THEN 'IN' ELSE 'GB' END, \
             CASE WHEN g % 4 = 0 THEN 'Desktop' ELSE 'Mobile' END FROM ({series}) n"
        ),
        // A tenth of direct-to-chat human clicks become a first message 5 minutes later.
        format!(
            "INSERT INTO conversions (type, at, account_id, platform_user, method, campaign_id, link_id, click_id) \
             SELECT 'first_message', {later}, 1, 'u' || g, 'click_id', 1 + g % {CAMPAIGNS}, 1 + g % {CAMPAIGNS}, {text_id} \
             FROM ({series}) n WHERE (1 + g % {CAMPAIGNS}) % 2 = 0 AND g % 20 <> 0 AND g % 10 = 1",
            later = time_of.replace("(g * 7919) % $3", "(g * 7919) % $3 + 300"),
        ),
        format!(
            "INSERT INTO page_events (click_id, type, campaign_id, link_id, at) \
             SELECT {text_id}, 'page_view', 1 + g % {CAMPAIGNS}, 1 + g % {CAMPAIGNS}, {time_of} \
             FROM ({series}) n WHERE (1 + g % {CAMPAIGNS}) % 2 = 1 AND g % 20 <> 0 AND g % 10 < 6"
        ),
        format!(
            "INSERT INTO page_events (click_id, type, campaign_id, link_id, at) \
             SELECT {text_id}, 'lead', 1 + g % {CAMPAIGNS}, 1 + g % {CAMPAIGNS}, {time_of} \
             FROM ({series}) n WHERE (1 + g % {CAMPAIGNS}) % 2 = 1 AND g % 20 <> 0 AND g % 25 = 3"
        ),
    ];
    let counts = [1, CAMPAIGNS, CAMPAIGNS, clicks, clicks, clicks, clicks];
    for (sql, count) in statements.iter().zip(counts) {
        let started = Instant::now();
        match db {
            Db::Sqlite { write, .. } => {
                sqlx::query(sql)
                    .bind(count)
                    .bind(FIRST_SECOND)
                    .bind(seconds)
                    .execute(write)
                    .await?;
            }
            Db::Postgres(pool) => {
                sqlx::query(sql)
                    .bind(count)
                    .bind(FIRST_SECOND)
                    .bind(seconds)
                    .execute(pool)
                    .await?;
            }
        }
        eprintln!("  {:>10} rows source in {:.1?}", count, started.elapsed());
    }
    // Spend: every campaign, every day.
    let mut day = time::Date::from_calendar_date(2026, time::Month::September, 3)?;
    let mut entries = Vec::new();
    for _ in 0..DAYS {
        for campaign in 1..=CAMPAIGNS {
            entries.push(chatref::spend::SpendEntry {
                campaign_id: campaign,
                date: day,
                source: "api".into(),
                amount: chatref::money::Money::from_micros(10_000_000 + campaign * 1_000),
                impressions: Some(1_000),
                clicks: None,
                updated_at: chatref::db::now(),
            });
        }
        day = day.next_day().expect("in range");
    }
    let started = Instant::now();
    db.upsert_spend(&entries).await?;
    eprintln!(
        "  {:>10} spend rows upserted in {:.1?} (the write side of a spend import)",
        entries.len(),
        started.elapsed()
    );
    Ok(())
}
