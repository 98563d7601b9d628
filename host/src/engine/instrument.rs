//! Watching an endpoint's connector from the host: every call is timed (a latency histogram per
//! call), counted, and run inside an `endpoint` span so that whatever is logged during it (the
//! plugin's own events included) names the endpoint. Read by `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use orderlink_plugin_api::model::{
    ApiUsage, ApplyRequest, ApplyResponse, ChangesPage, ChangesRequest, CheckReport, ListPage,
    ListRequest, ReadRequest, ReadResponse, Vocabulary,
};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::{ConnectorError, ErrorKind};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

/// The connector calls the host times.
pub const CALLS: [&str; 6] = ["check", "vocabulary", "changes", "read", "apply", "list"];

/// Per call: how long it took and how often it failed.
#[derive(Debug)]
pub struct CallStats {
    /// The call's name (one of [`CALLS`]).
    pub call: &'static str,
    /// Seconds per call (1 ms to about 33 s).
    pub latency: Histogram,
    /// Calls that returned an error.
    pub errors: AtomicU64,
}

/// What the host saw of one endpoint's calls since the process started.
#[derive(Debug)]
pub struct EndpointStats {
    /// One entry per call in [`CALLS`] order.
    pub calls: Vec<CallStats>,
    /// Calls the remote system refused for its rate limit (each followed by a wait).
    pub rate_limit_waits: AtomicU64,
}

impl Default for EndpointStats {
    fn default() -> Self {
        EndpointStats {
            calls: CALLS
                .iter()
                .map(|call| CallStats {
                    call,
                    latency: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
                    errors: AtomicU64::new(0),
                })
                .collect(),
            rate_limit_waits: AtomicU64::new(0),
        }
    }
}

impl EndpointStats {
    /// Records one call's duration and result.
    pub fn record(&self, call: &str, seconds: f64, error: Option<ErrorKind>) {
        if let Some(c) = self.calls.iter().find(|c| c.call == call) {
            c.latency.observe(seconds);
            if error.is_some() {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        if error == Some(ErrorKind::RateLimited) {
            self.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A connector whose calls are timed into [`EndpointStats`] and logged under the endpoint's span.
pub struct Instrumented {
    endpoint: String,
    inner: Arc<dyn Connector>,
    stats: Arc<EndpointStats>,
}

impl Instrumented {
    /// Wraps `inner`, the connector of `endpoint`.
    pub fn new(endpoint: &str, inner: Arc<dyn Connector>, stats: Arc<EndpointStats>) -> Self {
        Instrumented {
            endpoint: endpoint.to_owned(),
            inner,
            stats,
        }
    }

    fn timed<T>(
        &self,
        call: &'static str,
        f: impl FnOnce(&dyn Connector) -> Result<T, ConnectorError>,
    ) -> Result<T, ConnectorError> {
        let _span = tracing::info_span!("endpoint", endpoint = %self.endpoint).entered();
        let started = Instant::now();
        let result = f(self.inner.as_ref());
        self.stats.record(
            call,
            started.elapsed().as_secs_f64(),
            result.as_ref().err().map(|e| e.kind),
        );
        result
    }
}

impl Connector for Instrumented {
    fn check(&self) -> Result<CheckReport, ConnectorError> {
        self.timed("check", |c| c.check())
    }
    fn vocabulary(&self) -> Result<Vocabulary, ConnectorError> {
        self.timed("vocabulary", |c| c.vocabulary())
    }
    fn changes(&self, request: &ChangesRequest) -> Result<ChangesPage, ConnectorError> {
        self.timed("changes", |c| c.changes(request))
    }
    fn read(&self, request: &ReadRequest) -> Result<ReadResponse, ConnectorError> {
        self.timed("read", |c| c.read(request))
    }
    fn apply(&self, request: &ApplyRequest) -> Result<ApplyResponse, ConnectorError> {
        self.timed("apply", |c| c.apply(request))
    }
    fn api_usage(&self) -> ApiUsage {
        self.inner.api_usage()
    }
    fn list(&self, request: &ListRequest) -> Result<ListPage, ConnectorError> {
        self.timed("list", |c| c.list(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limited_call_counts_as_a_wait_and_an_error() {
        let s = EndpointStats::default();
        s.record("apply", 0.01, None);
        s.record("apply", 0.02, Some(ErrorKind::RateLimited));
        s.record("read", 0.02, Some(ErrorKind::Transient));
        assert_eq!(s.rate_limit_waits.load(Ordering::Relaxed), 1);
        let apply = s.calls.iter().find(|c| c.call == "apply").unwrap();
        assert_eq!(apply.errors.load(Ordering::Relaxed), 1);
    }
}
