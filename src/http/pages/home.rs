//! `GET /`: the signed-in landing page (who you are, where to go, sign out).

use askama::Template;
use axum::{http::StatusCode, response::Response};

use super::{CurrentUser, Layout, render};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    email: String,
    role: crate::users::Role,
}

super::layout_fields!(HomePage);

/// `GET /`: the landing page; a browser without a session is sent to sign in.
pub async fn show(current: CurrentUser) -> Response {
    render(
        StatusCode::OK,
        &HomePage {
            layout: Layout::new(Some(&current)),
            email: current.session.user.email.to_string(),
            role: current.session.user.role,
        },
    )
}
