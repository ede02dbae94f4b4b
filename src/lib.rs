//! chatref: ref-tagged chat deep links, short links and first-message attribution.
//!
//! Map of the crate:
//! - [`config`]: settings from `CHATREF_*` variables and an optional TOML file.
//! - [`db`]: the database: product operations over SQLite or PostgreSQL, reads and writes
//!   only; the rules live in the areas below.
//! - Areas, each owning its rules and the operations the HTTP API and the CLI share:
//!   [`accounts`], [`campaigns`], [`links`], [`stores`] (the shops whose codes are printed),
//!   [`attribution`], [`conversions`], [`contacts`], [`users`] (roles, API tokens, sessions).
//!   Values: [`money`], [`secret`].
//! - [`platforms`]: one file per chat platform: handle rules, deep-link format, webhook
//!   verification and parsing into [`platforms::webhook::InboundEvent`]s.
//! - [`clicks`]: click ids, bot/prefetch classification, GeoIP, device parsing and the
//!   background writer that batches clicks into the database.
//! - [`inbox`]: group commit of verified webhook calls (stored before they are answered).
//! - [`retention`]: which raw webhook bodies created nothing, and their daily prune.
//! - [`qr`]: QR codes as PNG or SVG and print sheets as PDF or HTML.
//! - Interfaces, which call the areas and never each other: [`http`] (the axum routes of
//!   the public contract; [`app`] wires state and serves them) and [`cli`].
//! - [`export`]: spreadsheet-safe CSV; [`telemetry`]: Prometheus metrics and log set-up.
//!
//! A click flows `GET /r/{code}` → [`http::redirect`] (link from the in-memory cache, new
//! click id, 302 to the deep link carrying the ref tag) → bounded queue →
//! [`clicks::writer`] (classify, geo, device, batch insert). The redirect never waits on
//! the database.
//!
//! A message flows `POST /webhooks/{platform}/{account}` → [`http::webhooks`] (the
//! platform's adapter verifies the signature on the raw bytes, then parses events) →
//! [`attribution::Clue::of`] (the ref tag, tag in text or ad id each event offers) →
//! [`inbox`] (several calls per transaction) → [`db`] records the raw body, skips
//! redeliveries, looks up what the clue names, and writes what [`attribution::decide`]
//! says: a new contact and its `first_message` lead, a touch, or nothing. The platform gets
//! its 200 only after the commit. The raw body is stored with its [`retention::Outcome`].

pub mod accounts;
pub mod app;
pub mod attribution;
pub mod campaigns;
pub mod cli;
pub mod clicks;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod conversions;
pub mod db;
pub mod demo;
pub mod export;
pub mod http;
pub mod inbox;
pub mod links;
pub mod money;
pub mod page_events;
pub mod platforms;
pub mod qr;
pub mod reports;
pub mod retention;
pub mod secret;
pub mod serve;
pub mod spend;
pub mod stores;
pub mod supervise;
pub mod telemetry;
pub mod users;
