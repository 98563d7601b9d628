//! `/metrics`: the live state of links and endpoints in the Prometheus (OpenMetrics) text format.
//! Everything is read at scrape time from the live registry and the endpoints' call statistics.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::ApiUsage;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::engine::instrument::EndpointStats;
use crate::engine::live::{LinkLive, LinkState};

/// The content type of the text [`render`] returns.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One endpoint as `/metrics` sees it.
#[derive(Debug)]
pub struct EndpointSample {
    /// The endpoint's name.
    pub name: String,
    /// The connector's own request count (by call), if it keeps one.
    pub usage: ApiUsage,
    /// The host's timings of its calls.
    pub stats: Arc<EndpointStats>,
}

/// Everything one scrape shows.
#[derive(Debug)]
pub struct Sample {
    /// Every link's live state.
    pub links: Vec<LinkLive>,
    /// Every connected endpoint.
    pub endpoints: Vec<EndpointSample>,
    /// The time of the scrape.
    pub now: DateTime<Utc>,
}

type Labels<'a> = Vec<(&'static str, &'a str)>;

fn counters<'a>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: impl IntoIterator<Item = (Labels<'a>, u64)>,
) -> std::fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in rows {
        ConstCounter::new(v).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

fn gauges<'a>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: impl IntoIterator<Item = (Labels<'a>, f64)>,
) -> std::fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in rows {
        ConstGauge::new(v).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Sample {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        let links = &self.links;
        fn l(x: &LinkLive) -> Labels<'_> {
            vec![("link", x.link.as_str())]
        }
        let per_link = |f: fn(&LinkLive) -> u64| links.iter().map(move |x| (l(x), f(x)));
        counters(
            &mut enc,
            "orderlink_link_cycles",
            "Sync cycles run.",
            per_link(|x| x.cycles),
        )?;
        counters(
            &mut enc,
            "orderlink_link_cycle_errors",
            "Sync cycles that ended with an error.",
            per_link(|x| x.cycle_errors),
        )?;
        counters(
            &mut enc,
            "orderlink_link_orders_pulled",
            "Orders read from the change feeds.",
            per_link(|x| x.pulled),
        )?;
        counters(
            &mut enc,
            "orderlink_link_writes",
            "Status writes by outcome: applied, retried (scheduled again), dead (dead letters).",
            links.iter().flat_map(|x| {
                [
                    ("applied", x.applied),
                    ("retried", x.retried),
                    ("dead", x.dead),
                ]
                .map(|(outcome, v)| (vec![("link", x.link.as_str()), ("outcome", outcome)], v))
            }),
        )?;
        gauges(
            &mut enc,
            "orderlink_link_pending",
            "Writes waiting in the outbox after the last cycle.",
            links.iter().map(|x| (l(x), x.pending as f64)),
        )?;
        gauges(
            &mut enc,
            "orderlink_link_lag_seconds",
            "Now minus the time the oldest unapplied change was queued (0: none pending).",
            links.iter().map(|x| (l(x), x.lag_secs(self.now))),
        )?;
        gauges(
            &mut enc,
            "orderlink_link_last_success_timestamp_seconds",
            "When the last good cycle ended (Unix time; 0: never).",
            links.iter().map(|x| {
                let t = x
                    .last_success_at
                    .map(|t| t.timestamp_millis() as f64 / 1000.0);
                (l(x), t.unwrap_or(0.0))
            }),
        )?;
        gauges(
            &mut enc,
            "orderlink_link_lease_epoch",
            "The fencing epoch of the link's lease on a shared store, labelled with the host holding it (absent on a store file).",
            links.iter().filter_map(|x| {
                let epoch = x.epoch.filter(|_| x.owner.is_some())?;
                let owner = x.owner.as_deref().unwrap_or_default();
                Some((vec![("link", x.link.as_str()), ("owner", owner)], epoch as f64))
            }),
        )?;
        gauges(
            &mut enc,
            "orderlink_link_owned",
            "1 when this host runs the link, 0 when another host sharing the store does.",
            links.iter().filter(|x| x.owner.is_some()).map(|x| {
                let here = !matches!(x.state, LinkState::Standby | LinkState::Off);
                (l(x), if here { 1.0 } else { 0.0 })
            }),
        )?;
        gauges(
            &mut enc,
            "orderlink_link_ready",
            "1 when the link is off or made a cycle within its bound (see /readyz), else 0.",
            links
                .iter()
                .map(|x| (l(x), if x.is_ready(self.now) { 1.0 } else { 0.0 })),
        )?;

        let eps = &self.endpoints;
        counters(
            &mut enc,
            "orderlink_endpoint_api_requests",
            "Requests sent to the remote system, by API call, as the connector counts them.",
            eps.iter().flat_map(|e| {
                let mut rows: Vec<(Labels, u64)> = e
                    .usage
                    .by_endpoint
                    .iter()
                    .map(|(call, n)| {
                        (
                            vec![("endpoint", e.name.as_str()), ("call", call.as_str())],
                            *n,
                        )
                    })
                    .collect();
                if rows.is_empty() {
                    rows.push((
                        vec![("endpoint", e.name.as_str()), ("call", "all")],
                        e.usage.requests,
                    ));
                }
                rows
            }),
        )?;
        counters(
            &mut enc,
            "orderlink_endpoint_rate_limit_waits",
            "Calls the remote system refused for its rate limit, each followed by a wait.",
            eps.iter().map(|e| {
                (
                    vec![("endpoint", e.name.as_str())],
                    e.stats.rate_limit_waits.load(Ordering::Relaxed),
                )
            }),
        )?;
        counters(
            &mut enc,
            "orderlink_endpoint_call_errors",
            "Connector calls that returned an error, by call.",
            eps.iter().flat_map(|e| {
                e.stats.calls.iter().map(|c| {
                    (
                        vec![("endpoint", e.name.as_str()), ("call", c.call)],
                        c.errors.load(Ordering::Relaxed),
                    )
                })
            }),
        )?;
        let mut m = enc.encode_descriptor(
            "orderlink_endpoint_request_duration_seconds",
            "Time of each connector call as the host sees it (the remote requests inside it).",
            None,
            MetricType::Histogram,
        )?;
        for e in eps {
            for c in &e.stats.calls {
                let labels: Labels = vec![("endpoint", e.name.as_str()), ("call", c.call)];
                c.latency.encode(m.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// The OpenMetrics text of one scrape.
pub fn render(sample: Sample) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(sample));
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_show_the_owner_and_epoch_of_each_link() {
        let now = Utc::now();
        let mut here = LinkLive::new("a", LinkState::Running, 5.0);
        here.owner = Some("node-1".into());
        here.epoch = Some(4);
        let mut there = LinkLive::new("b", LinkState::Standby, 5.0);
        there.owner = Some("node-2".into());
        there.epoch = Some(9);
        // A store file: no owner, no lease lines.
        let single = LinkLive::new("c", LinkState::Running, 5.0);
        let text = render(Sample {
            links: vec![here, there, single],
            endpoints: Vec::new(),
            now,
        });
        for line in [
            "orderlink_link_lease_epoch{link=\"a\",owner=\"node-1\"} 4",
            "orderlink_link_lease_epoch{link=\"b\",owner=\"node-2\"} 9",
            "orderlink_link_owned{link=\"a\"} 1",
            "orderlink_link_owned{link=\"b\"} 0",
        ] {
            assert!(text.contains(line), "missing {line}:\n{text}");
        }
        assert!(!text.contains("link=\"c\",owner"), "{text}");
        assert!(!text.contains("orderlink_link_owned{link=\"c\"}"), "{text}");
    }

    #[test]
    fn links_and_endpoints_show_with_their_labels() {
        let now = Utc::now();
        let mut link = LinkLive::new("shop1", LinkState::Running, 5.0);
        link.cycles = 7;
        link.applied = 3;
        link.pending = 2;
        link.oldest_pending_at = Some(now - chrono::Duration::seconds(12));
        link.last_cycle_at = Some(now);
        let stats = Arc::new(EndpointStats::default());
        stats.record(
            "apply",
            0.003,
            Some(orderlink_plugin_api::ErrorKind::RateLimited),
        );
        let mut usage = ApiUsage::default();
        usage.by_endpoint.insert("orders/search".into(), 4);
        let text = render(Sample {
            links: vec![link],
            endpoints: vec![EndpointSample {
                name: "shop".into(),
                usage,
                stats,
            }],
            now,
        });
        for line in [
            "orderlink_link_cycles_total{link=\"shop1\"} 7",
            "orderlink_link_writes_total{link=\"shop1\",outcome=\"applied\"} 3",
            "orderlink_link_pending{link=\"shop1\"} 2",
            "orderlink_link_lag_seconds{link=\"shop1\"} 12",
            "orderlink_link_ready{link=\"shop1\"} 1",
            "orderlink_endpoint_api_requests_total{endpoint=\"shop\",call=\"orders/search\"} 4",
            "orderlink_endpoint_rate_limit_waits_total{endpoint=\"shop\"} 1",
            "orderlink_endpoint_request_duration_seconds_count{endpoint=\"shop\",call=\"apply\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l.starts_with(line)),
                "no {line} in\n{text}"
            );
        }
        assert!(text.trim_end().ends_with("# EOF"));
    }
}
