//! Settings: defaults that work on a laptop, overridden by an optional TOML file, overridden
//! in turn by `CHATREF_*` environment variables (DESIGN.md §4).

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;
use url::Url;

use crate::secret::Secret;

/// Default path of the country database that ships with the project.
pub const BUNDLED_GEOIP_DB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/geoip/geo-whois-asn-country.mmdb"
);

/// Everything the service and the CLI need to start.
#[derive(Debug, Clone)]
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
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {source}")]
    ParseFile {
        path: PathBuf,
        source: Box<toml::de::Error>,
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
                toml::from_str(&text).map_err(|source| ConfigError::ParseFile {
                    path: path.to_owned(),
                    source: Box::new(source),
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

        let database_url = pick("CHATREF_DATABASE_URL", file_config.database_url)
            .unwrap_or_else(|| "sqlite://chatref.db".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "CHATREF_DATABASE_URL",
                message: format!("`{database_url}` must start with sqlite: or postgres://"),
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

        Ok(Config {
            bind,
            database_url,
            public_url,
            geoip_db,
            admin_token: pick("CHATREF_ADMIN_TOKEN", file_config.admin_token).map(Secret::new),
            secret: pick("CHATREF_SECRET", file_config.secret).map(Secret::new),
            trust_forwarded,
            click_queue,
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
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "bnid = \"127.0.0.1:1\"\n").unwrap();
        assert!(matches!(
            Config::from_sources(Some(&path), &env(&[])),
            Err(ConfigError::ParseFile { .. })
        ));
    }
}
