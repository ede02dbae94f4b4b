//! WeChat Official Accounts: no web deep link carries a parameter. The account creates a
//! permanent parametric QR code (`qrcode/create`, `QR_LIMIT_STR_SCENE`) whose `scene_str` is
//! the link's ref tag; WeChat returns it as `EventKey` `qrscene_<tag>` (follow) or `<tag>`
//! (SCAN) (PLATFORMS.md §7). The README explains the steps. Pushes are XML, and only the
//! query string is signed: SHA-1 over the sorted token, timestamp and nonce (§7.3).

use serde::Deserialize;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use super::{
    InvalidHandle, check_chars,
    webhook::{
        EventKind, Handshake, InboundEvent, Parsed, WebhookAdapter, WebhookError, WebhookRequest,
        query_param, require_secret,
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

/// How far a request's `timestamp` may be from our clock. The signature covers only token,
/// timestamp and nonce, never the body, and WeChat itself refuses nothing old: without this
/// a captured signed URL would stay valid forever.
const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// Verifies and parses WeChat Official Account pushes (plaintext or compatible mode); QR
/// follows and scans become opens, text and media messages become messages.
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
        check_signature(request.query, token, OffsetDateTime::now_utc())
    }

    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        let body = std::str::from_utf8(body)
            .map_err(|_| WebhookError::Malformed("a WeChat push must be UTF-8 XML".into()))?;
        let push: Push = quick_xml::de::from_str(body)
            .map_err(|e| WebhookError::Malformed(format!("not a WeChat XML push: {e}")))?;
        Ok(Parsed {
            events: inbound_event(push)?.into_iter().collect(),
        })
    }
}

/// Checks `signature` = hex SHA-1 of the lexicographically sorted token, `timestamp` and
/// `nonce` concatenated, and that `timestamp` is within [`MAX_CLOCK_SKEW`] of `now`.
fn check_signature(query: &str, token: &Secret, now: OffsetDateTime) -> Result<(), WebhookError> {
    let param = |name: &str| {
        query_param(query, name)
            .ok_or_else(|| WebhookError::Unauthorized(format!("missing `{name}` query parameter")))
    };
    let (signature, timestamp, nonce) = (param("signature")?, param("timestamp")?, param("nonce")?);

    let mut parts = [token.expose(), timestamp.as_str(), nonce.as_str()];
    parts.sort_unstable();
    let expected = hex::encode(Sha1::digest(parts.concat()));
    if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        return Err(WebhookError::Unauthorized(
            "`signature` does not match the account's token".into(),
        ));
    }

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
        return Err(WebhookError::Malformed(
            "this WeChat account sends encrypted pushes (safe mode); set message encryption to \
             plaintext or compatible mode in the server configuration"
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
    }))
}

#[cfg(test)]
mod tests {
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
    fn safe_mode_pushes_ask_for_plaintext_or_compatible_mode() {
        let err = WechatAdapter.parse(ENCRYPTED_ONLY.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, WebhookError::Malformed(m) if m.contains("compatible mode")),
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
}
