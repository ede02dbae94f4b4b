//! The funnel report's aggregates. The report area decides what counts (human clicks only,
//! which events are leads of which kind); this file runs the counting in SQL.
//!
//! Times are compared against the range's UTC instants. Two things differ by backend and
//! are kept side by side here: SQLite keeps times as RFC 3339 text whose fraction has a
//! varying length, so a bound is written so that text order equals time order
//! ([`TimeBound`]); and a local calendar day is computed from a fixed UTC offset per
//! segment of the range (the report area splits the range at DST changes), with SQLite's
//! `date(t, '+N seconds')` or PostgreSQL's interval arithmetic ([`OffsetSeconds`]).

use sqlx::{
    Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo},
    sqlite::{SqliteArgumentValue, SqliteTypeInfo},
};
use time::{Date, OffsetDateTime, format_description::FormatItem, macros::format_description};

use super::{Db, DbError, on_backend};

/// A range bound in time, bound as `timestamptz` on PostgreSQL and, on SQLite, as the text
/// `YYYY-MM-DDTHH:MM:SS.`: stored values sort against it exactly as their times do
/// (`…:00Z` and `…:00.5Z` both sort after `…:00.`, `…:59.9Z` of the second before sorts
/// before it). Bounds are whole seconds.
#[derive(Debug, Clone, Copy)]
pub struct TimeBound(pub OffsetDateTime);

const BOUND_TEXT: &[FormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].");

impl Type<Sqlite> for TimeBound {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for TimeBound {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        let utc = self.0.to_offset(time::UtcOffset::UTC);
        <String as Encode<'q, Sqlite>>::encode(utc.format(BOUND_TEXT)?, buf)
    }
}

impl Type<Postgres> for TimeBound {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for TimeBound {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

/// A UTC offset in seconds, bound as SQLite's `date()` modifier (`+3600 seconds`) or as
/// PostgreSQL's `double precision` seconds.
#[derive(Debug, Clone, Copy)]
pub struct OffsetSeconds(pub i64);

impl Type<Sqlite> for OffsetSeconds {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for OffsetSeconds {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(format!("{:+} seconds", self.0), buf)
    }
}

impl Type<Postgres> for OffsetSeconds {
    fn type_info() -> PgTypeInfo {
        <f64 as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for OffsetSeconds {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <f64 as Encode<'_, Postgres>>::encode_by_ref(&(self.0 as f64), buf)
    }
}

/// What a report counts over: a time range, campaigns, and optional platform and store.
#[derive(Debug, Clone)]
pub struct Scope {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// First and last calendar day (spend is kept per day).
    pub from: Date,
    pub to: Date,
    pub campaign_ids: Vec<i64>,
    /// The campaigns are every campaign there is: no campaign list is sent to the database
    /// (PostgreSQL spent seconds testing a 1,000-id `IN` list against every row).
    pub every_campaign: bool,
    pub platform: Option<String>,
    pub store: Option<String>,
}

impl Scope {
    /// The campaign ids to bind after the fixed parameters: none when the scope is every
    /// campaign.
    fn bound_ids(&self) -> &[i64] {
        if self.every_campaign {
            &[]
        } else {
            &self.campaign_ids
        }
    }
}

/// A part of the range with one UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub offset_seconds: i64,
}

/// A dimension to break clicks and leads down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Country,
    Device,
    Platform,
    Store,
    Method,
}

impl Dimension {
    /// The value of a click row (`k` click, `l` link, `a` account).
    fn of_click(self) -> &'static str {
        match self {
            Dimension::Country => "COALESCE(k.country, 'unknown')",
            Dimension::Device => "COALESCE(k.device, 'unknown')",
            Dimension::Platform => "COALESCE(a.platform, 'web')",
            Dimension::Store => "COALESCE(l.store, 'no store')",
            // Clicks have no attribution method; only leads are broken down by it.
            Dimension::Method => "'click'",
        }
    }

    /// The value of a lead row (`ld` lead, `k` its click, `l` link, `a` account).
    fn of_lead(self) -> &'static str {
        match self {
            Dimension::Country => "COALESCE(k.country, 'unknown')",
            Dimension::Device => "COALESCE(k.device, 'unknown')",
            Dimension::Platform => "COALESCE(a.platform, 'web')",
            Dimension::Store => "COALESCE(l.store, 'no store')",
            Dimension::Method => "COALESCE(ld.method, 'none')",
        }
    }
}

/// Per campaign: clicks of one class with their distinct visitors.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClassCount {
    pub campaign_id: i64,
    pub class: String,
    pub clicks: i64,
    pub visitors: i64,
}

/// Per campaign: events of one type (`page_view`, `form_lead`, `chat_lead`, `qualified`,
/// `purchase`) and their value.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventCount {
    pub campaign_id: i64,
    pub event: String,
    pub events: i64,
    pub value_micros: Option<i64>,
}

/// Per campaign: spend and impressions.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SpendSum {
    pub campaign_id: i64,
    pub amount_micros: i64,
    pub impressions: Option<i64>,
}

/// Per campaign and local day: spend, human clicks or leads.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayCount {
    pub campaign_id: i64,
    pub day: Date,
    pub count: i64,
}

/// Per campaign and dimension value: human clicks and leads.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SliceCount {
    pub campaign_id: i64,
    pub value: String,
    pub count: i64,
}

/// Leads of both kinds in one shape: first messages of direct-to-chat campaigns and form
/// leads of landing-page campaigns, each with its link, click and account.
const LEADS: &str = "(SELECT c.campaign_id, c.link_id, c.click_id, c.at, c.method, c.account_id \
       FROM conversions c JOIN campaigns cp ON cp.id = c.campaign_id \
       WHERE c.type = 'first_message' AND cp.kind = 'direct_to_chat' \
     UNION ALL \
     SELECT e.campaign_id, e.link_id, e.click_id, e.at, 'click_id', CAST(NULL AS BIGINT) \
       FROM page_events e JOIN campaigns cp ON cp.id = e.campaign_id \
       WHERE e.type = 'lead' AND cp.kind = 'landing_page') ld";

/// The filters every event query shares, after `$1` start and `$2` end: `$3` platform and
/// `$4` store (both optional), then the campaign ids. `campaign` is the campaign column.
fn filters(campaign: &str, ids: usize) -> String {
    let common =
        "AND ($3 IS NULL OR COALESCE(a.platform, 'web') = $3) AND ($4 IS NULL OR l.store = $4)";
    if ids == 0 {
        return common.to_owned();
    }
    let list: Vec<String> = (0..ids).map(|i| format!("${}", i + 5)).collect();
    format!("{common} AND {campaign} IN ({})", list.join(", "))
}

/// Runs `$sql` (which uses the `$1…` of [`filters`] and `$5…` campaign ids) over `$scope`
/// and collects rows of type `$row`.
macro_rules! scoped_query {
    ($db:expr, $scope:expr, $sql:expr, $row:ty) => {{
        let scope: &Scope = $scope;
        if scope.campaign_ids.is_empty() {
            Ok(Vec::new())
        } else {
            let sql: &str = $sql;
            on_backend!($db, pool => {
                let mut query = sqlx::query_as::<_, $row>(sql)
                    .bind(TimeBound(scope.start))
                    .bind(TimeBound(scope.end))
                    .bind(scope.platform.as_deref())
                    .bind(scope.store.as_deref());
                for id in scope.bound_ids() {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await
            })
            .map_err(DbError::from)
        }
    }};
}

impl Db {
    /// Spend and impressions per campaign over the scope's days.
    pub async fn report_spend(&self, scope: &Scope) -> Result<Vec<SpendSum>, DbError> {
        let rows: Vec<SpendSum> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT campaign_id, CAST(SUM(amount_micros) AS BIGINT) AS amount_micros, \
                        CAST(SUM(impressions) AS BIGINT) AS impressions \
                 FROM spend WHERE day >= $1 AND day <= $2 GROUP BY campaign_id",
            )
            .bind(scope.from)
            .bind(scope.to)
            .fetch_all(pool)
            .await
        })?;
        let chosen: std::collections::HashSet<i64> = scope.campaign_ids.iter().copied().collect();
        Ok(rows
            .into_iter()
            .filter(|r| chosen.contains(&r.campaign_id))
            .collect())
    }

    /// Spend per campaign and day.
    pub async fn report_spend_by_day(&self, scope: &Scope) -> Result<Vec<DayCount>, DbError> {
        let rows: Vec<DayCount> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT campaign_id, day, CAST(SUM(amount_micros) AS BIGINT) AS count \
                 FROM spend WHERE day >= $1 AND day <= $2 GROUP BY campaign_id, day",
            )
            .bind(scope.from)
            .bind(scope.to)
            .fetch_all(pool)
            .await
        })?;
        let chosen: std::collections::HashSet<i64> = scope.campaign_ids.iter().copied().collect();
        Ok(rows
            .into_iter()
            .filter(|r| chosen.contains(&r.campaign_id))
            .collect())
    }

    /// Clicks per campaign and class, with distinct visitors.
    pub async fn report_clicks(&self, scope: &Scope) -> Result<Vec<ClassCount>, DbError> {
        let sql = format!(
            "SELECT l.campaign_id, k.class, COUNT(*) AS clicks, COUNT(DISTINCT k.visitor) AS visitors \
             FROM clicks k JOIN links l ON l.id = k.link_id LEFT JOIN accounts a ON a.id = l.account_id \
             WHERE k.at >= $1 AND k.at < $2 {} GROUP BY l.campaign_id, k.class",
            filters("l.campaign_id", scope.bound_ids().len())
        );
        scoped_query!(self, scope, &sql, ClassCount)
    }

    /// Page views, leads of both kinds, qualified and purchases per campaign.
    pub async fn report_events(&self, scope: &Scope) -> Result<Vec<EventCount>, DbError> {
        let ids = scope.bound_ids().len();
        let sql = format!(
            "SELECT e.campaign_id, 'page_view' AS event, COUNT(*) AS events, CAST(NULL AS BIGINT) AS value_micros \
               FROM page_events e JOIN links l ON l.id = e.link_id LEFT JOIN accounts a ON a.id = l.account_id \
               WHERE e.type = 'page_view' AND e.at >= $1 AND e.at < $2 {f1} GROUP BY e.campaign_id \
             UNION ALL \
             SELECT ld.campaign_id, 'lead', COUNT(*), CAST(NULL AS BIGINT) \
               FROM {LEADS} LEFT JOIN links l ON l.id = ld.link_id \
               LEFT JOIN accounts a ON a.id = COALESCE(ld.account_id, l.account_id) \
               WHERE ld.at >= $1 AND ld.at < $2 {f2} GROUP BY ld.campaign_id \
             UNION ALL \
             SELECT c.campaign_id, c.type, COUNT(*), CAST(SUM(c.value_micros) AS BIGINT) \
               FROM conversions c LEFT JOIN links l ON l.id = c.link_id \
               LEFT JOIN accounts a ON a.id = COALESCE(c.account_id, l.account_id) \
               WHERE c.type IN ('qualified', 'purchase') AND c.at >= $1 AND c.at < $2 {f3} \
               GROUP BY c.campaign_id, c.type",
            f1 = filters("e.campaign_id", ids),
            f2 = filters("ld.campaign_id", ids),
            f3 = filters("c.campaign_id", ids),
        );
        scoped_query!(self, scope, &sql, EventCount)
    }

    /// Seconds from click to lead, per campaign, for leads joined to a stored click.
    pub async fn report_lead_delays(&self, scope: &Scope) -> Result<Vec<(i64, i64)>, DbError> {
        // Interval arithmetic differs: SQLite has julianday(), PostgreSQL EXTRACT(EPOCH).
        let delay = match self {
            Db::Sqlite { .. } => {
                "CAST(ROUND((julianday(ld.at) - julianday(k.at)) * 86400) AS INTEGER)"
            }
            Db::Postgres(_) => "CAST(EXTRACT(EPOCH FROM (ld.at - k.at)) AS BIGINT)",
        };
        let sql = format!(
            "SELECT ld.campaign_id, {delay} FROM {LEADS} JOIN clicks k ON k.click_id = ld.click_id \
             LEFT JOIN links l ON l.id = ld.link_id LEFT JOIN accounts a ON a.id = COALESCE(ld.account_id, l.account_id) \
             WHERE ld.at >= $1 AND ld.at < $2 {}",
            filters("ld.campaign_id", scope.bound_ids().len())
        );
        scoped_query!(self, scope, &sql, (i64, i64))
    }

    /// Human clicks and leads per campaign and local day, for one segment of the range.
    pub async fn report_days(
        &self,
        scope: &Scope,
        segment: Segment,
    ) -> Result<(Vec<DayCount>, Vec<DayCount>), DbError> {
        let day = |column: &str| match self {
            Db::Sqlite { .. } => format!("date({column}, $5)"),
            Db::Postgres(_) => {
                format!("CAST(({column} AT TIME ZONE 'UTC') + make_interval(secs => $5) AS DATE)")
            }
        };
        // The segment's bounds and offset take $1, $2 and $5; the campaign ids follow.
        let ids = scope.bound_ids().len();
        let in_list = |column: &str| {
            if ids == 0 {
                return String::new();
            }
            let list: Vec<String> = (0..ids).map(|i| format!("${}", i + 6)).collect();
            format!("AND {column} IN ({})", list.join(", "))
        };
        let common =
            "AND ($3 IS NULL OR COALESCE(a.platform, 'web') = $3) AND ($4 IS NULL OR l.store = $4)";
        let clicks_sql = format!(
            "SELECT l.campaign_id, {} AS day, COUNT(*) AS count \
             FROM clicks k JOIN links l ON l.id = k.link_id LEFT JOIN accounts a ON a.id = l.account_id \
             WHERE k.class = 'human' AND k.at >= $1 AND k.at < $2 {common} {} \
             GROUP BY l.campaign_id, {}",
            day("k.at"),
            in_list("l.campaign_id"),
            day("k.at")
        );
        let leads_sql = format!(
            "SELECT ld.campaign_id, {} AS day, COUNT(*) AS count \
             FROM {LEADS} LEFT JOIN links l ON l.id = ld.link_id \
             LEFT JOIN accounts a ON a.id = COALESCE(ld.account_id, l.account_id) \
             WHERE ld.at >= $1 AND ld.at < $2 {common} {} \
             GROUP BY ld.campaign_id, {}",
            day("ld.at"),
            in_list("ld.campaign_id"),
            day("ld.at")
        );
        if scope.campaign_ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut out = Vec::with_capacity(2);
        for sql in [clicks_sql, leads_sql] {
            let rows: Vec<DayCount> = on_backend!(self, pool => {
                let mut query = sqlx::query_as::<_, DayCount>(&sql)
                    .bind(TimeBound(segment.start))
                    .bind(TimeBound(segment.end))
                    .bind(scope.platform.as_deref())
                    .bind(scope.store.as_deref())
                    .bind(OffsetSeconds(segment.offset_seconds));
                for id in scope.bound_ids() {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await
            })?;
            out.push(rows);
        }
        let leads = out.pop().unwrap_or_default();
        let clicks = out.pop().unwrap_or_default();
        Ok((clicks, leads))
    }

    /// Human clicks and leads per campaign and value of `dimension`.
    pub async fn report_slices(
        &self,
        scope: &Scope,
        dimension: Dimension,
    ) -> Result<(Vec<SliceCount>, Vec<SliceCount>), DbError> {
        let ids = scope.bound_ids().len();
        let clicks_sql = format!(
            "SELECT l.campaign_id, {value} AS value, COUNT(*) AS count \
             FROM clicks k JOIN links l ON l.id = k.link_id LEFT JOIN accounts a ON a.id = l.account_id \
             WHERE k.class = 'human' AND k.at >= $1 AND k.at < $2 {f} GROUP BY l.campaign_id, {value}",
            value = dimension.of_click(),
            f = filters("l.campaign_id", ids),
        );
        let leads_sql = format!(
            "SELECT ld.campaign_id, {value} AS value, COUNT(*) AS count \
             FROM {LEADS} LEFT JOIN clicks k ON k.click_id = ld.click_id LEFT JOIN links l ON l.id = ld.link_id \
             LEFT JOIN accounts a ON a.id = COALESCE(ld.account_id, l.account_id) \
             WHERE ld.at >= $1 AND ld.at < $2 {f} GROUP BY ld.campaign_id, {value}",
            value = dimension.of_lead(),
            f = filters("ld.campaign_id", ids),
        );
        let clicks = if dimension == Dimension::Method {
            Vec::new()
        } else {
            scoped_query!(self, scope, &clicks_sql, SliceCount)?
        };
        let leads = scoped_query!(self, scope, &leads_sql, SliceCount)?;
        Ok((clicks, leads))
    }
}
