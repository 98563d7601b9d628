//! Status codes as connectors report and accept them.

use std::borrow::Borrow;

/// A status code of one system (`packed`, `Zaakceptowany`, `45`): what a connector reports in
/// an order and accepts in an update. Not a display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StatusCode(String);

impl StatusCode {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<String> for StatusCode {
    fn from(s: String) -> Self {
        StatusCode(s)
    }
}

impl From<&str> for StatusCode {
    fn from(s: &str) -> Self {
        StatusCode(s.to_owned())
    }
}

impl From<StatusCode> for String {
    fn from(s: StatusCode) -> Self {
        s.0
    }
}

impl AsRef<str> for StatusCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for StatusCode {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for StatusCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for StatusCode {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Display for StatusCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
