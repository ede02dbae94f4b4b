//! Who is calling and what they may do.
//!
//! [`authenticate`] guards `/api`: it resolves `Authorization: Bearer <token>` to a
//! [`Caller`] (the bootstrap `CHATREF_ADMIN_TOKEN`, or an API token looked up by its hash)
//! and enforces the role the method needs: `viewer` to read (GET, HEAD), `marketer` for
//! anything else. [`admin_only`] adds `admin` for user management. The caller rides in the
//! request's extensions, where handlers take it as an extractor.
//!
//! [`bearer_or_session`] guards pages that scripts fetch too (`/reports/funnel`): a bearer
//! token as above, otherwise the browser's session, otherwise a redirect to sign in.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, Method, header::AUTHORIZATION, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{error::ApiError, pages};
use crate::{
    app::AppState,
    users::{Caller, Role, tokens},
};

/// The role a request with this method needs under `/api`.
pub fn required_role(method: &Method) -> Role {
    if method == Method::GET || method == Method::HEAD {
        Role::Viewer
    } else {
        Role::Marketer
    }
}

/// Lets a request through with a valid bearer credential whose role allows its method.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = bearer_caller(&state, request.headers()).await?;
    ensure_role(&caller, required_role(request.method()))?;
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// Inside [`authenticate`]: lets only admins through (user management).
pub async fn admin_only(
    caller: Caller,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    ensure_role(&caller, Role::Admin)?;
    Ok(next.run(request).await)
}

/// For pages: a bearer credential when the request has one, otherwise the session; anyone
/// signed in may read (`viewer`). A browser without a session is sent to sign in.
pub async fn bearer_or_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = if request.headers().contains_key(AUTHORIZATION) {
        match bearer_caller(&state, request.headers()).await {
            Ok(caller) => caller,
            Err(error) => return error.into_response(),
        }
    } else {
        let (mut parts, body) = request.into_parts();
        let current = pages::CurrentUser::from_request_parts(&mut parts, &state).await;
        request = Request::from_parts(parts, body);
        match current {
            Ok(current) => current.caller(),
            Err(rejection) => return rejection.into_response(),
        }
    };
    if let Err(error) = ensure_role(&caller, required_role(request.method())) {
        return error.into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn ensure_role(caller: &Caller, required: Role) -> Result<(), ApiError> {
    if caller.role.allows(required) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this needs the {required} role; the credential has {}",
            caller.role
        )))
    }
}

/// The caller a request's bearer token stands for; 401 without one or with a bad one.
async fn bearer_caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .ok_or_else(|| ApiError::unauthorized("missing `Authorization: Bearer <token>` header"))?;
    if let Some(admin) = &state.config.admin_token
        && admin.matches(presented.as_bytes())
    {
        return Ok(Caller::admin_token());
    }
    match tokens::authenticate(&state.db, presented, state.clock.now()).await? {
        Some(caller) => Ok(caller),
        None if state.config.admin_token.is_none() => Err(ApiError::unauthorized(
            "the bearer token is not valid (no CHATREF_ADMIN_TOKEN is configured; make a \
             token with `chatref token create`)",
        )),
        None => Err(ApiError::unauthorized("the bearer token is not valid")),
    }
}

/// The token of an `Authorization` value; the scheme name is case-insensitive (RFC 9110).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The caller [`authenticate`] (or [`bearer_or_session`]) put into the request.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("this route needs a credential"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc ", " Bearer abc"] {
            assert_eq!(bearer_token(value), Some("abc"), "{value}");
        }
        for value in ["Basic abc", "Bearerabc", "abc", ""] {
            assert_eq!(bearer_token(value), None, "{value}");
        }
    }

    #[test]
    fn reading_needs_viewer_and_every_other_method_marketer() {
        assert_eq!(required_role(&Method::GET), Role::Viewer);
        assert_eq!(required_role(&Method::HEAD), Role::Viewer);
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(required_role(&method), Role::Marketer, "{method}");
        }
    }
}
