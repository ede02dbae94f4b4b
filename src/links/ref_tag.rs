//! Ref tags: what rides inside a deep link so a webhook's first message can be joined to the
//! link and, when it went through `/r/{code}`, to the exact click.
//!
//! Two forms, both in `[A-Za-z0-9-]` (fits Messenger/Instagram `ref`, Telegram `start`, Viber
//! `context` and WeChat `scene_str`, PLATFORMS.md §10) and at most 28 characters:
//! - click tag `{code}-{click_id}-{mac}`: minted per redirect;
//! - link tag `{code}-{mac}`: the link's static deep link, for places that bypass `/r`.
//!
//! The MAC is 6 base62 characters (~35 bits) of HMAC-SHA256 under the service secret, so a
//! typed `/start anything` or a guessed code is not counted as ours.

use hmac::{Hmac, Mac};
use rand::{Rng, distr::Alphanumeric};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::Secret;

use super::LinkCode;

const MAC_LEN: usize = 6;
/// Length of a click id.
pub const CLICK_ID_LEN: usize = 12;

/// The id of one click: 12 random base62 characters (~71 bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClickId(String);

impl ClickId {
    /// A fresh random click id.
    pub fn generate() -> Self {
        ClickId(
            rand::rng()
                .sample_iter(Alphanumeric)
                .take(CLICK_ID_LEN)
                .map(char::from)
                .collect(),
        )
    }

    /// Parses a stored or received click id.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == CLICK_ID_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| ClickId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The key that signs and checks ref tags (derived from `CHATREF_SECRET`).
#[derive(Clone)]
pub struct TagKey(Hmac<Sha256>);

impl TagKey {
    /// A key from the service secret.
    pub fn new(secret: &Secret) -> Self {
        TagKey(
            Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
                .expect("HMAC accepts keys of any length"),
        )
    }

    fn mac(&self, parts: &[&str]) -> String {
        let mut mac = self.0.clone();
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        let digest = mac.finalize().into_bytes();
        let mut n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        let mut out = [0u8; MAC_LEN];
        for slot in out.iter_mut().rev() {
            *slot = BASE62[(n % 62) as usize];
            n /= 62;
        }
        String::from_utf8(out.to_vec()).expect("base62 is ASCII")
    }

    /// A keyed, truncated hash for counting unique visitors without keeping what identifies them.
    pub fn visitor_hash(&self, parts: &[&str]) -> String {
        let mut mac = self.0.clone();
        mac.update(b"visitor\0");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        hex::encode(&mac.finalize().into_bytes()[..10])
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A verified ref tag: the link code and, for click tags, the click id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefTag {
    pub code: LinkCode,
    pub click_id: Option<ClickId>,
}

impl RefTag {
    /// The tag for one click through `/r/{code}`.
    pub fn for_click(key: &TagKey, code: &LinkCode, click_id: &ClickId) -> String {
        let mac = key.mac(&[code.as_str(), click_id.as_str()]);
        format!("{}-{}-{mac}", code.as_str(), click_id.as_str())
    }

    /// The link's static tag, used in its published deep link.
    pub fn for_link(key: &TagKey, code: &LinkCode) -> String {
        let mac = key.mac(&[code.as_str()]);
        format!("{}-{mac}", code.as_str())
    }

    /// Parses and verifies a tag; `None` for anything malformed or forged.
    pub fn verify(key: &TagKey, text: &str) -> Option<RefTag> {
        let parts: Vec<&str> = text.split('-').collect();
        let (code, click_id, mac) = match parts.as_slice() {
            [code, mac] => (LinkCode::parse(code)?, None, *mac),
            [code, click, mac] => (LinkCode::parse(code)?, Some(ClickId::parse(click)?), *mac),
            _ => return None,
        };
        let expected = match &click_id {
            Some(click) => key.mac(&[code.as_str(), click.as_str()]),
            None => key.mac(&[code.as_str()]),
        };
        bool::from(expected.as_bytes().ct_eq(mac.as_bytes())).then_some(RefTag { code, click_id })
    }

    /// Finds the first valid tag in free text (a WhatsApp or LINE first message), where the
    /// customer may have edited the words around it.
    pub fn find_in_text(key: &TagKey, text: &str) -> Option<RefTag> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|token| token.len() >= super::code::CODE_LEN + 1 + MAC_LEN)
            .find_map(|token| RefTag::verify(key, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TagKey {
        TagKey::new(&Secret::new("test-secret"))
    }

    #[test]
    fn a_click_tag_round_trips() {
        let code = LinkCode::generate();
        let click = ClickId::generate();
        let tag = RefTag::for_click(&key(), &code, &click);
        assert!(tag.len() <= 64);
        assert!(tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        let parsed = RefTag::verify(&key(), &tag).unwrap();
        assert_eq!(parsed.code, code);
        assert_eq!(parsed.click_id, Some(click));
    }

    #[test]
    fn a_link_tag_round_trips_without_a_click() {
        let code = LinkCode::generate();
        let tag = RefTag::for_link(&key(), &code);
        let parsed = RefTag::verify(&key(), &tag).unwrap();
        assert_eq!(parsed.code, code);
        assert_eq!(parsed.click_id, None);
    }

    #[test]
    fn forged_or_damaged_tags_are_refused() {
        let code = LinkCode::generate();
        let click = ClickId::generate();
        let tag = RefTag::for_click(&key(), &code, &click);
        let other_key = TagKey::new(&Secret::new("another"));
        assert!(RefTag::verify(&other_key, &tag).is_none());
        let mut chars: Vec<char> = tag.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'a' { 'b' } else { 'a' };
        assert!(RefTag::verify(&key(), &chars.iter().collect::<String>()).is_none());
        let other_click = ClickId::generate();
        let swapped = tag.replace(click.as_str(), other_click.as_str());
        assert!(RefTag::verify(&key(), &swapped).is_none());
        for junk in ["anything", "", "a-b-c-d", "promo2026"] {
            assert!(RefTag::verify(&key(), junk).is_none(), "{junk}");
        }
    }

    #[test]
    fn a_tag_is_found_inside_an_edited_message() {
        let code = LinkCode::generate();
        let click = ClickId::generate();
        let tag = RefTag::for_click(&key(), &code, &click);
        let text = format!("hola!! quiero saber precios (Ref: {tag}) gracias");
        let found = RefTag::find_in_text(&key(), &text).unwrap();
        assert_eq!(found.click_id, Some(click));
        assert!(RefTag::find_in_text(&key(), "hola, sin codigo").is_none());
    }

    #[test]
    fn visitor_hashes_are_stable_and_keyed() {
        let a = key().visitor_hash(&["203.0.113.7", "UA"]);
        assert_eq!(a, key().visitor_hash(&["203.0.113.7", "UA"]));
        assert_ne!(a, key().visitor_hash(&["203.0.113.8", "UA"]));
        assert_ne!(
            a,
            TagKey::new(&Secret::new("x")).visitor_hash(&["203.0.113.7", "UA"])
        );
        assert!(!a.contains("203"));
    }
}
