//! Who may write through the admin server (retry or discard dead letters): pure decisions.

use crate::config::Admin;

/// Why a write is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The server listens beyond loopback and the config sets no token.
    #[error("writes are off: the admin server listens on a non-loopback address and the config sets no [admin] token")]
    NoTokenConfigured,
    /// The request carried no token or a wrong one.
    #[error("a valid admin token is needed for this (the [admin] token of the config)")]
    BadToken,
    /// The request came from a page of another site.
    #[error("refused: the request comes from another site ({0})")]
    CrossSite(String),
}

/// Compares without stopping at the first difference.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a write may go ahead: loopback servers need no token; others need the configured
/// one. `presented` is the request's token (`Authorization: Bearer` or the form's `token`).
pub fn may_write(admin: &Admin, presented: Option<&str>) -> Result<(), Refusal> {
    if !admin.writes_need_token() {
        return Ok(());
    }
    let expected = admin.token.as_ref().ok_or(Refusal::NoTokenConfigured)?;
    match presented {
        Some(p) if same_secret(p.trim().as_bytes(), expected.expose().as_bytes()) => Ok(()),
        _ => Err(Refusal::BadToken),
    }
}

/// Refuses writes sent by a page of another origin (a browser adds `Origin` to POSTs): the
/// origin's host must be the `Host` the request was sent to. Requests without `Origin`
/// (curl, scripts) pass.
pub fn same_origin(origin: Option<&str>, host: Option<&str>) -> Result<(), Refusal> {
    let Some(origin) = origin else {
        return Ok(());
    };
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or(origin);
    match host {
        Some(h) if h.eq_ignore_ascii_case(origin_host) => Ok(()),
        _ => Err(Refusal::CrossSite(origin.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::Secret;

    fn admin(listen: &str, token: Option<&str>) -> Admin {
        Admin {
            listen: listen.parse().unwrap(),
            token: token.map(Secret::new),
        }
    }

    #[test]
    fn loopback_needs_no_token_others_need_the_right_one() {
        assert_eq!(may_write(&admin("127.0.0.1:1", None), None), Ok(()));
        assert_eq!(may_write(&admin("[::1]:1", None), None), Ok(()));
        let open = admin("0.0.0.0:1", None);
        assert_eq!(may_write(&open, Some("x")), Err(Refusal::NoTokenConfigured));
        let guarded = admin("0.0.0.0:1", Some("0123456789abcdef"));
        assert_eq!(may_write(&guarded, None), Err(Refusal::BadToken));
        assert_eq!(
            may_write(&guarded, Some("0123456789abcdeX")),
            Err(Refusal::BadToken)
        );
        assert_eq!(may_write(&guarded, Some("0123456789abcdef")), Ok(()));
    }

    #[test]
    fn other_sites_cannot_post() {
        assert_eq!(same_origin(None, Some("127.0.0.1:9184")), Ok(()));
        assert_eq!(
            same_origin(Some("http://127.0.0.1:9184"), Some("127.0.0.1:9184")),
            Ok(())
        );
        assert!(same_origin(Some("https://evil.example"), Some("127.0.0.1:9184")).is_err());
        assert!(same_origin(Some("null"), Some("127.0.0.1:9184")).is_err());
    }
}
