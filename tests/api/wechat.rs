//! WeChat pushes end to end: plain-mode replays refused through the nonces remembered in the
//! database, and safe-mode (encrypted) pushes decrypted, attributed and stored as plaintext.

use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::{
    Engine, alphabet,
    engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD},
};
use chatref::db::{Db, NonceClaim};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::helpers::{Backend, TestApp};

pub const TOKEN: &str = "wx-token";
/// The example EncodingAESKey of WeChat's documentation (its last character carries spare
/// bits, which the service must accept).
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID: &str = "wxb11529c136998cb6";

fn fixture(path: &str, values: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for (placeholder, value) in values {
        text = text.replace(placeholder, value);
    }
    text
}

fn now_s() -> String {
    time::OffsetDateTime::now_utc().unix_timestamp().to_string()
}

/// A follow through the parametric code whose scene is `scene`, by `openid`.
pub fn follow(openid: &str, scene: &str) -> String {
    fixture(
        "wechat/subscribe_qrscene.xml",
        &[
            ("__CONTACT__", openid),
            ("__TS_S__", &now_s()),
            ("__REF__", scene),
        ],
    )
}

fn sha1_of_sorted(mut parts: Vec<&str>) -> String {
    parts.sort_unstable();
    hex::encode(Sha1::digest(parts.concat().as_bytes()))
}

/// A plain-mode query signed with `token`, carrying `nonce`.
pub fn plain_query(token: &str, nonce: &str) -> String {
    let timestamp = now_s();
    let signature = sha1_of_sorted(vec![token, &timestamp, nonce]);
    format!("signature={signature}&timestamp={timestamp}&nonce={nonce}&openid=oW5Ux6ceqP")
}

/// A safe-mode query: the plain signature plus `msg_signature` over `encrypted`.
fn safe_query(token: &str, nonce: &str, encrypted: &str) -> String {
    let timestamp = now_s();
    let signature = sha1_of_sorted(vec![token, &timestamp, nonce]);
    let msg_signature = sha1_of_sorted(vec![token, &timestamp, nonce, encrypted]);
    format!(
        "signature={signature}&timestamp={timestamp}&nonce={nonce}&openid=oW5Ux6ceqP\
         &encrypt_type=aes&msg_signature={msg_signature}"
    )
}

/// Encrypts `xml` the way WeChat's sample code does: 16 random bytes, the XML's length
/// (4 bytes big-endian), the XML and the AppID, PKCS#7-padded to 32 bytes, AES-256-CBC with
/// the key's first 16 bytes as IV, base64.
fn encrypt(key: &str, xml: &str, app_id: &str) -> String {
    const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key = KEY_BASE64.decode(format!("{key}=")).unwrap();
    let mut data: Vec<u8> = (0..16).map(|_| rand::random::<u8>()).collect();
    data.extend(u32::try_from(xml.len()).unwrap().to_be_bytes());
    data.extend(xml.as_bytes());
    data.extend(app_id.as_bytes());
    let pad = 32 - data.len() % 32;
    data.extend(std::iter::repeat_n(u8::try_from(pad).unwrap(), pad));
    let length = data.len();
    cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
        .unwrap()
        .encrypt_padded_mut::<NoPadding>(&mut data, length)
        .unwrap();
    STANDARD.encode(data)
}

fn envelope(encrypted: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_a786fbe98353]]></ToUserName>\
         <Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
}

/// POSTs a push; returns the status and the error code, if any.
pub async fn push(app: &TestApp, account: i64, query: &str, body: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/webhooks/wechat/{account}?{query}", app.base))
        .header("content-type", "text/xml")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    (status, answer["error"]["code"].clone())
}

async fn contacts(app: &TestApp) -> Vec<Value> {
    let (status, list) = app.get("/api/contacts").await;
    assert_eq!(status, StatusCode::OK);
    list.as_array().unwrap().clone()
}

/// Creates a link of `account` and returns its id and ref tag (the printed code's scene).
pub async fn scene_link(app: &TestApp, campaign: i64, account: i64) -> (i64, String) {
    let store = format!("Shanghai {account}");
    let link = app
        .link(campaign, json!({"account_id": account, "store": store}))
        .await;
    (
        link["id"].as_i64().unwrap(),
        link["ref_tag"].as_str().unwrap().to_owned(),
    )
}

async fn a_replayed_plain_push_with_another_body_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account("wechat", "gh_a786fbe98353", json!({"token": TOKEN}))
        .await;
    let (link_id, scene) = scene_link(&app, campaign, account).await;

    let captured = plain_query(TOKEN, "n-captured");
    let genuine = follow("oGenuine0001", &scene);
    assert_eq!(
        push(&app, account, &captured, &genuine).await,
        (StatusCode::OK, Value::Null)
    );

    // The captured URL with forged bodies: refused, nothing stored.
    for n in 0..5 {
        let forged = follow(&format!("oForged000{n}"), &scene);
        assert_eq!(
            push(&app, account, &captured, &forged).await,
            (StatusCode::UNAUTHORIZED, json!("replayed")),
            "forged body {n}"
        );
    }
    // The same body again is a redelivery: answered 200, still one lead.
    assert_eq!(
        push(&app, account, &captured, &genuine).await.0,
        StatusCode::OK
    );
    let list = contacts(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["platform_user"], "oGenuine0001");
    assert_eq!(
        app.get(&format!("/api/links/{link_id}")).await.1["leads"],
        1
    );

    // A new nonce is a new request, and nonces are per account.
    let other = follow("oSecond00001", &scene);
    assert_eq!(
        push(&app, account, &plain_query(TOKEN, "n-fresh"), &other)
            .await
            .0,
        StatusCode::OK
    );
    let second_account = app
        .account("wechat", "gh_0000000second", json!({"token": TOKEN}))
        .await;
    assert_eq!(
        push(
            &app,
            second_account,
            &captured,
            &follow("oThird000001", "x")
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(contacts(&app).await.len(), 3);

    let db = app.database.connect().await;
    let stored = db.stored_payloads().await.unwrap();
    assert_eq!(stored.len(), 3, "forged bodies are never stored");
    assert!(
        stored
            .iter()
            .all(|p| !String::from_utf8_lossy(&p.body).contains("oForged")),
    );
}

async fn concurrent_replays_make_one_lead(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account("wechat", "gh_a786fbe98353", json!({"token": TOKEN}))
        .await;
    let (_, scene) = scene_link(&app, campaign, account).await;
    let captured = plain_query(TOKEN, "n-race");
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..20 {
        let client = app.client.clone();
        let url = format!("{}/webhooks/wechat/{account}?{captured}", app.base);
        let body = follow(&format!("oRace{n:07}"), &scene);
        tasks.spawn(async move { client.post(url).body(body).send().await.unwrap().status() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!((accepted, refused), (1, 19), "{statuses:?}");
    assert_eq!(contacts(&app).await.len(), 1);
}

async fn claim(db: &Db, account: i64, at: i64, nonce: &str, body: &str, forget: i64) -> NonceClaim {
    db.claim_webhook_nonce(account, at, nonce, body.as_bytes(), forget)
        .await
        .unwrap()
}

async fn expired_nonces_are_forgotten(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("wechat", "gh_a786fbe98353", json!({"token": TOKEN}))
        .await;
    let db = app.database.connect().await;
    let db = &db;
    assert_eq!(
        claim(db, account, 1_000, "n", "a", 0).await,
        NonceClaim::New
    );
    assert_eq!(
        claim(db, account, 1_000, "n", "a", 0).await,
        NonceClaim::SameBody
    );
    assert_eq!(
        claim(db, account, 1_000, "n", "b", 0).await,
        NonceClaim::OtherBody
    );
    assert_eq!(
        claim(db, account, 1_000, "m", "b", 0).await,
        NonceClaim::New
    );

    // A claim deletes the oldest pairs before its cutoff, at most 100 at a time: here the two
    // at 1000 and 98 of the 250 at 2000, so 152 are still remembered.
    for n in 0..250 {
        claim(db, account, 2_000, &format!("old{n}"), "a", 0).await;
    }
    assert_eq!(
        claim(db, account, 9_000, "n", "x", 3_000).await,
        NonceClaim::New
    );
    let mut remembered = 0;
    for n in 0..250 {
        if claim(db, account, 2_000, &format!("old{n}"), "a", 0).await == NonceClaim::SameBody {
            remembered += 1;
        }
    }
    assert_eq!(remembered, 152);
    assert_eq!(
        claim(db, account, 1_000, "n", "b", 0).await,
        NonceClaim::New
    );
}

async fn a_safe_mode_push_is_decrypted_attributed_and_stored_as_plaintext(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let safe = app
        .account(
            "wechat",
            "gh_a786fbe98353",
            json!({"token": TOKEN, "encoding_aes_key": AES_KEY, "app_id": APP_ID}),
        )
        .await;
    let plain = app
        .account("wechat", "gh_0000000plain", json!({"token": TOKEN}))
        .await;
    let (safe_link, safe_scene) = scene_link(&app, campaign, safe).await;
    let (_, plain_scene) = scene_link(&app, campaign, plain).await;

    // Refused first, so nothing they could have stored is mistaken for the good push's.
    let xml = follow("oSafeMode0001", &safe_scene);
    let cases = [
        (
            encrypt(AES_KEY, &xml, "wx0000000000000000"),
            "another AppID",
        ),
        (
            encrypt("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg", &xml, APP_ID),
            "another key",
        ),
    ];
    for (encrypted, why) in &cases {
        let query = safe_query(TOKEN, "n-bad", encrypted);
        assert_eq!(
            push(&app, safe, &query, &envelope(encrypted)).await,
            (StatusCode::UNAUTHORIZED, json!("bad_signature")),
            "{why}"
        );
    }
    let db = app.database.connect().await;
    assert!(db.stored_payloads().await.unwrap().is_empty());
    assert!(contacts(&app).await.is_empty());

    let encrypted = encrypt(AES_KEY, &xml, APP_ID);
    let query = safe_query(TOKEN, "n-safe", &encrypted);
    assert_eq!(
        push(&app, safe, &query, &envelope(&encrypted)).await,
        (StatusCode::OK, Value::Null)
    );
    // WeChat redelivering it (encrypted afresh, new nonce) changes nothing.
    let again = encrypt(AES_KEY, &xml, APP_ID);
    let query = safe_query(TOKEN, "n-again", &again);
    assert_eq!(
        push(&app, safe, &query, &envelope(&again)).await.0,
        StatusCode::OK
    );
    // The same kind of push in plain mode, for comparison.
    let query = plain_query(TOKEN, "n-plain");
    assert_eq!(
        push(&app, plain, &query, &follow("oPlainMode001", &plain_scene))
            .await
            .0,
        StatusCode::OK
    );

    let list = contacts(&app).await;
    let method = |openid: &str| {
        list.iter()
            .find(|c| c["platform_user"] == openid)
            .map(|c| (c["method"].clone(), c["link_id"].is_i64()))
    };
    assert_eq!(method("oSafeMode0001"), Some((json!("ref"), true)));
    assert_eq!(method("oSafeMode0001"), method("oPlainMode001"));
    assert_eq!(list.len(), 2);
    assert_eq!(
        app.get(&format!("/api/links/{safe_link}")).await.1["leads_by_method"],
        json!({"ref": 1})
    );

    // The plaintext is what was stored, once, so attribution can be rebuilt without secrets.
    let stored: Vec<_> = db
        .stored_payloads()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.account_id == safe)
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, xml.as_bytes());
    let summary = chatref::attribution::rebuild(&db, &app.tag_key().await)
        .await
        .unwrap();
    assert_eq!((summary.unreadable, summary.leads), (0, 2));
    assert_eq!(method("oSafeMode0001"), {
        let list = contacts(&app).await;
        list.iter()
            .find(|c| c["platform_user"] == "oSafeMode0001")
            .map(|c| (c["method"].clone(), c["link_id"].is_i64()))
    });
}

async fn safe_mode_setup_is_checked_and_compatible_mode_keeps_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (secrets, expected) in [
        (
            json!({"token": TOKEN, "encoding_aes_key": &AES_KEY[..42], "app_id": APP_ID}),
            "43 characters",
        ),
        (
            json!({"token": TOKEN, "encoding_aes_key": AES_KEY.replace('a', "-"), "app_id": APP_ID}),
            "43 characters",
        ),
        (
            json!({"token": TOKEN, "encoding_aes_key": AES_KEY}),
            "app_id",
        ),
    ] {
        let (status, answer) = app
            .post(
                "/api/accounts",
                json!({"platform": "wechat", "handle": "gh_a786fbe98353", "secrets": secrets}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains(&AES_KEY[..42]), "the key is never echoed");
    }

    // An account set up with the token alone: compatible-mode pushes (plaintext beside the
    // ciphertext, `encrypt_type=aes` in the query) are read from the plaintext as before…
    let account = app
        .account("wechat", "gh_a786fbe98353", json!({"token": TOKEN}))
        .await;
    let xml = follow("oCompatible01", "x");
    let encrypted = encrypt(AES_KEY, &xml, APP_ID);
    let compatible = xml.replace(
        "</xml>",
        &format!("<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"),
    );
    let query = safe_query(TOKEN, "n-compatible", &encrypted);
    assert_eq!(
        push(&app, account, &query, &compatible).await,
        (StatusCode::OK, Value::Null)
    );
    assert_eq!(contacts(&app).await.len(), 1);

    // …while a safe-mode push says what is missing, and is not stored.
    let query = safe_query(TOKEN, "n-safe", &encrypted);
    assert_eq!(
        push(&app, account, &query, &envelope(&encrypted)).await,
        (StatusCode::FORBIDDEN, json!("not_configured"))
    );
    let query = plain_query(TOKEN, "n-untyped");
    assert_eq!(
        push(&app, account, &query, &envelope(&encrypted)).await,
        (StatusCode::BAD_REQUEST, json!("malformed_payload"))
    );
    let db = app.database.connect().await;
    assert_eq!(db.stored_payloads().await.unwrap().len(), 1);
}

crate::on_both_backends!(
    a_replayed_plain_push_with_another_body_is_refused,
    concurrent_replays_make_one_lead,
    expired_nonces_are_forgotten,
    a_safe_mode_push_is_decrypted_attributed_and_stored_as_plaintext,
    safe_mode_setup_is_checked_and_compatible_mode_keeps_working,
);
