//! Signing in with an email and a password, rate-limited per account and per address.
//!
//! Failures are rows in the database (not a counter in memory), so several instances on one
//! PostgreSQL count them together. A key is blocked while it has [`ACCOUNT_LIMIT`] (or
//! [`ADDRESS_LIMIT`]) failures within [`WINDOW`]; a blocked attempt checks no password and
//! records nothing, so an attacker cannot extend a lock forever, and it is refused even when
//! the password is right. A success clears its account's failures (not the address's: one
//! good account must not reset a guessing run against others). Two attempts racing past
//! the limit can each still be checked; the count is a brake, not an exact quota.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use super::{Email, User, UserError, password};
use crate::{db::Db, secret::Secret};

/// How far back failures count.
pub const WINDOW: Duration = Duration::minutes(15);
/// Failures per account within the window before it is locked.
pub const ACCOUNT_LIMIT: usize = 10;
/// Failures per address within the window: higher than per account, since an office or a
/// shop's phones can share one public address.
pub const ADDRESS_LIMIT: usize = 30;

/// Why a sign-in failed. Both answer the same message to the person signing in, so neither
/// tells which addresses have accounts.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password or a malformed address.
    #[error("the email or password is not right")]
    Failed,
    /// Too many failures for this account or address; try again after this many seconds.
    #[error("the email or password is not right")]
    RateLimited { retry_after: u32 },
    #[error(transparent)]
    User(#[from] UserError),
}

impl From<crate::db::DbError> for SignInError {
    fn from(error: crate::db::DbError) -> Self {
        SignInError::User(error.into())
    }
}

/// The rate-limit key of an address: IPv4 whole, IPv6 by its /64 (one subscriber usually
/// holds a whole /64, so counting single addresses would let them rotate freely).
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The rate-limit key of an account (by the address typed, known to us or not).
pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

/// When a key with these failures (newest first, within the window, at most `limit` of
/// them) is free again, or `None` when it is not blocked.
pub fn blocked_until(
    failures_newest_first: &[OffsetDateTime],
    limit: usize,
) -> Option<OffsetDateTime> {
    (failures_newest_first.len() >= limit).then(|| failures_newest_first[limit - 1] + WINDOW)
}

/// Whole seconds from `now` until `until`, at least 1 (for `Retry-After`).
pub fn seconds_until(until: OffsetDateTime, now: OffsetDateTime) -> u32 {
    let seconds = (until - now).as_seconds_f64().ceil();
    seconds.clamp(1.0, f64::from(u32::MAX)) as u32
}

/// Checks `email` and `password`, from `address` when known; answers the user on success.
pub async fn sign_in(
    db: &Db,
    email: &str,
    password: Secret,
    address: Option<IpAddr>,
    now: OffsetDateTime,
) -> Result<User, SignInError> {
    let mut keys = vec![(account_key(email), ACCOUNT_LIMIT)];
    if let Some(ip) = address {
        keys.push((address_key(ip), ADDRESS_LIMIT));
    }
    let mut free_at = None;
    for (key, limit) in &keys {
        let failures = db.sign_in_failures(key, now - WINDOW, *limit).await?;
        if let Some(until) = blocked_until(&failures, *limit) {
            free_at = free_at.max(Some(until));
        }
    }
    if let Some(until) = free_at {
        return Err(SignInError::RateLimited {
            retry_after: seconds_until(until, now),
        });
    }

    let found = match Email::parse(email) {
        Ok(email) => db.user_by_email(&email).await?,
        Err(_) => None,
    };
    let (user, stored) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let matches = password::verify(stored, password).await;
    match user {
        Some(user) if matches => {
            db.clear_sign_in_failures(&keys[0].0).await?;
            Ok(user)
        }
        _ => {
            let keys: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
            db.record_sign_in_failure(&keys, now, now - WINDOW).await?;
            Err(SignInError::Failed)
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_key_is_blocked_from_the_limit_until_its_oldest_counted_failure_ages_out() {
        let now = datetime!(2026-11-05 10:00 UTC);
        let failures: Vec<_> = (0..10).map(|i| now - Duration::minutes(i)).collect();
        assert_eq!(blocked_until(&failures[..9], 10), None);
        assert_eq!(
            blocked_until(&failures, 10),
            Some(now - Duration::minutes(9) + WINDOW)
        );
        assert_eq!(seconds_until(now + Duration::minutes(6), now), 360);
        assert_eq!(seconds_until(now, now), 1, "never zero");
    }

    #[test]
    fn addresses_are_keyed_whole_for_ipv4_and_by_64_for_ipv6() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(address_key(v4), "address:203.0.113.7");
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(address_key(mapped), "address:203.0.113.7");
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_eq!(account_key(" Ann@Shop.example"), "account:ann@shop.example");
    }
}
