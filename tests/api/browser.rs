//! The dashboard in real headless Chromium, driven through chromium-driver (Debian packages
//! `chromium` and `chromium-driver`; `scripts/test` installs them): signing in, the pages a
//! person sees at desktop and phone widths, and an axe-core accessibility check of each page
//! with no serious or critical violation. Screenshots go to `docs/screenshots/`.
//!
//! These are tests of what the browser shows, not of storage, so they run on SQLite only.

use std::{path::PathBuf, process::Stdio, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::{
    helpers::{Backend, TestApp},
    users,
};

/// A headless Chromium with a fresh profile, at one window size.
struct Browser {
    client: Client,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn open(width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver (Debian chromium-driver) must be installed: see scripts/test");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                ]
            }
        });
        let mut capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        // A window cannot be narrower than about 500 px; a phone's viewport is emulated.
        if width < 500 {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": true}
            });
        }
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut last_error = None;
        // The driver takes a moment to listen; ask until it answers (bounded).
        for _ in 0..200 {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: driver,
                        _profile: profile,
                    };
                }
                Err(error) => last_error = Some(error.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start: {last_error:?}");
    }

    async fn go(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The page's visible text; while a navigation replaces the page the old body goes
    /// stale, so it asks again until a page answers.
    async fn text(&self) -> String {
        for _ in 0..200 {
            if let Ok(body) = self.client.find(Locator::Css("body")).await
                && let Ok(text) = body.text().await
            {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no page text");
    }

    /// Signs in through the form, as a person would.
    async fn sign_in(&self, app: &TestApp, email: &str) {
        self.go(&format!("{}/login", app.base)).await;
        let email_field = self.client.find(Locator::Id("email")).await.unwrap();
        email_field.send_keys(email).await.unwrap();
        let password = self.client.find(Locator::Id("password")).await.unwrap();
        password.send_keys(users::PASSWORD).await.unwrap();
        self.client
            .find(Locator::Css("button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The answer is a redirect to the landing page, which names the signed-in person.
        for _ in 0..100 {
            if self.text().await.contains(email) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "sign-in did not land on the dashboard:\n{}",
            self.text().await
        );
    }

    /// Saves a screenshot of the window under `docs/screenshots/`.
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let image = image::load_from_memory(&png).expect("the screenshot is a PNG");
        assert!(image.width() > 0 && image.height() > 0);
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// axe-core's serious and critical violations on the current page, as `id: help at <where>`.
    async fn accessibility_problems(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/node_modules/axe-core/axe.min.js"
        ))
        .expect("axe-core is installed by scripts/test (npm install)");
        self.client.execute(&axe, vec![]).await.unwrap();
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(r => done(
                   r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => `${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)));",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value(found).unwrap()
    }

    async fn close(self) {
        self.client.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_and_the_pages_work_in_a_browser_without_accessibility_problems() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    users::add_user(&app, "mara@shop.example", "marketer").await;
    let browser = Browser::open(1280, 900).await;

    browser.go(&format!("{}/login", app.base)).await;
    assert!(browser.text().await.contains("Sign in"));
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.screenshot("sign-in-desktop").await;

    // A wrong password is told generically, on the form, still accessible.
    browser
        .client
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("mara@shop.example")
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("not the password")
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = browser
        .client
        .wait()
        .for_element(Locator::Id("sign-in-error"))
        .await
        .unwrap();
    assert!(error.text().await.unwrap().contains("not right"));
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());

    browser.sign_in(&app, "mara@shop.example").await;
    assert!(browser.text().await.contains("marketer"));
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.screenshot("home-desktop").await;

    browser.go(&format!("{}/reports/funnel", app.base)).await;
    let report = browser.text().await;
    assert!(
        report.contains("Landing page") || report.contains("landing page"),
        "{report}"
    );
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.screenshot("report-desktop").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_fit_a_phone() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    users::add_user(&app, "vik@shop.example", "viewer").await;
    let browser = Browser::open(390, 844).await;
    browser.go(&format!("{}/login", app.base)).await;
    browser.screenshot("sign-in-phone").await;
    browser.sign_in(&app, "vik@shop.example").await;
    // Nothing is wider than the screen: no sideways scrolling on a phone.
    let overflow = browser
        .client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        overflow.as_i64(),
        Some(0),
        "the page is wider than the phone"
    );
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.screenshot("home-phone").await;
    browser.go(&format!("{}/reports/funnel", app.base)).await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.screenshot("report-phone").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marketer_creates_a_campaign_in_the_browser_and_a_viewer_cannot() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    users::add_user(&app, "mara@shop.example", "marketer").await;
    users::add_user(&app, "vik@shop.example", "viewer").await;

    let marketer = Browser::open(1280, 900).await;
    marketer.sign_in(&app, "mara@shop.example").await;
    marketer.go(&format!("{}/campaigns", app.base)).await;
    assert_eq!(
        marketer.accessibility_problems().await,
        Vec::<String>::new()
    );
    marketer
        .client
        .find(Locator::Id("c-name"))
        .await
        .unwrap()
        .send_keys("Window posters <b>May</b>")
        .await
        .unwrap();
    marketer
        .client
        .find(Locator::Css(
            "form[action='/campaigns'][method=post] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The new campaign's page (or the list) names it, as text, not markup.
    let mut shown = String::new();
    for _ in 0..100 {
        shown = marketer.text().await;
        if shown.contains("Window posters <b>May</b>") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(shown.contains("Window posters <b>May</b>"), "{shown}");
    assert_eq!(
        marketer.accessibility_problems().await,
        Vec::<String>::new()
    );
    marketer.close().await;
    let (_, campaigns) = app.get("/api/campaigns").await;
    assert_eq!(campaigns.as_array().unwrap().len(), 1);

    // A viewer reads the same list and cannot create: the form's post is refused.
    let viewer = Browser::open(1280, 900).await;
    viewer.sign_in(&app, "vik@shop.example").await;
    viewer.go(&format!("{}/campaigns", app.base)).await;
    assert!(viewer.text().await.contains("Window posters <b>May</b>"));
    if let Ok(name) = viewer.client.find(Locator::Id("c-name")).await {
        name.send_keys("Not allowed").await.unwrap();
        viewer
            .client
            .find(Locator::Css(
                "form[action='/campaigns'][method=post] button[type=submit]",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let mut answer = String::new();
        for _ in 0..100 {
            answer = viewer.text().await;
            if answer.contains("not change anything") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(answer.contains("not change anything"), "{answer}");
    }
    viewer.close().await;
    let (_, campaigns) = app.get("/api/campaigns").await;
    assert_eq!(
        campaigns.as_array().unwrap().len(),
        1,
        "a viewer created nothing"
    );
}
