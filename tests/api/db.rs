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
        at: chatref::db::now(),
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
    let campaign = db.campaign(campaign_id).await.unwrap();
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

/// Many days in one call (several statements), a key repeated within the call (the last
/// wins, as if written one by one) and a second call that replaces.
async fn spend_upserts_replace_by_campaign_day_and_source(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let db = database.connect().await;
    let (campaign_id, _) = campaign_with_link(&db).await;
    let first_day = time::macros::date!(2024 - 01 - 01);
    let entry = |day: i64, source: &str, micros: i64| chatref::spend::SpendEntry {
        campaign_id,
        date: first_day + time::Duration::days(day),
        source: source.into(),
        amount: chatref::money::Money::from_micros(micros),
        impressions: Some(day),
        clicks: None,
        updated_at: chatref::db::now(),
    };
    let mut entries: Vec<_> = (0..1_200)
        .map(|d| entry(d, "meta", 1_000_000 + d))
        .collect();
    entries.push(entry(5, "meta", 7));
    entries.push(entry(5, "google", 9));
    db.upsert_spend(&entries).await.unwrap();
    let stored = db.list_spend(campaign_id).await.unwrap();
    assert_eq!(stored.len(), 1_201);
    let day_5: Vec<(String, i64)> = stored
        .iter()
        .filter(|e| e.date == first_day + time::Duration::days(5))
        .map(|e| (e.source.clone(), e.amount.micros()))
        .collect();
    assert_eq!(day_5, [("google".to_owned(), 9), ("meta".to_owned(), 7)]);

    db.upsert_spend(&[entry(0, "meta", 42)]).await.unwrap();
    let stored = db.list_spend(campaign_id).await.unwrap();
    assert_eq!(stored.len(), 1_201);
    assert_eq!(stored[0].amount.micros(), 42);
    db.close().await;
}

crate::on_both_backends!(
    spend_upserts_replace_by_campaign_day_and_source,
    a_click_id_is_stored_once,
    large_click_batches_are_stored_whole,
    links_are_stored_all_or_nothing,
    the_service_secret_is_made_once,
);

mod contract {
    //! Every public database operation, on both backends, against the same expectations.

    use std::collections::BTreeMap;

    use chatref::{
        accounts::{AccountRequest, NewAccount},
        attribution::Clue,
        campaigns::{CampaignRequest, NewCampaign},
        conversions::{ConversionKind, ConversionSubject},
        db::{ClueEvent, Db, DbError, ReplayPayload, WebhookCall},
        links::{ClickId, LinkCode, LinkRequest, NewLink, TagKey},
        platforms::{
            Platform,
            webhook::{EventKind, InboundEvent},
        },
        secret::Secret,
    };

    use crate::helpers::{Backend, TestDatabase};

    async fn account(db: &Db) -> i64 {
        let request = AccountRequest {
            platform: "telegram".into(),
            handle: "CoastShopBot".into(),
            name: Some("Coast".into()),
            external_id: None,
            secrets: BTreeMap::from([("secret_token".into(), "s3cr3t".into())]),
        };
        db.insert_account(&NewAccount::parse(request).unwrap())
            .await
            .unwrap()
            .id
    }

    async fn campaign(db: &Db, kind: &str, ad_ids: &[&str]) -> i64 {
        let request = CampaignRequest {
            name: format!("{kind} campaign"),
            kind: kind.into(),
            channel: None,
            currency: None,
            budget: None,
            starts_on: None,
            ends_on: None,
            ad_ids: ad_ids.iter().map(|a| a.to_string()).collect(),
        };
        db.insert_campaign(&NewCampaign::parse(request).unwrap())
            .await
            .unwrap()
            .id
    }

    async fn chat_links(db: &Db, campaign_id: i64, account_id: i64, stores: &[Option<&str>]) {
        let campaign = db.campaign(campaign_id).await.unwrap();
        let account = db.account(account_id).await.unwrap();
        let links: Vec<NewLink> = stores
            .iter()
            .map(|store| {
                let request = LinkRequest {
                    account_id: Some(account_id),
                    destination_url: None,
                    label: None,
                    store: store.map(str::to_owned),
                    prefill_text: None,
                    utm: BTreeMap::new(),
                    wechat_qr_url: None,
                };
                NewLink::parse(&campaign, Some(&account), request).unwrap()
            })
            .collect();
        db.insert_links(&links).await.unwrap();
    }

    async fn accounts_are_found_by_id_and_keep_their_secrets(backend: Backend) {
        let database = TestDatabase::new(backend).await;
        let db = database.connect().await;
        let id = account(&db).await;
        let listed = db.list_accounts().await.unwrap();
        assert_eq!(listed.len(), 1);
        let found = db.account(id).await.unwrap();
        assert_eq!(
            (found.handle.as_str(), found.name.as_deref()),
            ("CoastShopBot", Some("Coast"))
        );
        assert_eq!(
            found.created_at, listed[0].created_at,
            "times read back exactly"
        );
        let (platform, secrets) = db.webhook_account(id).await.unwrap().unwrap();
        assert_eq!(platform, Platform::Telegram);
        assert!(secrets["secret_token"].matches(b"s3cr3t"));
        assert!(db.webhook_account(id + 1).await.unwrap().is_none());
        assert!(matches!(
            db.account(id + 1).await,
            Err(DbError::NotFound("account", _))
        ));
        db.close().await;
    }

    async fn campaigns_keep_their_ad_ids_and_a_missing_one_is_not_found(backend: Backend) {
        let database = TestDatabase::new(backend).await;
        let db = database.connect().await;
        let id = campaign(&db, "direct_to_chat", &["222", "111"]).await;
        campaign(&db, "landing_page", &[]).await;
        let found = db.campaign(id).await.unwrap();
        assert_eq!(found.ad_ids, ["111", "222"]);
        let listed = db.list_campaigns().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].created_at, found.created_at);
        let err = db.campaign(id + 10).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("campaign {} does not exist", id + 10)
        );
        db.close().await;
    }

    async fn per_store_lists_order_the_same_on_both_backends(backend: Backend) {
        let database = TestDatabase::new(backend).await;
        let db = database.connect().await;
        let account_id = account(&db).await;
        let campaign_id = campaign(&db, "direct_to_chat", &[]).await;
        chat_links(
            &db,
            campaign_id,
            account_id,
            &[Some("b"), None, Some("Z"), Some("a")],
        )
        .await;
        let stats = db.store_stats(campaign_id).await.unwrap();
        let order: Vec<Option<&str>> = stats.iter().map(|s| s.store.as_deref()).collect();
        assert_eq!(order, [Some("Z"), Some("a"), Some("b"), None]);
        let mut stores = db.campaign_stores(campaign_id).await.unwrap();
        stores.sort();
        assert_eq!(stores, ["Z", "a", "b"]);
        let links = db.list_links(campaign_id).await.unwrap();
        let by_code = db.link_by_code(&links[0].code).await.unwrap().unwrap();
        assert_eq!(by_code.id, links[0].id);
        assert_eq!(
            db.link(links[0].id).await.unwrap().created_at,
            links[0].created_at
        );
        assert!(db.link_by_code("nothing").await.unwrap().is_none());
        assert!(matches!(
            db.link(links[3].id + 1).await,
            Err(DbError::NotFound("link", _))
        ));
        db.close().await;
    }

    fn message(key: &TagKey, user: &str, dedupe: &str, ref_value: Option<String>) -> ClueEvent {
        let event = InboundEvent {
            contact_id: user.into(),
            dedupe_key: dedupe.into(),
            at: chatref::db::now(),
            kind: EventKind::Message,
            ref_value,
            ad_id: None,
            ctwa_clid: None,
            text: Some("hi".into()),
            recipient: None,
        };
        ClueEvent {
            clue: Clue::of(key, &event),
            event,
        }
    }

    async fn webhook_calls_make_one_lead_per_contact_and_rebuild_the_same(backend: Backend) {
        let database = TestDatabase::new(backend).await;
        let db = database.connect().await;
        let key = TagKey::new(&Secret::new("contract"));
        let account_id = account(&db).await;
        let first = campaign(&db, "direct_to_chat", &[]).await;
        let second = campaign(&db, "direct_to_chat", &[]).await;
        chat_links(&db, first, account_id, &[Some("North")]).await;
        chat_links(&db, second, account_id, &[Some("South")]).await;
        let north = db.list_links(first).await.unwrap().remove(0);
        let south = db.list_links(second).await.unwrap().remove(0);
        let tag = |code: &str| {
            let code = LinkCode::parse(code).unwrap();
            chatref::links::RefTag::for_click(&key, &code, &ClickId::generate())
        };
        let call = |events: Vec<ClueEvent>, body: &str| WebhookCall {
            platform: Platform::Telegram,
            account_id,
            body: body.as_bytes().to_vec(),
            events,
            skipped_entries: 0,
            received_at: chatref::db::now(),
        };
        let north_tag = tag(&north.code);
        let summaries = db
            .ingest_webhooks(&[
                call(vec![message(&key, "u1", "1", Some(north_tag.clone()))], "a"),
                call(vec![message(&key, "u1", "1", Some(north_tag))], "a"),
                call(vec![message(&key, "u1", "2", Some(tag(&south.code)))], "b"),
                call(vec![message(&key, "u2", "3", None)], "c"),
            ])
            .await
            .unwrap();
        let leads: Vec<u64> = summaries.iter().map(|s| s.leads).collect();
        assert_eq!(
            leads,
            [1, 0, 0, 1],
            "a redelivery and a returning contact add no lead"
        );
        assert_eq!(summaries[1].new_events, 0);
        assert_eq!(
            db.stored_payloads().await.unwrap().len(),
            3,
            "bodies are kept once"
        );

        let contacts = db.list_contacts(None).await.unwrap();
        assert_eq!(contacts.len(), 2);
        let u1 = contacts.iter().find(|c| c.platform_user == "u1").unwrap();
        assert_eq!(
            (u1.method.as_str(), u1.campaign_id),
            ("click_id", Some(first))
        );
        assert_eq!(u1.store.as_deref(), Some("North"));
        assert_eq!(db.list_contacts(Some(first)).await.unwrap().len(), 1);
        let leads = db.link_leads(north.id).await.unwrap();
        assert_eq!((leads.total, leads.by_method["click_id"]), (1, 1));
        assert_eq!(
            db.link_leads(south.id).await.unwrap().total,
            0,
            "a touch is no lead"
        );

        // Rebuilding from the same events gives the same contacts and leads.
        let stored = db.stored_payloads().await.unwrap();
        let replay = |id: i64, events: Vec<ClueEvent>| ReplayPayload {
            id,
            account_id,
            platform: Some(Platform::Telegram),
            events,
            unreadable: 0,
        };
        db.start_attribution_rebuild(chatref::db::now())
            .await
            .unwrap();
        assert!(db.list_contacts(None).await.unwrap().is_empty());
        assert!(db.interrupted_rebuild().await.unwrap().is_some());
        let rebuilt = db
            .replay_payloads(&[
                replay(
                    stored[0].id,
                    vec![message(&key, "u1", "1", Some(tag(&north.code)))],
                ),
                replay(
                    stored[1].id,
                    vec![message(&key, "u1", "2", Some(tag(&south.code)))],
                ),
                replay(stored[2].id, vec![message(&key, "u2", "3", None)]),
            ])
            .await
            .unwrap();
        assert_eq!((rebuilt.events, rebuilt.leads, rebuilt.touches), (3, 2, 1));
        db.finish_attribution_rebuild().await.unwrap();
        assert!(db.interrupted_rebuild().await.unwrap().is_none());
        let after = db.list_contacts(None).await.unwrap();
        assert_eq!(after.len(), 2);
        assert_eq!(db.link_leads(north.id).await.unwrap().total, 1);
        db.close().await;
    }

    async fn later_conversions_follow_the_contacts_first_touch(backend: Backend) {
        let database = TestDatabase::new(backend).await;
        let db = database.connect().await;
        let key = TagKey::new(&Secret::new("contract"));
        let account_id = account(&db).await;
        let campaign_id = campaign(&db, "direct_to_chat", &[]).await;
        chat_links(&db, campaign_id, account_id, &[Some("North")]).await;
        let link = db.list_links(campaign_id).await.unwrap().remove(0);
        let code = LinkCode::parse(&link.code).unwrap();
        let tag = chatref::links::RefTag::for_link(&key, &code);
        db.ingest_webhooks(&[WebhookCall {
            platform: Platform::Telegram,
            account_id,
            body: b"x".to_vec(),
            events: vec![message(&key, "u9", "9", Some(tag))],
            skipped_entries: 0,
            received_at: chatref::db::now(),
        }])
        .await
        .unwrap();
        let subject = ConversionSubject::Contact {
            platform: Platform::Telegram,
            user: "u9".into(),
        };
        let sources = db.conversion_sources(&subject).await.unwrap();
        assert_eq!(sources.len(), 1);
        assert_eq!(sources[0].campaign_id, Some(campaign_id));
        assert_eq!(sources[0].link_id, Some(link.id));
        let at = chatref::db::now();
        let value = "10.50".parse().ok();
        let id = db
            .insert_conversion(ConversionKind::Purchase, value, &sources[0], at)
            .await
            .unwrap();
        assert!(id > 0);
        let stats = db.store_stats(campaign_id).await.unwrap();
        assert_eq!((stats[0].chats, stats[0].purchases), (1, 1));
        let unknown = ConversionSubject::Click(ClickId::generate());
        assert!(db.conversion_sources(&unknown).await.unwrap().is_empty());
        db.close().await;
    }

    crate::on_both_backends!(
        accounts_are_found_by_id_and_keep_their_secrets,
        campaigns_keep_their_ad_ids_and_a_missing_one_is_not_found,
        per_store_lists_order_the_same_on_both_backends,
        webhook_calls_make_one_lead_per_contact_and_rebuild_the_same,
        later_conversions_follow_the_contacts_first_touch,
    );
}
