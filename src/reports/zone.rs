//! The report time zone: reports count calendar days in one IANA zone
//! (`CHATREF_TIMEZONE`, default UTC), the same for spend and for events, since ad platforms
//! bill by the ad account's day.

use jiff::{Timestamp, tz::TimeZone};
use time::{Date, Duration, OffsetDateTime};

use crate::db::reports::Segment;

/// A named IANA time zone with its rules (bundled, so every machine agrees).
#[derive(Debug, Clone)]
pub struct ReportZone {
    name: String,
    tz: TimeZone,
}

impl Default for ReportZone {
    fn default() -> Self {
        ReportZone {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }
}

impl PartialEq for ReportZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl ReportZone {
    /// Looks up an IANA name such as `America/Sao_Paulo`.
    pub fn parse(name: &str) -> Result<Self, String> {
        let name = name.trim();
        let tz = TimeZone::get(name)
            .map_err(|_| format!("`{name}` is not an IANA time zone like America/Sao_Paulo"))?;
        Ok(ReportZone {
            name: name.to_owned(),
            tz,
        })
    }

    /// The zone's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant a calendar day starts in this zone (the first instant that exists, when
    /// a DST change skips midnight).
    pub fn start_of(&self, date: Date) -> OffsetDateTime {
        let civil = jiff::civil::date(date.year() as i16, date.month() as i8, date.day() as i8);
        let seconds = civil
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp().as_second())
            .unwrap_or_else(|_| {
                (date.midnight().assume_utc()).unix_timestamp()
                    - i64::from(self.offset_at(date.midnight().assume_utc()))
            });
        OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The calendar day an instant falls on in this zone.
    pub fn date_of(&self, at: OffsetDateTime) -> Date {
        (at + Duration::seconds(i64::from(self.offset_at(at)))).date()
    }

    /// Today in this zone.
    pub fn today(&self) -> Date {
        self.date_of(OffsetDateTime::now_utc())
    }

    fn offset_at(&self, at: OffsetDateTime) -> i32 {
        Timestamp::from_second(at.unix_timestamp())
            .map(|ts| self.tz.to_offset(ts).seconds())
            .unwrap_or(0)
    }

    /// Splits `[start, end)` where the zone's UTC offset changes, so each part maps instants
    /// to days with one fixed offset.
    pub fn segments(&self, start: OffsetDateTime, end: OffsetDateTime) -> Vec<Segment> {
        let mut out = Vec::new();
        let Ok(first) = Timestamp::from_second(start.unix_timestamp()) else {
            return out;
        };
        let mut cursor = start;
        let mut offset = self.offset_at(start);
        for transition in self.tz.following(first) {
            let at = OffsetDateTime::from_unix_timestamp(transition.timestamp().as_second())
                .unwrap_or(end);
            if at >= end {
                break;
            }
            if at > cursor {
                out.push(Segment {
                    start: cursor,
                    end: at,
                    offset_seconds: i64::from(offset),
                });
                cursor = at;
            }
            offset = transition.offset().seconds();
        }
        if cursor < end {
            out.push(Segment {
                start: cursor,
                end,
                offset_seconds: i64::from(offset),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn days_start_at_local_midnight() {
        let sp = ReportZone::parse("America/Sao_Paulo").unwrap();
        assert_eq!(
            sp.start_of(date!(2026 - 11 - 05)),
            datetime!(2026-11-05 03:00 UTC)
        );
        assert_eq!(
            sp.date_of(datetime!(2026-11-05 02:59:59 UTC)),
            date!(2026 - 11 - 04)
        );
        assert_eq!(
            sp.date_of(datetime!(2026-11-05 03:00 UTC)),
            date!(2026 - 11 - 05)
        );
        let utc = ReportZone::default();
        assert_eq!(
            utc.start_of(date!(2026 - 11 - 05)),
            datetime!(2026-11-05 00:00 UTC)
        );
        let kolkata = ReportZone::parse("Asia/Kolkata").unwrap();
        assert_eq!(
            kolkata.start_of(date!(2026 - 11 - 05)),
            datetime!(2026-11-04 18:30 UTC)
        );
    }

    #[test]
    fn a_range_is_split_where_daylight_saving_changes() {
        let ny = ReportZone::parse("America/New_York").unwrap();
        let start = ny.start_of(date!(2026 - 10 - 31));
        let end = ny.start_of(date!(2026 - 11 - 03));
        let segments = ny.segments(start, end);
        assert_eq!(segments.len(), 2, "{segments:?}");
        assert_eq!(segments[0].offset_seconds, -4 * 3600);
        assert_eq!(segments[1].offset_seconds, -5 * 3600);
        assert_eq!(segments[0].end, datetime!(2026-11-01 06:00 UTC));
        assert_eq!((segments[0].start, segments[1].end), (start, end));
        assert_eq!(ReportZone::default().segments(start, end).len(), 1);
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(ReportZone::parse("Mars/Olympus").is_err());
        assert!(ReportZone::parse("").is_err());
    }
}
