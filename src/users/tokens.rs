//! API tokens: `chr_` + 32 random base62 characters (~190 bits), shown once and stored as
//! their SHA-256. Each belongs to a user and carries a role no higher than the user's (nor
//! than the caller's who made it); a request made with one gets the lower of the token's
//! and the user's current role, so demoting a user demotes their tokens.

use rand::{Rng, distr::Alphanumeric};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::{Caller, Credential, Email, Role, User, UserError};
use crate::{db::Db, secret::Secret};

/// What every token starts with, so a leaked one is recognisable (secret scanners, logs).
pub const PREFIX: &str = "chr_";
/// Random characters after the prefix.
pub const RANDOM_LEN: usize = 32;
/// Longest token name.
const NAME_MAX: usize = 100;
/// `last_used_at` is rewritten at most this often per token, so a busy script does not
/// turn every read into a database write.
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// A freshly made token's text, shown to its owner once.
pub struct PlainToken(Secret);

impl PlainToken {
    /// A new random token.
    pub fn generate() -> Self {
        let random: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(RANDOM_LEN)
            .map(char::from)
            .collect();
        PlainToken(Secret::new(format!("{PREFIX}{random}")))
    }

    /// The token text, to show once.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// What is stored: the SHA-256 of the text, in hex.
    pub fn hash(&self) -> String {
        hash(self.expose())
    }
}

/// The stored form of a presented token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `text` has the shape of one of our tokens (checked before any lookup).
pub fn is_well_formed(text: &str) -> bool {
    text.strip_prefix(PREFIX).is_some_and(|random| {
        random.len() == RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub user_email: Email,
    pub name: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token just made: its record and, once, its text.
#[derive(Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The token itself; not stored, never shown again.
    #[serde(rename = "token")]
    pub plain: String,
}

/// What `POST /api/tokens` and `chatref token create` accept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub name: Option<String>,
    pub role: String,
    /// Whose token (email); only an admin may name another user. Defaults to the caller.
    pub user: Option<String>,
}

/// The new token's name: trimmed, `token` when empty, printable, at most 100 characters.
pub fn parse_name(name: Option<&str>) -> Result<String, UserError> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("token");
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(UserError::Invalid(format!(
            "a token name is at most {NAME_MAX} printable characters"
        )));
    }
    Ok(name.to_owned())
}

/// A token may not carry more than its user has, nor more than the caller who makes it
/// (a marketer token of an admin cannot mint an admin token).
pub fn check_role(requested: Role, owner: Role, caller: Role) -> Result<(), UserError> {
    if !owner.allows(requested) {
        return Err(UserError::Forbidden(format!(
            "a token's role cannot be above its user's role ({owner})"
        )));
    }
    if !caller.allows(requested) {
        return Err(UserError::Forbidden(format!(
            "a token's role cannot be above your own role ({caller})"
        )));
    }
    Ok(())
}

/// What a request made with a token may do: the lower of the token's and its user's role.
pub fn effective_role(token: Role, user: Role) -> Role {
    token.min(user)
}

/// Whether a use at `now` should be written to `last_used_at`.
pub fn needs_touch(last_used_at: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    last_used_at.is_none_or(|last| now - last >= TOUCH_INTERVAL)
}

/// Whether `caller` may see or revoke a token of `owner_id`: its owner, or an admin.
pub fn may_manage(caller: &Caller, owner_id: i64) -> bool {
    caller.role.allows(Role::Admin) || caller.user_id() == Some(owner_id)
}

/// Makes a token for the named user (admins) or the caller; answers its text once.
pub async fn create(
    db: &Db,
    caller: &Caller,
    request: TokenRequest,
    now: OffsetDateTime,
) -> Result<CreatedToken, UserError> {
    let role: Role = request.role.parse().map_err(UserError::Invalid)?;
    let name = parse_name(request.name.as_deref())?;
    let owner: User = match (request.user.as_deref(), &caller.user) {
        (Some(email), _) => {
            let owner = super::user_by_email(db, email).await?;
            if !may_manage(caller, owner.id) {
                return Err(UserError::Forbidden(
                    "only an admin may make tokens for another user".into(),
                ));
            }
            owner
        }
        (None, Some(user)) => user.clone(),
        (None, None) => {
            return Err(UserError::Invalid(
                "say whose token this is (`user`: an email); the admin token belongs to no user"
                    .into(),
            ));
        }
    };
    check_role(role, owner.role, caller.role)?;
    let plain = PlainToken::generate();
    let token = db
        .insert_token(&owner, &name, role, &plain.hash(), now)
        .await?;
    Ok(CreatedToken {
        token,
        plain: plain.expose().to_owned(),
    })
}

/// The tokens the caller may see: everyone's for an admin (or only `user`'s when named),
/// otherwise their own. Newest first.
pub async fn list(
    db: &Db,
    caller: &Caller,
    user: Option<&str>,
) -> Result<Vec<ApiToken>, UserError> {
    let owner = match user {
        Some(email) => Some(super::user_by_email(db, email).await?.id),
        None if caller.role.allows(Role::Admin) => None,
        None => Some(caller.user_id().unwrap_or(-1)),
    };
    if let Some(owner) = owner
        && !may_manage(caller, owner)
    {
        return Err(UserError::Forbidden(
            "only an admin may list another user's tokens".into(),
        ));
    }
    Ok(db.list_tokens(owner).await?)
}

/// Revokes a token (already revoked: unchanged). A token the caller may not manage is
/// answered as missing, so ids of other users' tokens are not confirmed.
pub async fn revoke(
    db: &Db,
    caller: &Caller,
    id: i64,
    now: OffsetDateTime,
) -> Result<ApiToken, UserError> {
    let missing = || UserError::NotFound(format!("token {id} does not exist"));
    let token = db.token(id).await?.ok_or_else(missing)?;
    if !may_manage(caller, token.user_id) {
        return Err(missing());
    }
    db.revoke_token(id, now).await?;
    db.token(id).await?.ok_or_else(missing)
}

/// The caller a presented bearer token stands for, or `None` when it is not a live token of
/// ours (malformed, unknown or revoked). Records the use at most once per minute.
pub async fn authenticate(
    db: &Db,
    presented: &str,
    now: OffsetDateTime,
) -> Result<Option<Caller>, UserError> {
    if !is_well_formed(presented) {
        return Ok(None);
    }
    let Some((token, user)) = db.token_by_hash(&hash(presented)).await? else {
        return Ok(None);
    };
    if token.revoked_at.is_some() {
        return Ok(None);
    }
    if needs_touch(token.last_used_at, now) {
        db.touch_token(token.id, now).await?;
    }
    Ok(Some(Caller {
        role: effective_role(token.role, user.role),
        user: Some(user),
        credential: Credential::ApiToken(token.id),
    }))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn tokens_are_chr_and_32_base62_characters() {
        let token = PlainToken::generate();
        assert!(is_well_formed(token.expose()), "{}", token.expose());
        assert_eq!(token.expose().len(), PREFIX.len() + RANDOM_LEN);
        assert_ne!(token.expose(), PlainToken::generate().expose());
        assert_eq!(token.hash().len(), 64);
        assert_eq!(token.hash(), hash(token.expose()));
        for text in [
            "",
            "chr_",
            "chr_abc",
            "xyz_0123456789abcdef0123456789abcdef",
            "chr_0123456789abcdef0123456789abcde!",
            "chr_0123456789abcdef0123456789abcdef0",
        ] {
            assert!(!is_well_formed(text), "{text}");
        }
    }

    #[test]
    fn a_token_role_is_capped_by_its_user_and_its_maker() {
        assert!(check_role(Role::Viewer, Role::Marketer, Role::Admin).is_ok());
        assert!(check_role(Role::Marketer, Role::Marketer, Role::Marketer).is_ok());
        assert!(check_role(Role::Admin, Role::Marketer, Role::Admin).is_err());
        assert!(check_role(Role::Admin, Role::Admin, Role::Marketer).is_err());
        assert_eq!(effective_role(Role::Admin, Role::Viewer), Role::Viewer);
        assert_eq!(effective_role(Role::Viewer, Role::Admin), Role::Viewer);
    }

    #[test]
    fn last_use_is_written_once_a_minute_at_most() {
        let now = datetime!(2026-11-05 10:00 UTC);
        assert!(needs_touch(None, now));
        assert!(!needs_touch(Some(now - Duration::seconds(59)), now));
        assert!(needs_touch(Some(now - Duration::seconds(60)), now));
    }

    #[test]
    fn token_names_default_and_are_bounded() {
        assert_eq!(parse_name(None).unwrap(), "token");
        assert_eq!(parse_name(Some("  ")).unwrap(), "token");
        assert_eq!(parse_name(Some(" CI ")).unwrap(), "CI");
        assert!(parse_name(Some(&"x".repeat(101))).is_err());
        assert!(parse_name(Some("a\nb")).is_err());
    }
}
