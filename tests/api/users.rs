//! Users, roles, API tokens, sessions and the sign-in form, on both backends.

use std::{process::Stdio, sync::Arc};

use chatref::clock::SimulatedClock;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use time::macros::datetime;

use crate::helpers::{Backend, TestApp};

pub const PASSWORD: &str = "correct horse battery";

/// Creates a user with the admin token; returns its JSON.
pub async fn add_user(app: &TestApp, email: &str, role: &str) -> Value {
    let (status, body) = app
        .post(
            "/api/users",
            json!({"email": email, "role": role, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Makes a token for `email` with the admin token; returns its text.
async fn token_for(app: &TestApp, email: &str, role: &str) -> String {
    let (status, body) = app
        .post(
            "/api/tokens",
            json!({"user": email, "role": role, "name": "tests"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// A request with `token` as the bearer.
fn with_token(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
}

/// The value the response sets for cookie `name` (`""` when it removes it).
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

/// The sign-in form's cookie and hidden CSRF field, as a browser gets them.
async fn sign_in_form(app: &TestApp) -> (String, String) {
    let response = app
        .client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = cookie_value(&set_cookie(&response, "chatref_form").expect("a form cookie"));
    let html = response.text().await.unwrap();
    let field = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned();
    assert_eq!(cookie, field);
    (cookie, field)
}

/// Posts the sign-in form; `cookies` is the `Cookie` header to send.
async fn post_sign_in(
    app: &TestApp,
    cookies: &str,
    fields: &[(&str, &str)],
    forwarded_for: Option<&str>,
) -> Response {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut request = app
        .client
        .post(format!("{}/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookies)
        .body(body);
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap()
}

/// Signs in through the form from `address`; returns the response.
pub async fn sign_in_from(
    app: &TestApp,
    email: &str,
    password: &str,
    address: Option<&str>,
) -> Response {
    let (cookie, csrf) = sign_in_form(app).await;
    post_sign_in(
        app,
        &format!("chatref_form={cookie}"),
        &[("email", email), ("password", password), ("csrf", &csrf)],
        address,
    )
    .await
}

/// Signs in and returns the session cookie's id.
pub async fn session_of(app: &TestApp, email: &str) -> String {
    let response = sign_in_from(app, email, PASSWORD, None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    cookie_value(&set_cookie(&response, "chatref_session").expect("a session cookie"))
}

/// GETs `path` as a browser with session `id`.
pub async fn page(app: &TestApp, path: &str, session: &str) -> Response {
    app.client
        .get(format!("{}{path}", app.base))
        .header("cookie", format!("chatref_session={session}"))
        .send()
        .await
        .unwrap()
}

/// The CSRF token of the session's forms, read from the landing page.
async fn session_csrf(app: &TestApp, session: &str) -> String {
    let html = page(app, "/", session).await.text().await.unwrap();
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a sign-out form")
        .to_owned()
}

async fn post_logout(app: &TestApp, session: &str, csrf: &str) -> Response {
    app.client
        .post(format!("{}/logout", app.base))
        .header("cookie", format!("chatref_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap()
}

async fn a_viewer_token_reads_and_cannot_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "vera@shop.example", "viewer").await;
    let token = token_for(&app, "vera@shop.example", "viewer").await;
    assert!(token.starts_with("chr_") && token.len() == 36, "{token}");

    let read = with_token(&app, Method::GET, "/api/campaigns", &token);
    assert_eq!(read.send().await.unwrap().status(), StatusCode::OK);
    let write = with_token(&app, Method::POST, "/api/campaigns", &token)
        .json(&json!({"name": "Sneaky", "kind": "direct_to_chat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let body: Value = write.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    let (_, campaigns) = app.get("/api/campaigns").await;
    assert_eq!(campaigns, json!([]), "nothing was created");

    for (method, path) in [(Method::GET, "/api/users"), (Method::POST, "/api/users")] {
        let response = with_token(&app, method.clone(), path, &token)
            .json(&json!({"email": "x@shop.example", "role": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    assert_eq!(app.get("/api/users").await.1.as_array().unwrap().len(), 1);
}

async fn a_marketer_token_writes_but_cannot_manage_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "mark@shop.example", "marketer").await;
    let token = token_for(&app, "mark@shop.example", "marketer").await;
    let write = with_token(&app, Method::POST, "/api/campaigns", &token)
        .json(&json!({"name": "Posters", "kind": "direct_to_chat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::CREATED);
    let users = with_token(&app, Method::GET, "/api/users", &token);
    assert_eq!(users.send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn a_token_above_its_users_role_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "mark@shop.example", "marketer").await;
    let (status, body) = app
        .post(
            "/api/tokens",
            json!({"user": "mark@shop.example", "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");

    // Nor can a user's own token mint one above itself or for someone else.
    add_user(&app, "ada@shop.example", "admin").await;
    let marketer_token_of_admin = token_for(&app, "ada@shop.example", "marketer").await;
    for request in [
        json!({"role": "admin"}),
        json!({"role": "viewer", "user": "mark@shop.example"}),
    ] {
        let response = with_token(&app, Method::POST, "/api/tokens", &marketer_token_of_admin)
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{request}");
    }
    let own = with_token(&app, Method::POST, "/api/tokens", &marketer_token_of_admin)
        .json(&json!({"role": "viewer", "name": "dashboard"}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::CREATED);
    let own: Value = own.json().await.unwrap();
    assert_eq!(own["user_email"], "ada@shop.example");
    assert_eq!(own["role"], "viewer");

    let (_, tokens) = app.get("/api/tokens").await;
    assert_eq!(tokens.as_array().unwrap().len(), 2, "{tokens}");
}

async fn a_revoked_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "mark@shop.example", "marketer").await;
    let token = token_for(&app, "mark@shop.example", "viewer").await;
    let works = with_token(&app, Method::GET, "/api/campaigns", &token);
    assert_eq!(works.send().await.unwrap().status(), StatusCode::OK);

    let listed = with_token(&app, Method::GET, "/api/tokens", &token)
        .send()
        .await
        .unwrap();
    let listed: Value = listed.json().await.unwrap();
    let text = listed.to_string();
    assert!(!text.contains(&token) && !text.contains("hash"), "{text}");
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    let id = listed[0]["id"].as_i64().unwrap();

    let revoked = app
        .api(Method::DELETE, &format!("/api/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let revoked: Value = revoked.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string(), "{revoked}");

    let refused = with_token(&app, Method::GET, "/api/campaigns", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let unknown = app
        .api(Method::DELETE, "/api/tokens/9999")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn the_admin_token_manages_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = add_user(&app, "Ada@Shop.example", "admin").await;
    assert_eq!(created["email"], "ada@shop.example");
    assert!(created.get("password_hash").is_none());
    let (status, body) = app
        .post(
            "/api/users",
            json!({"email": "ADA@shop.example", "role": "viewer", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "same address in another case: {body}"
    );
    let (status, body) = app
        .post(
            "/api/users",
            json!({"email": "bo@shop.example", "role": "viewer", "password": "short"}),
        )
        .await;
    assert_eq!(status.as_u16(), 422, "{body}");
    let (status, _) = app
        .post(
            "/api/users",
            json!({"email": "bo@shop.example", "role": "owner", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, users) = app.get("/api/users").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(users.as_array().unwrap().len(), 1);
    // A user's admin token can manage users as well.
    let token = token_for(&app, "ada@shop.example", "admin").await;
    let listed = with_token(&app, Method::GET, "/api/users", &token);
    assert_eq!(listed.send().await.unwrap().status(), StatusCode::OK);
}

async fn a_wrong_password_gets_the_generic_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "ann@shop.example", "viewer").await;
    let mut messages = Vec::new();
    for (email, password) in [
        ("ann@shop.example", "wrong password!"),
        ("nobody@shop.example", PASSWORD),
        ("not an address", PASSWORD),
    ] {
        let response = sign_in_from(&app, email, password, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{email}");
        assert!(set_cookie(&response, "chatref_session").is_none());
        let html = response.text().await.unwrap();
        let message = html
            .split("id=\"sign-in-error\">")
            .nth(1)
            .and_then(|m| m.split('<').next())
            .expect("an error message")
            .to_owned();
        messages.push(message);
    }
    assert!(messages.iter().all(|m| *m == messages[0]), "{messages:?}");
    let ok = sign_in_from(&app, "ANN@shop.example", PASSWORD, None).await;
    assert_eq!(
        ok.status(),
        StatusCode::SEE_OTHER,
        "addresses compare without case"
    );
    assert_eq!(ok.headers()["location"], "/");
}

async fn sign_in_is_rate_limited_per_account(backend: Backend) {
    let app = TestApp::spawn_with(backend, |env| {
        env.insert("CHATREF_TRUST_FORWARDED".into(), "true".into());
    })
    .await;
    add_user(&app, "ann@shop.example", "viewer").await;
    add_user(&app, "bo@shop.example", "viewer").await;
    for i in 0..10 {
        let address = format!("198.51.100.{i}");
        let response = sign_in_from(&app, "ann@shop.example", "guess", Some(&address)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let locked = sign_in_from(&app, "ann@shop.example", PASSWORD, Some("203.0.113.1")).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u32 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(set_cookie(&locked, "chatref_session").is_none());
    let html = locked.text().await.unwrap();
    assert!(
        html.contains("the email or password is not right"),
        "{html}"
    );

    let other = sign_in_from(&app, "bo@shop.example", PASSWORD, Some("198.51.100.1")).await;
    assert_eq!(
        other.status(),
        StatusCode::SEE_OTHER,
        "other accounts are not locked"
    );
}

async fn sign_in_is_rate_limited_per_address(backend: Backend) {
    let app = TestApp::spawn_with(backend, |env| {
        env.insert("CHATREF_TRUST_FORWARDED".into(), "true".into());
    })
    .await;
    add_user(&app, "ann@shop.example", "viewer").await;
    for i in 0..30 {
        let email = format!("guess{i}@shop.example");
        let response = sign_in_from(&app, &email, "guess", Some("198.51.100.7")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let blocked = sign_in_from(&app, "ann@shop.example", PASSWORD, Some("198.51.100.7")).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.headers().contains_key("retry-after"));
    let elsewhere = sign_in_from(&app, "ann@shop.example", PASSWORD, Some("198.51.100.8")).await;
    assert_eq!(elsewhere.status(), StatusCode::SEE_OTHER);
}

async fn sign_in_starts_a_new_session_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "ann@shop.example", "viewer").await;
    let first = session_of(&app, "ann@shop.example").await;

    // Signing in again from a browser that holds a session (or an id planted in it) gives a
    // fresh id and ends the old one.
    let (cookie, csrf) = sign_in_form(&app).await;
    let response = post_sign_in(
        &app,
        &format!("chatref_form={cookie}; chatref_session={first}"),
        &[
            ("email", "ann@shop.example"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/reports/funnel"),
        ],
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/reports/funnel");
    let set = set_cookie(&response, "chatref_session").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let second = cookie_value(&set);
    assert_ne!(second, first);
    assert_eq!(page(&app, "/", &second).await.status(), StatusCode::OK);
    let old = page(&app, "/", &first).await;
    assert_eq!(old.status(), StatusCode::SEE_OTHER, "the old id is dead");
    assert_eq!(old.headers()["location"], "/login");

    let planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        page(&app, "/", planted).await.status(),
        StatusCode::SEE_OTHER
    );

    // `next` never leads off the site.
    let (cookie, csrf) = sign_in_form(&app).await;
    let response = post_sign_in(
        &app,
        &format!("chatref_form={cookie}"),
        &[
            ("email", "ann@shop.example"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "//evil.example/"),
        ],
        None,
    )
    .await;
    assert_eq!(response.headers()["location"], "/");
}

async fn a_missing_or_wrong_csrf_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "ann@shop.example", "viewer").await;
    let (cookie, csrf) = sign_in_form(&app).await;
    let (_, other_csrf) = sign_in_form(&app).await;
    let credentials = [("email", "ann@shop.example"), ("password", PASSWORD)];
    for (cookies, field) in [
        (format!("chatref_form={cookie}"), None),
        (String::new(), Some(csrf.as_str())),
        (format!("chatref_form={cookie}"), Some(other_csrf.as_str())),
        (format!("chatref_form={cookie}"), Some("")),
    ] {
        let mut fields = credentials.to_vec();
        if let Some(field) = field {
            fields.push(("csrf", field));
        }
        let response = post_sign_in(&app, &cookies, &fields, None).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{cookies} {field:?}"
        );
        assert!(set_cookie(&response, "chatref_session").is_none());
    }

    let session = session_of(&app, "ann@shop.example").await;
    for csrf in ["", "wrong"] {
        let response = post_logout(&app, &session, csrf).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        page(&app, "/", &session).await.status(),
        StatusCode::OK,
        "the session survived"
    );
}

async fn signing_out_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "ann@shop.example", "viewer").await;
    let session = session_of(&app, "ann@shop.example").await;
    let csrf = session_csrf(&app, &session).await;
    let response = post_logout(&app, &session, &csrf).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");
    let cleared = set_cookie(&response, "chatref_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = page(&app, "/", &session).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
}

async fn a_session_expires_twelve_hours_after_sign_in(backend: Backend) {
    let clock = Arc::new(SimulatedClock::new(datetime!(2026-11-05 08:00 UTC)));
    let app = TestApp::spawn_with_clock(backend, |_| {}, clock.clone()).await;
    add_user(&app, "ann@shop.example", "viewer").await;
    let session = session_of(&app, "ann@shop.example").await;
    clock.set(datetime!(2026-11-05 19:59 UTC));
    assert_eq!(page(&app, "/", &session).await.status(), StatusCode::OK);
    clock.set(datetime!(2026-11-05 20:00 UTC));
    assert_eq!(
        page(&app, "/", &session).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn the_report_page_takes_a_session_or_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    add_user(&app, "vera@shop.example", "viewer").await;
    let anonymous = app
        .client
        .get(format!("{}/reports/funnel?from=2026-01-01", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.headers()["location"],
        "/login?next=%2Freports%2Ffunnel%3Ffrom%3D2026-01-01"
    );
    let session = session_of(&app, "vera@shop.example").await;
    let response = page(&app, "/reports/funnel", &session).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Funnel report"));
    let token = token_for(&app, "vera@shop.example", "viewer").await;
    let with_token = with_token(&app, Method::GET, "/reports/funnel", &token);
    assert_eq!(with_token.send().await.unwrap().status(), StatusCode::OK);
    let bad = app
        .client
        .get(format!("{}/reports/funnel", app.base))
        .bearer_auth("chr_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
}

async fn html_in_an_email_is_shown_as_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = "<script>alert(1)</script>@shop.example";
    add_user(&app, email, "marketer").await;
    let session = session_of(&app, email).await;
    let html = page(&app, "/", &session).await.text().await.unwrap();
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;@shop.example"),
        "{html}"
    );
    assert!(html.contains("(marketer)"), "{html}");
    assert!(!html.contains("<script>"), "{html}");

    let failed = sign_in_from(&app, "\"><script>x()</script>", "nope", None).await;
    let html = failed.text().await.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("value=\"&#34;&#62;&#60;script&#62;x()&#60;/script&#62;\""),
        "the typed address comes back as text: {html}"
    );
}

crate::on_both_backends!(
    a_viewer_token_reads_and_cannot_write,
    a_marketer_token_writes_but_cannot_manage_users,
    a_token_above_its_users_role_is_refused,
    a_revoked_token_is_refused,
    the_admin_token_manages_users,
    a_wrong_password_gets_the_generic_message,
    sign_in_is_rate_limited_per_account,
    sign_in_is_rate_limited_per_address,
    sign_in_starts_a_new_session_id,
    a_missing_or_wrong_csrf_token_is_refused,
    signing_out_ends_the_session,
    a_session_expires_twelve_hours_after_sign_in,
    the_report_page_takes_a_session_or_a_token,
    html_in_an_email_is_shown_as_text,
);

/// Runs `chatref` against the app's database with `stdin` as its input.
fn chatref_with_input(app: &TestApp, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chatref"))
        .args(args)
        .env("CHATREF_DATABASE_URL", &app.database.url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn the_cli_adds_a_user_and_makes_a_token_that_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let short = chatref_with_input(
        &app,
        &[
            "user",
            "add",
            "--email",
            "ann@shop.example",
            "--role",
            "viewer",
        ],
        "short\n",
    );
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(stderr.contains("at least 10 characters"), "{stderr}");

    let added = chatref_with_input(
        &app,
        &[
            "user",
            "add",
            "--email",
            "ann@shop.example",
            "--role",
            "marketer",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(String::from_utf8_lossy(&added.stdout).contains("ann@shop.example"));
    let again = chatref_with_input(
        &app,
        &[
            "user",
            "add",
            "--email",
            "ANN@shop.example",
            "--role",
            "viewer",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let too_high = chatref_with_input(
        &app,
        &[
            "token",
            "create",
            "--user",
            "ann@shop.example",
            "--role",
            "admin",
        ],
        "",
    );
    assert!(!too_high.status.success());

    let created = chatref_with_input(
        &app,
        &[
            "token",
            "create",
            "--user",
            "ann@shop.example",
            "--role",
            "viewer",
            "--name",
            "CI",
        ],
        "",
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("chr_"), "{token}");
    let read = with_token(&app, Method::GET, "/api/campaigns", &token);
    assert_eq!(read.send().await.unwrap().status(), StatusCode::OK);

    // The password typed at the CLI signs in on the page.
    let signed_in = sign_in_from(&app, "ann@shop.example", PASSWORD, None).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);

    let listed = chatref_with_input(&app, &["--json", "token", "list"], "");
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["name"], "CI");
    assert!(!listed.to_string().contains(&token));
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    let revoked = chatref_with_input(&app, &["token", "revoke", &id], "");
    assert!(revoked.status.success());
    let refused = with_token(&app, Method::GET, "/api/campaigns", &token);
    assert_eq!(
        refused.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

crate::on_both_backends!(the_cli_adds_a_user_and_makes_a_token_that_works);
