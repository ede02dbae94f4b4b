//! `chatref user …` and `chatref token …`: the same user and token operations as the API,
//! run by the operator (who is trusted as an admin) straight on the database.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Subcommand;

use super::output::{cell, json, table};
use crate::{
    db::Db,
    users::{
        self, Caller, NewPassword, User, UserRequest,
        tokens::{self, ApiToken, TokenRequest},
    },
};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is asked for twice on a terminal, or read as one line
    /// from standard input (`echo "$PASSWORD" | chatref user add …`).
    Add {
        #[arg(long)]
        email: String,
        /// admin, marketer or viewer.
        #[arg(long)]
        role: String,
    },
    /// List users.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make an API token for a user; it is printed once and never shown again.
    Create {
        /// The user's email.
        #[arg(long)]
        user: String,
        /// admin, marketer or viewer; no higher than the user's role.
        #[arg(long)]
        role: String,
        /// What the token is for (shown in lists).
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never their secrets), of one user or of everyone.
    List {
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by id: it stops working at once.
    Revoke { id: i64 },
}

pub async fn user(db: &Db, command: UserCommand, as_json: bool) -> anyhow::Result<()> {
    let users = match command {
        UserCommand::Add { email, role } => {
            // Check what can be checked before asking for a password.
            let parsed = users::Email::parse(&email)?;
            role.parse::<users::Role>().map_err(anyhow::Error::msg)?;
            if db.user_by_email(&parsed).await?.is_some() {
                bail!("a user with the address {parsed} already exists");
            }
            let password = read_password()?;
            vec![
                users::create_user(
                    db,
                    UserRequest {
                        email,
                        role,
                        password,
                    },
                )
                .await?,
            ]
        }
        UserCommand::List => users::list_users(db).await?,
    };
    if as_json {
        return json(&users);
    }
    print_users(&users);
    Ok(())
}

fn print_users(users: &[User]) {
    table(
        &["id", "email", "role", "created"],
        users
            .iter()
            .map(|u| {
                vec![
                    u.id.to_string(),
                    u.email.to_string(),
                    u.role.to_string(),
                    u.created_at.to_string(),
                ]
            })
            .collect(),
    );
}

/// The new user's password: typed twice (unechoed) on a terminal, else the first line of
/// standard input.
fn read_password() -> anyhow::Result<NewPassword> {
    let text = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 10 characters): ")
            .context("cannot read the password")?;
        NewPassword::parse(first.clone())?;
        let second =
            rpassword::prompt_password("Password again: ").context("cannot read the password")?;
        if first != second {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    Ok(NewPassword::parse(text)?)
}

pub async fn token(db: &Db, command: TokenCommand, as_json: bool) -> anyhow::Result<()> {
    let operator = Caller::operator();
    let now = crate::db::now();
    let listed: Vec<ApiToken> = match command {
        TokenCommand::Create { user, role, name } => {
            let created = tokens::create(
                db,
                &operator,
                TokenRequest {
                    name,
                    role,
                    user: Some(user),
                },
                now,
            )
            .await?;
            if as_json {
                return json(&created);
            }
            println!("{}", created.plain);
            eprintln!(
                "token {} ({}, {}) for {}: copy it now, it is not shown again",
                created.token.id, created.token.name, created.token.role, created.token.user_email
            );
            return Ok(());
        }
        TokenCommand::List { user } => tokens::list(db, &operator, user.as_deref()).await?,
        TokenCommand::Revoke { id } => vec![tokens::revoke(db, &operator, id, now).await?],
    };
    if as_json {
        return json(&listed);
    }
    table(
        &[
            "id",
            "user",
            "name",
            "role",
            "created",
            "last used",
            "revoked",
        ],
        listed
            .iter()
            .map(|t| {
                vec![
                    t.id.to_string(),
                    t.user_email.to_string(),
                    t.name.clone(),
                    t.role.to_string(),
                    t.created_at.to_string(),
                    cell(&t.last_used_at),
                    cell(&t.revoked_at),
                ]
            })
            .collect(),
    );
    Ok(())
}
