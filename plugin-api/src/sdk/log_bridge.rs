//! Forwards the plugin's `tracing` events to the host's subscriber.
//!
//! A plugin library carries its own copy of `tracing`, with its own global dispatcher. On `init`
//! the SDK installs there a subscriber whose only layer hands every event (level, target, message
//! and fields) to the host's `log` callback, and a panic hook that logs plugin panics there too.

use std::sync::OnceLock;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::abi::{HostApiRef, LogRecord};

static INSTALLED: OnceLock<()> = OnceLock::new();

/// Level code used on the ABI.
pub fn level_code(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn level_filter(code: u8) -> LevelFilter {
    match code {
        0 => LevelFilter::OFF,
        1 => LevelFilter::ERROR,
        2 => LevelFilter::WARN,
        3 => LevelFilter::INFO,
        4 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Installs the bridge once; later calls do nothing.
pub fn install(host: HostApiRef) {
    INSTALLED.get_or_init(|| {
        let max = level_filter((host.max_level())());
        let subscriber = tracing_subscriber::registry().with(HostLayer { host }.with_filter(max));
        // Another subscriber may already be set (a plugin linked into a test binary); then
        // events go there instead, which is what that binary asked for.
        let _ = tracing::subscriber::set_global_default(subscriber);
        // A panic inside the plugin (its own copy of std) is reported through the host's log
        // rather than printed on the host's stderr; the entry point's guard turns it into an
        // `internal` error.
        std::panic::set_hook(Box::new(|info| {
            tracing::error!(target: "orderlink_plugin::panic", "plugin panicked: {info}");
        }));
    });
}

struct HostLayer {
    host: HostApiRef,
}

#[derive(Default)]
struct FieldCollector {
    message: String,
    fields: Map<String, Value>,
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .insert(field.name().to_owned(), Value::String(value.to_owned()));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_owned(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields
                .insert(field.name().to_owned(), Value::String(text));
        }
    }
}

impl<S: Subscriber> Layer<S> for HostLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut collected = FieldCollector::default();
        event.record(&mut collected);
        let fields = Value::Object(collected.fields).to_string();
        let record = LogRecord {
            level: level_code(meta.level()),
            target: meta.target().into(),
            message: collected.message.as_str().into(),
            fields_json: fields.as_str().into(),
        };
        (self.host.log())(&record);
    }
}
