//! Extractors whose rejections are our JSON errors instead of axum's plain text.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::StatusCode,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// A JSON object body; bad syntax, wrong shape, wrong content type and oversize bodies
/// become JSON errors (400/422/415/413), and a string holding a NUL character (which
/// PostgreSQL text cannot store) is a 400 naming the field. Every body of this API is an
/// object: an array is refused even where serde would read one as a struct's fields in
/// order (`[null, null]` as a link update).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_json",
                "the body must be a JSON object",
            ));
        }
        if let Some(field) = nul_field(&value, "") {
            return Err(ApiError::invalid(format!(
                "{} contains a NUL character (\\u0000), which cannot be stored",
                if field.is_empty() {
                    "the body".into()
                } else {
                    format!("`{field}`")
                }
            )));
        }
        serde_json::from_value(value).map(ApiJson).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_json",
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
        })
    }
}

/// The path of the first string (or object key) holding a NUL, like `stores[2].store`.
fn nul_field(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_field(item, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(here)
            } else {
                nul_field(item, &here)
            }
        }),
        _ => None,
    }
}

/// A path parameter; a non-numeric id becomes a 400 JSON error.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; a bad value becomes a 400 JSON error.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::nul_field;

    #[test]
    fn the_field_holding_a_nul_is_named() {
        let body = json!({"account_id": 1, "stores": [{"store": "A"}, {"store": "B\u{0}"}]});
        assert_eq!(nul_field(&body, "").as_deref(), Some("stores[1].store"));
        assert_eq!(nul_field(&json!({"name": "ok"}), ""), None);
    }
}
