//! Telegram: `https://t.me/<bot>?start=<tag>` (PLATFORMS.md §4.1); the bot receives
//! `/start <tag>`. Start payloads allow `A-Z a-z 0-9 _ -`, up to 64 characters.
//! Webhooks (§4.2–4.3) carry a shared secret header rather than a body signature.

use serde::Deserialize;
use time::OffsetDateTime;

use super::{
    InvalidHandle, check_chars,
    webhook::{
        EventKind, Handshake, InboundEvent, Parsed, WebhookAdapter, WebhookError, WebhookRequest,
        require_secret,
    },
};
use crate::accounts::AccountSecrets;

/// A bot username: 5 to 32 letters, digits or underscores, starting with a letter and ending
/// in `bot` (Telegram refuses other bot names).
pub fn normalize_handle(handle: &str) -> Result<String, InvalidHandle> {
    let handle = handle.trim_start_matches('@');
    check_chars(
        "Telegram bot username",
        handle,
        5,
        32,
        |c| c.is_ascii_alphanumeric() || c == '_',
        "5 to 32 letters, digits or underscores",
    )?;
    if !handle.starts_with(|c: char| c.is_ascii_alphabetic())
        || !handle.to_ascii_lowercase().ends_with("bot")
    {
        return Err(InvalidHandle(format!(
            "`{handle}` is not a Telegram bot username: it must start with a letter and end in `bot`"
        )));
    }
    Ok(handle.to_owned())
}

/// The t.me start link.
pub fn deep_link(handle: &str, tag: &str) -> String {
    format!("https://t.me/{handle}?start={tag}")
}

/// The header carrying the `secret_token` given to `setWebhook`; Telegram signs nothing else.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Verifies and parses Telegram Bot API updates; only messages in a private chat with the
/// bot become events: `/start` opens, anything else is a message.
pub struct TelegramAdapter;

impl WebhookAdapter for TelegramAdapter {
    fn handshake(
        &self,
        _query: &str,
        _secrets: &AccountSecrets,
    ) -> Result<Handshake, WebhookError> {
        Err(WebhookError::Malformed(
            "Telegram has no GET handshake; register the URL with setWebhook and secret_token"
                .into(),
        ))
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &AccountSecrets,
    ) -> Result<(), WebhookError> {
        let secret = require_secret(secrets, "secret_token")?;
        let presented = request.headers.get(SECRET_HEADER).ok_or_else(|| {
            WebhookError::Unauthorized("missing X-Telegram-Bot-Api-Secret-Token header".into())
        })?;
        if secret.matches(presented.as_bytes()) {
            Ok(())
        } else {
            Err(WebhookError::Unauthorized(
                "X-Telegram-Bot-Api-Secret-Token does not match the account's secret_token".into(),
            ))
        }
    }

    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        let update: Update = serde_json::from_slice(body)
            .map_err(|e| WebhookError::Malformed(format!("not a Telegram update: {e}")))?;
        // Edited messages, channel posts, callback queries and membership changes arrive
        // under other keys than `message` and are left out of `Update` on purpose.
        let Some(message) = update.message else {
            return Ok(Parsed::default());
        };
        // Start links open a one-on-one chat; a `/start` in a group (`startgroup`) says
        // nothing about the person who clicked.
        if message.chat.kind != "private" {
            return Ok(Parsed::default());
        }
        // `from` is only absent for channel posts, which never reach a private chat.
        let Some(from) = message.from else {
            return Ok(Parsed::default());
        };
        let at = OffsetDateTime::from_unix_timestamp(message.date).map_err(|e| {
            WebhookError::Malformed(format!("Telegram message date out of range: {e}"))
        })?;
        let text = message.text.unwrap_or_default();
        let (kind, ref_value, text) = match start_payload(&text) {
            Some(payload) => (
                EventKind::Open,
                payload.filter(|p| is_start_payload(p)).map(str::to_owned),
                None,
            ),
            None => (
                EventKind::Message,
                None,
                Some(text).filter(|t| !t.is_empty()),
            ),
        };
        Ok(Parsed {
            events: vec![InboundEvent {
                contact_id: from.id.to_string(),
                dedupe_key: update.update_id.to_string(),
                at,
                kind,
                ref_value,
                ad_id: None,
                ctwa_clid: None,
                text,
                recipient: None,
            }],
            skipped: Vec::new(),
        })
    }
}

/// The parts of an Update we read. Ids are `i64`: Telegram ids may have up to 52
/// significant bits (PLATFORMS.md §4.2).
#[derive(Deserialize)]
struct Update {
    update_id: i64,
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    /// Unix seconds.
    date: i64,
    from: Option<User>,
    chat: Chat,
    text: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: i64,
}

#[derive(Deserialize)]
struct Chat {
    #[serde(rename = "type")]
    kind: String,
}

/// `Some(payload)` when `text` is a `/start` command (`/start PAYLOAD`, `/start@BotName
/// PAYLOAD` or a bare `/start`), `None` for any other text.
fn start_payload(text: &str) -> Option<Option<&str>> {
    let rest = text.strip_prefix("/start")?;
    // Commands may name their bot (`/start@CoastShopBot`), as clients write them in groups.
    let rest = match rest.strip_prefix('@') {
        Some(mention) => mention
            .find(char::is_whitespace)
            .map_or("", |i| &mention[i..]),
        None => rest,
    };
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None; // `/started`, `/startgroup`: another command or plain text
    }
    let payload = rest.trim();
    Some((!payload.is_empty()).then_some(payload))
}

/// Whether a start payload fits Telegram's own rule, `[A-Za-z0-9_-]{1,64}`; anything else
/// was typed by hand, not carried by a link.
fn is_start_payload(payload: &str) -> bool {
    (1..=64).contains(&payload.len())
        && payload
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};
    use time::OffsetDateTime;

    use super::*;
    use crate::secret::Secret;

    const SECRET: &str = "s3cr3t_Token-for-webhooks";
    const CONTACT: &str = "123456789";
    const UPDATE_ID: &str = "912345678";
    const DATE: i64 = 1_750_275_992;

    const START: &str = include_str!("../../tests/fixtures/telegram/start.json");
    const TEXT: &str = include_str!("../../tests/fixtures/telegram/text.json");
    const EDITED: &str = include_str!("../../tests/fixtures/telegram/edited_message.json");
    const GROUP_START: &str = include_str!("../../tests/fixtures/telegram/group_start.json");
    const CALLBACK: &str = include_str!("../../tests/fixtures/telegram/callback_query.json");
    const MEMBER: &str = include_str!("../../tests/fixtures/telegram/my_chat_member.json");
    const CHANNEL: &str = include_str!("../../tests/fixtures/telegram/channel_post.json");

    fn fill(fixture: &str, tag: &str) -> String {
        fixture
            .replace("__REF__", tag)
            .replace("__CONTACT__", CONTACT)
            .replace("__MSG_ID__", UPDATE_ID)
            .replace("__TS_S__", &DATE.to_string())
    }

    fn secrets() -> AccountSecrets {
        AccountSecrets::from([("secret_token".to_owned(), Secret::new(SECRET))])
    }

    fn verify(headers: &HeaderMap, secrets: &AccountSecrets) -> Result<(), WebhookError> {
        let body = fill(START, "cmp_K7Q2");
        let request = WebhookRequest {
            headers,
            query: "",
            body: body.as_bytes(),
        };
        TelegramAdapter.verify(&request, secrets)
    }

    fn with_token(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SECRET_HEADER, HeaderValue::from_str(token).unwrap());
        headers
    }

    fn parse(body: &str) -> Vec<InboundEvent> {
        TelegramAdapter.parse(body.as_bytes()).unwrap().events
    }

    #[test]
    fn builds_a_start_link() {
        let handle = normalize_handle("@CoastShopBot").unwrap();
        assert_eq!(
            deep_link(&handle, "Ab3dE9xQ-k3J9sLm2Qx0A-7fGh2k"),
            "https://t.me/CoastShopBot?start=Ab3dE9xQ-k3J9sLm2Qx0A-7fGh2k"
        );
    }

    #[test]
    fn refuses_names_that_are_not_bots() {
        for bad in [
            "coastshop",
            "1coastbot",
            "bot",
            "coast-bot",
            "coast shop bot",
        ] {
            assert!(normalize_handle(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_accounts_secret_token_verifies() {
        assert_eq!(verify(&with_token(SECRET), &secrets()), Ok(()));
    }

    #[test]
    fn a_wrong_or_missing_secret_token_is_refused() {
        for headers in [
            with_token("s3cr3t_Token-for-webhookz"),
            with_token(""),
            HeaderMap::new(),
        ] {
            assert!(matches!(
                verify(&headers, &secrets()),
                Err(WebhookError::Unauthorized(_))
            ));
        }
    }

    #[test]
    fn an_account_without_a_secret_token_is_not_configured() {
        assert!(matches!(
            verify(&with_token(SECRET), &AccountSecrets::new()),
            Err(WebhookError::NotConfigured(_))
        ));
    }

    #[test]
    fn there_is_no_get_handshake() {
        let err = TelegramAdapter.handshake("", &secrets()).unwrap_err();
        assert!(matches!(err, WebhookError::Malformed(m) if m.contains("setWebhook")));
    }

    #[test]
    fn a_start_with_payload_opens_with_the_ref() {
        assert_eq!(
            parse(&fill(START, "cmp_K7Q2")),
            vec![InboundEvent {
                contact_id: CONTACT.into(),
                dedupe_key: UPDATE_ID.into(),
                at: OffsetDateTime::from_unix_timestamp(DATE).unwrap(),
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
    fn a_start_addressed_to_the_bot_by_name_keeps_the_ref() {
        let body = fill(START, "Ab3dE9xQ-7fGh2k").replace("/start ", "/start@CoastShopBot ");
        let events = parse(&body);
        assert_eq!(events[0].kind, EventKind::Open);
        assert_eq!(events[0].ref_value.as_deref(), Some("Ab3dE9xQ-7fGh2k"));
    }

    #[test]
    fn a_bare_start_opens_without_a_ref() {
        let body = fill(START, "").replace("/start ", "/start");
        let events = parse(&body);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Open);
        assert_eq!(events[0].ref_value, None);
    }

    #[test]
    fn a_payload_outside_telegrams_alphabet_is_not_a_ref() {
        for odd in ["two words", "semi;colon", &"x".repeat(65)] {
            let events = parse(&fill(START, odd));
            assert_eq!(events[0].kind, EventKind::Open, "{odd}");
            assert_eq!(events[0].ref_value, None, "{odd}");
        }
    }

    #[test]
    fn other_commands_and_text_are_messages() {
        let events = parse(&fill(TEXT, ""));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Message);
        assert_eq!(events[0].contact_id, CONTACT);
        assert_eq!(events[0].dedupe_key, UPDATE_ID);
        assert_eq!(events[0].ref_value, None);
        assert_eq!(
            events[0].text.as_deref(),
            Some("Hola, ¿hacen envíos a Valparaíso?")
        );
        let startgroup = fill(START, "x").replace("/start ", "/startgroup ");
        assert_eq!(parse(&startgroup)[0].kind, EventKind::Message);
    }

    #[test]
    fn edits_group_messages_and_other_updates_give_no_events() {
        for fixture in [EDITED, GROUP_START, CALLBACK, MEMBER, CHANNEL] {
            assert_eq!(parse(&fill(fixture, "cmp_K7Q2")), vec![], "{fixture}");
        }
    }

    #[test]
    fn a_body_that_is_not_an_update_is_malformed() {
        for body in ["", "[]", "{\"message\": {}}", "{\"update_id\": \"x\"}"] {
            assert!(
                matches!(
                    TelegramAdapter.parse(body.as_bytes()),
                    Err(WebhookError::Malformed(_))
                ),
                "{body}"
            );
        }
    }
}
