//! The storage contract, run on both backends.

use chatref::{
    campaigns::{CampaignRequest, NewCampaign},
    clicks::{ClickClass, Via},
    db::{ClickRecord, Db, DbError},
    links::{ClickId, LinkRequest, NewLink},
    secret::Secret,
};
use sqlx::Connection;

use crate::helpers::{Backend, TestDatabase};

/// Holds a write lock on the clicks table from another connection until released.
pub enum ClicksLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

pub async fn lock_clicks(url: &str) -> ClicksLock {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        ClicksLock::Sqlite(conn)
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
        sqlx::query("LOCK TABLE clicks IN EXCLUSIVE MODE")
            .execute(&mut conn)
            .await
            .unwrap();
        ClicksLock::Postgres(conn)
    }
}

impl ClicksLock {
    pub async fn release(self) {
        match self {
            ClicksLock::Sqlite(mut c) => {
                sqlx::query("COMMIT").execute(&mut c).await.unwrap();
            }
            ClicksLock::Postgres(mut c) => {
                sqlx::query("COMMIT").execute(&mut c).await.unwrap();
            }
        }
    }
}

async fn campaign_with_link(db: &Db) -> (i64, i64) {
    let campaign = db
        .insert_campaign(
            &NewCampaign::parse(CampaignRequest {
                name: "C".into(),
                kind: "landing_page".into(),
                channel: None,
                currency: None,
                budget: None,
                starts_on: None,
                ends_on: None,
                ad_ids: vec![],
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let link = NewLink::parse(
        &campaign,
        None,
        LinkRequest {
            destination_url: Some("https://shop.example".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let stored = db.insert_links(&[link]).await.unwrap();
    (campaign.id, stored[0].id)
}

fn click(link_id: i64, click_id: &str) -> ClickRecord {
    ClickRecord {
        click_id: click_id.into(),
        link_id,
        at: chatref::clicks::now(),
        via: Via::Link,
        class: ClickClass::Human,
        visitor: "v1".into(),
        country: Some("AU".into()),
        region: None,
        city: None,
        device: None,
        os: Some("iOS".into()),
        browser: None,
        referrer_host: None,
        user_agent: Some("UA".into()),
    }
}

async fn a_click_id_is_stored_once(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    let (_, link_id) = campaign_with_link(&db).await;
    let a = ClickId::generate();
    let b = ClickId::generate();
    let batch = vec![click(link_id, a.as_str()), click(link_id, b.as_str())];
    assert_eq!(db.insert_clicks(&batch).await.unwrap(), 2);
    assert_eq!(
        db.insert_clicks(&batch).await.unwrap(),
        0,
        "a retried batch adds nothing"
    );
    let stored = db.clicks_of_link(link_id).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0], batch[0]);
    db.close().await;
}

async fn large_click_batches_are_stored_whole(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    let (_, link_id) = campaign_with_link(&db).await;
    let batch: Vec<ClickRecord> = (0..1_200)
        .map(|_| click(link_id, ClickId::generate().as_str()))
        .collect();
    assert_eq!(db.insert_clicks(&batch).await.unwrap(), 1_200);
    let counts = db.click_counts(link_id).await.unwrap();
    assert_eq!(counts.human, 1_200);
    assert_eq!(counts.unique, 1);
    db.close().await;
}

async fn links_are_stored_all_or_nothing(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    let (campaign_id, _) = campaign_with_link(&db).await;
    let campaign = db.get_campaign(campaign_id).await.unwrap().unwrap();
    let with_store = |name: &str| {
        NewLink::parse(
            &campaign,
            None,
            LinkRequest {
                destination_url: Some("https://shop.example".into()),
                store: Some(name.into()),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let result = db
        .insert_links(&[
            with_store("North"),
            with_store("South"),
            with_store("North"),
        ])
        .await;
    assert!(matches!(result, Err(DbError::Conflict(_))), "{result:?}");
    assert_eq!(db.list_links(campaign_id).await.unwrap().len(), 1);
    db.close().await;
}

async fn the_service_secret_is_made_once(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    let first = db.service_secret(None).await.unwrap();
    let second = db.service_secret(None).await.unwrap();
    assert_eq!(first, second);
    assert!(first.expose().len() >= 32);
    let configured = Secret::new("from-env");
    assert_eq!(
        db.service_secret(Some(&configured)).await.unwrap(),
        configured
    );
    db.close().await;
}

crate::on_both_backends!(
    a_click_id_is_stored_once,
    large_click_batches_are_stored_whole,
    links_are_stored_all_or_nothing,
    the_service_secret_is_made_once,
);
