//! Whose request this is: the visitor's address, for clicks (country, visitor hash) and for
//! sign-in rate limits.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use crate::app::AppState;

/// The peer's address, or behind a trusted proxy (`CHATREF_TRUST_FORWARDED`) the last
/// `X-Forwarded-For` hop: the one the proxy itself appended. Earlier entries are written by
/// the client and prove nothing.
pub fn client_ip(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if state.config.trust_forwarded
        && let Some(forwarded) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok())
    {
        return forwarded;
    }
    peer.ip()
}
