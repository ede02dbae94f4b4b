//! Links: a campaign's short links, each targeting a chat account (deep link with a ref tag)
//! or a landing page (UTM parameters and the click id appended).

pub mod cache;
mod code;
pub mod create;
mod landing;
mod ref_tag;
pub mod store_list;
pub mod update;
mod view;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

pub use code::{CODE_LEN, LinkCode};
pub use landing::{UTM_KEYS, landing_url};
pub use ref_tag::{CLICK_ID_LEN, ClickId, RefTag, TagKey};
pub use update::{LinkChange, LinkPatch};
pub use view::{LinkStats, LinkView};

use crate::{
    accounts::Account,
    campaigns::{Campaign, CampaignKind},
    platforms::{self, Platform},
};

/// A stored link with what its redirect needs from its campaign and account.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub id: i64,
    pub campaign_id: i64,
    pub code: String,
    pub account_id: Option<i64>,
    pub platform: Option<Platform>,
    pub handle: Option<String>,
    pub destination_url: Option<String>,
    pub label: Option<String>,
    pub store: Option<String>,
    pub prefill_text: Option<String>,
    pub utm: BTreeMap<String, String>,
    pub wechat_qr_url: Option<String>,
    /// An inactive link answers a "campaign ended" page (still counting the scan) and is
    /// left off print sheets.
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip)]
    pub campaign_name: String,
    #[serde(skip)]
    pub campaign_channel: String,
}

/// Where a redirect for this link goes, given the ref tag or click tag to carry.
impl Link {
    /// The target URL carrying `tag`; `None` when the link has no web target (a WeChat
    /// link without its code URL).
    pub fn target_url(&self, tag: &str) -> Option<String> {
        match (self.platform, &self.destination_url) {
            (Some(Platform::Wechat), _) => self.wechat_qr_url.clone(),
            (Some(platform), _) => platform.deep_link(
                self.handle.as_deref().unwrap_or_default(),
                tag,
                self.prefill_text.as_deref(),
            ),
            (None, Some(destination)) => Some(landing_url(self, destination, Some(tag))),
            (None, None) => None,
        }
    }

    /// The deep link published for this link without a click (tag of the link alone), or
    /// the landing URL with UTM parameters.
    pub fn static_target(&self, key: &TagKey) -> Option<String> {
        let code = LinkCode::parse(&self.code)?;
        match (self.platform, &self.destination_url) {
            (Some(_), _) => self.target_url(&RefTag::for_link(key, &code)),
            (None, Some(destination)) => Some(landing_url(self, destination, None)),
            (None, None) => None,
        }
    }
}

/// What `POST /api/campaigns/{id}/links` accepts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub account_id: Option<i64>,
    pub destination_url: Option<String>,
    pub label: Option<String>,
    pub store: Option<String>,
    pub prefill_text: Option<String>,
    #[serde(default)]
    pub utm: BTreeMap<String, String>,
    pub wechat_qr_url: Option<String>,
}

/// What `POST /api/campaigns/{id}/links/bulk` accepts: one link per store.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkLinkRequest {
    pub account_id: Option<i64>,
    pub destination_url: Option<String>,
    pub prefill_text: Option<String>,
    #[serde(default)]
    pub utm: BTreeMap<String, String>,
    pub stores: Vec<StoreRow>,
}

/// One store of a bulk request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreRow {
    pub store: String,
    pub label: Option<String>,
}

/// A validated link, ready to store (the code is drawn by the store).
#[derive(Debug, Clone)]
pub struct NewLink {
    pub campaign_id: i64,
    pub account_id: Option<i64>,
    pub destination_url: Option<String>,
    pub label: Option<String>,
    pub store: Option<String>,
    pub prefill_text: Option<String>,
    pub utm: BTreeMap<String, String>,
    pub wechat_qr_url: Option<String>,
}

/// Why a link request was refused; the HTTP layer answers 400 (or 404 for a missing account).
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("account {0} does not exist")]
    UnknownAccount(i64),
    #[error("{0}")]
    Invalid(String),
}

const MAX_TEXT: usize = 200;
const MAX_URL: usize = 2048;

fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, LinkError> {
    match value {
        None => Ok(None),
        Some(v) => {
            let v = v.trim().to_owned();
            if v.is_empty() {
                Err(LinkError::Invalid(format!(
                    "{field} must not be empty (leave it out instead)"
                )))
            } else if v.chars().count() > MAX_TEXT {
                Err(LinkError::Invalid(format!(
                    "{field} must be at most {MAX_TEXT} characters"
                )))
            } else if v.chars().any(char::is_control) {
                Err(LinkError::Invalid(format!(
                    "{field} must not contain control characters"
                )))
            } else {
                Ok(Some(v))
            }
        }
    }
}

/// The one rule for store names, in single, bulk and patched links alike: trimmed, and
/// compared without regard to case, so `Store 1` and ` store 1` are the same store.
pub fn store_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A store name as stored: trimmed, not empty, at most 200 characters, no control characters.
fn parse_store(value: Option<String>) -> Result<Option<String>, LinkError> {
    optional_text("store", value)
}

/// A greeting prefilled into the first message, for the platforms that have one.
fn parse_prefill(
    platform: Option<Platform>,
    text: Option<String>,
) -> Result<Option<String>, LinkError> {
    let Some(text) = text else {
        return Ok(None);
    };
    if !matches!(
        platform,
        Some(Platform::Whatsapp | Platform::Line | Platform::Viber)
    ) {
        return Err(LinkError::Invalid(
            "prefill_text applies to WhatsApp, LINE and Viber links only".into(),
        ));
    }
    platforms::validate_prefill(&text).map_err(|e| LinkError::Invalid(e.0))?;
    Ok(Some(text.trim().to_owned()))
}

/// UTM overrides: landing-page links only, known keys, short printable values.
fn check_utm(landing: bool, utm: &BTreeMap<String, String>) -> Result<(), LinkError> {
    if !utm.is_empty() && !landing {
        return Err(LinkError::Invalid(
            "utm applies to landing-page links only".into(),
        ));
    }
    for (key, value) in utm {
        if !UTM_KEYS.contains(&key.as_str()) {
            return Err(LinkError::Invalid(format!(
                "unknown utm key `{key}`; expected {}",
                UTM_KEYS.join(", ")
            )));
        }
        optional_text(key, Some(value.clone()))?;
    }
    Ok(())
}

/// The code URL WeChat's `qrcode/create` returned, on WeChat links only.
fn parse_wechat_qr_url(
    platform: Option<Platform>,
    text: Option<String>,
) -> Result<Option<String>, LinkError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let url = Url::parse(text.trim())
        .ok()
        .filter(platforms::wechat::is_wechat_qr_url)
        .ok_or_else(|| {
            LinkError::Invalid(format!(
                "wechat_qr_url `{text}` is not a code URL from WeChat's qrcode/create (http://weixin.qq.com/q/…)"
            ))
        })?;
    if platform != Some(Platform::Wechat) {
        return Err(LinkError::Invalid(
            "wechat_qr_url applies to WeChat links only".into(),
        ));
    }
    Ok(Some(url.to_string()))
}

/// Checks a landing-page destination: absolute http(s) with a host and no credentials.
pub fn parse_destination(text: &str) -> Result<Url, LinkError> {
    let bad = |why: &str| LinkError::Invalid(format!("destination_url `{text}` {why}"));
    if text.len() > MAX_URL {
        return Err(LinkError::Invalid(format!(
            "destination_url is longer than {MAX_URL} characters"
        )));
    }
    let url = Url::parse(text.trim()).map_err(|_| bad("is not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must use http or https"));
    }
    if url.host().is_none() {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain credentials"));
    }
    Ok(url)
}

impl NewLink {
    /// Validates a request against its campaign and (for chat links) the target account.
    pub fn parse(
        campaign: &Campaign,
        account: Option<&Account>,
        request: LinkRequest,
    ) -> Result<Self, LinkError> {
        let label = optional_text("label", request.label)?;
        let store = parse_store(request.store)?;
        let (account_id, destination_url) = match (request.account_id, request.destination_url) {
            (Some(_), Some(_)) => {
                return Err(LinkError::Invalid(
                    "give either account_id or destination_url, not both".into(),
                ));
            }
            (None, None) => {
                return Err(LinkError::Invalid(match campaign.kind {
                    CampaignKind::DirectToChat => "account_id is required".into(),
                    CampaignKind::LandingPage => "destination_url is required".into(),
                }));
            }
            (Some(id), None) => {
                if campaign.kind != CampaignKind::DirectToChat {
                    return Err(LinkError::Invalid(
                        "this is a landing_page campaign: give destination_url".into(),
                    ));
                }
                let account = account
                    .filter(|a| a.id == id)
                    .ok_or(LinkError::UnknownAccount(id))?;
                (Some(account.id), None)
            }
            (None, Some(url)) => {
                if campaign.kind != CampaignKind::LandingPage {
                    return Err(LinkError::Invalid(
                        "this is a direct_to_chat campaign: give account_id".into(),
                    ));
                }
                (None, Some(parse_destination(&url)?.to_string()))
            }
        };
        let platform = account.filter(|_| account_id.is_some()).map(|a| a.platform);

        let prefill_text = parse_prefill(platform, request.prefill_text)?;
        check_utm(destination_url.is_some(), &request.utm)?;
        let wechat_qr_url = parse_wechat_qr_url(platform, request.wechat_qr_url)?;

        Ok(NewLink {
            campaign_id: campaign.id,
            account_id,
            destination_url,
            label,
            store,
            prefill_text,
            utm: request.utm,
            wechat_qr_url,
        })
    }

    /// Validates a bulk request: every row is checked and every problem reported, so a
    /// store list is fixed in one pass and nothing is created until all rows are good.
    pub fn parse_bulk(
        campaign: &Campaign,
        account: Option<&Account>,
        request: BulkLinkRequest,
    ) -> Result<Vec<Self>, BulkError> {
        if request.stores.is_empty() {
            return Err(BulkError {
                rows: vec![RowError {
                    row: 0,
                    message: "stores must list at least one store".into(),
                }],
            });
        }
        let mut links = Vec::with_capacity(request.stores.len());
        let mut errors = Vec::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (index, row) in request.stores.into_iter().enumerate() {
            let number = index + 1;
            let key = store_key(&row.store);
            if !key.is_empty()
                && let Some(first) = seen.insert(key, number)
            {
                errors.push(RowError {
                    row: number,
                    message: format!("store `{}` repeats row {first}", row.store.trim()),
                });
                continue;
            }
            if row.store.trim().is_empty() {
                errors.push(RowError {
                    row: number,
                    message: "store name is empty".into(),
                });
                continue;
            }
            let single = LinkRequest {
                account_id: request.account_id,
                destination_url: request.destination_url.clone(),
                label: row.label.clone(),
                store: Some(row.store.clone()),
                prefill_text: request.prefill_text.clone(),
                utm: request.utm.clone(),
                wechat_qr_url: None,
            };
            match NewLink::parse(campaign, account, single) {
                Ok(link) => links.push(link),
                Err(e) => errors.push(RowError {
                    row: number,
                    message: e.to_string(),
                }),
            }
        }
        if errors.is_empty() {
            Ok(links)
        } else {
            Err(BulkError { rows: errors })
        }
    }
}

/// One rejected row of a bulk request (rows count from 1).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub message: String,
}

/// Every rejected row of a bulk request.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} of the store rows are invalid; nothing was created", rows.len())]
pub struct BulkError {
    pub rows: Vec<RowError>,
}
