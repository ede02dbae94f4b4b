//! chatref: ref-tagged chat deep links, short links and first-message attribution.
//!
//! Map of the crate:
//! - [`config`]: settings from `CHATREF_*` variables and an optional TOML file.
//! - [`store`]: the storage contract, one implementation over SQLite or PostgreSQL.
//! - [`accounts`], [`campaigns`], [`links`]: the marketer's nouns, validated at the boundary.
//! - [`platforms`]: one file per chat platform: handle rules and deep-link format.
//! - [`clicks`]: click ids, bot/prefetch classification, GeoIP, device parsing and the
//!   background writer that batches clicks into the database.
//! - [`inbox`]: group commit of verified webhook calls (stored before they are answered).
//! - [`http`]: the axum routes of the public contract; [`app`] wires state and serves them.
//! - [`qr`]: QR codes as PNG or SVG and print sheets as PDF or HTML.
//! - [`cli`]: the `chatref` command line.
//! - [`telemetry`]: Prometheus metrics and log set-up.
//!
//! A click flows `GET /r/{code}` → [`http::redirect`] (link from the in-memory cache, new
//! click id, 302 to the deep link carrying the ref tag) → bounded queue →
//! [`clicks::writer`] (classify, geo, device, batch insert). The redirect never waits on
//! the database.

pub mod accounts;
pub mod app;
pub mod attribution;
pub mod campaigns;
pub mod cli;
pub mod clicks;
pub mod config;
pub mod db;
pub mod http;
pub mod inbox;
pub mod links;
pub mod money;
pub mod platforms;
pub mod qr;
pub mod secret;
pub mod telemetry;
