//! Conversions posted after the first message: where their subject came from, and the row.

use sqlx::FromRow;
use time::OffsetDateTime;

use super::{Db, DbError, on_backend};
use crate::{
    conversions::{ConversionKind, ConversionSubject},
    money::Money,
};

/// Where a conversion's subject came from: its account and user when it is a contact, and
/// the campaign, link and click of its first touch.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ConversionSource {
    pub account_id: Option<i64>,
    pub platform_user: Option<String>,
    pub campaign_id: Option<i64>,
    pub link_id: Option<i64>,
    pub click_id: Option<String>,
}

impl Db {
    /// Every source matching a subject: at most one for a click, one per account for a
    /// contact id.
    pub async fn conversion_sources(
        &self,
        subject: &ConversionSubject,
    ) -> Result<Vec<ConversionSource>, DbError> {
        Ok(on_backend!(self, pool => match subject {
            ConversionSubject::Click(click_id) => sqlx::query_as(
                "SELECT CAST(NULL AS BIGINT) AS account_id, CAST(NULL AS TEXT) AS platform_user, l.campaign_id, k.link_id, k.click_id \
                 FROM clicks k JOIN links l ON l.id = k.link_id WHERE k.click_id = $1",
            )
            .bind(click_id.as_str())
            .fetch_all(pool)
            .await,
            ConversionSubject::Contact { platform, user } => sqlx::query_as(
                "SELECT account_id, platform_user, campaign_id, link_id, click_id FROM contacts \
                 WHERE platform = $1 AND platform_user = $2 ORDER BY account_id",
            )
            .bind(platform.as_str())
            .bind(user)
            .fetch_all(pool)
            .await,
        })?)
    }

    /// Stores a later conversion with its source's attribution; returns its id.
    pub async fn insert_conversion(
        &self,
        kind: ConversionKind,
        value: Option<Money>,
        source: &ConversionSource,
        at: OffsetDateTime,
    ) -> Result<i64, DbError> {
        Ok(on_backend!(self, write pool => {
            sqlx::query_scalar(
                "INSERT INTO conversions (type, at, account_id, platform_user, campaign_id, link_id, click_id, value_micros) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(kind.as_str())
            .bind(at)
            .bind(source.account_id)
            .bind(&source.platform_user)
            .bind(source.campaign_id)
            .bind(source.link_id)
            .bind(&source.click_id)
            .bind(value.map(Money::micros))
            .fetch_one(pool)
            .await
        })?)
    }
}
