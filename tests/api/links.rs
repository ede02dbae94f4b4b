use std::process::{Command, Output};

use chatref::links::RefTag;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDatabase};

/// PATCHes a link with the admin token; returns status and JSON answer.
pub(crate) async fn patch(app: &TestApp, id: i64, body: Value) -> (StatusCode, Value) {
    let response = app
        .api(Method::PATCH, &format!("/api/links/{id}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Runs the `chatref` binary on a test database.
pub(crate) fn chatref(database: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatref"))
        .args(args)
        .env("CHATREF_DATABASE_URL", &database.url)
        .env("CHATREF_PUBLIC_URL", "https://go.example.test")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn every_platform_gets_its_deep_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = app.tag_key().await;
    let campaign = app.campaign("direct_to_chat").await;
    let cases = [
        (
            "messenger",
            "CoastClothing",
            "https://m.me/CoastClothing?ref=",
        ),
        (
            "instagram",
            "coast.clothing",
            "https://ig.me/m/coast.clothing?ref=",
        ),
        (
            "telegram",
            "CoastShopBot",
            "https://t.me/CoastShopBot?start=",
        ),
        (
            "whatsapp",
            "15551234567",
            "https://wa.me/15551234567?text=Hi%21%20I%27d%20like%20to%20know%20more.%20%28Ref%3A%20",
        ),
        (
            "viber",
            "coastshop",
            "viber://pa?chatURI=coastshop&context=",
        ),
        (
            "line",
            "@478eozzg",
            "https://line.me/R/oaMessage/%40478eozzg/?Hi%21%20I%27d%20like%20to%20know%20more.%20%28Ref%3A%20",
        ),
    ];
    for (platform, handle, prefix) in cases {
        let account = app.account(platform, handle, json!({})).await;
        let link = app
            .link(campaign, json!({"account_id": account, "label": platform}))
            .await;
        let deep = link["deep_link"].as_str().unwrap();
        assert!(deep.starts_with(prefix), "{platform}: {deep}");
        let tag = RefTag::verify(&key, link["ref_tag"].as_str().unwrap()).unwrap();
        assert_eq!(tag.code.as_str(), link["code"].as_str().unwrap());
        assert_eq!(tag.click_id, None);
        assert!(deep.contains(link["ref_tag"].as_str().unwrap()), "{deep}");
        assert_eq!(
            link["short_url"],
            format!(
                "https://go.example.test/r/{}",
                link["code"].as_str().unwrap()
            )
        );
        let id = link["id"].as_i64().unwrap();
        assert_eq!(
            link["qr_png_url"],
            format!("https://go.example.test/api/links/{id}/qr.png")
        );
    }
}

async fn a_wechat_link_carries_its_scene_and_code_url(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app
        .account("wechat", "gh_a786fbe98353", json!({"token": "t"}))
        .await;
    let link = app
        .link(
            campaign,
            json!({"account_id": account, "wechat_qr_url": "http://weixin.qq.com/q/02abcDEF"}),
        )
        .await;
    assert_eq!(link["deep_link"], "http://weixin.qq.com/q/02abcDEF");
    assert!(link["ref_tag"].as_str().unwrap().len() <= 64);
    let (status, _) = app
        .post(
            &format!("/api/campaigns/{campaign}/links"),
            json!({"account_id": account, "wechat_qr_url": "https://evil.example/q/1"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn landing_links_get_utm_parameters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("landing_page").await;
    let link = app
        .link(
            campaign,
            json!({"destination_url": "https://shop.example/sale?x=1", "store": "Store 12",
                   "utm": {"utm_source": "facebook"}}),
        )
        .await;
    let url = url::Url::parse(link["deep_link"].as_str().unwrap()).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    for expected in [
        ("x", "1"),
        ("utm_source", "facebook"),
        ("utm_medium", "ads"),
        ("utm_campaign", "Summer"),
        ("utm_content", "Store 12"),
    ] {
        assert!(
            pairs.contains(&(expected.0.into(), expected.1.into())),
            "{pairs:?}"
        );
    }
}

async fn bad_links_are_refused_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = app.campaign("direct_to_chat").await;
    let landing = app.campaign("landing_page").await;
    let account = app.account("telegram", "CoastShopBot", json!({})).await;
    let cases = [
        (
            chat,
            json!({"destination_url": "https://x.example"}),
            StatusCode::BAD_REQUEST,
            "direct_to_chat",
        ),
        (chat, json!({}), StatusCode::BAD_REQUEST, "account_id"),
        (
            chat,
            json!({"account_id": 9999}),
            StatusCode::NOT_FOUND,
            "9999",
        ),
        (
            chat,
            json!({"account_id": account, "prefill_text": "hi"}),
            StatusCode::OK,
            "",
        ),
        (
            chat,
            json!({"account_id": account, "utm": {"utm_source": "x"}}),
            StatusCode::BAD_REQUEST,
            "landing-page",
        ),
        (
            landing,
            json!({"destination_url": "javascript:alert(1)"}),
            StatusCode::BAD_REQUEST,
            "http",
        ),
        (
            landing,
            json!({"destination_url": "ftp://files.example/x"}),
            StatusCode::BAD_REQUEST,
            "http",
        ),
        (
            landing,
            json!({"destination_url": "/relative"}),
            StatusCode::BAD_REQUEST,
            "absolute",
        ),
        (
            landing,
            json!({"destination_url": "https://user:pw@x.example"}),
            StatusCode::BAD_REQUEST,
            "credentials",
        ),
        (
            landing,
            json!({"destination_url": "https://x.example", "utm": {"utm_evil": "x"}}),
            StatusCode::BAD_REQUEST,
            "utm_evil",
        ),
        (
            landing,
            json!({"destination_url": "https://x.example", "label": ""}),
            StatusCode::BAD_REQUEST,
            "label",
        ),
        (
            999,
            json!({"destination_url": "https://x.example"}),
            StatusCode::NOT_FOUND,
            "campaign 999",
        ),
    ];
    for (campaign, body, expected, words) in cases {
        let (status, answer) = app
            .post(&format!("/api/campaigns/{campaign}/links"), body.clone())
            .await;
        if expected == StatusCode::OK {
            // Telegram has no prefilled text: refused, not silently dropped.
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
            continue;
        }
        assert_eq!(status, expected, "{body} → {answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(words),
            "{body} → {answer}"
        );
    }
    for campaign in [chat, landing] {
        let (_, links) = app.get(&format!("/api/campaigns/{campaign}/links")).await;
        assert_eq!(links, json!([]));
    }
}

async fn bulk_creates_one_link_per_store(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app.account("whatsapp", "15551234567", json!({})).await;
    let (status, links) = app
        .post(
            &format!("/api/campaigns/{campaign}/links/bulk"),
            json!({"account_id": account, "prefill_text": "Hola", "stores": [
                {"store": "Store 1", "label": "Window"}, {"store": "Store 2"}, {"store": "Store 3"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{links}");
    let links = links.as_array().unwrap();
    assert_eq!(links.len(), 3);
    assert_eq!(links[0]["store"], "Store 1");
    assert_eq!(links[0]["label"], "Window");
    let codes: std::collections::HashSet<_> =
        links.iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 3);
    assert!(
        links[1]["deep_link"]
            .as_str()
            .unwrap()
            .contains("Hola%20%28Ref%3A%20")
    );
}

async fn a_bad_store_list_names_every_bad_row_and_creates_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app.account("telegram", "CoastShopBot", json!({})).await;
    let path = format!("/api/campaigns/{campaign}/links/bulk");
    let (status, _) = app
        .post(
            &path,
            json!({"account_id": account, "stores": [{"store": "Existing"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, answer) = app
        .post(
            &path,
            json!({"account_id": account, "stores": [
                {"store": "A"}, {"store": " "}, {"store": "a"}, {"store": "existing"}, {"store": "B"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_rows");
    let rows: Vec<i64> = answer["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, vec![2, 3, 4], "{answer}");

    let (status, answer) = app
        .post(
            &path,
            json!({"account_id": account, "stores": [{"store": "C"}, {"store": "Existing"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["rows"][0]["row"], 2);
    assert!(
        answer["error"]["rows"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already has a link")
    );

    let (_, links) = app.get(&format!("/api/campaigns/{campaign}/links")).await;
    assert_eq!(
        links.as_array().unwrap().len(),
        1,
        "only the first store exists"
    );
}

async fn a_patch_changes_what_it_names_and_keeps_the_rest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app.account("whatsapp", "15551234567", json!({})).await;
    let link = app
        .link(
            campaign,
            json!({"account_id": account, "label": "Window", "store": "Store 1", "prefill_text": "Hi"}),
        )
        .await;
    assert_eq!(link["active"], true);
    let id = link["id"].as_i64().unwrap();

    let (status, changed) = patch(
        &app,
        id,
        json!({"label": " Door ", "store": "Store 2", "prefill_text": "Hola"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["label"], "Door");
    assert_eq!(changed["store"], "Store 2");
    assert_eq!(changed["prefill_text"], "Hola");
    assert_eq!(changed["code"], link["code"], "the code never changes");
    assert_eq!(changed["ref_tag"], link["ref_tag"]);
    assert!(
        changed["deep_link"]
            .as_str()
            .unwrap()
            .contains("text=Hola%20%28Ref%3A%20"),
        "{changed}"
    );
    let (status, shown) = app.get(&format!("/api/links/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    for field in ["label", "store", "prefill_text", "deep_link", "active"] {
        assert_eq!(shown[field], changed[field], "{field}");
    }

    // Left out keeps, null clears.
    let (status, changed) = patch(&app, id, json!({"label": null, "active": false})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["label"], Value::Null);
    assert_eq!(changed["store"], "Store 2");
    assert_eq!(changed["prefill_text"], "Hola");
    assert_eq!(changed["active"], false);
    let (_, listed) = app.get(&format!("/api/campaigns/{campaign}/links")).await;
    assert_eq!(listed[0]["active"], false);
    // A store may change case on its own link.
    let (status, changed) = patch(&app, id, json!({"store": "STORE 2"})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["store"], "STORE 2");

    // UTM overrides on a landing-page link: replaced as a whole, cleared by null.
    let landing = app.campaign("landing_page").await;
    let page = app
        .link(
            landing,
            json!({"destination_url": "https://shop.example/sale", "utm": {"utm_source": "facebook"}}),
        )
        .await;
    let page_id = page["id"].as_i64().unwrap();
    let (status, changed) = patch(
        &app,
        page_id,
        json!({"utm": {"utm_source": "instagram", "utm_term": "shoes"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["utm"],
        json!({"utm_source": "instagram", "utm_term": "shoes"})
    );
    let deep = changed["deep_link"].as_str().unwrap();
    assert!(
        deep.contains("utm_source=instagram") && deep.contains("utm_term=shoes"),
        "{deep}"
    );
    let (_, changed) = patch(&app, page_id, json!({"utm": null})).await;
    assert_eq!(changed["utm"], json!({}));
    let deep = changed["deep_link"].as_str().unwrap();
    assert!(
        deep.contains("utm_source=chatref") && !deep.contains("utm_term"),
        "back to the defaults: {deep}"
    );
}

async fn bad_patches_are_refused_with_the_messages_of_creation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = app.campaign("direct_to_chat").await;
    let landing = app.campaign("landing_page").await;
    let telegram = app.account("telegram", "CoastShopBot", json!({})).await;
    let wechat = app
        .account("wechat", "gh_a786fbe98353", json!({"token": "t"}))
        .await;
    let bot = app
        .link(chat, json!({"account_id": telegram, "store": "North"}))
        .await;
    let bot_id = bot["id"].as_i64().unwrap();
    let other = app
        .link(chat, json!({"account_id": telegram, "store": "South"}))
        .await;
    let other_id = other["id"].as_i64().unwrap();
    let scene = app.link(chat, json!({"account_id": wechat})).await;
    let scene_id = scene["id"].as_i64().unwrap();
    let page = app
        .link(landing, json!({"destination_url": "https://x.example"}))
        .await;
    let page_id = page["id"].as_i64().unwrap();

    // The same bad value gets the same 400 message on creation and on a patch.
    let cases = [
        (
            chat,
            json!({"account_id": telegram}),
            bot_id,
            json!({"label": ""}),
        ),
        (
            chat,
            json!({"account_id": telegram}),
            bot_id,
            json!({"store": "  "}),
        ),
        (
            chat,
            json!({"account_id": telegram}),
            bot_id,
            json!({"label": "x".repeat(201)}),
        ),
        (
            chat,
            json!({"account_id": telegram}),
            bot_id,
            json!({"prefill_text": "hi"}),
        ),
        (
            chat,
            json!({"account_id": telegram}),
            bot_id,
            json!({"utm": {"utm_source": "x"}}),
        ),
        (
            chat,
            json!({"account_id": telegram}),
            bot_id,
            json!({"wechat_qr_url": "http://weixin.qq.com/q/02abcDEF"}),
        ),
        (
            chat,
            json!({"account_id": wechat}),
            scene_id,
            json!({"wechat_qr_url": "https://evil.example/q/1"}),
        ),
        (
            landing,
            json!({"destination_url": "https://x.example"}),
            page_id,
            json!({"utm": {"utm_evil": "x"}}),
        ),
    ];
    for (campaign, target, id, bad) in cases {
        let mut create = target.clone();
        for (key, value) in bad.as_object().unwrap() {
            create[key] = value.clone();
        }
        let (status, created) = app
            .post(&format!("/api/campaigns/{campaign}/links"), create.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{create} → {created}");
        let (status, patched) = patch(&app, id, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {patched}");
        assert_eq!(patched["error"]["code"], "invalid_request");
        assert_eq!(
            patched["error"]["message"], created["error"]["message"],
            "{bad}"
        );
    }

    let (status, answer) = patch(&app, bot_id, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing to change")
    );
    let (status, answer) = patch(&app, 9999, json!({"label": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["message"], "link 9999 does not exist");
    let response = app
        .api(Method::PATCH, "/api/links/abc")
        .json(&json!({"label": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // One store rule for single, bulk and patch: trimmed, case-insensitive, per campaign.
    for store in ["South", " south "] {
        let (status, answer) = patch(&app, bot_id, json!({"store": store})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{store} → {answer}");
        assert_eq!(answer["error"]["code"], "conflict");
        assert_eq!(
            answer["error"]["message"],
            format!(
                "store `{}` already has a link in this campaign",
                store.trim()
            )
        );
        let (status, answer) = app
            .post(
                &format!("/api/campaigns/{chat}/links"),
                json!({"account_id": telegram, "store": store}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{store} → {answer}");
    }
    // Another campaign may use the name.
    let elsewhere = app.campaign("direct_to_chat").await;
    let moved = app
        .link(elsewhere, json!({"account_id": telegram, "store": "East"}))
        .await;
    let (status, answer) = patch(
        &app,
        moved["id"].as_i64().unwrap(),
        json!({"store": "South"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // Unknown fields, including what a link points at, and a null flag.
    for body in [
        json!({"code": "AAAAAAAA"}),
        json!({"destination_url": "https://y.example"}),
        json!({"account_id": wechat}),
        json!({"active": null}),
        json!({"active": "no"}),
    ] {
        let (status, answer) = patch(&app, other_id, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {answer}"
        );
        assert_eq!(answer["error"]["code"], "invalid_json");
    }

    // Nothing above changed a stored link.
    let (_, links) = app.get(&format!("/api/campaigns/{chat}/links")).await;
    let links = links.as_array().unwrap();
    assert_eq!(links.len(), 3);
    assert_eq!(links[0]["store"], "North");
    assert_eq!(links[0]["label"], Value::Null);
    assert_eq!(links[1]["store"], "South");
    assert_eq!(links[2]["wechat_qr_url"], Value::Null);
    assert!(links.iter().all(|l| l["active"] == true));
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn the_cli_updates_a_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let wechat = app
        .account("wechat", "gh_a786fbe98353", json!({"token": "t"}))
        .await;
    let link = app
        .link(
            campaign,
            json!({"account_id": wechat, "store": "Store 1", "label": "Window"}),
        )
        .await;
    let id = link["id"].as_i64().unwrap().to_string();
    let db = &app.database;

    let updated = json_of(&chatref(
        db,
        &[
            "--json",
            "link",
            "update",
            &id,
            "--wechat-qr-url",
            "http://weixin.qq.com/q/02abcDEF",
            "--store",
            "Store 9",
            "--clear-label",
            "--active",
            "false",
        ],
    ));
    let updated = &updated[0];
    assert_eq!(updated["id"], link["id"]);
    assert_eq!(updated["wechat_qr_url"], "http://weixin.qq.com/q/02abcDEF");
    assert_eq!(updated["deep_link"], "http://weixin.qq.com/q/02abcDEF");
    assert_eq!(updated["store"], "Store 9");
    assert_eq!(updated["label"], Value::Null);
    assert_eq!(updated["active"], false);

    let (_, shown) = app.get(&format!("/api/links/{id}")).await;
    assert_eq!(shown["store"], "Store 9");
    assert_eq!(shown["active"], false);

    let table = chatref(
        db,
        &["link", "update", &id, "--active", "true", "--label", "Door"],
    );
    assert!(
        table.status.success(),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("Door") && text.contains("yes"), "{text}");

    // Refusals: the creation message, a clap usage error, an unknown link.
    let bad = chatref(db, &["link", "update", &id, "--prefill", "Hi"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("WhatsApp, LINE and Viber"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let both = chatref(
        db,
        &["link", "update", &id, "--label", "A", "--clear-label"],
    );
    assert_eq!(both.status.code(), Some(2));
    let flag = chatref(db, &["link", "update", &id, "--active", "maybe"]);
    assert_eq!(flag.status.code(), Some(2));
    let missing = chatref(db, &["link", "update", "9999", "--label", "x"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("link 9999 does not exist"));
    let (_, shown) = app.get(&format!("/api/links/{id}")).await;
    assert_eq!(shown["label"], "Door");
    assert_eq!(shown["active"], true);
}

/// serde reads a JSON array as a struct's fields in order; the API takes objects only.
async fn a_body_that_is_not_an_object_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let account = app.account("telegram", "CoastShopBot", json!({})).await;
    let link = app
        .link(campaign, json!({"account_id": account, "label": "Door"}))
        .await;
    for body in [
        json!([null, null]),
        json!(["Window"]),
        json!("label"),
        json!(7),
    ] {
        let response = app
            .api(Method::PATCH, &format!("/api/links/{}", link["id"]))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["message"], "the body must be a JSON object");
    }
    let (status, _) = app
        .post(
            &format!("/api/campaigns/{campaign}/links"),
            json!([account]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, shown) = app.get(&format!("/api/links/{}", link["id"])).await;
    assert_eq!(shown["label"], "Door");
    let (_, links) = app.get(&format!("/api/campaigns/{campaign}/links")).await;
    assert_eq!(links.as_array().unwrap().len(), 1);
}

crate::on_both_backends!(
    a_body_that_is_not_an_object_is_refused,
    every_platform_gets_its_deep_link,
    a_wechat_link_carries_its_scene_and_code_url,
    landing_links_get_utm_parameters,
    bad_links_are_refused_and_nothing_is_stored,
    bulk_creates_one_link_per_store,
    a_bad_store_list_names_every_bad_row_and_creates_nothing,
    a_patch_changes_what_it_names_and_keeps_the_rest,
    bad_patches_are_refused_with_the_messages_of_creation,
    the_cli_updates_a_link,
);
