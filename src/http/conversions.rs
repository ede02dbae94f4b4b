//! `POST /api/conversions`: a contact qualified or bought, by click id or by contact.

use axum::{Json, extract::State, http::StatusCode};

use super::{error::ApiError, extract::ApiJson};
use crate::{
    app::AppState,
    conversions::{self, Conversion, ConversionError, ConversionRequest, NewConversion},
};

impl From<ConversionError> for ApiError {
    fn from(error: ConversionError) -> Self {
        match error {
            ConversionError::Invalid(m) => ApiError::invalid(m),
            ConversionError::NotFound(m) => ApiError::not_found(m),
            ConversionError::Ambiguous(m) => ApiError::new(StatusCode::CONFLICT, "ambiguous", m),
            ConversionError::Db(e) => e.into(),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ConversionRequest>,
) -> Result<(StatusCode, Json<Conversion>), ApiError> {
    let conversion = NewConversion::parse(request, &state.key)?;
    let stored = conversions::record(&state.db, conversion, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}
