//! `GET /login`, `POST /login` and `POST /logout`.
//!
//! The sign-in form is protected by a signed double-submit token (cookie + hidden field, see
//! [`crate::users::sessions::FormKey`]); sign-out by the session's own CSRF token. A
//! successful sign-in always starts a new session (any session the browser had is ended),
//! so an id planted before sign-in is never the signed-in one.

use std::net::SocketAddr;

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    CurrentUser, FORM_COOKIE, Layout, PageError, SESSION_COOKIE, cookie_value, render, safe_next,
    see_other, set_cookie,
};
use crate::{
    app::AppState,
    secret::Secret,
    users::{
        sessions::{self, SESSION_TTL},
        sign_in::{self, SignInError},
    },
};

/// How long the sign-in form's token lasts: long enough to find a password.
const FORM_TTL: time::Duration = time::Duration::hours(2);

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    layout: Layout,
    csrf: &'a str,
    email: &'a str,
    next: Option<&'a str>,
    error: Option<&'a str>,
}

super::layout_fields!(LoginPage<'a>);

/// `?next=/path`: where to go after signing in.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login`: the form (or straight on, when already signed in).
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = query.next.as_deref().map(|n| safe_next(Some(n)));
    match CurrentUser::find(&state, &headers).await {
        Ok(Some(_)) => return see_other(next.unwrap_or("/")),
        Ok(None) => {}
        Err(error) => return error.into_response(),
    }
    show_form(&state, &headers, StatusCode::OK, "", next, None)
}

/// Renders the form with a signed CSRF token, reusing the browser's when it is still good
/// (so two open tabs both work).
fn show_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    next: Option<&str>,
    error: Option<&str>,
) -> Response {
    let token = cookie_value(headers, FORM_COOKIE)
        .filter(|t| state.forms.is_signed(t))
        .map(str::to_owned)
        .unwrap_or_else(|| state.forms.issue());
    let next = next.filter(|n| *n != "/");
    let mut response = render(
        status,
        &LoginPage {
            layout: Layout::new(None),
            csrf: &token,
            email,
            next,
            error,
        },
    );
    set_cookie(
        state,
        &mut response,
        FORM_COOKIE,
        &token,
        "/login",
        Some(FORM_TTL),
    );
    response
}

/// What the sign-in form posts. Fields default to empty so a missing token is a 403 rather
/// than a parse error.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// `POST /login`: checks the CSRF token, then the password (rate-limited); on success a new
/// session cookie and a 303 to `next` or `/`.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if !state
        .forms
        .verify(cookie_value(&headers, FORM_COOKIE), &form.csrf)
    {
        return PageError::CsrfRefused.into_response();
    }
    let next = safe_next(form.next.as_deref());
    let now = state.clock.now();
    let address = crate::http::client_ip::client_ip(&state, peer, &headers);
    let user = match sign_in::sign_in(
        &state.db,
        &form.email,
        Secret::new(form.password),
        Some(address),
        now,
    )
    .await
    {
        Ok(user) => user,
        Err(SignInError::User(error)) => return PageError::Unavailable(error).into_response(),
        Err(error) => {
            let (status, retry_after) = match error {
                SignInError::RateLimited { retry_after } => {
                    (StatusCode::TOO_MANY_REQUESTS, Some(retry_after))
                }
                _ => (StatusCode::UNAUTHORIZED, None),
            };
            let message = error.to_string();
            let mut response = show_form(
                &state,
                &headers,
                status,
                &form.email,
                Some(next),
                Some(&message),
            );
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(seconds));
            }
            return response;
        }
    };
    // The browser's old session, if any, ends here: its id must not live on beside the new.
    if let Some(old) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(error) = sessions::end(&state.db, old).await
    {
        return PageError::Unavailable(error).into_response();
    }
    let (id, _) = match sessions::start(&state.db, user, now).await {
        Ok(started) => started,
        Err(error) => return PageError::Unavailable(error).into_response(),
    };
    let mut response = see_other(next);
    set_cookie(
        &state,
        &mut response,
        SESSION_COOKIE,
        id.expose(),
        "/",
        Some(SESSION_TTL),
    );
    set_cookie(&state, &mut response, FORM_COOKIE, "", "/login", None);
    response
}

/// What the sign-out form posts.
#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`: ends the session (CSRF-checked) and goes to the sign-in page.
pub async fn sign_out(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<SignOutForm>,
) -> Response {
    if let Err(refused) = current.verify_csrf(&form.csrf) {
        return refused.into_response();
    }
    if let Err(error) = sessions::end(&state.db, current.session_id.expose()).await {
        return PageError::Unavailable(error).into_response();
    }
    let mut response = see_other("/login");
    set_cookie(&state, &mut response, SESSION_COOKIE, "", "/", None);
    response
}
