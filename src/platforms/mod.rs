//! The chat platforms: one file each with the rules for the account handle and the deep-link
//! format (PLATFORMS.md §0). Every deep link carries a ref tag from [`crate::links::RefTag`],
//! whose alphabet `[A-Za-z0-9-]` fits every platform's parameter rules.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

pub mod instagram;
pub mod line;
pub mod messenger;
pub mod meta;
pub mod telegram;
pub mod viber;
pub mod webhook;
pub mod wechat;
pub mod whatsapp;

/// A chat platform chatref builds links for and receives webhooks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Messenger,
    Instagram,
    Whatsapp,
    Telegram,
    Viber,
    Line,
    Wechat,
}

/// A handle or text the platform would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidHandle(pub String);

impl Platform {
    /// Every platform, in the order the docs list them.
    pub const ALL: [Platform; 7] = [
        Platform::Messenger,
        Platform::Instagram,
        Platform::Whatsapp,
        Platform::Telegram,
        Platform::Viber,
        Platform::Line,
        Platform::Wechat,
    ];

    /// The lower-case name used in URLs, JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
            Platform::Whatsapp => "whatsapp",
            Platform::Telegram => "telegram",
            Platform::Viber => "viber",
            Platform::Line => "line",
            Platform::Wechat => "wechat",
        }
    }

    /// Checks a public handle and returns it in the form the deep link needs.
    pub fn normalize_handle(self, handle: &str) -> Result<String, InvalidHandle> {
        let handle = handle.trim();
        match self {
            Platform::Messenger => messenger::normalize_handle(handle),
            Platform::Instagram => instagram::normalize_handle(handle),
            Platform::Whatsapp => whatsapp::normalize_handle(handle),
            Platform::Telegram => telegram::normalize_handle(handle),
            Platform::Viber => viber::normalize_handle(handle),
            Platform::Line => line::normalize_handle(handle),
            Platform::Wechat => wechat::normalize_handle(handle),
        }
    }

    /// The names of the webhook secrets this platform's account needs (DESIGN.md §4).
    pub fn secret_names(self) -> &'static [&'static str] {
        match self {
            Platform::Messenger | Platform::Instagram | Platform::Whatsapp => {
                &["app_secret", "verify_token"]
            }
            Platform::Telegram => &["secret_token"],
            Platform::Viber => &["auth_token"],
            Platform::Line => &["channel_secret"],
            // `encoding_aes_key` and `app_id` only for safe mode (encrypted pushes).
            Platform::Wechat => &["token", "encoding_aes_key", "app_id"],
        }
    }

    /// Checks secrets whose format is known (WeChat's `EncodingAESKey`), so a mistyped one
    /// is refused when the account is created rather than surfacing as refused webhooks.
    pub fn check_secrets(
        self,
        secrets: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), InvalidHandle> {
        match self {
            Platform::Wechat => wechat::check_secrets(secrets),
            _ => Ok(()),
        }
    }

    /// Whether the tag travels inside a prefilled message the customer sends (no ref field).
    pub fn tag_rides_in_text(self) -> bool {
        matches!(self, Platform::Whatsapp | Platform::Line)
    }

    /// The webhook adapter of this platform.
    pub fn adapter(self) -> &'static dyn webhook::WebhookAdapter {
        match self {
            Platform::Messenger => &messenger::MessengerAdapter,
            Platform::Instagram => &instagram::InstagramAdapter,
            Platform::Whatsapp => &whatsapp::WhatsappAdapter,
            Platform::Telegram => &telegram::TelegramAdapter,
            Platform::Viber => &viber::ViberAdapter,
            Platform::Line => &line::LineAdapter,
            Platform::Wechat => &wechat::WechatAdapter,
        }
    }

    /// The deep link opening a chat with `handle` and carrying `tag`; `None` for WeChat,
    /// whose codes are created by WeChat itself (see [`wechat`]).
    pub fn deep_link(self, handle: &str, tag: &str, prefill: Option<&str>) -> Option<String> {
        match self {
            Platform::Messenger => Some(messenger::deep_link(handle, tag)),
            Platform::Instagram => Some(instagram::deep_link(handle, tag)),
            Platform::Whatsapp => Some(whatsapp::deep_link(handle, tag, prefill)),
            Platform::Telegram => Some(telegram::deep_link(handle, tag)),
            Platform::Viber => Some(viber::deep_link(handle, tag, prefill)),
            Platform::Line => Some(line::deep_link(handle, tag, prefill)),
            Platform::Wechat => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown platform `{s}`; expected one of {}",
                    Platform::ALL.map(|p| p.as_str()).join(", ")
                )
            })
    }
}

/// The greeting used when a link on a text-carried platform has no prefill of its own.
pub const DEFAULT_GREETING: &str = "Hi! I'd like to know more.";

/// Longest prefilled greeting we accept: WhatsApp's API-made links allow 140 characters, and
/// the tag must still fit after it.
pub const MAX_PREFILL_CHARS: usize = 100;

/// The customer's first message on WhatsApp and LINE: the greeting, then the tag as a short
/// reference the business can read ("Ref: …"), which the webhook parser looks for.
pub fn prefilled_message(prefill: Option<&str>, tag: &str) -> String {
    let greeting = prefill
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(DEFAULT_GREETING);
    format!("{greeting} (Ref: {tag})")
}

/// Checks a greeting before it is stored on a link.
pub fn validate_prefill(text: &str) -> Result<(), InvalidHandle> {
    let count = text.trim().chars().count();
    if count == 0 {
        return Err(InvalidHandle("prefill_text must not be empty".into()));
    }
    if count > MAX_PREFILL_CHARS {
        return Err(InvalidHandle(format!(
            "prefill_text has {count} characters; at most {MAX_PREFILL_CHARS} fit beside the reference code"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(InvalidHandle(
            "prefill_text must not contain control characters or line breaks".into(),
        ));
    }
    Ok(())
}

/// Percent-encodes a value for a query string (`url` would write `+` for spaces, which
/// `wa.me` and LINE show literally).
pub(crate) fn encode_component(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Shared check for handles made of one ASCII alphabet with length bounds.
pub(crate) fn check_chars(
    what: &str,
    handle: &str,
    min: usize,
    max: usize,
    allowed: impl Fn(char) -> bool,
    rule: &str,
) -> Result<(), InvalidHandle> {
    let len = handle.chars().count();
    if len < min || len > max || !handle.chars().all(allowed) {
        return Err(InvalidHandle(format!(
            "`{handle}` is not a valid {what}: {rule}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_round_trip() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
        }
        assert!(
            "myspace"
                .parse::<Platform>()
                .unwrap_err()
                .contains("messenger")
        );
    }

    #[test]
    fn prefill_rules() {
        assert!(validate_prefill("Hola!").is_ok());
        assert!(validate_prefill("  ").is_err());
        assert!(validate_prefill(&"x".repeat(101)).is_err());
        assert!(validate_prefill("two\nlines").is_err());
        assert_eq!(
            prefilled_message(None, "T"),
            "Hi! I'd like to know more. (Ref: T)"
        );
    }

    #[test]
    fn components_use_percent_twenty_for_spaces() {
        assert_eq!(encode_component("a b&c"), "a%20b%26c");
    }
}
