//! Errors that cross the ABI, classified so the host can decide: retry, dead-letter or stop.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The class of a connector error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The connector's config is wrong (missing field, bad URL...). Stop the endpoint.
    Config,
    /// The remote system refused the credentials or their rights. Stop the endpoint.
    Auth,
    /// A passing failure (5xx, timeout, dropped connection). Retry with backoff.
    Transient,
    /// The remote system asked to slow down. Retry after the given delay.
    RateLimited,
    /// The thing asked for does not exist.
    NotFound,
    /// The data changed under us (stale version). Re-read and retry.
    Conflict,
    /// Will never succeed as asked. Dead-letter.
    Permanent,
    /// A bug or panic inside the plugin.
    Internal,
}

impl ErrorKind {
    /// Whether trying the same call again later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Transient | ErrorKind::RateLimited | ErrorKind::Conflict
        )
    }

    /// The code used on the ABI.
    pub fn to_code(self) -> u8 {
        match self {
            ErrorKind::Config => 1,
            ErrorKind::Auth => 2,
            ErrorKind::Transient => 3,
            ErrorKind::RateLimited => 4,
            ErrorKind::NotFound => 5,
            ErrorKind::Conflict => 6,
            ErrorKind::Permanent => 7,
            ErrorKind::Internal => 8,
        }
    }

    /// The kind for an ABI code; codes from a newer ABI read as `Internal`.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => ErrorKind::Config,
            2 => ErrorKind::Auth,
            3 => ErrorKind::Transient,
            4 => ErrorKind::RateLimited,
            5 => ErrorKind::NotFound,
            6 => ErrorKind::Conflict,
            7 => ErrorKind::Permanent,
            _ => ErrorKind::Internal,
        }
    }

    /// A short lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Auth => "auth",
            ErrorKind::Transient => "transient",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Permanent => "permanent",
            ErrorKind::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a connector, on either side of the ABI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} error: {message}")]
pub struct ConnectorError {
    /// The class.
    pub kind: ErrorKind,
    /// What went wrong, for people. Must never hold a secret.
    pub message: String,
    /// For rate limits and transient errors: how long to wait, if known.
    pub retry_after: Option<Duration>,
}

impl ConnectorError {
    /// An error of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A config error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// An auth error.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }

    /// A transient error.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transient, message)
    }

    /// A rate-limit error with an optional delay.
    pub fn rate_limited(message: impl Into<String>, retry_after: Option<Duration>) -> Self {
        ConnectorError {
            kind: ErrorKind::RateLimited,
            message: message.into(),
            retry_after,
        }
    }

    /// A not-found error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// A conflict error.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// A call this connector does not support (a permanent error).
    pub fn unsupported(what: &str) -> Self {
        Self::new(
            ErrorKind::Permanent,
            format!("`{what}` is not supported by this connector"),
        )
    }

    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permanent, message)
    }

    /// An internal error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Sets the delay before a retry.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}
