//! QR codes of stored links: what they encode and how a campaign's sheet is labelled.

use super::SheetItem;
use crate::{
    config::Config,
    db::{Db, DbError},
    links::Link,
    platforms::Platform,
};

/// Why a campaign's codes cannot be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("campaign {0} has no links to print")]
    NoLinks(i64),
    /// Every link was left off (see [`Printable`]).
    #[error("campaign {campaign} has no links to print: {reason}")]
    NothingPrintable { campaign: i64, reason: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A campaign's codes to print, and the WeChat links left off for want of a code URL.
#[derive(Debug, Clone)]
pub struct Printable {
    /// Active links with somewhere to send a scan, in sheet order.
    pub links: Vec<Link>,
    /// Inactive links, left off on purpose.
    pub inactive: usize,
    /// WeChat links without `wechat_qr_url` (a scan would find nothing), as `name (link id)`.
    pub wechat_without_url: Vec<String>,
}

/// Names listed in a warning at most; the rest are counted.
const NAMES_SHOWN: usize = 10;

impl Printable {
    /// The warning about WeChat links left off, e.g. `2 WeChat links without a code URL were
    /// left off: Store 3 (link 7), Store 9 (link 13)`; `None` when there are none.
    pub fn warning(&self) -> Option<String> {
        let names = &self.wechat_without_url;
        if names.is_empty() {
            return None;
        }
        let (link, were) = if names.len() == 1 {
            ("link", "was")
        } else {
            ("links", "were")
        };
        let mut listed = names
            .iter()
            .take(NAMES_SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > NAMES_SHOWN {
            listed.push_str(&format!(" and {} more", names.len() - NAMES_SHOWN));
        }
        Some(format!(
            "{} WeChat {link} without a code URL {were} left off: {listed}",
            names.len()
        ))
    }
}

/// The links of a campaign to print, in sheet order: inactive links and WeChat links without
/// their code URL are left off. An unknown campaign, one without links, or one with nothing
/// left to print is an error.
pub async fn printable_links(db: &Db, campaign_id: i64) -> Result<Printable, PrintError> {
    db.campaign(campaign_id).await?;
    let all = db.list_links(campaign_id).await?;
    if all.is_empty() {
        return Err(PrintError::NoLinks(campaign_id));
    }
    let mut printable = Printable {
        links: Vec::with_capacity(all.len()),
        inactive: 0,
        wechat_without_url: Vec::new(),
    };
    for link in all {
        if !link.active {
            printable.inactive += 1;
        } else if link.platform == Some(Platform::Wechat) && link.wechat_qr_url.is_none() {
            printable
                .wechat_without_url
                .push(format!("{} (link {})", title(&link), link.id));
        } else {
            printable.links.push(link);
        }
    }
    if printable.links.is_empty() {
        let mut reasons = Vec::new();
        if printable.inactive > 0 {
            reasons.push(format!("{} inactive", printable.inactive));
        }
        if let Some(warning) = printable.warning() {
            reasons.push(warning);
        }
        return Err(PrintError::NothingPrintable {
            campaign: campaign_id,
            reason: reasons.join("; "),
        });
    }
    Ok(printable)
}

/// What a code is called on a sheet: the store, or the label, or the code.
fn title(link: &Link) -> String {
    link.store
        .clone()
        .or_else(|| link.label.clone())
        .unwrap_or_else(|| link.code.clone())
}

/// One sheet cell per link: the code of its scan URL, the store (or label, or code) as title
/// and the short URL in text for people who cannot scan.
pub fn sheet_items(config: &Config, links: &[Link]) -> Vec<SheetItem> {
    links
        .iter()
        .map(|link| SheetItem {
            qr_text: config.qr_url(&link.code),
            title: title(link),
            subtitle: config.short_url(&link.code),
        })
        .collect()
}

/// A file name for a link's code in a ZIP: the store or label, made safe, plus the code.
pub fn file_stem(link: &Link) -> String {
    let name = link
        .store
        .as_deref()
        .or(link.label.as_deref())
        .unwrap_or("link");
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{}", safe.trim_matches('_'), link.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printable(names: &[&str]) -> Printable {
        Printable {
            links: Vec::new(),
            inactive: 0,
            wechat_without_url: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn the_warning_names_the_wechat_links_left_off() {
        assert_eq!(printable(&[]).warning(), None);
        assert_eq!(
            printable(&["Store 3 (link 3)"]).warning().unwrap(),
            "1 WeChat link without a code URL was left off: Store 3 (link 3)"
        );
        let many: Vec<String> = (1..=12).map(|n| format!("S{n}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let warning = printable(&names).warning().unwrap();
        assert!(
            warning.starts_with("12 WeChat links without a code URL were left off: S1, S2,"),
            "{warning}"
        );
        assert!(warning.ends_with("S10 and 2 more"), "{warning}");
    }
}
