//! Settings: defaults that work on a laptop, overridden by an optional TOML file, overridden
//! in turn by `CHATREF_*` environment variables (DESIGN.md §4).

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use url::Url;

use crate::{reports::ReportZone, retention::RetentionDays, secret::Secret, serve::Limits};

/// Default path of the country database that ships with the project.
pub const BUNDLED_GEOIP_DB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/geoip/geo-whois-asn-country.mmdb"
);

/// Everything the service and the CLI need to start.
#[derive(Clone)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// `sqlite://…` (embedded default) or `postgres://…`.
    pub database_url: String,
    /// Origin used in short links and QR codes, without a trailing slash.
    pub public_url: Url,
    /// MaxMind-format database for click geography; `None` disables geo lookups.
    pub geoip_db: Option<PathBuf>,
    /// Bearer token accepted as admin; without it the API refuses every request.
    pub admin_token: Option<Secret>,
    /// Key for ref-tag MACs and visitor hashes; generated and stored in the database if unset.
    pub secret: Option<Secret>,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded: bool,
    /// Capacity of the click queue between the redirect and the writer.
    pub click_queue: usize,
    /// The IANA zone whose calendar days reports count (`CHATREF_TIMEZONE`, default UTC).
    pub timezone: ReportZone,
    /// Header-read timeout and connection cap (`CHATREF_HEADER_TIMEOUT_SECS`,
    /// `CHATREF_MAX_CONNECTIONS`).
    pub limits: Limits,
    /// How long raw webhook payloads that created nothing are kept
    /// (`CHATREF_RAW_RETENTION_DAYS`, default 30, `0` forever).
    pub raw_retention: RetentionDays,
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The message names the line but never quotes it: it may hold a password.
    #[error("config file {path} is not valid TOML{}: {message}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    ParseFile {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
}

/// The TOML file form: the same names as the variables, lower case, without the prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    database_url: Option<String>,
    public_url: Option<String>,
    geoip_db: Option<String>,
    admin_token: Option<String>,
    secret: Option<String>,
    trust_forwarded: Option<bool>,
    click_queue: Option<usize>,
    timezone: Option<String>,
    header_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    raw_retention_days: Option<i64>,
}

impl Config {
    /// Reads the optional file, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("CHATREF_"))
            .collect();
        Self::from_sources(file, &env)
    }

    /// Builds the configuration from a file and an explicit variable map (testable without
    /// touching the process environment).
    pub fn from_sources(
        file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let file_config = match file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
                        path: path.to_owned(),
                        source,
                    })?;
                toml::from_str(&text).map_err(|e: toml::de::Error| ConfigError::ParseFile {
                    path: path.to_owned(),
                    line: e
                        .span()
                        .map(|span| text[..span.start.min(text.len())].lines().count().max(1)),
                    message: e.message().to_owned(),
                })?
            }
            None => FileConfig::default(),
        };
        let pick = |var: &str, from_file: Option<String>| -> Option<String> {
            env.get(var)
                .cloned()
                .or(from_file)
                .filter(|v| !v.trim().is_empty())
        };

        let bind_text = pick("CHATREF_BIND", file_config.bind).unwrap_or("127.0.0.1:8080".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| ConfigError::Invalid {
            name: "CHATREF_BIND",
            message: format!("`{bind_text}` is not an address like 127.0.0.1:8080"),
        })?;

        // Set but empty is a mistake, not a request for a new ./chatref.db.
        let given = env
            .get("CHATREF_DATABASE_URL")
            .cloned()
            .or(file_config.database_url);
        if given.as_ref().is_some_and(|url| url.trim().is_empty()) {
            return Err(ConfigError::Invalid {
                name: "CHATREF_DATABASE_URL",
                message: "is set but empty; unset it for the default sqlite://chatref.db".into(),
            });
        }
        let database_url = given
            .map(|url| url.trim().to_owned())
            .unwrap_or_else(|| "sqlite://chatref.db".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "CHATREF_DATABASE_URL",
                message: format!(
                    "`{}` must start with sqlite: or postgres://",
                    redacted_url(&database_url)
                ),
            });
        }

        let public_text = pick("CHATREF_PUBLIC_URL", file_config.public_url)
            .unwrap_or_else(|| format!("http://{bind}"));
        let public_url = parse_public_url(&public_text)?;

        let geoip_db = match pick("CHATREF_GEOIP_DB", file_config.geoip_db).as_deref() {
            Some("off") | Some("none") => None,
            Some(path) => Some(PathBuf::from(path)),
            None => Some(PathBuf::from(BUNDLED_GEOIP_DB)),
        };

        let trust_forwarded = match env.get("CHATREF_TRUST_FORWARDED") {
            Some(v) => parse_bool("CHATREF_TRUST_FORWARDED", v)?,
            None => file_config.trust_forwarded.unwrap_or(false),
        };
        let click_queue = match env.get("CHATREF_CLICK_QUEUE") {
            Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
                name: "CHATREF_CLICK_QUEUE",
                message: format!("`{v}` is not a whole number"),
            })?,
            None => file_config.click_queue.unwrap_or(65_536),
        };
        if click_queue == 0 {
            return Err(ConfigError::Invalid {
                name: "CHATREF_CLICK_QUEUE",
                message: "must be at least 1".into(),
            });
        }

        let timezone = match pick("CHATREF_TIMEZONE", file_config.timezone) {
            Some(name) => ReportZone::parse(&name).map_err(|message| ConfigError::Invalid {
                name: "CHATREF_TIMEZONE",
                message,
            })?,
            None => ReportZone::default(),
        };

        let whole = |name: &'static str, value: &str| -> Result<u64, ConfigError> {
            value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Invalid {
                    name,
                    message: format!("`{value}` is not a whole number above 0"),
                })
        };
        let defaults = Limits::default();
        let header_timeout = match env.get("CHATREF_HEADER_TIMEOUT_SECS") {
            Some(v) => whole("CHATREF_HEADER_TIMEOUT_SECS", v)?,
            None => file_config
                .header_timeout_secs
                .unwrap_or(defaults.header_timeout.as_secs()),
        };
        let max_connections = match env.get("CHATREF_MAX_CONNECTIONS") {
            Some(v) => whole("CHATREF_MAX_CONNECTIONS", v)? as usize,
            None => file_config
                .max_connections
                .unwrap_or(defaults.max_connections),
        };
        let limits = Limits {
            header_timeout: std::time::Duration::from_secs(header_timeout.max(1)),
            max_connections: max_connections.max(1),
        };

        let raw_retention = match env.get("CHATREF_RAW_RETENTION_DAYS") {
            Some(v) => Some(v.clone()),
            None => file_config.raw_retention_days.map(|days| days.to_string()),
        }
        .map(|days| RetentionDays::parse(&days))
        .transpose()
        .map_err(|message| ConfigError::Invalid {
            name: "CHATREF_RAW_RETENTION_DAYS",
            message,
        })?
        .unwrap_or(RetentionDays::DEFAULT);

        Ok(Config {
            bind,
            database_url,
            public_url,
            geoip_db,
            admin_token: pick("CHATREF_ADMIN_TOKEN", file_config.admin_token).map(Secret::new),
            secret: pick("CHATREF_SECRET", file_config.secret).map(Secret::new),
            trust_forwarded,
            click_queue,
            timezone,
            limits,
            raw_retention,
        })
    }

    /// The short link of a code, e.g. `https://go.example.com/r/Ab3dE9xQ`.
    pub fn short_url(&self, code: &str) -> String {
        format!(
            "{}/r/{code}",
            self.public_url.as_str().trim_end_matches('/')
        )
    }

    /// What a printed QR code of a link encodes: the short link marked as a scan.
    pub fn qr_url(&self, code: &str) -> String {
        format!("{}?via=qr", self.short_url(code))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &redacted_url(&self.database_url))
            .field("public_url", &self.public_url.as_str())
            .field("geoip_db", &self.geoip_db)
            .field("admin_token", &self.admin_token)
            .field("secret", &self.secret)
            .field("trust_forwarded", &self.trust_forwarded)
            .field("click_queue", &self.click_queue)
            .field("timezone", &self.timezone.name())
            .field("limits", &self.limits)
            .field("raw_retention_days", &self.raw_retention.days())
            .finish()
    }
}

/// A database URL fit to print: the password (and any `password=` parameter) replaced.
pub fn redacted_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        // Not a URL: show only the scheme-like prefix.
        return url.split(['/', '@']).next().unwrap_or_default().to_owned() + "…";
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let hidden =
                k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("sslpassword");
            (
                k.into_owned(),
                if hidden { "***".into() } else { v.into_owned() },
            )
        })
        .collect();
    if !pairs.is_empty() {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

fn parse_public_url(text: &str) -> Result<Url, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        name: "CHATREF_PUBLIC_URL",
        message,
    };
    let url = Url::parse(text).map_err(|e| invalid(format!("`{text}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(format!("`{text}` must be an http(s) origin")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "`{text}` must not carry a query or fragment"
        )));
    }
    Ok(url)
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name,
            message: format!("`{value}` is not true or false"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_work_without_any_setting() {
        let config = Config::from_sources(None, &env(&[])).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url, "sqlite://chatref.db");
        assert_eq!(config.short_url("abc"), "http://127.0.0.1:8080/r/abc");
        assert_eq!(config.geoip_db.unwrap(), PathBuf::from(BUNDLED_GEOIP_DB));
        assert!(config.admin_token.is_none());
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chatref.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\npublic_url = \"https://file.example\"\n",
        )
        .unwrap();
        let config = Config::from_sources(
            Some(&path),
            &env(&[("CHATREF_PUBLIC_URL", "https://go.example.com/")]),
        )
        .unwrap();
        assert_eq!(config.bind.port(), 9000);
        assert_eq!(config.short_url("x"), "https://go.example.com/r/x");
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("CHATREF_BIND", "localhost"),
            ("CHATREF_PUBLIC_URL", "ftp://x"),
            ("CHATREF_DATABASE_URL", "mysql://x"),
            ("CHATREF_CLICK_QUEUE", "0"),
        ] {
            let err = Config::from_sources(None, &env(&[(var, value)])).unwrap_err();
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn passwords_never_reach_a_message_or_a_debug_print() {
        let url = "postgres://chatref:hunter2@db.example:5432/chatref?password=hunter2";
        let config = Config::from_sources(None, &env(&[("CHATREF_DATABASE_URL", url)])).unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("db.example:5432"), "{printed}");
        let err = Config::from_sources(
            None,
            &env(&[("CHATREF_DATABASE_URL", "mysql://root:hunter2@db/x")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            !err.contains("hunter2") && err.contains("CHATREF_DATABASE_URL"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chatref.toml");
        std::fs::write(
            &file,
            "database_url = \"postgres://u:hunter2@h/db\"\nbind = [\n",
        )
        .unwrap();
        let err = Config::from_sources(Some(&file), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2") && err.contains("line"), "{err}");
    }

    #[test]
    fn an_empty_database_url_is_an_error_not_a_new_file() {
        let err = Config::from_sources(None, &env(&[("CHATREF_DATABASE_URL", " ")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn the_report_time_zone_is_an_iana_name() {
        let config =
            Config::from_sources(None, &env(&[("CHATREF_TIMEZONE", "America/Sao_Paulo")])).unwrap();
        assert_eq!(config.timezone.name(), "America/Sao_Paulo");
        assert!(Config::from_sources(None, &env(&[("CHATREF_TIMEZONE", "GMT+3x")])).is_err());
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "bnid = \"127.0.0.1:1\"\n").unwrap();
        assert!(matches!(
            Config::from_sources(Some(&path), &env(&[])),
            Err(ConfigError::ParseFile { .. })
        ));
    }

    #[test]
    fn raw_retention_comes_from_the_file_or_the_environment() {
        let days = |config: Config| config.raw_retention.days();
        assert_eq!(days(Config::from_sources(None, &env(&[])).unwrap()), 30);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "raw_retention_days = 7\n").unwrap();
        assert_eq!(
            days(Config::from_sources(Some(&path), &env(&[])).unwrap()),
            7
        );
        let forever = env(&[("CHATREF_RAW_RETENTION_DAYS", "0")]);
        assert_eq!(
            days(Config::from_sources(Some(&path), &forever).unwrap()),
            0
        );
        for bad in ["-3", "a month", "", "1e3"] {
            let err = Config::from_sources(None, &env(&[("CHATREF_RAW_RETENTION_DAYS", bad)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("CHATREF_RAW_RETENTION_DAYS") && err.contains("days"),
                "{err}"
            );
        }
        std::fs::write(&path, "raw_retention_days = -1\n").unwrap();
        let err = Config::from_sources(Some(&path), &env(&[])).unwrap_err();
        assert!(
            err.to_string().contains("CHATREF_RAW_RETENTION_DAYS"),
            "{err}"
        );
    }
}
