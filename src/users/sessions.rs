//! Browser sessions and CSRF tokens.
//!
//! A session is a row keyed by the SHA-256 of a random id that only the browser's cookie
//! holds. Every sign-in makes a new id (an id planted before sign-in never becomes a
//! session: no fixation). Sessions last [`SESSION_TTL`] from sign-in, fixed rather than
//! sliding: nothing is written per request, and a stolen cookie ages out on its own.
//!
//! Forms of a signed-in user carry the session's own CSRF token. The sign-in form, which
//! has no session yet, uses a signed double submit: the same random value in a cookie and a
//! hidden field, with an HMAC under the service secret so a cookie planted from elsewhere
//! (a sibling subdomain) cannot be made to match.

use hmac::{Hmac, Mac};
use rand::{Rng, distr::Alphanumeric};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use super::{User, UserError};
use crate::{db::Db, secret::Secret};

/// How long a session lasts from sign-in.
pub const SESSION_TTL: Duration = Duration::hours(12);
/// Random characters in a session id and a CSRF token (~190 bits).
const RANDOM_LEN: usize = 32;
/// Expired sessions deleted per sign-in: enough to keep up, small enough to stay quick.
pub const CLEANUP_BATCH: i64 = 100;

fn random_text() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(RANDOM_LEN)
        .map(char::from)
        .collect()
}

/// What is stored for a session id: its SHA-256 in hex.
pub fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// A live session: whose it is and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: Secret,
    pub expires_at: OffsetDateTime,
}

impl Session {
    /// Whether a form's CSRF token is this session's (in constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.csrf_token.matches(presented.as_bytes())
    }
}

/// Whether a session that expires at `expires_at` is still valid at `now`.
pub fn is_live(expires_at: OffsetDateTime, now: OffsetDateTime) -> bool {
    now < expires_at
}

/// Starts a session for `user` (just signed in); returns the id for the cookie, which is
/// not stored anywhere else.
pub async fn start(
    db: &Db,
    user: User,
    now: OffsetDateTime,
) -> Result<(Secret, Session), UserError> {
    let id = Secret::new(random_text());
    let session = Session {
        user,
        csrf_token: Secret::new(random_text()),
        expires_at: now + SESSION_TTL,
    };
    db.insert_session(&hash_id(id.expose()), &session, now)
        .await?;
    Ok((id, session))
}

/// The live session a cookie's id names, if any.
pub async fn find(db: &Db, id: &str, now: OffsetDateTime) -> Result<Option<Session>, UserError> {
    if id.len() != RANDOM_LEN || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    let session = db.session(&hash_id(id)).await?;
    Ok(session.filter(|s| is_live(s.expires_at, now)))
}

/// Ends the session a cookie's id names (signing out).
pub async fn end(db: &Db, id: &str) -> Result<(), UserError> {
    Ok(db.delete_session(&hash_id(id)).await?)
}

/// The key that signs the sign-in form's CSRF tokens, derived from the service secret with
/// its own label so it never signs anything a ref tag could be mistaken for.
#[derive(Clone)]
pub struct FormKey(Hmac<Sha256>);

impl FormKey {
    /// A key from the service secret.
    pub fn new(secret: &Secret) -> Self {
        let mut derive = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC accepts keys of any length");
        derive.update(b"chatref sign-in form csrf");
        let key = derive.finalize().into_bytes();
        FormKey(Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length"))
    }

    fn mac(&self, nonce: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(nonce.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A new token `nonce.mac`, for both the cookie and the hidden field.
    pub fn issue(&self) -> String {
        let nonce = random_text();
        let mac = self.mac(&nonce);
        format!("{nonce}.{mac}")
    }

    /// Whether `token` is one this key issued.
    pub fn is_signed(&self, token: &str) -> bool {
        let Some((nonce, mac)) = token.split_once('.') else {
            return false;
        };
        self.mac(nonce).as_bytes().ct_eq(mac.as_bytes()).into()
    }

    /// The double-submit check: the field repeats the cookie and the cookie is signed.
    pub fn verify(&self, cookie: Option<&str>, field: &str) -> bool {
        let Some(cookie) = cookie else {
            return false;
        };
        let same: bool = cookie.as_bytes().ct_eq(field.as_bytes()).into();
        same && self.is_signed(cookie)
    }
}

impl std::fmt::Debug for FormKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_session_lives_twelve_hours_from_sign_in() {
        let signed_in = datetime!(2026-11-05 08:00 UTC);
        let expires = signed_in + SESSION_TTL;
        assert!(is_live(expires, datetime!(2026-11-05 19:59:59 UTC)));
        assert!(!is_live(expires, datetime!(2026-11-05 20:00 UTC)));
    }

    #[test]
    fn the_sign_in_form_token_must_repeat_a_signed_cookie() {
        let key = FormKey::new(&Secret::new("s3cret"));
        let token = key.issue();
        assert!(key.verify(Some(&token), &token));
        assert!(!key.verify(None, &token));
        assert!(
            !key.verify(Some(&token), &key.issue()),
            "another form's token"
        );
        let forged = format!("{}.{}", "a".repeat(32), "0".repeat(64));
        assert!(!key.verify(Some(&forged), &forged), "unsigned");
        let other = FormKey::new(&Secret::new("other")).issue();
        assert!(
            !key.verify(Some(&other), &other),
            "signed with another secret"
        );
        assert!(!key.verify(Some(""), ""));
    }
}
