//! Users, roles, API tokens and browser sessions: who may do what.
//!
//! - [`Role`]: `admin > marketer > viewer`; a caller may do what its role
//!   [allows](Role::allows). Reads need `viewer`, writes `marketer`, user management `admin`.
//! - [`Email`] and [`NewPassword`]: the validated inputs of [`create_user`]; passwords are
//!   hashed with Argon2id ([`password`]).
//! - [`tokens`]: bearer tokens for the API, per user, with a role no higher than the user's.
//! - [`sessions`]: server-side browser sessions and the CSRF tokens of their forms.
//! - [`sign_in`]: checking a password, with a rate limit per address and per account.

pub mod password;
pub mod sessions;
pub mod sign_in;
pub mod tokens;

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::db::{Db, DbError};

pub use password::NewPassword;

/// What a user or token may do. Ordered: `Viewer < Marketer < Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Creates and edits campaigns, links, accounts and spend.
    Marketer,
    /// Everything, including users.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Marketer, Role::Admin];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Marketer => "marketer",
            Role::Admin => "admin",
        }
    }

    /// Whether a caller with this role may do what needs `required`.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`; expected admin, marketer or viewer"))
    }
}

/// A user's email address: trimmed, lower-cased (addresses are compared without case) and
/// shaped like `local@domain.tld`. The local part may hold any printable character, as mail
/// allows; the domain only letters, digits, `-` and dots.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// The longest address mail systems accept (RFC 5321's path limit less the brackets).
const EMAIL_MAX: usize = 254;

impl Email {
    /// Validates and normalises an address.
    pub fn parse(text: &str) -> Result<Self, UserError> {
        let text = text.trim().to_lowercase();
        let invalid = || UserError::Invalid(format!("`{text}` is not an email address"));
        if text.is_empty() || text.len() > EMAIL_MAX {
            return Err(invalid());
        }
        let (local, domain) = text.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok =
            !local.is_empty() && local.chars().all(|c| !c.is_whitespace() && !c.is_control());
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Email(text))
        } else {
            Err(invalid())
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored user (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: Email,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Who is asking, once authenticated: the role that decides what they may do and, unless
/// it is the bootstrap admin token or the operator at the command line, their user.
#[derive(Debug, Clone)]
pub struct Caller {
    /// What the caller may do; for a token, the lower of its role and its user's.
    pub role: Role,
    pub user: Option<User>,
    pub credential: Credential,
}

/// How a [`Caller`] proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `CHATREF_ADMIN_TOKEN`: an admin that belongs to no user.
    AdminToken,
    /// An API token, by id.
    ApiToken(i64),
    /// A signed-in browser.
    Session,
    /// Whoever runs `chatref` on the database: the CLI trusts its operator as an admin.
    Operator,
}

impl Caller {
    /// The operator of the command line.
    pub fn operator() -> Self {
        Caller {
            role: Role::Admin,
            user: None,
            credential: Credential::Operator,
        }
    }

    /// The bootstrap admin of `CHATREF_ADMIN_TOKEN`.
    pub fn admin_token() -> Self {
        Caller {
            role: Role::Admin,
            user: None,
            credential: Credential::AdminToken,
        }
    }

    /// The caller's user id, if they are a user.
    pub fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }
}

/// What `POST /api/users` and `chatref user add` accept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    pub email: String,
    pub role: String,
    pub password: NewPassword,
}

/// Why a user, token or session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A value is not acceptable (bad email, short password, unknown role).
    #[error("{0}")]
    Invalid(String),
    /// The caller's role does not allow this (a token above the user's role).
    #[error("{0}")]
    Forbidden(String),
    /// The user or token does not exist (or is not the caller's to see).
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates a user with an Argon2id hash of the password; an address already taken (in any
/// case) is a [`DbError::Conflict`].
pub async fn create_user(db: &Db, request: UserRequest) -> Result<User, UserError> {
    let email = Email::parse(&request.email)?;
    let role: Role = request.role.parse().map_err(UserError::Invalid)?;
    let hash = password::hash(request.password).await?;
    Ok(db
        .insert_user(&email, &hash, role, crate::db::now())
        .await?)
}

/// Every user, oldest first.
pub async fn list_users(db: &Db) -> Result<Vec<User>, UserError> {
    Ok(db.list_users().await?)
}

/// One user by email; [`UserError::NotFound`] when there is none.
pub async fn user_by_email(db: &Db, email: &str) -> Result<User, UserError> {
    let email = Email::parse(email)?;
    db.user_by_email(&email)
        .await?
        .map(|(user, _)| user)
        .ok_or_else(|| UserError::NotFound(format!("no user has the address {email}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_admin_over_marketer_over_viewer() {
        assert!(Role::Admin > Role::Marketer && Role::Marketer > Role::Viewer);
        assert!(Role::Admin.allows(Role::Viewer));
        assert!(Role::Marketer.allows(Role::Marketer));
        assert!(!Role::Viewer.allows(Role::Marketer));
        assert!(!Role::Marketer.allows(Role::Admin));
    }

    #[test]
    fn role_names_round_trip_and_others_are_refused() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("Admin".parse::<Role>().is_err());
        assert!("root".parse::<Role>().is_err());
        assert!("".parse::<Role>().is_err());
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Ann@Shop.Example ").unwrap();
        assert_eq!(email.as_str(), "ann@shop.example");
        assert_eq!(
            Email::parse("<script>x</script>@shop.example")
                .unwrap()
                .as_str(),
            "<script>x</script>@shop.example",
            "the local part may hold any printable character; pages escape it"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for text in [
            "",
            "ann",
            "ann@",
            "@shop.example",
            "ann@shop",
            "ann@shop..example",
            "ann@-shop.example",
            "an n@shop.example",
            "ann@shop.exa mple",
            "ann@sh<op.example",
            "ann\u{7}@shop.example",
        ] {
            assert!(Email::parse(text).is_err(), "{text:?}");
        }
        let long = format!("{}@shop.example", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
