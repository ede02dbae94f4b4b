//! Clicks: one hit on `/r/{code}`. The redirect hands a [`RawClick`] to the [`writer`]
//! through a bounded queue; the writer classifies it and names its device once per distinct
//! user agent ([`agent`], built on [`classify`] and [`device`]), adds geography ([`geo`]),
//! and stores it in batches.

pub mod agent;
pub mod classify;
pub mod device;
pub mod geo;
pub mod writer;

use std::net::IpAddr;

use time::OffsetDateTime;

use crate::links::ClickId;

/// Who made a request: a person, a crawler or link-preview agent, or a prefetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClickClass {
    Human,
    Bot,
    Prefetch,
}

impl ClickClass {
    /// Every class, for metrics.
    pub const ALL: [ClickClass; 3] = [ClickClass::Human, ClickClass::Bot, ClickClass::Prefetch];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClickClass::Human => "human",
            ClickClass::Bot => "bot",
            ClickClass::Prefetch => "prefetch",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        ClickClass::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// How the visitor reached the short link: a typed/clicked link, or a scanned QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Link,
    Qr,
}

impl Via {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Link => "link",
            Via::Qr => "qr",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "link" => Some(Via::Link),
            "qr" => Some(Via::Qr),
            _ => None,
        }
    }
}

/// What the redirect knows about a hit, queued as-is so the redirect does no more work than
/// it must. The address stays in memory only: the writer turns it into a country and a
/// keyed visitor hash.
#[derive(Debug, Clone)]
pub struct RawClick {
    pub click_id: ClickId,
    pub link_id: i64,
    pub at: OffsetDateTime,
    pub via: Via,
    /// Set for HEAD requests and `X-Purpose: preview` / `Sec-Purpose: prefetch` / `Purpose: prefetch`.
    pub prefetch: bool,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
}

/// The host of a `Referer` header, lower-cased; `None` for anything that is not a URL.
pub fn referrer_host(referrer: &str) -> Option<String> {
    url::Url::parse(referrer)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrer_keeps_only_the_host() {
        assert_eq!(
            referrer_host("https://L.Facebook.com/l.php?u=secret").as_deref(),
            Some("l.facebook.com")
        );
        assert_eq!(referrer_host("not a url"), None);
    }
}
