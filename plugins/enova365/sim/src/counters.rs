//! Per-method request counters of the WebAPI endpoint (faulted requests count too).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// What `GET /_sim/counters` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersView {
    /// Every request to `InvokeServiceMethod`.
    pub total: u64,
    /// Requests by `MethodName` (`(none)` when the body named none).
    pub by_method: BTreeMap<String, u64>,
}

/// The counters.
#[derive(Debug, Default)]
pub struct Counters(Mutex<CountersView>);

impl Counters {
    /// Counts one request to `method`.
    pub fn record(&self, method: &str) {
        if let Ok(mut c) = self.0.lock() {
            c.total += 1;
            *c.by_method.entry(method.to_owned()).or_default() += 1;
        }
    }

    /// The counts so far.
    pub fn snapshot(&self) -> CountersView {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Sets every count to zero.
    pub fn reset(&self) {
        if let Ok(mut c) = self.0.lock() {
            *c = CountersView::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_method_and_resets() {
        let c = Counters::default();
        c.record("PobierzZamowienia");
        c.record("PobierzZamowienia");
        c.record("UstawPotwierdzenia");
        let s = c.snapshot();
        assert_eq!(s.total, 3);
        assert_eq!(s.by_method.get("PobierzZamowienia"), Some(&2));
        c.reset();
        assert_eq!(c.snapshot(), CountersView::default());
    }
}
