//! Secrets (app secrets, tokens, keys): values that never reach a log or a `Debug` print.

use std::fmt;

use serde::Deserialize;
use subtle::ConstantTimeEq;

/// A secret string (token, app secret) that never reaches a log or a `Debug` print.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for MAC keys and comparisons only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with a presented value in constant time.
    pub fn matches(&self, presented: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(presented).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(…)");
        assert!(s.matches(b"hunter2"));
        assert!(!s.matches(b"hunter3"));
    }
}
