//! Password rules and Argon2id hashing. Hashing takes tens of milliseconds of CPU on purpose,
//! so it runs on the blocking pool, never on the async workers that serve redirects.

use std::fmt;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use serde::Deserialize;

use super::UserError;
use crate::secret::Secret;

/// Shortest password accepted for a new user.
pub const MIN_LEN: usize = 10;
/// Longest password accepted, in bytes: hashing cost grows with length, so an unbounded
/// password would be a cheap way to spend our CPU.
pub const MAX_BYTES: usize = 1024;

/// A password that meets the rules for a new user; never printed.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct NewPassword(Secret);

impl NewPassword {
    /// Checks the length rules (counted in characters, so non-Latin passwords are not
    /// penalised).
    pub fn parse(text: String) -> Result<Self, UserError> {
        if text.chars().count() < MIN_LEN {
            return Err(UserError::Invalid(format!(
                "the password must be at least {MIN_LEN} characters long"
            )));
        }
        if text.len() > MAX_BYTES {
            return Err(UserError::Invalid(format!(
                "the password must be at most {MAX_BYTES} bytes long"
            )));
        }
        Ok(NewPassword(Secret::new(text)))
    }
}

impl TryFrom<String> for NewPassword {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        NewPassword::parse(text).map_err(|e| e.to_string())
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

/// The Argon2id PHC string of `password` (default parameters, a fresh random salt).
pub async fn hash(password: NewPassword) -> Result<String, UserError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.0.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| UserError::Invalid(format!("cannot hash the password: {e}")))
    })
    .await
    .expect("password hashing does not panic")
}

/// Whether `presented` matches the stored PHC string. With no stored hash (an unknown
/// address) the presented password is hashed anyway, so both answers take as long and the
/// timing does not tell which addresses have accounts.
pub async fn verify(stored: Option<String>, presented: Secret) -> bool {
    tokio::task::spawn_blocking(move || {
        let presented = presented.expose().as_bytes();
        match stored.as_deref().map(PasswordHash::new) {
            Some(Ok(hash)) => Argon2::default().verify_password(presented, &hash).is_ok(),
            Some(Err(error)) => {
                tracing::error!(%error, "a stored password hash does not parse");
                false
            }
            None => {
                let _ = Argon2::default().hash_password(presented);
                false
            }
        }
    })
    .await
    .expect("password checking does not panic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_shorter_than_ten_characters_are_refused() {
        assert!(NewPassword::parse("123456789".into()).is_err());
        assert!(NewPassword::parse("1234567890".into()).is_ok());
        assert!(
            NewPassword::parse("пароль-пар".into()).is_ok(),
            "counted in characters"
        );
        assert!(NewPassword::parse("x".repeat(MAX_BYTES + 1)).is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("correct horse".into()).unwrap()),
            "NewPassword(…)"
        );
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash(NewPassword::parse("correct horse".into()).unwrap())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify(Some(hash.clone()), Secret::new("correct horse")).await);
        assert!(!verify(Some(hash), Secret::new("correct horsE")).await);
        assert!(!verify(None, Secret::new("correct horse")).await);
        assert!(!verify(Some("not a hash".into()), Secret::new("x")).await);
    }
}
