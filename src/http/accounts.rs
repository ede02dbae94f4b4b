//! `POST /api/accounts`, `GET /api/accounts`.

use axum::{Json, extract::State, http::StatusCode};

use super::{error::ApiError, extract::ApiJson};
use crate::{
    accounts::{self, AccountError, AccountRequest, AccountView},
    app::AppState,
};

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(e) => ApiError::invalid(e.0),
            AccountError::Db(e) => e.into(),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<AccountRequest>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let view = accounts::create(&state.db, &state.config, request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<AccountView>>, ApiError> {
    Ok(Json(accounts::list(&state.db, &state.config).await?))
}
