//! `GET/POST /api/users` (admins) and `GET/POST /api/tokens`, `DELETE /api/tokens/{id}`
//! (the caller's own tokens; admins see and revoke everyone's).

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;

use super::{
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
};
use crate::{
    app::AppState,
    users::{
        self, Caller, User, UserError, UserRequest,
        tokens::{self, ApiToken, CreatedToken, TokenRequest},
    },
};

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Invalid(m) => ApiError::invalid(m),
            UserError::Forbidden(m) => ApiError::forbidden(m),
            UserError::NotFound(m) => ApiError::not_found(m),
            UserError::Db(e) => e.into(),
        }
    }
}

/// `GET /api/users`: every user.
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(users::list_users(&state.db).await?))
}

/// `POST /api/users`: `{email, role, password}` → 201 the user.
pub async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<UserRequest>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(users::create_user(&state.db, request).await?),
    ))
}

/// `?user=EMAIL` on `GET /api/tokens` (admins).
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    user: Option<String>,
}

/// `GET /api/tokens`: the caller's tokens (an admin's: everyone's), never their secrets.
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(
        tokens::list(&state.db, &caller, query.user.as_deref()).await?,
    ))
}

/// `POST /api/tokens`: `{name?, role, user?}` → 201 the token, with its text this once.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = tokens::create(&state.db, &caller, request, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /api/tokens/{id}`: revokes the token → 200 the revoked token.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiToken>, ApiError> {
    Ok(Json(
        tokens::revoke(&state.db, &caller, id, state.clock.now()).await?,
    ))
}
