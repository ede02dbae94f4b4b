//! WeChat Official Accounts: no web deep link carries a parameter. The account creates a
//! permanent parametric QR code (`qrcode/create`, `QR_LIMIT_STR_SCENE`) whose `scene_str` is
//! the link's ref tag; WeChat returns it as `EventKey` `qrscene_<tag>` (follow) or `<tag>`
//! (SCAN) (PLATFORMS.md §7). The README explains the steps. Pushes are XML.
//!
//! In plain mode only the query string is signed: SHA-1 over the sorted token, timestamp and
//! nonce (§7.3), never the body, so the handler also remembers each timestamp and nonce with
//! the body it came with ([`ReplayNonce`]). In safe mode (`encrypt_type=aes`) the body is an
//! AES-256-CBC ciphertext and `msg_signature` covers it too; [`WechatAdapter`] verifies that
//! signature and decrypts the push, and the plaintext is what gets parsed and stored.

use std::borrow::Cow;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use base64::{
    Engine, alphabet,
    engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD},
};
use serde::Deserialize;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use super::{
    InvalidHandle, check_chars,
    webhook::{
        EventKind, Handshake, InboundEvent, Parsed, ReplayNonce, WebhookAdapter, WebhookError,
        WebhookRequest, query_param, require_secret,
    },
};
use crate::{accounts::AccountSecrets, secret::Secret};

/// The account's original id (`gh_…`) or WeChat id.
pub fn normalize_handle(handle: &str) -> Result<String, InvalidHandle> {
    check_chars(
        "WeChat original id",
        handle,
        6,
        32,
        |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'),
        "6 to 32 letters, digits, dashes or underscores, e.g. gh_a786fbe98353",
    )?;
    if !handle.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(InvalidHandle(format!(
            "`{handle}` is not a WeChat original id: it must start with a letter"
        )));
    }
    Ok(handle.to_owned())
}

/// Whether `url` is a code URL WeChat's `qrcode/create` returned (`http(s)://weixin.qq.com/q/…`),
/// the only web target a WeChat link may redirect to.
pub fn is_wechat_qr_url(url: &url::Url) -> bool {
    matches!(url.scheme(), "http" | "https")
        && url.host_str() == Some("weixin.qq.com")
        && url.path().starts_with("/q/")
}

/// How far a request's `timestamp` may be from our clock. The plain-mode signature covers
/// only token, timestamp and nonce, never the body, and WeChat itself refuses nothing old:
/// without this a captured signed URL would stay valid forever (and within it, only the
/// remembered nonces stop a replay).
const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// The secret holding the account's `EncodingAESKey` (safe mode).
const ENCODING_AES_KEY: &str = "encoding_aes_key";
/// The secret holding the account's AppID, which every safe-mode plaintext ends with.
const APP_ID: &str = "app_id";

/// Checks the safe-mode secrets when an account is created, so a mistyped `EncodingAESKey`
/// shows up then rather than as refused pushes.
pub fn check_secrets(
    secrets: &std::collections::BTreeMap<String, String>,
) -> Result<(), InvalidHandle> {
    if let Some(key) = secrets.get(ENCODING_AES_KEY) {
        AesKey::parse(key).map_err(|e| InvalidHandle(format!("`{ENCODING_AES_KEY}`: {e}")))?;
        if !secrets.contains_key(APP_ID) {
            return Err(InvalidHandle(format!(
                "`{ENCODING_AES_KEY}` needs `{APP_ID}` too: every safe-mode push ends with the \
                 AppID it was encrypted for"
            )));
        }
    }
    Ok(())
}

/// Verifies and reads WeChat Official Account pushes in plaintext, compatible and safe mode;
/// QR follows and scans become opens, text and media messages become messages.
pub struct WechatAdapter;

impl WebhookAdapter for WechatAdapter {
    fn handshake(&self, query: &str, secrets: &AccountSecrets) -> Result<Handshake, WebhookError> {
        let token = require_secret(secrets, "token")?;
        check_signature(query, token, OffsetDateTime::now_utc())?;
        // Saving the server configuration sends a GET whose `echostr` must come back as is.
        let echostr = query_param(query, "echostr")
            .ok_or_else(|| WebhookError::Malformed("missing `echostr` query parameter".into()))?;
        Ok(Handshake::Echo(echostr))
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &AccountSecrets,
    ) -> Result<(), WebhookError> {
        let token = require_secret(secrets, "token")?;
        let now = OffsetDateTime::now_utc();
        match mode(request.query, secrets)? {
            Mode::Plain => check_signature(request.query, token, now),
            Mode::Safe { .. } => {
                check_msg_signature(request.query, token, &ciphertext(request.body)?, now)
            }
        }
    }

    fn open<'a>(
        &self,
        request: &WebhookRequest<'a>,
        secrets: &AccountSecrets,
    ) -> Result<Cow<'a, [u8]>, WebhookError> {
        match mode(request.query, secrets)? {
            Mode::Plain => {
                if is_ciphertext_only(request.body) {
                    return Err(undecryptable(request.query));
                }
                Ok(Cow::Borrowed(request.body))
            }
            // `verify` has checked `msg_signature`, which covers the ciphertext: nothing
            // unauthenticated reaches the decryption, so its errors reveal nothing useful.
            Mode::Safe { key, app_id } => {
                decrypt(&key, &ciphertext(request.body)?, app_id.expose()).map(Cow::Owned)
            }
        }
    }

    fn replay_nonce(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &AccountSecrets,
    ) -> Option<ReplayNonce> {
        // Safe mode signs the ciphertext: another body under the same nonce fails to verify.
        if matches!(mode(request.query, secrets), Ok(Mode::Safe { .. })) {
            return None;
        }
        Some(ReplayNonce {
            timestamp: query_param(request.query, "timestamp")?.parse().ok()?,
            nonce: query_param(request.query, "nonce")?,
            window: MAX_CLOCK_SKEW,
        })
    }

    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        let body = std::str::from_utf8(body)
            .map_err(|_| WebhookError::Malformed("a WeChat push must be UTF-8 XML".into()))?;
        let push: Push = quick_xml::de::from_str(body)
            .map_err(|e| WebhookError::Malformed(format!("not a WeChat XML push: {e}")))?;
        Ok(Parsed {
            events: inbound_event(push)?.into_iter().collect(),
            skipped: Vec::new(),
        })
    }
}

/// How a push is read.
enum Mode<'s> {
    /// From its plaintext: plain mode, or compatible mode on an account without the key.
    Plain,
    /// From its ciphertext: safe mode, or compatible mode on an account with the key (the
    /// ciphertext is signed, the plaintext beside it is not).
    Safe { key: AesKey, app_id: &'s Secret },
}

/// Safe mode when the query says `encrypt_type=aes` (safe and compatible mode both add it,
/// with `msg_signature`) and the account has an `encoding_aes_key`; otherwise plain, so a
/// compatible-mode account set up with the token alone keeps working.
fn mode<'s>(query: &str, secrets: &'s AccountSecrets) -> Result<Mode<'s>, WebhookError> {
    if query_param(query, "encrypt_type").as_deref() != Some("aes") {
        return Ok(Mode::Plain);
    }
    let Some(key) = secrets.get(ENCODING_AES_KEY) else {
        return Ok(Mode::Plain);
    };
    let key = AesKey::parse(key.expose()).map_err(|e| {
        WebhookError::NotConfigured(format!(
            "the account's `{ENCODING_AES_KEY}` is unusable: {e}"
        ))
    })?;
    Ok(Mode::Safe {
        key,
        app_id: require_secret(secrets, APP_ID)?,
    })
}

/// Why a ciphertext-only push could not be read in plain mode.
fn undecryptable(query: &str) -> WebhookError {
    if query_param(query, "encrypt_type").as_deref() == Some("aes") {
        WebhookError::NotConfigured(format!(
            "this WeChat push is encrypted (safe mode) and the account has no \
             `{ENCODING_AES_KEY}` secret; add `{ENCODING_AES_KEY}` and `{APP_ID}` to read it"
        ))
    } else {
        WebhookError::Malformed(
            "this WeChat push is encrypted but its query lacks `encrypt_type=aes`; WeChat \
             always sends it with safe-mode pushes"
                .into(),
        )
    }
}

/// The envelope of a safe- or compatible-mode push.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    encrypt: Option<String>,
    msg_type: Option<String>,
}

fn envelope(body: &[u8]) -> Result<Envelope, WebhookError> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|text| quick_xml::de::from_str(text).ok())
        .ok_or_else(|| WebhookError::Malformed("not a WeChat XML push".into()))
}

/// The `Encrypt` text of a push.
fn ciphertext(body: &[u8]) -> Result<String, WebhookError> {
    envelope(body)?
        .encrypt
        .filter(|text| !text.is_empty())
        .ok_or_else(|| {
            WebhookError::Malformed("an encrypted WeChat push needs an `Encrypt` element".into())
        })
}

/// Whether a push carries a ciphertext and no plaintext (safe mode).
fn is_ciphertext_only(body: &[u8]) -> bool {
    body.windows(b"<Encrypt>".len()).any(|w| w == b"<Encrypt>")
        && envelope(body).is_ok_and(|e| e.encrypt.is_some() && e.msg_type.is_none())
}

/// Checks `signature` = hex SHA-1 of the lexicographically sorted token, `timestamp` and
/// `nonce` concatenated, and that `timestamp` is within [`MAX_CLOCK_SKEW`] of `now`.
fn check_signature(query: &str, token: &Secret, now: OffsetDateTime) -> Result<(), WebhookError> {
    let (signature, timestamp, nonce) = signed_params(query, "signature")?;
    if !sorted_sha1_matches(&mut [token.expose(), &timestamp, &nonce], &signature) {
        return Err(WebhookError::Unauthorized(
            "`signature` does not match the account's token".into(),
        ));
    }
    check_fresh(&timestamp, now)
}

/// Checks safe mode's `msg_signature` = hex SHA-1 of the sorted token, `timestamp`, `nonce`
/// and `Encrypt` text, and the same clock window as plain mode.
fn check_msg_signature(
    query: &str,
    token: &Secret,
    encrypted: &str,
    now: OffsetDateTime,
) -> Result<(), WebhookError> {
    let (signature, timestamp, nonce) = signed_params(query, "msg_signature")?;
    if !sorted_sha1_matches(
        &mut [token.expose(), &timestamp, &nonce, encrypted],
        &signature,
    ) {
        return Err(WebhookError::Unauthorized(
            "`msg_signature` does not match the account's token and the encrypted body".into(),
        ));
    }
    check_fresh(&timestamp, now)
}

/// The signature named `name`, `timestamp` and `nonce` of a query.
fn signed_params(query: &str, name: &str) -> Result<(String, String, String), WebhookError> {
    let param = |name: &str| {
        query_param(query, name)
            .ok_or_else(|| WebhookError::Unauthorized(format!("missing `{name}` query parameter")))
    };
    Ok((param(name)?, param("timestamp")?, param("nonce")?))
}

/// Whether `signature` is the hex SHA-1 of `parts` sorted and concatenated, compared in
/// constant time.
fn sorted_sha1_matches(parts: &mut [&str], signature: &str) -> bool {
    parts.sort_unstable();
    let expected = hex::encode(Sha1::digest(parts.concat()));
    expected.as_bytes().ct_eq(signature.as_bytes()).into()
}

/// Checks `timestamp` is within [`MAX_CLOCK_SKEW`] of `now`.
fn check_fresh(timestamp: &str, now: OffsetDateTime) -> Result<(), WebhookError> {
    let sent = timestamp
        .parse::<i64>()
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| WebhookError::Unauthorized("`timestamp` is not Unix seconds".into()))?;
    if (now - sent).abs() > MAX_CLOCK_SKEW {
        return Err(WebhookError::Unauthorized(format!(
            "`timestamp` is more than {} minutes from our clock; refusing a possible replay",
            MAX_CLOCK_SKEW.whole_minutes()
        )));
    }
    Ok(())
}

/// Decodes an `EncodingAESKey`: 43 characters plus `=` are base64 for 32 bytes, whose last
/// character may carry non-zero spare bits (the documented example key ends in `G`), which
/// a strict decoder refuses.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// A decoded `EncodingAESKey`: the AES-256 key, whose first 16 bytes are also the IV.
/// Deliberately not `Debug`.
struct AesKey([u8; 32]);

impl AesKey {
    /// Parses the 43-character key shown in the server configuration. The message never
    /// repeats the key.
    fn parse(text: &str) -> Result<Self, String> {
        let length = text.chars().count();
        if length != 43
            || !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
        {
            let found = if length == 43 {
                "a character outside that set".to_owned()
            } else {
                format!("{length} characters")
            };
            return Err(format!(
                "an EncodingAESKey is 43 characters of A-Z, a-z, 0-9, `+` and `/` (copy it from \
                 the server configuration); this one has {found}"
            ));
        }
        let bytes = KEY_BASE64
            .decode(format!("{text}="))
            .map_err(|e| format!("an EncodingAESKey must be base64: {e}"))?;
        let key = bytes
            .try_into()
            .map_err(|_| "an EncodingAESKey must decode to 32 bytes".to_owned())?;
        Ok(AesKey(key))
    }
}

/// Decrypts a safe-mode `Encrypt` text: AES-256-CBC with IV = the key's first 16 bytes,
/// PKCS#7 padded to 32-byte blocks (WeChat's own block size, so pad values run 1 to 32), over
/// 16 random bytes, the XML's length as 4 big-endian bytes, the XML, then the AppID it was
/// encrypted for, which must be the account's.
fn decrypt(key: &AesKey, encrypted: &str, app_id: &str) -> Result<Vec<u8>, WebhookError> {
    let mut data = STANDARD.decode(encrypted).map_err(|_| {
        WebhookError::Malformed("the `Encrypt` element of the push is not base64".into())
    })?;
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(WebhookError::Malformed(
            "the `Encrypt` element of the push is not whole AES blocks".into(),
        ));
    }
    let iv: [u8; 16] = key.0[..16].try_into().expect("16 of the key's 32 bytes");
    cbc::Decryptor::<aes::Aes256>::new(&key.0.into(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .map_err(|_| WebhookError::Malformed("the push is not whole AES blocks".into()))?;

    let wrong_key = |what: &str| {
        WebhookError::Unauthorized(format!(
            "the push does not decrypt with the account's `{ENCODING_AES_KEY}` ({what}); check \
             it is the EncodingAESKey of the server configuration"
        ))
    };
    let pad = usize::from(data[data.len() - 1]);
    if !(1..=32).contains(&pad)
        || pad > data.len()
        || data[data.len() - pad..]
            .iter()
            .any(|&b| usize::from(b) != pad)
    {
        return Err(wrong_key("bad padding"));
    }
    data.truncate(data.len() - pad);

    let length = data
        .get(16..20)
        .map(|bytes| u32::from_be_bytes(bytes.try_into().expect("4 bytes")))
        .ok_or_else(|| wrong_key("too short"))?;
    let end = usize::try_from(length)
        .ok()
        .and_then(|length| length.checked_add(20))
        .filter(|&end| end <= data.len())
        .ok_or_else(|| wrong_key("the length inside is out of range"))?;
    if !bool::from(data[end..].ct_eq(app_id.as_bytes())) {
        return Err(WebhookError::Unauthorized(format!(
            "the push was encrypted for another AppID than the account's `{APP_ID}`"
        )));
    }
    data.truncate(end);
    data.drain(..20);
    Ok(data)
}

/// The fields of a push we read; elements are PascalCase and text is often CDATA. Messages
/// and events share the one `<xml>` root, told apart by `MsgType`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Push {
    /// The customer's openid (unique per official account).
    from_user_name: Option<String>,
    /// Unix seconds.
    create_time: Option<i64>,
    msg_type: Option<String>,
    event: Option<String>,
    event_key: Option<String>,
    content: Option<String>,
    /// A 64-bit id, kept as text: it is only ever a dedupe key.
    msg_id: Option<String>,
    /// Present in safe mode (ciphertext only) and compatible mode (beside the plaintext).
    encrypt: Option<String>,
}

/// The event worth attributing, if this push is one.
fn inbound_event(push: Push) -> Result<Option<InboundEvent>, WebhookError> {
    if push.encrypt.is_some() && push.msg_type.is_none() {
        // Safe-mode pushes are decrypted before parsing ([`WechatAdapter::open`]), and the
        // plaintext is what gets stored; a ciphertext here was never opened.
        return Err(WebhookError::Malformed(
            "this WeChat push holds only a ciphertext (safe mode); it must be decrypted with \
             the account's `encoding_aes_key` before it can be read"
                .into(),
        ));
    }
    let present = |value: Option<String>| value.filter(|v| !v.is_empty());
    let (Some(openid), Some(create_time), Some(msg_type)) = (
        present(push.from_user_name),
        push.create_time,
        present(push.msg_type),
    ) else {
        return Err(WebhookError::Malformed(
            "a WeChat push needs FromUserName, CreateTime and MsgType".into(),
        ));
    };
    let at = OffsetDateTime::from_unix_timestamp(create_time)
        .map_err(|e| WebhookError::Malformed(format!("WeChat CreateTime out of range: {e}")))?;
    let event_key = present(push.event_key);

    let (kind, ref_value, dedupe_key, text) = if msg_type == "event" {
        let event = push.event.unwrap_or_default();
        let ref_value = match event.as_str() {
            // A follow through a parametric code prefixes the scene with `qrscene_`; a plain
            // follow (search, profile card) has an empty or absent EventKey.
            "subscribe" => event_key.and_then(|k| {
                k.strip_prefix("qrscene_")
                    .filter(|scene| !scene.is_empty())
                    .map(str::to_owned)
            }),
            // An existing follower scanning a code: the scene comes bare.
            "SCAN" => event_key,
            // unsubscribe, LOCATION, CLICK, VIEW, TEMPLATESENDJOBFINISH and the rest.
            _ => return Ok(None),
        };
        // Events have no id; WeChat's own advice is FromUserName + CreateTime, and the
        // event name keeps a follow apart from another event in the same second.
        let dedupe_key = format!("{openid}:{create_time}:{}", event.to_ascii_lowercase());
        (EventKind::Open, ref_value, dedupe_key, None)
    } else {
        // Text, image, voice, video, location and link messages all carry a MsgId.
        let msg_id = present(push.msg_id).ok_or_else(|| {
            WebhookError::Malformed(format!("a WeChat `{msg_type}` message needs a MsgId"))
        })?;
        let text = if msg_type == "text" {
            present(push.content)
        } else {
            None
        };
        (EventKind::Message, None, msg_id, text)
    };

    Ok(Some(InboundEvent {
        contact_id: openid,
        dedupe_key,
        at,
        kind,
        ref_value,
        ad_id: None,
        ctwa_clid: None,
        text,
        recipient: None,
    }))
}

#[cfg(test)]
mod tests {
    use aes::cipher::BlockEncryptMut;

    use super::*;

    const TOKEN: &str = "coastshop2024";
    const OPENID: &str = "oW5Ux6ceqP-b0C-72qHEWZYk8Cr8";
    const MSG_ID: &str = "24602345654321098";
    const CREATE_TIME: i64 = 1_648_535_359;

    const SUBSCRIBE_QRSCENE: &str =
        include_str!("../../tests/fixtures/wechat/subscribe_qrscene.xml");
    const SUBSCRIBE_PLAIN: &str = include_str!("../../tests/fixtures/wechat/subscribe_plain.xml");
    const SCAN: &str = include_str!("../../tests/fixtures/wechat/scan.xml");
    const TEXT: &str = include_str!("../../tests/fixtures/wechat/text.xml");
    const IMAGE: &str = include_str!("../../tests/fixtures/wechat/image.xml");
    const UNSUBSCRIBE: &str = include_str!("../../tests/fixtures/wechat/unsubscribe.xml");
    const LOCATION: &str = include_str!("../../tests/fixtures/wechat/location.xml");
    const CLICK: &str = include_str!("../../tests/fixtures/wechat/click.xml");
    const TEMPLATE_JOB_FINISHED: &str =
        include_str!("../../tests/fixtures/wechat/template_job_finished.xml");
    const ENCRYPTED_ONLY: &str = include_str!("../../tests/fixtures/wechat/encrypted_only.xml");

    fn fill(fixture: &str, tag: &str) -> String {
        fixture
            .replace("__REF__", tag)
            .replace("__CONTACT__", OPENID)
            .replace("__MSG_ID__", MSG_ID)
            .replace("__TS_S__", &CREATE_TIME.to_string())
    }

    fn secrets() -> AccountSecrets {
        AccountSecrets::from([("token".to_owned(), Secret::new(TOKEN))])
    }

    /// A query string signed the way WeChat signs it, `age_seconds` old.
    fn signed_query(token: &str, age_seconds: i64, extra: &str) -> String {
        let timestamp = (OffsetDateTime::now_utc().unix_timestamp() - age_seconds).to_string();
        let nonce = "1514711492";
        let mut parts = [token, timestamp.as_str(), nonce];
        parts.sort_unstable();
        let signature = hex::encode(Sha1::digest(parts.concat()));
        format!("signature={signature}&timestamp={timestamp}&nonce={nonce}{extra}")
    }

    fn verify(query: &str, secrets: &AccountSecrets) -> Result<(), WebhookError> {
        let headers = http::HeaderMap::new();
        let body = fill(SUBSCRIBE_QRSCENE, "cmp_K7Q2");
        let request = WebhookRequest {
            headers: &headers,
            query,
            body: body.as_bytes(),
        };
        WechatAdapter.verify(&request, secrets)
    }

    fn parse(body: &str) -> Vec<InboundEvent> {
        WechatAdapter.parse(body.as_bytes()).unwrap().events
    }

    fn is_unauthorized<T>(result: Result<T, WebhookError>) -> bool {
        matches!(result, Err(WebhookError::Unauthorized(_)))
    }

    fn is_malformed<T>(result: Result<T, WebhookError>) -> bool {
        matches!(result, Err(WebhookError::Malformed(_)))
    }

    #[test]
    fn accepts_original_ids() {
        assert_eq!(
            normalize_handle("gh_a786fbe98353").unwrap(),
            "gh_a786fbe98353"
        );
        assert!(normalize_handle("gh a786").is_err());
        assert!(normalize_handle("_gh_a786fbe").is_err());
    }

    #[test]
    fn recognises_wechat_code_urls() {
        let ok = url::Url::parse("http://weixin.qq.com/q/02abc").unwrap();
        let other = url::Url::parse("https://evil.example/q/02abc").unwrap();
        assert!(is_wechat_qr_url(&ok));
        assert!(!is_wechat_qr_url(&other));
    }

    #[test]
    fn a_query_signed_with_the_token_verifies() {
        assert_eq!(verify(&signed_query(TOKEN, 0, ""), &secrets()), Ok(()));
        // WeChat adds `openid` (and `encrypt_type`, `msg_signature`) to pushes; they are
        // not part of the signature.
        let query = signed_query(TOKEN, 3, &format!("&openid={OPENID}"));
        assert_eq!(verify(&query, &secrets()), Ok(()));
    }

    #[test]
    fn a_query_signed_with_another_token_is_refused() {
        assert!(is_unauthorized(verify(
            &signed_query("other", 0, ""),
            &secrets()
        )));
    }

    #[test]
    fn a_tampered_or_incomplete_query_is_refused() {
        let good = signed_query(TOKEN, 0, "");
        let upper = good.replacen("signature=", "signature=X", 1);
        let other_nonce = good.replace("nonce=1514711492", "nonce=1514711493");
        let no_nonce = good.replace("&nonce=1514711492", "");
        for query in ["", upper.as_str(), &other_nonce, &no_nonce] {
            assert!(is_unauthorized(verify(query, &secrets())), "{query}");
        }
    }

    #[test]
    fn a_stale_or_future_timestamp_is_refused_as_a_replay() {
        assert!(is_unauthorized(verify(
            &signed_query(TOKEN, 301, ""),
            &secrets()
        )));
        assert!(is_unauthorized(verify(
            &signed_query(TOKEN, -301, ""),
            &secrets()
        )));
        assert_eq!(verify(&signed_query(TOKEN, 240, ""), &secrets()), Ok(()));
    }

    #[test]
    fn a_timestamp_is_checked_against_the_given_clock() {
        let query = "signature=x&timestamp=1648535359&nonce=1";
        let mut parts = [TOKEN, "1648535359", "1"];
        parts.sort_unstable();
        let query = query.replace(
            "=x",
            &format!("={}", hex::encode(Sha1::digest(parts.concat()))),
        );
        let token = Secret::new(TOKEN);
        let sent = OffsetDateTime::from_unix_timestamp(1_648_535_359).unwrap();
        assert_eq!(
            check_signature(&query, &token, sent + Duration::minutes(5)),
            Ok(())
        );
        assert!(is_unauthorized(check_signature(
            &query,
            &token,
            sent + Duration::minutes(5) + Duration::SECOND
        )));
    }

    #[test]
    fn an_account_without_a_token_is_not_configured() {
        let query = signed_query(TOKEN, 0, "&echostr=abc");
        assert!(matches!(
            verify(&query, &AccountSecrets::new()),
            Err(WebhookError::NotConfigured(_))
        ));
        assert!(matches!(
            WechatAdapter.handshake(&query, &AccountSecrets::new()),
            Err(WebhookError::NotConfigured(_))
        ));
    }

    #[test]
    fn the_handshake_echoes_echostr_only_when_signed() {
        let query = signed_query(TOKEN, 0, "&echostr=5837397520665436492");
        assert_eq!(
            WechatAdapter.handshake(&query, &secrets()),
            Ok(Handshake::Echo("5837397520665436492".into()))
        );
        let forged = signed_query("other", 0, "&echostr=5837397520665436492");
        assert!(is_unauthorized(
            WechatAdapter.handshake(&forged, &secrets())
        ));
        let stale = signed_query(TOKEN, 600, "&echostr=5837397520665436492");
        assert!(is_unauthorized(WechatAdapter.handshake(&stale, &secrets())));
        assert!(is_malformed(
            WechatAdapter.handshake(&signed_query(TOKEN, 0, ""), &secrets())
        ));
    }

    #[test]
    fn a_follow_through_a_parametric_code_opens_with_the_scene() {
        assert_eq!(
            parse(&fill(SUBSCRIBE_QRSCENE, "cmp_K7Q2")),
            vec![InboundEvent {
                contact_id: OPENID.into(),
                dedupe_key: format!("{OPENID}:{CREATE_TIME}:subscribe"),
                at: OffsetDateTime::from_unix_timestamp(CREATE_TIME).unwrap(),
                kind: EventKind::Open,
                ref_value: Some("cmp_K7Q2".into()),
                ad_id: None,
                ctwa_clid: None,
                text: None,
                recipient: None,
            }]
        );
    }

    #[test]
    fn a_plain_follow_opens_without_a_ref() {
        let absent = fill(SUBSCRIBE_PLAIN, "").replace("<EventKey><![CDATA[]]></EventKey>", "");
        let prefix_only = fill(SUBSCRIBE_QRSCENE, "");
        for body in [fill(SUBSCRIBE_PLAIN, ""), absent, prefix_only] {
            let events = parse(&body);
            assert_eq!(events.len(), 1, "{body}");
            assert_eq!(events[0].kind, EventKind::Open);
            assert_eq!(events[0].ref_value, None, "{body}");
        }
    }

    #[test]
    fn a_scan_by_a_follower_opens_with_the_bare_scene() {
        let events = parse(&fill(SCAN, "cmp_K7Q2"));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Open);
        assert_eq!(events[0].ref_value.as_deref(), Some("cmp_K7Q2"));
        assert_eq!(events[0].dedupe_key, format!("{OPENID}:{CREATE_TIME}:scan"));
    }

    #[test]
    fn a_text_message_is_a_message_keyed_by_msg_id() {
        assert_eq!(
            parse(&fill(TEXT, "")),
            vec![InboundEvent {
                contact_id: OPENID.into(),
                dedupe_key: MSG_ID.into(),
                at: OffsetDateTime::from_unix_timestamp(CREATE_TIME).unwrap(),
                kind: EventKind::Message,
                ref_value: None,
                ad_id: None,
                ctwa_clid: None,
                text: Some("你好，我想了解一下 <活动> & 优惠".into()),
                recipient: None,
            }]
        );
    }

    #[test]
    fn an_image_is_a_message_without_text() {
        let events = parse(&fill(IMAGE, ""));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Message);
        assert_eq!(events[0].dedupe_key, MSG_ID);
        assert_eq!(events[0].text, None);
    }

    #[test]
    fn compatible_mode_pushes_are_read_from_their_plaintext() {
        let body = fill(TEXT, "").replace(
            "</xml>",
            "  <Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk]]></Encrypt>\n</xml>",
        );
        assert_eq!(parse(&body), parse(&fill(TEXT, "")));
    }

    #[test]
    fn unfollows_menu_location_and_template_events_give_no_events() {
        for fixture in [UNSUBSCRIBE, LOCATION, CLICK, TEMPLATE_JOB_FINISHED] {
            assert_eq!(parse(&fill(fixture, "cmp_K7Q2")), vec![], "{fixture}");
        }
    }

    #[test]
    fn a_ciphertext_is_never_parsed_as_a_push() {
        let err = WechatAdapter.parse(ENCRYPTED_ONLY.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, WebhookError::Malformed(m) if m.contains("decrypted")),
            "{err:?}"
        );
    }

    #[test]
    fn a_body_that_is_not_a_wechat_push_is_malformed() {
        let no_msg_id = fill(TEXT, "").replace(&format!("<MsgId>{MSG_ID}</MsgId>"), "");
        let no_sender = fill(SCAN, "x").replace(&format!("<![CDATA[{OPENID}]]>"), "");
        let bad_time = SCAN.replace("__CONTACT__", OPENID);
        for body in [
            "",
            "{}",
            "<xml>",
            "<xml></xml>",
            &no_msg_id,
            &no_sender,
            &bad_time,
        ] {
            assert!(is_malformed(WechatAdapter.parse(body.as_bytes())), "{body}");
        }
        assert!(is_malformed(WechatAdapter.parse(&[0xff, 0xfe])));
    }

    // Safe mode.

    /// The example EncodingAESKey of WeChat's documentation and sample code.
    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APP_ID: &str = "wxb11529c136998cb6";
    const RANDOM: &[u8; 16] = b"aaaabbbbccccdddd";

    fn safe_secrets() -> AccountSecrets {
        AccountSecrets::from([
            ("token".to_owned(), Secret::new(TOKEN)),
            ("encoding_aes_key".to_owned(), Secret::new(KEY)),
            ("app_id".to_owned(), Secret::new(APP_ID)),
        ])
    }

    fn key_bytes(key: &str) -> Vec<u8> {
        KEY_BASE64.decode(format!("{key}=")).unwrap()
    }

    /// AES-256-CBC with IV = key[..16] over `data`, which must be whole blocks already.
    fn seal(key: &str, mut data: Vec<u8>) -> String {
        let key = key_bytes(key);
        let length = data.len();
        cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
            .unwrap()
            .encrypt_padded_mut::<NoPadding>(&mut data, length)
            .unwrap();
        STANDARD.encode(data)
    }

    /// WeChat's plaintext layout before padding: random bytes, the XML's length (big-endian),
    /// the XML and the AppID.
    fn layout(random: &[u8; 16], xml: &str, app_id: &str) -> Vec<u8> {
        let mut data = random.to_vec();
        data.extend(u32::try_from(xml.len()).unwrap().to_be_bytes());
        data.extend(xml.as_bytes());
        data.extend(app_id.as_bytes());
        data
    }

    /// PKCS#7 to 32-byte blocks, as WeChat's sample code pads.
    fn pad(mut data: Vec<u8>) -> Vec<u8> {
        let pad = 32 - data.len() % 32;
        data.extend(std::iter::repeat_n(u8::try_from(pad).unwrap(), pad));
        data
    }

    /// Encrypts the way WeChat's sample code (`WXBizMsgCrypt.encrypt`) does.
    fn encrypt(key: &str, random: &[u8; 16], xml: &str, app_id: &str) -> String {
        seal(key, pad(layout(random, xml, app_id)))
    }

    fn envelope_of(encrypted: &str) -> String {
        format!(
            "<xml><ToUserName><![CDATA[gh_a786fbe98353]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
    }

    /// A safe-mode query: `msg_signature` over `encrypted`, `age_seconds` old, with the plain
    /// `signature` WeChat sends beside it.
    fn safe_query(token: &str, age_seconds: i64, encrypted: &str) -> String {
        let timestamp = (OffsetDateTime::now_utc().unix_timestamp() - age_seconds).to_string();
        let nonce = "1514711492";
        let mut parts = [token, timestamp.as_str(), nonce, encrypted];
        parts.sort_unstable();
        let msg_signature = hex::encode(Sha1::digest(parts.concat()));
        let plain = signed_query(token, age_seconds, "");
        format!("{plain}&openid={OPENID}&encrypt_type=aes&msg_signature={msg_signature}")
    }

    /// Verifies then opens a request, as the handler does.
    fn receive(query: &str, body: &str, secrets: &AccountSecrets) -> Result<Vec<u8>, WebhookError> {
        let headers = http::HeaderMap::new();
        let request = WebhookRequest {
            headers: &headers,
            query,
            body: body.as_bytes(),
        };
        WechatAdapter.verify(&request, secrets)?;
        WechatAdapter
            .open(&request, secrets)
            .map(|opened| opened.into_owned())
    }

    fn decrypt_sample(encrypted: &str, app_id: &str) -> Result<Vec<u8>, WebhookError> {
        decrypt(&AesKey::parse(KEY).unwrap(), encrypted, app_id)
    }

    /// Tencent's Java sample test (`WXBizMsgCryptTest.testAesEncrypt` and `testAesEncrypt2`):
    /// with a fixed random prefix the ciphertext is known.
    #[test]
    fn the_sample_code_ciphertexts_are_reproduced_and_decrypted() {
        let short = "我是中文abcd123";
        let short_ciphertext = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
        let long = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
        let long_ciphertext = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";
        for (plaintext, ciphertext) in [(short, short_ciphertext), (long, long_ciphertext)] {
            assert_eq!(encrypt(KEY, RANDOM, plaintext, APP_ID), ciphertext);
            assert_eq!(
                decrypt_sample(ciphertext, APP_ID).unwrap(),
                plaintext.as_bytes()
            );
        }
    }

    /// Tencent's Python sample (`Sample.py`, token `spamtest`, AppID `wx2c2769f8efd9abc2`):
    /// a signed push whose ciphertext is the `encrypted_only.xml` fixture's.
    #[test]
    fn the_sample_push_verifies_and_decrypts() {
        let query = "timestamp=1409735669&nonce=1320562132&encrypt_type=aes&msg_signature=5d197aaffba7e9b25a30732f161a50dee96bd5fa";
        let encrypted = ciphertext(ENCRYPTED_ONLY.as_bytes()).unwrap();
        let token = Secret::new("spamtest");
        let sent = OffsetDateTime::from_unix_timestamp(1_409_735_669).unwrap();
        assert_eq!(
            check_msg_signature(query, &token, &encrypted, sent + Duration::SECOND),
            Ok(())
        );
        assert!(is_unauthorized(check_msg_signature(
            query,
            &Secret::new("pamtest"),
            &encrypted,
            sent
        )));

        let xml = decrypt_sample(&encrypted, "wx2c2769f8efd9abc2").unwrap();
        assert!(
            xml.starts_with(b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"),
            "{}",
            String::from_utf8_lossy(&xml)
        );
        let events = WechatAdapter.parse(&xml).unwrap().events;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].contact_id, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
        assert_eq!(events[0].dedupe_key, "6054768590064713728");
        assert_eq!(events[0].text.as_deref(), Some("abcdteT"));
        assert!(is_unauthorized(decrypt_sample(&encrypted, APP_ID)));
    }

    #[test]
    fn a_safe_mode_push_is_opened_to_its_plaintext() {
        let xml = fill(SUBSCRIBE_QRSCENE, "cmp_K7Q2");
        let encrypted = encrypt(KEY, b"0123456789abcdef", &xml, APP_ID);
        let opened = receive(
            &safe_query(TOKEN, 3, &encrypted),
            &envelope_of(&encrypted),
            &safe_secrets(),
        )
        .unwrap();
        assert_eq!(opened, xml.as_bytes());
        assert_eq!(parse(std::str::from_utf8(&opened).unwrap()), parse(&xml));
    }

    #[test]
    fn every_pad_length_opens() {
        // XML lengths 0..64 cover pad values 1 to 32.
        for length in 0..64 {
            let xml = "x".repeat(length);
            let encrypted = encrypt(KEY, RANDOM, &xml, APP_ID);
            assert_eq!(decrypt_sample(&encrypted, APP_ID).unwrap(), xml.as_bytes());
        }
    }

    #[test]
    fn a_safe_mode_push_with_a_bad_signature_or_clock_is_refused() {
        let xml = fill(TEXT, "");
        let encrypted = encrypt(KEY, RANDOM, &xml, APP_ID);
        let body = envelope_of(&encrypted);
        let other = encrypt(KEY, b"fedcba9876543210", &xml, APP_ID);
        let good = safe_query(TOKEN, 0, &encrypted);
        let cases = [
            // Signed with another token, or over another ciphertext.
            safe_query("other", 0, &encrypted),
            safe_query(TOKEN, 0, &other),
            good.replace("msg_signature=", "msg_signature=0"),
            good.split("&msg_signature=").next().unwrap().to_owned(),
            // Stale and future.
            safe_query(TOKEN, 301, &encrypted),
            safe_query(TOKEN, -301, &encrypted),
        ];
        for query in &cases {
            assert!(
                is_unauthorized(receive(query, &body, &safe_secrets())),
                "{query}"
            );
        }
        // The plain `signature` alone does not let a safe-mode push through.
        let plain_only = good.replace("&encrypt_type=aes", "");
        assert!(receive(&plain_only, &body, &safe_secrets()).is_err());
        assert!(receive(&good, &body, &safe_secrets()).is_ok());
    }

    #[test]
    fn a_push_for_another_app_id_is_refused() {
        let encrypted = encrypt(KEY, RANDOM, &fill(TEXT, ""), "wx0000000000000000");
        let result = receive(
            &safe_query(TOKEN, 0, &encrypted),
            &envelope_of(&encrypted),
            &safe_secrets(),
        );
        assert!(
            matches!(&result, Err(WebhookError::Unauthorized(m)) if m.contains("app_id")),
            "{result:?}"
        );
        // A prefix or an extension of the AppID is another AppID.
        for app_id in ["wxb11529c136998cb", "wxb11529c136998cb66", ""] {
            let encrypted = encrypt(KEY, RANDOM, "<xml/>", app_id);
            assert!(
                is_unauthorized(decrypt_sample(&encrypted, APP_ID)),
                "{app_id}"
            );
        }
    }

    #[test]
    fn a_push_under_another_key_is_refused() {
        let other_key = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg";
        let encrypted = encrypt(other_key, RANDOM, &fill(TEXT, ""), APP_ID);
        let result = receive(
            &safe_query(TOKEN, 0, &encrypted),
            &envelope_of(&encrypted),
            &safe_secrets(),
        );
        assert!(is_unauthorized(result.clone()), "{result:?}");
    }

    #[test]
    fn bad_padding_and_lengths_are_refused() {
        let data = layout(RANDOM, "<xml/>", APP_ID);
        let padded = pad(data.clone());
        let pad_value = *padded.last().unwrap();
        let mut zero = padded.clone();
        *zero.last_mut().unwrap() = 0;
        let mut too_large = padded.clone();
        too_large
            .iter_mut()
            .rev()
            .take(usize::from(pad_value))
            .for_each(|b| *b = 33);
        let mut uneven = padded.clone();
        let first_pad = uneven.len() - usize::from(pad_value);
        uneven[first_pad] ^= 1;
        // Pad 16 on a 16-byte block: the content is empty, shorter than its header.
        let empty = vec![16; 32];
        let mut long_length = padded.clone();
        long_length[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        for plaintext in [zero, too_large, uneven, empty, long_length] {
            assert!(
                is_unauthorized(decrypt_sample(&seal(KEY, plaintext.clone()), APP_ID)),
                "{plaintext:?}"
            );
        }
    }

    #[test]
    fn malformed_ciphertexts_are_refused_without_panicking() {
        let encrypted = encrypt(KEY, RANDOM, &fill(SCAN, "cmp_K7Q2"), APP_ID);
        for text in ["", "!!!not base64!!!", "YWJj", "AAAAAAAAAAAAAAAAAAAAAA=="] {
            assert!(decrypt_sample(text, APP_ID).is_err(), "{text}");
        }
        assert!(is_malformed(decrypt_sample("!!!not base64!!!", APP_ID)));
        assert!(is_malformed(decrypt_sample("YWJj", APP_ID)));
        // Every truncation and every flipped byte is an error, never a panic or a plaintext.
        let bytes = STANDARD.decode(&encrypted).unwrap();
        for cut in 0..bytes.len() {
            let truncated = STANDARD.encode(&bytes[..cut]);
            assert!(decrypt_sample(&truncated, APP_ID).is_err(), "cut at {cut}");
        }
        let last_block = bytes.len() - 16;
        for at in (0..bytes.len()).filter(|at| *at >= last_block - 16) {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x80;
            let result = decrypt_sample(&STANDARD.encode(&flipped), APP_ID);
            assert!(result.is_err(), "flipped byte {at}: {result:?}");
        }
        // An envelope without a ciphertext.
        let query = safe_query(TOKEN, 0, "");
        assert!(is_malformed(receive(
            &query,
            "<xml></xml>",
            &safe_secrets()
        )));
        assert!(is_malformed(receive(&query, "not xml", &safe_secrets())));
    }

    #[test]
    fn compatible_mode_reads_the_signed_ciphertext_when_the_key_is_known() {
        // The plaintext beside the ciphertext is not signed: with the key, the ciphertext wins.
        let signed = fill(SUBSCRIBE_QRSCENE, "cmp_SIGNED");
        let encrypted = encrypt(KEY, RANDOM, &signed, APP_ID);
        let body = fill(SUBSCRIBE_QRSCENE, "cmp_FORGED").replace(
            "</xml>",
            &format!("<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"),
        );
        let query = safe_query(TOKEN, 0, &encrypted);
        assert_eq!(
            receive(&query, &body, &safe_secrets()).unwrap(),
            signed.as_bytes()
        );
        // Without the key, the plaintext is read as before, under the plain signature.
        assert_eq!(receive(&query, &body, &secrets()).unwrap(), body.as_bytes());
    }

    #[test]
    fn a_ciphertext_only_push_that_cannot_be_decrypted_says_why() {
        let encrypted = encrypt(KEY, RANDOM, &fill(TEXT, ""), APP_ID);
        let body = envelope_of(&encrypted);
        let query = safe_query(TOKEN, 0, &encrypted);
        let no_key = receive(&query, &body, &secrets());
        assert!(
            matches!(&no_key, Err(WebhookError::NotConfigured(m)) if m.contains("encoding_aes_key")),
            "{no_key:?}"
        );
        let no_type = receive(
            &query.replace("&encrypt_type=aes", ""),
            &body,
            &safe_secrets(),
        );
        assert!(
            matches!(&no_type, Err(WebhookError::Malformed(m)) if m.contains("encrypt_type=aes")),
            "{no_type:?}"
        );
        let mut no_app_id = safe_secrets();
        no_app_id.remove("app_id");
        assert!(matches!(
            receive(&query, &body, &no_app_id),
            Err(WebhookError::NotConfigured(_))
        ));
        let mut bad_key = safe_secrets();
        bad_key.insert("encoding_aes_key".into(), Secret::new("short"));
        assert!(matches!(
            receive(&query, &body, &bad_key),
            Err(WebhookError::NotConfigured(_))
        ));
    }

    #[test]
    fn only_plain_mode_pushes_need_their_nonce_remembered() {
        let headers = http::HeaderMap::new();
        let nonce = |query: &str, secrets: &AccountSecrets| {
            let request = WebhookRequest {
                headers: &headers,
                query,
                body: b"",
            };
            WechatAdapter.replay_nonce(&request, secrets)
        };
        let plain = signed_query(TOKEN, 0, "");
        let timestamp = query_param(&plain, "timestamp").unwrap().parse().unwrap();
        assert_eq!(
            nonce(&plain, &secrets()),
            Some(ReplayNonce {
                timestamp,
                nonce: "1514711492".into(),
                window: MAX_CLOCK_SKEW,
            })
        );
        let safe = safe_query(TOKEN, 0, "x");
        assert_eq!(nonce(&safe, &safe_secrets()), None);
        // Compatible mode without the key is read (and replayable) like plain mode.
        assert!(nonce(&safe, &secrets()).is_some());
        assert_eq!(nonce("timestamp=1", &secrets()), None);
    }

    #[test]
    fn encoding_aes_keys_are_checked_when_an_account_is_created() {
        let secrets = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        assert!(check_secrets(&secrets(&[("token", "t")])).is_ok());
        assert!(check_secrets(&secrets(&[("encoding_aes_key", KEY), ("app_id", APP_ID)])).is_ok());
        let missing_app = check_secrets(&secrets(&[("encoding_aes_key", KEY)])).unwrap_err();
        assert!(missing_app.0.contains("app_id"), "{missing_app}");
        let long = format!("{KEY}=");
        let dashed = KEY.replace('a', "-");
        for bad in [&KEY[..42], long.as_str(), dashed.as_str(), "密钥"] {
            let err = check_secrets(&secrets(&[("encoding_aes_key", bad), ("app_id", APP_ID)]))
                .unwrap_err();
            assert!(err.0.contains("43 characters"), "{err}");
            assert!(!err.0.contains(bad), "the key is never echoed: {err}");
        }
        // 43 A's is a valid key (all zero bytes).
        assert!(AesKey::parse(&"A".repeat(43)).is_ok());
    }
}
