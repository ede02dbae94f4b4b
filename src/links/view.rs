//! How a link is shown to API clients and in `--json` output.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use super::{Link, LinkCode, RefTag, TagKey};
use crate::{
    config::Config,
    db::{ClickCounts, Db, DbError},
    platforms::Platform,
};

/// A link with its public URLs.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub id: i64,
    pub campaign_id: i64,
    pub code: String,
    pub short_url: String,
    /// The target without a click: the chat deep link with the link's own ref tag, or the
    /// landing URL with UTM parameters.
    pub deep_link: Option<String>,
    /// The ref tag that identifies this link without a click (WeChat: the `scene_str`).
    pub ref_tag: String,
    pub qr_png_url: String,
    pub qr_svg_url: String,
    pub account_id: Option<i64>,
    pub platform: Option<Platform>,
    pub destination_url: Option<String>,
    pub label: Option<String>,
    pub store: Option<String>,
    pub prefill_text: Option<String>,
    pub utm: BTreeMap<String, String>,
    pub wechat_qr_url: Option<String>,
    /// `false` once the link is switched off: `/r/{code}` then answers a "campaign ended"
    /// page (still counting the scan) and print sheets leave it out.
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `GET /api/links/{id}`: the link and what it brought.
#[derive(Debug, Clone, Serialize)]
pub struct LinkStats {
    #[serde(flatten)]
    pub link: LinkView,
    pub clicks: ClickCounts,
    /// First-message conversions attributed to this link.
    pub leads: i64,
    /// The same leads by attribution method (`click_id`, `ref`, `code_in_text`).
    pub leads_by_method: std::collections::BTreeMap<String, i64>,
}

impl LinkView {
    /// The view of `link` under this service's public origin and tag key.
    pub fn new(link: &Link, config: &Config, key: &TagKey) -> Self {
        let api = format!(
            "{}/api/links/{}",
            config.public_url.as_str().trim_end_matches('/'),
            link.id
        );
        let ref_tag = LinkCode::parse(&link.code)
            .map(|code| RefTag::for_link(key, &code))
            .unwrap_or_default();
        LinkView {
            id: link.id,
            campaign_id: link.campaign_id,
            code: link.code.clone(),
            short_url: config.short_url(&link.code),
            deep_link: link.static_target(key),
            ref_tag,
            qr_png_url: format!("{api}/qr.png"),
            qr_svg_url: format!("{api}/qr.svg"),
            account_id: link.account_id,
            platform: link.platform,
            destination_url: link.destination_url.clone(),
            label: link.label.clone(),
            store: link.store.clone(),
            prefill_text: link.prefill_text.clone(),
            utm: link.utm.clone(),
            wechat_qr_url: link.wechat_qr_url.clone(),
            active: link.active,
            created_at: link.created_at,
        }
    }
}

impl LinkView {
    /// Every link of a campaign ([`DbError::NotFound`] for an unknown campaign).
    pub async fn of_campaign(
        db: &Db,
        config: &Config,
        key: &TagKey,
        campaign_id: i64,
    ) -> Result<Vec<LinkView>, DbError> {
        db.campaign(campaign_id).await?;
        Ok(db
            .list_links(campaign_id)
            .await?
            .iter()
            .map(|l| LinkView::new(l, config, key))
            .collect())
    }
}

impl LinkStats {
    /// A link with its clicks and leads.
    pub async fn load(db: &Db, config: &Config, key: &TagKey, id: i64) -> Result<Self, DbError> {
        let link = db.link(id).await?;
        let clicks = db.click_counts(id).await?;
        let leads = db.link_leads(id).await?;
        Ok(LinkStats {
            link: LinkView::new(&link, config, key),
            clicks,
            leads: leads.total,
            leads_by_method: leads.by_method,
        })
    }
}
