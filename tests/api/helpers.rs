//! Test harness: start the app on a free port with a fresh database per test (a temporary
//! SQLite file, or a new PostgreSQL database that is dropped afterwards).

use std::{collections::HashMap, path::PathBuf};

use chatref::{
    app::Application,
    config::Config,
    db::Db,
    links::{RefTag, TagKey},
    secret::Secret,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The admin token every test app accepts.
pub const TOKEN: &str = "test-admin-token";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Stamps a SQLite and a PostgreSQL test for each named `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}

/// The PostgreSQL server tests use; `.ci/run` makes sure it is up. Never skipped.
pub fn postgres_admin_url() -> String {
    std::env::var("CHATREF_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, empty database of the backend, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path: PathBuf = dir.path().join("chatref.db");
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("chatref_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&postgres_admin_url())
                    .await
                    .expect("PostgreSQL must be running on 127.0.0.1:5432 (see .ci/run)");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
                let base = postgres_admin_url();
                let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
                TestDatabase {
                    url,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The same database under a second name that does not remove it when dropped (for a
    /// second instance on it).
    pub fn alias(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            _dir: None,
            pg_name: None,
        }
    }

    /// Opens the database directly (for assertions on what was stored).
    pub async fn connect(&self) -> Db {
        let db = Db::connect(&self.url).await.unwrap();
        db.migrate().await.unwrap();
        db
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Dropping needs async; do it on a short-lived runtime of its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = sqlx::PgPool::connect(&postgres_admin_url()).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&admin)
                                .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A running app and an HTTP client for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    stop: CancellationToken,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Settings for a test app, as `CHATREF_*` variables.
pub fn test_env(database_url: &str) -> HashMap<String, String> {
    HashMap::from([
        ("CHATREF_BIND".into(), "127.0.0.1:0".into()),
        ("CHATREF_DATABASE_URL".into(), database_url.into()),
        ("CHATREF_ADMIN_TOKEN".into(), TOKEN.into()),
        (
            "CHATREF_PUBLIC_URL".into(),
            "https://go.example.test".into(),
        ),
        ("CHATREF_GEOIP_DB".into(), "off".into()),
    ])
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts an app after `adjust` has changed its settings.
    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut HashMap<String, String>),
    ) -> Self {
        Self::spawn_with_clock(
            backend,
            adjust,
            std::sync::Arc::new(chatref::clock::SystemClock),
        )
        .await
    }

    /// Starts an app whose recorded events are stamped by `clock`.
    pub async fn spawn_with_clock(
        backend: Backend,
        adjust: impl FnOnce(&mut HashMap<String, String>),
        clock: std::sync::Arc<dyn chatref::clock::Clock>,
    ) -> Self {
        let database = TestDatabase::new(backend).await;
        Self::start(database, adjust, clock).await
    }

    /// Another instance of the service on this app's database, as a second server behind
    /// a load balancer would be.
    pub async fn spawn_beside(&self) -> Self {
        Self::start(
            self.database.alias(),
            |_| {},
            std::sync::Arc::new(chatref::clock::SystemClock),
        )
        .await
    }

    /// Starts an app on `database`.
    pub async fn start(
        database: TestDatabase,
        adjust: impl FnOnce(&mut HashMap<String, String>),
        clock: std::sync::Arc<dyn chatref::clock::Clock>,
    ) -> Self {
        let mut env = test_env(&database.url);
        adjust(&mut env);
        let config = Config::from_sources(None, &env).unwrap();
        let app = Application::build_with_clock(config, clock).await.unwrap();
        let addr = app.local_addr();
        let stop = CancellationToken::new();
        let server = tokio::spawn(app.run_until(stop.clone().cancelled_owned()));
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            database,
            stop,
            server: Some(server),
        }
    }

    /// Stops gracefully (the click writer flushes) and returns a store on the same database.
    pub async fn stop(&mut self) -> Db {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self.database.connect().await
    }

    /// A request with the admin token.
    pub fn api(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
    }

    /// POSTs JSON with the admin token; returns status and JSON answer.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .api(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs with the admin token; returns status and JSON answer.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.api(Method::GET, path).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GET /r/{code} as a browser would, without following the redirect.
    pub async fn follow(&self, path: &str, user_agent: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("user-agent", user_agent)
            .send()
            .await
            .unwrap()
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = self.client.get(format!("{}/metrics", self.base)).send();
        response.await.unwrap().text().await.unwrap()
    }

    /// Waits until `/metrics` shows `line` (a state the service reaches by itself, such as
    /// the writer holding a batch); fails after a minute rather than hanging.
    pub async fn wait_for_metric(&self, line: &str) {
        for _ in 0..3_000 {
            if self.metrics().await.lines().any(|l| l == line) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("/metrics never showed `{line}`:\n{}", self.metrics().await);
    }

    /// Posts a Telegram update to the account's webhook with `secret` as its secret token;
    /// returns the status.
    pub async fn telegram_update(&self, account: i64, secret: &str, update: &Value) -> StatusCode {
        self.client
            .post(format!("{}/webhooks/telegram/{account}", self.base))
            .header("x-telegram-bot-api-secret-token", secret)
            .json(update)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// The key that signs this app's ref tags (read from the database, where it was generated).
    pub async fn tag_key(&self) -> TagKey {
        let db = self.database.connect().await;
        let secret: Secret = db.service_secret(None).await.unwrap();
        db.close().await;
        TagKey::new(&secret)
    }

    /// Creates an account and returns its id.
    pub async fn account(&self, platform: &str, handle: &str, secrets: Value) -> i64 {
        let (status, body) = self
            .post(
                "/api/accounts",
                serde_json::json!({"platform": platform, "handle": handle, "secrets": secrets}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Creates a campaign of `kind` and returns its id.
    pub async fn campaign(&self, kind: &str) -> i64 {
        let (status, body) = self
            .post(
                "/api/campaigns",
                serde_json::json!({"name": "Summer", "kind": kind, "channel": "ads"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Creates a link and returns its JSON.
    pub async fn link(&self, campaign: i64, body: Value) -> Value {
        let (status, link) = self
            .post(&format!("/api/campaigns/{campaign}/links"), body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{link}");
        link
    }
}

/// A phone browser's user agent.
pub const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Reads the verified ref tag from a redirect's Location (the `ref`, `start`, `context`
/// parameter or the `Ref:` code in a prefilled text).
pub fn tag_in_location(key: &TagKey, location: &str) -> RefTag {
    let decoded: String = url::form_urlencoded::parse(location.as_bytes())
        .map(|(k, v)| format!("{k} {v} "))
        .collect();
    RefTag::find_in_text(key, &decoded)
        .or_else(|| RefTag::find_in_text(key, location))
        .unwrap_or_else(|| panic!("no valid ref tag in {location}"))
}

/// A private Telegram text message from `user` at Unix second `date`.
pub fn telegram_text(update_id: i64, user: i64, text: &str, date: i64) -> Value {
    serde_json::json!({"update_id": update_id, "message": {"message_id": update_id, "date": date,
        "from": {"id": user, "is_bot": false, "first_name": "A"}, "chat": {"id": user, "type": "private"},
        "text": text}})
}
