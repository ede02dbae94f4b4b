//! `POST /api/conversions`: a contact qualified or bought, by click id or by contact.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;

use super::{error::ApiError, extract::ApiJson};
use crate::{
    app::AppState,
    db::{Conversion, ConversionError, ConversionSubject},
    links::{ClickId, RefTag},
    money::AmountInput,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionRequest {
    click_id: Option<String>,
    platform: Option<String>,
    contact_id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    value: Option<AmountInput>,
}

impl From<ConversionError> for ApiError {
    fn from(error: ConversionError) -> Self {
        match error {
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
    if !matches!(request.kind.as_str(), "qualified" | "purchase") {
        return Err(ApiError::invalid(format!(
            "type `{}` is not qualified or purchase",
            request.kind
        )));
    }
    let value = request
        .value
        .map(|v| {
            v.parse()
                .map_err(|e| ApiError::invalid(format!("value: {e}")))
        })
        .transpose()?;
    let subject = match (request.click_id, request.platform, request.contact_id) {
        (Some(click), None, None) => {
            // Accept the bare click id or the whole click tag a landing page received.
            let id = ClickId::parse(&click)
                .or_else(|| RefTag::verify(&state.key, &click).and_then(|t| t.click_id))
                .ok_or_else(|| ApiError::invalid(format!("`{click}` is not a click id")))?;
            ConversionSubject::Click(id.as_str().to_owned())
        }
        (None, Some(platform), Some(user)) => {
            let platform: crate::platforms::Platform =
                platform.parse().map_err(ApiError::invalid)?;
            ConversionSubject::Contact {
                platform: platform.as_str().to_owned(),
                user,
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "give either click_id, or platform and contact_id",
            ));
        }
    };
    let conversion = state
        .db
        .insert_conversion(&request.kind, value, &subject)
        .await?;
    Ok((StatusCode::CREATED, Json(conversion)))
}
