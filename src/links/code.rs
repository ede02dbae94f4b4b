//! Link codes: the `{code}` of `/r/{code}`, random and unguessable.

use rand::{Rng, distr::Alphanumeric};

/// Length of a generated code: 62^8 ≈ 2·10^14 values, so codes cannot be enumerated.
pub const CODE_LEN: usize = 8;

/// A link's short code: exactly [`CODE_LEN`] base62 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkCode(String);

impl LinkCode {
    /// A fresh random code.
    pub fn generate() -> Self {
        LinkCode(
            rand::rng()
                .sample_iter(Alphanumeric)
                .take(CODE_LEN)
                .map(char::from)
                .collect(),
        )
    }

    /// Parses a code from a URL or a tag; `None` when it cannot be one of ours.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == CODE_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| LinkCode(text.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_and_differ() {
        let a = LinkCode::generate();
        assert_eq!(LinkCode::parse(a.as_str()), Some(a.clone()));
        assert_ne!(a, LinkCode::generate());
        assert!(LinkCode::parse("short").is_none());
        assert!(LinkCode::parse("../etc/p").is_none());
    }
}
