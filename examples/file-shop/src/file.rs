//! The orders file: its format, reading it, and replacing it atomically.
//!
//! ```json
//! {
//!   "last_seq": 2,
//!   "orders": [
//!     { "key": "1001", "status": "new", "created_at": "2025-03-01T09:00:00Z", "seq": 1 },
//!     { "key": "1002", "status": "packed", "seq": 2, "changed_at": "2025-03-01T10:00:00Z" }
//!   ]
//! }
//! ```
//!
//! `seq` is the number of the order's last change: the connector gives every change it writes
//! the next number after `last_seq`. An order written by hand without `seq` counts as change 0.
//! Fields the connector does not know are kept as they are.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use orderlink_plugin_api::ConnectorError;
use serde::{Deserialize, Serialize};

/// One order in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// The order key.
    pub key: String,
    /// The status code.
    pub status: String,
    /// The number of the order's last change.
    #[serde(default)]
    pub seq: u64,
    /// When the order was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When the order's status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<Utc>>,
    /// Whatever else the file holds about the order.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrdersFile {
    /// The number of the last change written.
    #[serde(default)]
    pub last_seq: u64,
    /// The orders.
    pub orders: Vec<OrderRecord>,
    /// Whatever else the file holds.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl OrdersFile {
    /// Reads and checks the file: every key present and unique.
    pub fn read(path: &Path) -> Result<OrdersFile, ConnectorError> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                ConnectorError::config(format!("no orders file at {}", path.display()))
            }
            _ => ConnectorError::transient(format!("cannot read {}: {e}", path.display())),
        })?;
        let file: OrdersFile = serde_json::from_str(&text).map_err(|e| {
            ConnectorError::config(format!(
                "{} is not a valid orders file: {e}",
                path.display()
            ))
        })?;
        let mut keys = std::collections::BTreeSet::new();
        for order in &file.orders {
            if order.key.is_empty() {
                return Err(ConnectorError::config(format!(
                    "{}: an order has an empty key",
                    path.display()
                )));
            }
            if !keys.insert(order.key.as_str()) {
                return Err(ConnectorError::config(format!(
                    "{}: order `{}` is listed twice",
                    path.display(),
                    order.key
                )));
            }
        }
        Ok(file)
    }

    /// The number the next change gets.
    pub fn next_seq(&self) -> u64 {
        self.orders
            .iter()
            .map(|o| o.seq)
            .max()
            .unwrap_or(0)
            .max(self.last_seq)
            + 1
    }

    /// Replaces the file atomically: writes a temporary file beside it, flushes it to disk and
    /// renames it over the old one, so a reader sees either the old or the new file, never a
    /// half-written one.
    pub fn write(&self, path: &Path) -> Result<(), ConnectorError> {
        let failed = |e: std::io::Error| {
            ConnectorError::transient(format!("cannot write {}: {e}", path.display()))
        };
        let mut text = serde_json::to_vec_pretty(self)
            .map_err(|e| ConnectorError::internal(format!("cannot encode the orders file: {e}")))?;
        text.push(b'\n');
        let tmp = temporary_path(path);
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(failed)
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "orders".to_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_rewrite() {
        let dir = std::env::temp_dir().join(format!("file-shop-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("orders.json");
        std::fs::write(
            &path,
            r#"{"shop":"demo","orders":[{"key":"1","status":"new","note":"gift wrap"}]}"#,
        )
        .expect("write");
        let file = OrdersFile::read(&path).expect("read");
        file.write(&path).expect("rewrite");
        let again: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read back"))
                .expect("json");
        assert_eq!(again["shop"], "demo");
        assert_eq!(again["orders"][0]["note"], "gift wrap");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn duplicate_keys_are_a_config_error() {
        let dir = std::env::temp_dir().join(format!("file-shop-dup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("orders.json");
        std::fs::write(
            &path,
            r#"{"orders":[{"key":"1","status":"new"},{"key":"1","status":"packed"}]}"#,
        )
        .expect("write");
        let err = OrdersFile::read(&path).expect_err("duplicate keys");
        assert_eq!(err.kind, orderlink_plugin_api::ErrorKind::Config);
        assert!(err.message.contains("listed twice"), "{}", err.message);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
