//! Conversions after the first message: a contact `qualified` or made a `purchase`, posted
//! by the business with a click id or a contact. Each is attributed like the click's, or the
//! contact's, first touch.
//!
//! The rules:
//! - The subject is a click (its 12-character id, or the whole click tag a landing page
//!   received) or a contact (platform + platform user id).
//! - A contact id that exists on several accounts of the same platform is ambiguous: the
//!   caller must give the click id instead, rather than us guessing the account.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    db::{ConversionSource, Db, DbError},
    links::{ClickId, RefTag, TagKey},
    money::{AmountInput, Money},
    platforms::Platform,
};

/// A conversion posted after the first message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversionKind {
    Qualified,
    Purchase,
}

impl ConversionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversionKind::Qualified => "qualified",
            ConversionKind::Purchase => "purchase",
        }
    }
}

impl std::str::FromStr for ConversionKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "qualified" => Ok(ConversionKind::Qualified),
            "purchase" => Ok(ConversionKind::Purchase),
            other => Err(format!("type `{other}` is not qualified or purchase")),
        }
    }
}

/// Who a conversion belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversionSubject {
    /// A click, by its click id.
    Click(ClickId),
    /// A contact by platform and platform user id.
    Contact { platform: Platform, user: String },
}

/// What `POST /api/conversions` accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionRequest {
    pub click_id: Option<String>,
    pub platform: Option<String>,
    pub contact_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Option<AmountInput>,
}

/// A stored later conversion.
#[derive(Debug, Clone, Serialize)]
pub struct Conversion {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: ConversionKind,
    pub campaign_id: Option<i64>,
    pub link_id: Option<i64>,
    pub click_id: Option<String>,
    pub value: Option<Money>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Why a conversion was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Ambiguous(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A validated conversion request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversion {
    pub kind: ConversionKind,
    pub value: Option<Money>,
    pub subject: ConversionSubject,
}

impl NewConversion {
    /// Checks a request; `key` verifies a whole click tag given as `click_id`.
    pub fn parse(request: ConversionRequest, key: &TagKey) -> Result<Self, ConversionError> {
        let kind = request.kind.parse().map_err(ConversionError::Invalid)?;
        let value = request
            .value
            .map(|v| {
                v.parse()
                    .map_err(|e| ConversionError::Invalid(format!("value: {e}")))
            })
            .transpose()?;
        let subject = match (request.click_id, request.platform, request.contact_id) {
            (Some(click), None, None) => ClickId::parse(&click)
                .or_else(|| RefTag::verify(key, &click).and_then(|t| t.click_id))
                .map(ConversionSubject::Click)
                .ok_or_else(|| ConversionError::Invalid(format!("`{click}` is not a click id")))?,
            (None, Some(platform), Some(user)) => ConversionSubject::Contact {
                platform: platform.parse().map_err(ConversionError::Invalid)?,
                user,
            },
            _ => {
                return Err(ConversionError::Invalid(
                    "give either click_id, or platform and contact_id".into(),
                ));
            }
        };
        Ok(NewConversion {
            kind,
            value,
            subject,
        })
    }
}

/// Records a conversion, attributed like its click's or contact's first touch.
pub async fn record(
    db: &Db,
    conversion: NewConversion,
    at: OffsetDateTime,
) -> Result<Conversion, ConversionError> {
    let found = db.conversion_sources(&conversion.subject).await?;
    let source = only_source(&conversion.subject, found)?;
    let id = db
        .insert_conversion(conversion.kind, conversion.value, &source, at)
        .await?;
    Ok(Conversion {
        id,
        kind: conversion.kind,
        campaign_id: source.campaign_id,
        link_id: source.link_id,
        click_id: source.click_id,
        value: conversion.value,
        at,
    })
}

/// The one source a subject has: none is "not found", several (one contact id on several
/// accounts) is ambiguous.
fn only_source(
    subject: &ConversionSubject,
    mut found: Vec<ConversionSource>,
) -> Result<ConversionSource, ConversionError> {
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(ConversionError::NotFound(match subject {
            ConversionSubject::Click(id) => format!("no click with id {}", id.as_str()),
            ConversionSubject::Contact { platform, user } => {
                format!("no {platform} contact {user}")
            }
        })),
        _ => Err(ConversionError::Ambiguous(
            "this contact id exists on several accounts; give the click_id instead".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{links::LinkCode, secret::Secret};

    fn request(
        click: Option<&str>,
        platform: Option<&str>,
        contact: Option<&str>,
    ) -> ConversionRequest {
        ConversionRequest {
            click_id: click.map(Into::into),
            platform: platform.map(Into::into),
            contact_id: contact.map(Into::into),
            kind: "purchase".into(),
            value: Some(AmountInput::Text("19.90".into())),
        }
    }

    #[test]
    fn a_click_id_or_a_whole_click_tag_names_the_click() {
        let key = TagKey::new(&Secret::new("k"));
        let click = ClickId::generate();
        let tag = RefTag::for_click(&key, &LinkCode::generate(), &click);
        for given in [click.as_str().to_owned(), tag] {
            let parsed = NewConversion::parse(request(Some(&given), None, None), &key).unwrap();
            assert_eq!(parsed.subject, ConversionSubject::Click(click.clone()));
            assert_eq!(parsed.kind, ConversionKind::Purchase);
            assert_eq!(parsed.value, Some("19.90".parse().unwrap()));
        }
    }

    #[test]
    fn requests_name_exactly_one_subject_and_a_known_type() {
        let key = TagKey::new(&Secret::new("k"));
        for bad in [
            request(None, None, None),
            request(Some("x"), Some("telegram"), Some("1")),
            request(None, Some("telegram"), None),
            request(None, Some("kik"), Some("1")),
            request(Some("not-a-click"), None, None),
        ] {
            assert!(matches!(
                NewConversion::parse(bad, &key),
                Err(ConversionError::Invalid(_))
            ));
        }
        let mut wrong_type = request(None, Some("telegram"), Some("1"));
        wrong_type.kind = "lead".into();
        assert!(NewConversion::parse(wrong_type, &key).is_err());
    }

    #[test]
    fn a_contact_on_several_accounts_is_ambiguous() {
        let subject = ConversionSubject::Contact {
            platform: Platform::Telegram,
            user: "42".into(),
        };
        let source = ConversionSource {
            account_id: Some(1),
            platform_user: Some("42".into()),
            campaign_id: Some(3),
            link_id: None,
            click_id: None,
        };
        assert!(matches!(
            only_source(&subject, vec![]),
            Err(ConversionError::NotFound(m)) if m == "no telegram contact 42"
        ));
        assert_eq!(only_source(&subject, vec![source.clone()]).unwrap(), source);
        assert!(matches!(
            only_source(&subject, vec![source.clone(), source]),
            Err(ConversionError::Ambiguous(_))
        ));
    }
}
