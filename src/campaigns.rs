//! Campaigns: what a marketer pays for and reports on. A campaign is either direct-to-chat
//! (leads are first messages) or landing-page (leads are form submissions).

use std::str::FromStr;

use crate::{
    db::{Db, DbError},
    money::{AmountInput, Money},
};

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// How a campaign sends people on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    DirectToChat,
    LandingPage,
}

impl CampaignKind {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignKind::DirectToChat => "direct_to_chat",
            CampaignKind::LandingPage => "landing_page",
        }
    }
}

impl FromStr for CampaignKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "direct_to_chat" => Ok(CampaignKind::DirectToChat),
            "landing_page" => Ok(CampaignKind::LandingPage),
            _ => Err(format!(
                "unknown kind `{s}`; expected direct_to_chat or landing_page"
            )),
        }
    }
}

/// Where the campaign's traffic comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Ads,
    Web,
    Offline,
    Social,
    Email,
    Other,
}

impl Channel {
    const ALL: [Channel; 6] = [
        Channel::Ads,
        Channel::Web,
        Channel::Offline,
        Channel::Social,
        Channel::Email,
        Channel::Other,
    ];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Ads => "ads",
            Channel::Web => "web",
            Channel::Offline => "offline",
            Channel::Social => "social",
            Channel::Email => "email",
            Channel::Other => "other",
        }
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown channel `{s}`; expected one of {}",
                    Channel::ALL.map(|c| c.as_str()).join(", ")
                )
            })
    }
}

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// A stored campaign as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub kind: CampaignKind,
    pub channel: Channel,
    pub currency: String,
    pub budget: Option<Money>,
    #[serde(with = "iso_date::option")]
    pub starts_on: Option<Date>,
    #[serde(with = "iso_date::option")]
    pub ends_on: Option<Date>,
    pub ad_ids: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What `POST /api/campaigns` and `chatref campaign create` accept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    pub kind: String,
    pub channel: Option<String>,
    pub currency: Option<String>,
    pub budget: Option<AmountInput>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    #[serde(default)]
    pub ad_ids: Vec<String>,
}

/// A validated campaign, ready to store.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub kind: CampaignKind,
    pub channel: Channel,
    pub currency: String,
    pub budget: Option<Money>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub ad_ids: Vec<String>,
}

/// A refused campaign field: which one (as the request names it) and why, so a form can
/// show the message next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidField {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> InvalidField {
    InvalidField {
        field,
        message: message.into(),
    }
}

impl NewCampaign {
    /// Validates every field; the error names the field at fault.
    pub fn parse(request: CampaignRequest) -> Result<Self, InvalidField> {
        let name = request.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(invalid("name", "name must be 1 to 200 characters"));
        }
        let kind = request.kind.parse().map_err(|e| invalid("kind", e))?;
        let channel = match request.channel {
            Some(c) => c.parse().map_err(|e| invalid("channel", e))?,
            None => Channel::Other,
        };
        let currency = request.currency.unwrap_or_else(|| "USD".into());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "currency",
                format!("currency `{currency}` is not an ISO 4217 code like USD"),
            ));
        }
        let budget = request
            .budget
            .map(|b| {
                b.parse()
                    .map_err(|e| invalid("budget", format!("budget: {e}")))
            })
            .transpose()?;
        let date = |field: &'static str, value: Option<String>| {
            value
                .map(|v| {
                    Date::parse(
                        &v,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .map_err(|_| {
                        invalid(
                            field,
                            format!("{field} `{v}` is not a date like 2026-11-23"),
                        )
                    })
                })
                .transpose()
        };
        let starts_on = date("starts_on", request.starts_on)?;
        let ends_on = date("ends_on", request.ends_on)?;
        if let (Some(s), Some(e)) = (starts_on, ends_on)
            && e < s
        {
            return Err(invalid("ends_on", "ends_on is before starts_on"));
        }
        let mut ad_ids = Vec::new();
        for ad_id in request.ad_ids {
            let ad_id = ad_id.trim().to_owned();
            if ad_id.is_empty() || ad_id.len() > 64 || !ad_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(
                    "ad_ids",
                    format!(
                        "ad id `{ad_id}` is not a Meta ad id or Click-to-WhatsApp source_id (digits)"
                    ),
                ));
            }
            if !ad_ids.contains(&ad_id) {
                ad_ids.push(ad_id);
            }
        }
        Ok(NewCampaign {
            name,
            kind,
            channel,
            currency,
            budget,
            starts_on,
            ends_on,
            ad_ids,
        })
    }
}

/// Why a campaign was not created.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Invalid(InvalidField),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates a campaign.
pub async fn create(db: &Db, request: CampaignRequest) -> Result<Campaign, CampaignError> {
    let campaign = NewCampaign::parse(request).map_err(CampaignError::Invalid)?;
    let stored = db.insert_campaign(&campaign).await?;
    tracing::info!(id = stored.id, "campaign created");
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_fields_are_checked() {
        let base = || CampaignRequest {
            name: "Summer".into(),
            kind: "direct_to_chat".into(),
            channel: None,
            currency: None,
            budget: None,
            starts_on: None,
            ends_on: None,
            ad_ids: vec![],
        };
        let ok = NewCampaign::parse(base()).unwrap();
        assert_eq!(ok.currency, "USD");
        assert_eq!(ok.channel, Channel::Other);
        let err = NewCampaign::parse(CampaignRequest {
            kind: "billboard".into(),
            ..base()
        })
        .unwrap_err();
        assert!(err.message.contains("direct_to_chat"));
        assert_eq!(err.field, "kind");
        let err = NewCampaign::parse(CampaignRequest {
            starts_on: Some("2026-12-01".into()),
            ends_on: Some("2026-11-01".into()),
            ..base()
        })
        .unwrap_err();
        assert!(err.message.contains("before"));
        assert_eq!(err.field, "ends_on");
        assert!(
            NewCampaign::parse(CampaignRequest {
                ad_ids: vec!["abc".into()],
                ..base()
            })
            .is_err()
        );
    }
}
