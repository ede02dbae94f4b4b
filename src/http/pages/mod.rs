//! Server-rendered pages of the dashboard: sign-in and sign-out, and the signed-in landing.
//! Later pages build on [`CurrentUser`] (the signed-in browser, from its session cookie),
//! [`CurrentUser::verify_csrf`] for their forms, and [`render`] with the shared layout
//! (`templates/dashboard.html`, which extends `base.html`).

pub mod accounts;
pub mod campaign;
pub mod campaigns;
pub mod contacts;
pub mod home;
pub mod sign_in;
pub mod spend;
pub mod store;

use askama::Template;
use axum::{
    extract::FromRequestParts,
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE, X_FRAME_OPTIONS},
        request::Parts,
    },
    response::{IntoResponse, Response},
};
use cookie::{Cookie, SameSite};

use crate::{
    app::AppState,
    db::DbError,
    secret::Secret,
    users::{Caller, Credential, Role, UserError, sessions},
};

/// The session cookie: HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site
/// posts), Path=/, Secure when the public URL is https.
pub const SESSION_COOKIE: &str = "chatref_session";
/// The sign-in form's double-submit CSRF cookie.
pub const FORM_COOKIE: &str = "chatref_form";

/// The stylesheets every page embeds: the report's look plus the dashboard's forms.
const CSS: &str = concat!(
    include_str!("../../../templates/report.css"),
    include_str!("../../../templates/dashboard.css")
);

/// Who the layout's header says is signed in, with the CSRF token its sign-out form needs.
pub struct SignedIn {
    pub email: String,
    pub role: Role,
    pub csrf: String,
}

/// Lets a page template reach its [`Layout`]'s fields by name, as `base.html` expects
/// (`{{ product }}`).
macro_rules! layout_fields {
    ($page:ident $(<$lt:lifetime>)?) => {
        impl $(<$lt>)? std::ops::Deref for $page $(<$lt>)? {
            type Target = $crate::http::pages::Layout;
            fn deref(&self) -> &Self::Target {
                &self.layout
            }
        }
    };
}
use layout_fields;

/// What every page template shares.
pub struct Layout {
    pub product: &'static str,
    pub css: &'static str,
    pub signed_in: Option<SignedIn>,
}

impl Layout {
    /// The layout for a page seen by `user` (or by nobody signed in).
    pub fn new(user: Option<&CurrentUser>) -> Self {
        Layout {
            product: "chatref",
            css: CSS,
            signed_in: user.map(|u| SignedIn {
                email: u.session.user.email.to_string(),
                role: u.session.user.role,
                csrf: u.session.csrf_token.expose().to_owned(),
            }),
        }
    }
}

/// Renders a page with `status`; pages are never cached nor framed by other sites.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            no_store(headers);
            response
        }
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.",
            )
        }
    }
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// A short plain-text answer (for failures no template can help with).
pub fn plain(status: StatusCode, message: &'static str) -> Response {
    let mut response = (status, message).into_response();
    no_store(response.headers_mut());
    response
}

/// A 303 to `location` (after a post, and to the sign-in page).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    no_store(response.headers_mut());
    response
}

/// The value of the request's cookie `name`.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Adds `Set-Cookie` for `name=value`, HttpOnly, SameSite=Lax, on `path`, Secure when the
/// public URL is https; `None` for `max_age` removes the cookie.
pub fn set_cookie(
    state: &AppState,
    response: &mut Response,
    name: &'static str,
    value: &str,
    path: &'static str,
    max_age: Option<time::Duration>,
) {
    let mut cookie = Cookie::build((name, value.to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path(path)
        .secure(state.config.public_url.scheme() == "https");
    cookie = match max_age {
        Some(age) => cookie.max_age(age),
        None => cookie.removal(),
    };
    if let Ok(value) = HeaderValue::from_str(&cookie.build().to_string()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Where a successful sign-in goes: `next` when it is a path on this site, else `/`. A
/// full URL, `//host` or `/\host` (which browsers read as another host) is refused.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && !next.chars().any(|c| c.is_control() || c == '\\') =>
        {
            next
        }
        _ => "/",
    }
}

/// The signed-in browser, from its session cookie. Pages that need one take it as an
/// extractor; without a live session the browser is sent to sign in and come back.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub session: sessions::Session,
    /// The cookie's session id (to end the session at sign-out).
    pub session_id: Secret,
}

impl CurrentUser {
    /// Checks a posted form's CSRF token against the session's; a mismatch is a 403 page.
    pub fn verify_csrf(&self, form_token: &str) -> Result<(), PageError> {
        if self.session.csrf_matches(form_token) {
            Ok(())
        } else {
            Err(PageError::CsrfRefused)
        }
    }

    /// Checks a posted form before it changes anything: its CSRF token first, then that the
    /// signed-in role may change things (`marketer` or `admin`; a viewer only reads).
    pub fn may_change(&self, form_token: &str) -> Result<(), PageError> {
        self.verify_csrf(form_token)?;
        if self.session.user.role.allows(Role::Marketer) {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }

    /// Whether this user's pages show the forms that change things.
    pub fn can_change(&self) -> bool {
        self.session.user.role.allows(Role::Marketer)
    }

    /// The caller this session stands for.
    pub fn caller(&self) -> Caller {
        Caller {
            role: self.session.user.role,
            user: Some(self.session.user.clone()),
            credential: Credential::Session,
        }
    }

    /// The live session of the request's cookie, if any.
    pub async fn find(state: &AppState, headers: &HeaderMap) -> Result<Option<Self>, PageError> {
        let Some(id) = cookie_value(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        match sessions::find(&state.db, id, state.clock.now()).await {
            Ok(found) => Ok(found.map(|session| CurrentUser {
                session,
                session_id: Secret::new(id),
            })),
            Err(error) => Err(PageError::Unavailable(error)),
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match Self::find(state, &parts.headers).await? {
            Some(user) => Ok(user),
            None => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let location = if here == "/" || parts.method != axum::http::Method::GET {
                    "/login".to_owned()
                } else {
                    let next: String =
                        url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
                    format!("/login?next={next}")
                };
                Err(PageError::SignInFirst(location))
            }
        }
    }
}

/// Why a page cannot be shown, as the answer a browser gets.
#[derive(Debug)]
pub enum PageError {
    /// No live session: a 303 to this sign-in location (which comes back afterwards).
    SignInFirst(String),
    /// The form's CSRF token is missing or wrong: 403, nothing changed.
    CsrfRefused,
    /// The signed-in role may not change things (a viewer posting a form): 403.
    Forbidden,
    /// The database failed: 503, nothing changed.
    Unavailable(UserError),
    /// A store operation failed: 404 for a missing campaign, link or account, else 503.
    Store(DbError),
}

impl From<DbError> for PageError {
    fn from(error: DbError) -> Self {
        PageError::Store(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignInFirst(location) => see_other(&location),
            PageError::CsrfRefused => plain(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this site. Go back, reload the page and try again.",
            ),
            PageError::Forbidden => plain(
                StatusCode::FORBIDDEN,
                "Your role can read these pages but not change anything. Ask an admin for the marketer role.",
            ),
            PageError::Store(DbError::NotFound(..)) => {
                plain(StatusCode::NOT_FOUND, "There is nothing here.")
            }
            PageError::Store(error) => {
                tracing::error!(%error, "a page could not use the database");
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service could not reach its database. Nothing was changed; try again shortly.",
                )
            }
            PageError::Unavailable(error) => {
                tracing::error!(%error, "a page could not reach the database");
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service could not reach its database. Nothing was changed; try again shortly.",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/reports/funnel?from=2026-01-01")),
            "/reports/funnel?from=2026-01-01"
        );
        for next in [
            None,
            Some(""),
            Some("https://evil.example/"),
            Some("//evil.example/"),
            Some("/\\evil.example"),
            Some("/ok\\..\\x"),
            Some("/a\r\nSet-Cookie: x=1"),
            Some("reports"),
        ] {
            assert_eq!(safe_next(next), "/", "{next:?}");
        }
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; chatref_session_x=2; chatref_session=abc"),
        );
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(&headers, "b"), None);
    }
}
