//! The dashboard's pages: campaigns, a campaign's links, accounts; sessions, roles and CSRF
//! on every form, escaping of what users type, on both backends.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, telegram_text},
    on_both_backends,
    users::{add_user, page, session_of},
};

/// The CSRF token of the session's forms, as the page's hidden field carries it.
async fn csrf_of(app: &TestApp, session: &str) -> String {
    let html = page(app, "/campaigns", session).await.text().await.unwrap();
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned()
}

/// Posts a form to `path` as a browser with session `session`.
async fn post_form(app: &TestApp, path: &str, session: &str, fields: &[(&str, &str)]) -> Response {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    app.client
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("chatref_session={session}"))
        .body(body)
        .send()
        .await
        .unwrap()
}

fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn html(app: &TestApp, path: &str, session: &str) -> String {
    let response = page(app, path, session).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

async fn marketer(app: &TestApp) -> (String, String) {
    add_user(app, "mia@shop.example", "marketer").await;
    let session = session_of(app, "mia@shop.example").await;
    let csrf = csrf_of(app, &session).await;
    (session, csrf)
}

async fn campaigns(app: &TestApp) -> Vec<Value> {
    app.get("/api/campaigns")
        .await
        .1
        .as_array()
        .unwrap()
        .clone()
}

async fn links(app: &TestApp, campaign: i64) -> Vec<Value> {
    let (status, body) = app.get(&format!("/api/campaigns/{campaign}/links")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

on_both_backends!(
    pages_need_a_session,
    a_viewer_reads_the_pages_and_cannot_post_any_form,
    a_missing_or_wrong_csrf_token_changes_nothing,
    a_campaign_and_a_link_made_through_the_forms_show_on_the_pages,
    a_refused_campaign_shows_the_error_beside_its_field,
    a_bad_row_in_a_pasted_store_list_is_shown_and_nothing_is_created,
    a_store_list_in_csv_makes_one_link_per_store,
    names_with_markup_are_shown_as_text,
    the_accounts_page_shows_the_webhook_url_and_the_last_call,
    the_contacts_page_lists_who_wrote_and_exports_them,
    spend_imported_through_the_form_shows_per_day_and_bad_lines_import_nothing,
    store_staff_pick_a_store_and_get_its_code_at_a_size_in_millimetres,
);

async fn pages_need_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    for path in [
        "/campaigns".to_owned(),
        format!("/campaigns/{campaign}"),
        "/accounts".to_owned(),
        "/contacts".to_owned(),
        "/contacts.csv".to_owned(),
        "/spend".to_owned(),
        "/store".to_owned(),
        "/links/1/qr.png".to_owned(),
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        assert_eq!(location(&response), format!("/login?next={next}"));
    }
    let response = post_form(&app, "/campaigns", "", &[("name", "X")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(campaigns(&app).await.len(), 1, "nothing was created");
}

async fn a_viewer_reads_the_pages_and_cannot_post_any_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let campaign = app.campaign("direct_to_chat").await;
    add_user(&app, "vera@shop.example", "viewer").await;
    let session = session_of(&app, "vera@shop.example").await;
    let csrf = csrf_of(&app, &session).await;

    let list = html(&app, "/campaigns", &session).await;
    assert!(list.contains("Summer"), "{list}");
    assert!(
        !list.contains("method=\"post\" action=\"/campaigns\""),
        "no create form for a viewer"
    );
    let one = html(&app, &format!("/campaigns/{campaign}"), &session).await;
    assert!(!one.contains("/links/bulk"), "no link forms for a viewer");
    html(&app, "/accounts", &session).await;

    let account = account.to_string();
    for (path, fields) in [
        (
            "/campaigns".to_owned(),
            vec![("name", "Sneaky"), ("kind", "direct_to_chat")],
        ),
        (
            format!("/campaigns/{campaign}/links"),
            vec![("account_id", account.as_str()), ("store", "Dock")],
        ),
        (
            format!("/campaigns/{campaign}/links/bulk"),
            vec![("account_id", account.as_str()), ("stores", "A\nB")],
        ),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let response = post_form(&app, &path, &session, &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(campaigns(&app).await.len(), 1, "no campaign was created");
    assert!(
        links(&app, campaign).await.is_empty(),
        "no link was created"
    );
}

async fn a_missing_or_wrong_csrf_token_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await
        .to_string();
    let campaign = app.campaign("direct_to_chat").await;
    let (session, _) = marketer(&app).await;
    for csrf in [None, Some(""), Some("wrong")] {
        for path in [
            "/campaigns".to_owned(),
            format!("/campaigns/{campaign}/links"),
            format!("/campaigns/{campaign}/links/bulk"),
        ] {
            let mut fields = vec![
                ("name", "Sneaky"),
                ("kind", "direct_to_chat"),
                ("account_id", account.as_str()),
                ("stores", "A"),
            ];
            if let Some(csrf) = csrf {
                fields.push(("csrf", csrf));
            }
            let response = post_form(&app, &path, &session, &fields).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} {csrf:?}");
        }
    }
    assert_eq!(campaigns(&app).await.len(), 1);
    assert!(links(&app, campaign).await.is_empty());
}

async fn a_campaign_and_a_link_made_through_the_forms_show_on_the_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("whatsapp", "15551234567", json!({}))
        .await
        .to_string();
    let (session, csrf) = marketer(&app).await;
    let empty = html(&app, "/campaigns", &session).await;
    assert!(empty.contains("No campaigns yet"), "{empty}");

    let response = post_form(
        &app,
        "/campaigns",
        &session,
        &[
            ("csrf", &csrf),
            ("name", "Winter posters"),
            ("kind", "direct_to_chat"),
            ("channel", "offline"),
            ("currency", "EUR"),
            ("budget", "1500"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let created = campaigns(&app).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["currency"], "EUR");
    assert_eq!(created[0]["budget"], "1500.00");
    let id = created[0]["id"].as_i64().unwrap();
    assert_eq!(location(&response), format!("/campaigns/{id}"));
    let list = html(&app, "/campaigns", &session).await;
    assert!(list.contains("Winter posters"), "{list}");
    assert!(
        list.contains("0.00 EUR"),
        "spend in the campaign's currency"
    );

    let one = html(&app, &format!("/campaigns/{id}"), &session).await;
    assert!(one.contains("No links yet"), "{one}");
    let response = post_form(
        &app,
        &format!("/campaigns/{id}/links"),
        &session,
        &[
            ("csrf", &csrf),
            ("account_id", &account),
            ("store", "Harbour"),
            ("label", "Window poster"),
            ("prefill_text", "Hi!"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let made = links(&app, id).await;
    assert_eq!(made.len(), 1);
    let link = &made[0];
    assert_eq!(
        location(&response),
        format!("/campaigns/{id}#link-{}", link["id"])
    );
    let one = html(&app, &format!("/campaigns/{id}"), &session).await;
    for shown in ["short_url", "deep_link", "ref_tag"] {
        let value = link[shown].as_str().unwrap();
        let escaped = value.replace('&', "&amp;");
        assert!(one.contains(&escaped), "{shown} {value} in {one}");
    }
    assert!(one.contains("Harbour") && one.contains("Window poster"));
    let qr = format!("/links/{}/qr.png?size=160", link["id"]);
    assert!(one.contains(&qr));
    let image = page(&app, &qr, &session).await;
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    let sheet = page(&app, &format!("/campaigns/{id}/qr-sheet"), &session).await;
    assert_eq!(sheet.status(), StatusCode::OK);
    assert_eq!(sheet.headers()["content-type"], "application/pdf");
    let report = html(&app, "/reports/funnel", &session).await;
    assert!(
        report.contains("href=\"/reports/funnel.csv"),
        "the report's CSV link"
    );
    let csv = page(&app, "/reports/funnel.csv", &session).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.text().await.unwrap().contains("Winter posters"));

    // The same store again is refused next to the form, and nothing more is created.
    let response = post_form(
        &app,
        &format!("/campaigns/{id}/links"),
        &session,
        &[
            ("csrf", &csrf),
            ("account_id", &account),
            ("store", "harbour"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = response.text().await.unwrap();
    assert!(body.contains("already has a link"), "{body}");
    assert_eq!(links(&app, id).await.len(), 1);
}

async fn a_refused_campaign_shows_the_error_beside_its_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (session, csrf) = marketer(&app).await;
    let response = post_form(
        &app,
        "/campaigns",
        &session,
        &[
            ("csrf", &csrf),
            ("name", "Spring"),
            ("kind", "direct_to_chat"),
            ("starts_on", "2026-12-01"),
            ("ends_on", "2026-11-01"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().await.unwrap();
    assert!(
        body.contains(
            "<p class=\"field-error\" id=\"c-ends-error\">ends_on is before starts_on</p>"
        ),
        "{body}"
    );
    assert!(body.contains("value=\"Spring\""), "what was typed is kept");
    assert!(campaigns(&app).await.is_empty());
}

async fn a_bad_row_in_a_pasted_store_list_is_shown_and_nothing_is_created(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await
        .to_string();
    let campaign = app.campaign("direct_to_chat").await;
    let (session, csrf) = marketer(&app).await;
    let long = "x".repeat(201);
    let stores = format!("Harbour\nDowntown\n  harbour \n{long}\nAirport\n");
    let response = post_form(
        &app,
        &format!("/campaigns/{campaign}/links/bulk"),
        &session,
        &[
            ("csrf", &csrf),
            ("account_id", &account),
            ("stores", &stores),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().await.unwrap();
    assert!(body.contains("2 of the 5 store rows are invalid"), "{body}");
    assert!(body.contains("store `harbour` repeats row 1"), "{body}");
    assert!(
        body.contains("store must be at most 200 characters"),
        "{body}"
    );
    assert_eq!(body.matches("class=\"bad-row\"").count(), 2, "{body}");
    assert!(
        body.contains(&format!("{stores}</textarea>")),
        "the list is kept"
    );
    assert!(
        links(&app, campaign).await.is_empty(),
        "nothing was created"
    );
}

async fn a_store_list_in_csv_makes_one_link_per_store(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await
        .to_string();
    let campaign = app.campaign("direct_to_chat").await;
    let (session, csrf) = marketer(&app).await;
    let response = post_form(
        &app,
        &format!("/campaigns/{campaign}/links/bulk"),
        &session,
        &[
            ("csrf", &csrf),
            ("account_id", &account),
            ("stores", "store,label\nHarbour,Window\n\"Dock, 2\",\n"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/campaigns/{campaign}#links"));
    let made = links(&app, campaign).await;
    let stores: Vec<(&str, Option<&str>)> = made
        .iter()
        .map(|l| (l["store"].as_str().unwrap(), l["label"].as_str()))
        .collect();
    assert_eq!(stores, [("Harbour", Some("Window")), ("Dock, 2", None)]);
    let one = html(&app, &format!("/campaigns/{campaign}"), &session).await;
    assert!(one.contains("Links (2)"), "{one}");
}

async fn names_with_markup_are_shown_as_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await
        .to_string();
    let (session, csrf) = marketer(&app).await;
    let script = "<script>alert(1)</script>";
    let response = post_form(
        &app,
        "/campaigns",
        &session,
        &[
            ("csrf", &csrf),
            ("name", script),
            ("kind", "direct_to_chat"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id = campaigns(&app).await[0]["id"].as_i64().unwrap();
    let response = post_form(
        &app,
        &format!("/campaigns/{id}/links"),
        &session,
        &[
            ("csrf", &csrf),
            ("account_id", &account),
            ("store", &format!("Store {script}")),
            ("label", &format!("Label {script}")),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // A refused bulk list shows its rows: they are escaped too.
    let response = post_form(
        &app,
        &format!("/campaigns/{id}/links/bulk"),
        &session,
        &[
            ("csrf", &csrf),
            ("account_id", &account),
            ("stores", &format!("Bulk {script}\nBulk {script}")),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let refused = response.text().await.unwrap();
    for body in [
        html(&app, "/campaigns", &session).await,
        html(&app, &format!("/campaigns/{id}"), &session).await,
        refused,
    ] {
        assert!(!body.contains("<script>alert"), "{body}");
        // Askama writes `<` and `>` as numeric references.
        assert!(
            body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{body}"
        );
    }
}

async fn the_accounts_page_shows_the_webhook_url_and_the_last_call(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "vera@shop.example", "viewer").await;
    let session = session_of(&app, "vera@shop.example").await;
    let empty = html(&app, "/accounts", &session).await;
    assert!(empty.contains("No chat accounts yet"), "{empty}");

    let account = app
        .account(
            "telegram",
            "CoastShopBot",
            json!({"secret_token": "tg-secret"}),
        )
        .await;
    let other = app.account("line", "@478eozzg", json!({})).await;
    let before = html(&app, "/accounts", &session).await;
    let url = format!("https://go.example.test/webhooks/telegram/{account}");
    assert!(before.contains(&format!(">{url}</code>")), "{before}");
    assert!(before.contains("setWebhook"), "the Telegram checklist");
    assert!(before.contains("channel_secret"), "the LINE checklist");
    assert_eq!(before.matches("Last webhook call: never").count(), 2);

    let status = app
        .telegram_update(
            account,
            "tg-secret",
            &telegram_text(1, 42, "hi", 1_764_000_000),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = html(&app, "/accounts", &session).await;
    assert_eq!(
        after.matches("Last webhook call: never").count(),
        1,
        "the LINE account {other} still has none: {after}"
    );
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert!(
        after.contains(&format!("Last webhook call: <time>{today} ")),
        "{after}"
    );
}

async fn the_contacts_page_lists_who_wrote_and_exports_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "vera@shop.example", "viewer").await;
    let session = session_of(&app, "vera@shop.example").await;
    let empty = html(&app, "/contacts", &session).await;
    assert!(empty.contains("No contacts yet"), "{empty}");

    let account = app
        .account(
            "telegram",
            "CoastShopBot",
            json!({"secret_token": "tg-secret"}),
        )
        .await;
    let campaign = app.campaign("direct_to_chat").await;
    let link = app
        .link(
            campaign,
            json!({"account_id": account, "store": "Harbour <b>1</b>"}),
        )
        .await;
    let start = format!("/start {}", link["ref_tag"].as_str().unwrap());
    for (update, user, text) in [(1, 4242, start.as_str()), (2, 4343, "hello")] {
        let status = app
            .telegram_update(
                account,
                "tg-secret",
                &telegram_text(update, user, text, 1_764_000_000),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let list = html(&app, "/contacts", &session).await;
    assert!(
        list.contains("<code>4242</code>") && list.contains("<code>4343</code>"),
        "{list}"
    );
    assert!(
        list.contains(&format!("<a href=\"/campaigns/{campaign}\">Summer</a>")),
        "{list}"
    );
    assert!(list.contains("Harbour &#60;b&#62;1&#60;/b&#62;"), "{list}");
    let one = html(&app, &format!("/contacts?campaign={campaign}"), &session).await;
    assert!(
        one.contains("4242") && !one.contains("<code>4343</code>"),
        "{one}"
    );
    assert!(one.contains(&format!("href=\"/contacts.csv?campaign={campaign}\"")));

    let export = page(
        &app,
        &format!("/contacts.csv?campaign={campaign}"),
        &session,
    )
    .await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(export.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = export.text().await.unwrap();
    assert!(csv.starts_with("platform,account_id,contact"), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");
}

async fn spend_imported_through_the_form_shows_per_day_and_bad_lines_import_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let campaign = app.campaign("direct_to_chat").await;
    let (session, csrf) = marketer(&app).await;
    let empty = html(&app, "/spend", &session).await;
    assert!(empty.contains("No spend recorded"), "{empty}");

    let bad = "date,campaign,amount\n2026-11-01,Summer,10\nyesterday,Summer,3\n";
    let response = post_form(
        &app,
        "/spend/import",
        &session,
        &[("csrf", &csrf), ("csv", bad)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("1 rows are invalid; nothing was imported"),
        "{body}"
    );
    assert!(
        body.contains("<tr class=\"bad-row\"><td class=\"num\">3</td>"),
        "{body}"
    );
    let (_, spend) = app.get(&format!("/api/campaigns/{campaign}/spend")).await;
    assert_eq!(spend, json!([]), "nothing was imported");

    add_user(&app, "vera@shop.example", "viewer").await;
    let viewer = session_of(&app, "vera@shop.example").await;
    let viewer_csrf = csrf_of(&app, &viewer).await;
    let good = "date,campaign,amount\n2026-11-01,Summer,1250.5\n";
    let response = post_form(
        &app,
        "/spend/import",
        &viewer,
        &[("csrf", &viewer_csrf), ("csv", good)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = post_form(&app, "/spend/import", &session, &[("csv", good)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let (_, spend) = app.get(&format!("/api/campaigns/{campaign}/spend")).await;
    assert_eq!(spend, json!([]), "nothing was imported");

    let response = post_form(
        &app,
        "/spend/import",
        &session,
        &[("csrf", &csrf), ("csv", good)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/spend?imported=1&skipped=0&unmatched=0"
    );
    let list = html(&app, &location(&response), &session).await;
    assert!(list.contains("Imported 1 campaign-days"), "{list}");
    assert!(list.contains("<th scope=\"row\">2026-11-01</th>"), "{list}");
    assert!(list.contains("1,250.50 USD"), "{list}");
}

async fn store_staff_pick_a_store_and_get_its_code_at_a_size_in_millimetres(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "sam@shop.example", "viewer").await;
    let session = session_of(&app, "sam@shop.example").await;
    let none = html(&app, "/store", &session).await;
    assert!(none.contains("No store links yet"), "{none}");

    let account = app
        .account("telegram", "CoastShopBot", json!({"secret_token": "s"}))
        .await;
    let campaign = app.campaign("direct_to_chat").await;
    let link = app
        .link(
            campaign,
            json!({"account_id": account, "store": "Pier <i>7</i>"}),
        )
        .await;
    app.link(
        campaign,
        json!({"account_id": account, "label": "No store"}),
    )
    .await;
    let id = link["id"].as_i64().unwrap();
    let picker = html(&app, "/store", &session).await;
    assert!(
        picker.contains(&format!(
            "<option value=\"{id}\">Pier &#60;i&#62;7&#60;/i&#62;</option>"
        )),
        "{picker}"
    );
    assert!(
        !picker.contains("No store"),
        "links without a store are not offered"
    );

    let chosen = html(&app, &format!("/store?link={id}"), &session).await;
    assert!(
        chosen.contains(&format!("src=\"/links/{id}/qr.svg\"")),
        "{chosen}"
    );
    assert!(
        chosen.contains(&format!("action=\"/links/{id}/qr.png\"")),
        "{chosen}"
    );
    assert!(chosen.contains(link["short_url"].as_str().unwrap()));
    let unknown = page(&app, "/store?link=999", &session).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // What the download form asks for: 50 mm at 300 dpi is 591 px wide.
    let png = page(
        &app,
        &format!("/links/{id}/qr.png?size_mm=50&dpi=300"),
        &session,
    )
    .await;
    assert_eq!(png.status(), StatusCode::OK);
    let bytes = png.bytes().await.unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    assert_eq!(width, 591);
}
