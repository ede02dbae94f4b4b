use chatref::links::RefTag;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

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

crate::on_both_backends!(
    every_platform_gets_its_deep_link,
    a_wechat_link_carries_its_scene_and_code_url,
    landing_links_get_utm_parameters,
    bad_links_are_refused_and_nothing_is_stored,
    bulk_creates_one_link_per_store,
    a_bad_store_list_names_every_bad_row_and_creates_nothing,
);
