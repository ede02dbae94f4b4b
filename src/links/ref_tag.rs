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
use rand::Rng;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::Secret;

use super::LinkCode;

const MAC_LEN: usize = 6;
/// Length of a click id.
pub const CLICK_ID_LEN: usize = 12;

/// The id of one click: 12 base62 characters, time-ordered like a ULID: 7 characters of
/// milliseconds since 2020-01-01 UTC (until the year 5500), then 5 of a per-thread sequence
/// that starts at a random value each millisecond and counts up within it.
///
/// Why time-ordered: every stored click adds an entry to the `click_id` unique index, and
/// with random ids each entry lands on a random page of a large index, so each batch of
/// clicks rewrote about one index page per click (most of SQLite's write volume under load).
/// Ids that grow with time append to the index instead. Ids from one thread never repeat;
/// two threads or instances repeat an id only by drawing overlapping sequences in the same
/// millisecond (random starts among 458 million). The id is not a secret: a ref tag's MAC,
/// not its click id, is what makes it ours. Older, fully random ids stay valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClickId(String);

/// Unix time of 2020-01-01 00:00:00 UTC in milliseconds, the origin of click-id times.
const CLICK_ID_EPOCH_MS: u64 = 1_577_836_800_000;
const TIME_CHARS: usize = 7;
const SEQUENCE_CHARS: usize = CLICK_ID_LEN - TIME_CHARS;
/// 62^5 sequence values per millisecond per thread.
const SEQUENCE_SPACE: u64 = 916_132_832;

thread_local! {
    /// The last (millisecond, sequence) this thread used.
    static LAST_CLICK_ID: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

impl ClickId {
    /// A fresh click id, later than every id this thread made before.
    pub fn generate() -> Self {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            .saturating_sub(CLICK_ID_EPOCH_MS);
        let (ms, sequence) = LAST_CLICK_ID.with(|last| {
            let (last_ms, last_sequence) = last.get();
            // Start low in the space so counting up rarely runs out within a millisecond;
            // if it does (or the clock went back), borrow the next millisecond.
            let fresh = || rand::rng().random_range(0..SEQUENCE_SPACE / 2);
            let next = if now_ms > last_ms {
                (now_ms, fresh())
            } else if last_sequence + 1 < SEQUENCE_SPACE {
                (last_ms, last_sequence + 1)
            } else {
                (last_ms + 1, fresh())
            };
            last.set(next);
            next
        });
        let mut id = String::with_capacity(CLICK_ID_LEN);
        push_base62(&mut id, ms, TIME_CHARS);
        push_base62(&mut id, sequence, SEQUENCE_CHARS);
        ClickId(id)
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

/// Appends `value` as exactly `width` base62 digits, most significant first (the alphabet is
/// in ASCII order, so equal-width numbers sort as their text does).
fn push_base62(out: &mut String, mut value: u64, width: usize) {
    let mut digits = vec![b'0'; width];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out.extend(digits.into_iter().map(char::from));
}

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
    fn click_ids_grow_with_time_and_never_repeat_on_a_thread() {
        let ids: Vec<ClickId> = (0..50_000).map(|_| ClickId::generate()).collect();
        for pair in ids.windows(2) {
            assert!(pair[0].as_str() < pair[1].as_str(), "{pair:?}");
        }
        for id in &ids {
            assert!(ClickId::parse(id.as_str()).is_some(), "{id:?}");
        }
        // The time part is today's: a later id made on another thread sorts after these.
        let later = std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            ClickId::generate()
        })
        .join()
        .unwrap();
        assert!(ids.last().unwrap().as_str()[..TIME_CHARS] < later.as_str()[..TIME_CHARS]);
    }

    #[test]
    fn base62_keeps_numeric_order_as_text_order() {
        let text = |n| {
            let mut s = String::new();
            push_base62(&mut s, n, 7);
            s
        };
        assert_eq!(text(0), "0000000");
        assert_eq!(text(61), "000000z");
        assert_eq!(text(62), "0000010");
        assert!(text(1_000_000) < text(1_000_001));
        assert!(text(3_843) < text(3_844));
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
