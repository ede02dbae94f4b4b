//! Editing links: `PATCH /api/links/{id}` and `chatref link update` both call [`update`].
//!
//! What a link points at (account or destination) and its code stay as created, since printed
//! codes and published deep links depend on them; its label, store, prefilled text, UTM
//! overrides, WeChat code URL and `active` flag can change, under the rules of creation.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::{
    Link, LinkError, check_utm, create::ensure_store_free, optional_text, parse_prefill,
    parse_store, parse_wechat_qr_url,
};
use crate::db::{Db, DbError};

/// What `PATCH /api/links/{id}` accepts: every field optional; a field left out is kept, and
/// `null` clears an optional one (`utm: null` or `{}` clears every override).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkPatch {
    #[serde(default, deserialize_with = "nullable")]
    pub label: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub store: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub prefill_text: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub utm: Option<Option<BTreeMap<String, String>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub wechat_qr_url: Option<Option<String>>,
    /// `true` or `false`; `null` is refused rather than read as "keep".
    #[serde(default, deserialize_with = "present")]
    pub active: Option<bool>,
}

/// A field that was sent: `Some(None)` for `null`, `Some(Some(v))` for a value (a field left
/// out is `None` through `#[serde(default)]`).
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A field that, when sent, must hold a value.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A validated patch: `None` keeps a column, `Some(value)` sets it (`Some(None)` clears).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkChange {
    pub label: Option<Option<String>>,
    pub store: Option<Option<String>>,
    pub prefill_text: Option<Option<String>>,
    pub utm: Option<BTreeMap<String, String>>,
    pub wechat_qr_url: Option<Option<String>>,
    pub active: Option<bool>,
}

impl LinkChange {
    /// Checks `patch` against `link` with the rules of creation: text fields as for a new
    /// link, prefilled text only where the platform has it, UTM only on landing-page links,
    /// a WeChat code URL only on WeChat links. An empty patch is refused.
    pub fn parse(link: &Link, patch: LinkPatch) -> Result<Self, LinkError> {
        let nothing = patch.label.is_none()
            && patch.store.is_none()
            && patch.prefill_text.is_none()
            && patch.utm.is_none()
            && patch.wechat_qr_url.is_none()
            && patch.active.is_none();
        if nothing {
            return Err(LinkError::Invalid(
                "nothing to change: give label, store, prefill_text, utm, wechat_qr_url or active"
                    .into(),
            ));
        }
        Ok(LinkChange {
            label: patch.label.map(|v| optional_text("label", v)).transpose()?,
            store: patch.store.map(parse_store).transpose()?,
            prefill_text: patch
                .prefill_text
                .map(|v| parse_prefill(link.platform, v))
                .transpose()?,
            utm: match patch.utm {
                Some(utm) => {
                    let utm = utm.unwrap_or_default();
                    check_utm(link.destination_url.is_some(), &utm)?;
                    Some(utm)
                }
                None => None,
            },
            wechat_qr_url: patch
                .wechat_qr_url
                .map(|v| parse_wechat_qr_url(link.platform, v))
                .transpose()?,
            active: patch.active,
        })
    }
}

/// Why a link was not changed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// A value is refused (HTTP 400).
    #[error(transparent)]
    Link(#[from] LinkError),
    /// No such link (404), the store is taken in the campaign (409), or storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Changes link `id` as `patch` says and returns it as stored. The caller that serves
/// redirects drops the link's cached copy afterwards (other processes notice the change
/// through [`Db::links_version`]).
pub async fn update(db: &Db, id: i64, patch: LinkPatch) -> Result<Link, UpdateError> {
    let link = db.link(id).await?;
    let change = LinkChange::parse(&link, patch)?;
    if let Some(Some(store)) = &change.store {
        ensure_store_free(db, link.campaign_id, store, Some(link.id)).await?;
    }
    let updated = db.update_link(id, &change).await?;
    tracing::info!(id, code = %updated.code, active = updated.active, "link updated");
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::platforms::Platform;

    fn link(platform: Option<Platform>, destination: Option<&str>) -> Link {
        Link {
            id: 7,
            campaign_id: 1,
            code: "Ab3dE9xQ".into(),
            account_id: platform.map(|_| 1),
            platform,
            handle: platform.map(|_| "handle".into()),
            destination_url: destination.map(str::to_owned),
            label: Some("Window".into()),
            store: Some("Store 1".into()),
            prefill_text: None,
            utm: BTreeMap::new(),
            wechat_qr_url: None,
            active: true,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            campaign_name: "Summer".into(),
            campaign_channel: "ads".into(),
        }
    }

    fn patch(json: &str) -> LinkPatch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn absent_null_and_values_are_told_apart() {
        let p = patch(r#"{"label": null, "store": "North", "active": false}"#);
        assert_eq!(p.label, Some(None));
        assert_eq!(p.store, Some(Some("North".into())));
        assert_eq!(p.prefill_text, None);
        assert_eq!(p.active, Some(false));
        assert!(serde_json::from_str::<LinkPatch>(r#"{"active": null}"#).is_err());
        assert!(serde_json::from_str::<LinkPatch>(r#"{"code": "x"}"#).is_err());
        assert!(
            serde_json::from_str::<LinkPatch>(r#"{"destination_url": "https://x.example"}"#)
                .is_err()
        );
    }

    #[test]
    fn a_patch_follows_the_rules_of_creation() {
        let telegram = link(Some(Platform::Telegram), None);
        let whatsapp = link(Some(Platform::Whatsapp), None);
        let wechat = link(Some(Platform::Wechat), None);
        let landing = link(None, Some("https://shop.example"));
        let refused = |link: &Link, json: &str, words: &str| {
            let error = LinkChange::parse(link, patch(json))
                .unwrap_err()
                .to_string();
            assert!(error.contains(words), "{json}: {error}");
        };
        refused(&telegram, "{}", "nothing to change");
        refused(&telegram, r#"{"label": " "}"#, "label must not be empty");
        refused(&telegram, r#"{"store": "a\u0007b"}"#, "control characters");
        refused(
            &telegram,
            r#"{"prefill_text": "Hi"}"#,
            "WhatsApp, LINE and Viber",
        );
        refused(
            &telegram,
            r#"{"utm": {"utm_source": "x"}}"#,
            "landing-page links only",
        );
        refused(&landing, r#"{"utm": {"utm_evil": "x"}}"#, "utm_evil");
        refused(
            &telegram,
            r#"{"wechat_qr_url": "http://weixin.qq.com/q/02abc"}"#,
            "WeChat links only",
        );
        refused(
            &wechat,
            r#"{"wechat_qr_url": "https://evil.example/q/1"}"#,
            "not a code URL",
        );

        let change = LinkChange::parse(
            &whatsapp,
            patch(r#"{"prefill_text": " Hola ", "label": null}"#),
        )
        .unwrap();
        assert_eq!(change.prefill_text, Some(Some("Hola".into())));
        assert_eq!(change.label, Some(None));
        assert_eq!(change.store, None);
        let change = LinkChange::parse(
            &wechat,
            patch(r#"{"wechat_qr_url": "http://weixin.qq.com/q/02abc"}"#),
        )
        .unwrap();
        assert_eq!(
            change.wechat_qr_url,
            Some(Some("http://weixin.qq.com/q/02abc".into()))
        );
        let change = LinkChange::parse(&landing, patch(r#"{"utm": null}"#)).unwrap();
        assert_eq!(change.utm, Some(BTreeMap::new()));
        // Clearing what a platform does not have is harmless.
        assert!(
            LinkChange::parse(&telegram, patch(r#"{"prefill_text": null, "utm": {}}"#)).is_ok()
        );
    }
}
