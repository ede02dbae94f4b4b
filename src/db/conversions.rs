//! Conversions posted after the first message: `qualified` and `purchase`.

use time::OffsetDateTime;

use super::{Db, DbError, on_backend};
use crate::money::Money;

/// Who a later conversion belongs to.
pub enum ConversionSubject {
    /// A click id (the 12-character id, as landing pages receive it in their click tag).
    Click(String),
    /// A contact by platform and platform user id.
    Contact { platform: String, user: String },
}

/// A stored later conversion.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Conversion {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub campaign_id: Option<i64>,
    pub link_id: Option<i64>,
    pub click_id: Option<String>,
    pub value: Option<Money>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Why a conversion could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Ambiguous(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl Db {
    /// Records a `qualified` or `purchase` conversion for a click or a contact, attributed
    /// like the contact's (or the click's) first touch.
    pub async fn insert_conversion(
        &self,
        kind: &str,
        value: Option<Money>,
        subject: &ConversionSubject,
    ) -> Result<Conversion, ConversionError> {
        let at = crate::clicks::now();
        type Source = (
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<String>,
        );
        let found: Vec<Source> = on_backend!(self, pool => match subject {
            ConversionSubject::Click(click_id) => sqlx::query_as(
                "SELECT CAST(NULL AS BIGINT) AS account_id, CAST(NULL AS TEXT) AS platform_user, l.campaign_id, k.link_id, k.click_id \
                 FROM clicks k JOIN links l ON l.id = k.link_id WHERE k.click_id = $1",
            )
            .bind(click_id)
            .fetch_all(pool)
            .await,
            ConversionSubject::Contact { platform, user } => sqlx::query_as(
                "SELECT account_id, platform_user, campaign_id, link_id, click_id FROM contacts \
                 WHERE platform = $1 AND platform_user = $2",
            )
            .bind(platform)
            .bind(user)
            .fetch_all(pool)
            .await,
        })
        .map_err(DbError::from)?;
        let (account_id, user, campaign_id, link_id, click_id) = match found.len() {
            0 => {
                return Err(ConversionError::NotFound(match subject {
                    ConversionSubject::Click(id) => format!("no click with id {id}"),
                    ConversionSubject::Contact { platform, user } => {
                        format!("no {platform} contact {user}")
                    }
                }));
            }
            1 => found.into_iter().next().expect("one row"),
            _ => {
                return Err(ConversionError::Ambiguous(
                    "this contact id exists on several accounts; give the click_id instead".into(),
                ));
            }
        };
        let id: i64 = on_backend!(self, write pool => {
            sqlx::query_scalar(
                "INSERT INTO conversions (type, at, account_id, platform_user, campaign_id, link_id, click_id, value_micros) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(kind)
            .bind(at)
            .bind(account_id)
            .bind(&user)
            .bind(campaign_id)
            .bind(link_id)
            .bind(&click_id)
            .bind(value.map(Money::micros))
            .fetch_one(pool)
            .await
        })
        .map_err(DbError::from)?;
        Ok(Conversion {
            id,
            kind: kind.to_owned(),
            campaign_id,
            link_id,
            click_id,
            value,
            at,
        })
    }
}
