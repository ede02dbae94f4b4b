//! Click geography from a MaxMind-format database: the bundled country database by default,
//! or a GeoLite2/GeoIP2 City database for region and city.

use std::{collections::BTreeMap, net::IpAddr, path::Path};

use serde::Deserialize;

/// Where a click came from; every part optional (private addresses, country-only data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoInfo {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
}

/// A database that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open GeoIP database {path}: {cause}")]
pub struct GeoError {
    path: String,
    // Not `source`: the message carries it, and a chain printer would repeat it.
    cause: maxminddb::MaxMindDbError,
}

/// Looks up addresses; without a database every answer is empty.
pub struct GeoIp {
    reader: Option<maxminddb::Reader<Vec<u8>>>,
}

/// The fields we read, covering both record shapes: ip-location-db's flat `country_code` and
/// MaxMind's nested `country.iso_code`, `subdivisions[].iso_code`, `city.names.en`.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country_code: Option<&'a str>,
    #[serde(borrow)]
    country: Option<Named<'a>>,
    #[serde(borrow)]
    subdivisions: Option<Vec<Named<'a>>>,
    #[serde(borrow)]
    city: Option<Named<'a>>,
}

#[derive(Deserialize)]
struct Named<'a> {
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<BTreeMap<&'a str, &'a str>>,
}

impl Named<'_> {
    fn english_name(&self) -> Option<String> {
        self.names
            .as_ref()
            .and_then(|n| n.get("en"))
            .map(|s| s.to_string())
    }
}

impl GeoIp {
    /// Opens the database at `path`, or none.
    pub fn open(path: Option<&Path>) -> Result<Self, GeoError> {
        let reader = path
            .map(|p| {
                maxminddb::Reader::open_readfile(p).map_err(|cause| GeoError {
                    path: p.display().to_string(),
                    cause,
                })
            })
            .transpose()?;
        Ok(GeoIp { reader })
    }

    /// The database's type, e.g. `GeoLite2-City`, for the start-up log.
    pub fn database_type(&self) -> Option<&str> {
        self.reader
            .as_ref()
            .map(|r| r.metadata().database_type.as_str())
    }

    /// Country (ISO code), region and city of an address, as far as the database knows.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let Some(reader) = &self.reader else {
            return GeoInfo::default();
        };
        // `::ffff:a.b.c.d` from a dual-stack listener finds nothing unless made canonical.
        let Ok(result) = reader.lookup(ip.to_canonical()) else {
            return GeoInfo::default();
        };
        let Ok(Some(record)) = result.decode::<Record>() else {
            return GeoInfo::default();
        };
        let country = record
            .country_code
            .or_else(|| record.country.as_ref().and_then(|c| c.iso_code))
            .map(str::to_owned);
        let region = record
            .subdivisions
            .as_ref()
            .and_then(|s| s.first())
            .and_then(|s| s.iso_code.map(str::to_owned).or_else(|| s.english_name()));
        let city = record.city.as_ref().and_then(Named::english_name);
        GeoInfo {
            country,
            region,
            city,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_database_means_no_answers() {
        let geo = GeoIp::open(None).unwrap();
        assert_eq!(geo.lookup("1.1.1.1".parse().unwrap()), GeoInfo::default());
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let err = GeoIp::open(Some(Path::new("/nonexistent/x.mmdb")))
            .err()
            .unwrap();
        assert!(err.to_string().contains("/nonexistent/x.mmdb"));
    }

    #[test]
    fn the_bundled_database_knows_countries() {
        let geo = GeoIp::open(Some(Path::new(crate::config::BUNDLED_GEOIP_DB))).unwrap();
        let answer = geo.lookup("1.1.1.1".parse().unwrap());
        assert_eq!(answer.country.as_deref(), Some("AU"));
        let mapped = geo.lookup("::ffff:1.1.1.1".parse().unwrap());
        assert_eq!(mapped.country.as_deref(), Some("AU"));
        assert_eq!(geo.lookup("127.0.0.1".parse().unwrap()).country, None);
    }
}
