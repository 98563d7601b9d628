//! The process's log: text (coloured only on a terminal, unless told) or JSON lines, on stderr.
//!
//! In JSON each line is `{"timestamp", "level", "target", "fields": {...}}`; `fields` holds the
//! event's fields (`message` included) and those of the spans it happened in (`link`,
//! `endpoint`), each a JSON value; a plugin's structured fields (the `fields` of target
//! `orderlink::plugin`) stay a JSON object, not a string.

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// When to colour text logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Only when stderr is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Whether to write colour codes.
pub fn use_color(choice: ColorChoice, stderr_is_terminal: bool, no_color_env: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stderr_is_terminal && !no_color_env,
    }
}

/// How to log.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// A filter (`info`, `orderlink=debug`); `None`: `RUST_LOG`, else `info`.
    pub filter: Option<String>,
    /// JSON lines instead of text.
    pub json: bool,
    /// Colours for text.
    pub color: ColorChoice,
}

/// Installs the process's log subscriber (stderr).
pub fn init(options: &LogOptions) {
    let filter = options
        .filter
        .as_deref()
        .map(EnvFilter::new)
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if options.json {
        builder
            .with_ansi(false)
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .init();
    } else {
        let color = use_color(
            options.color,
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        );
        builder.with_ansi(color).init();
    }
}

/// The target of events forwarded from plugins.
const PLUGIN_TARGET: &str = "orderlink::plugin";

/// Collects an event's fields as JSON values.
struct JsonVisitor<'a> {
    out: &'a mut Map<String, Value>,
    plugin_event: bool,
}

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.out.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.out.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.out.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.out.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let v = if self.plugin_event && field.name() == "fields" {
            // The plugin's fields arrive as a JSON text: keep them structured.
            serde_json::from_str(value).unwrap_or_else(|_| Value::from(value))
        } else {
            Value::from(value)
        };
        self.out.insert(field.name().to_owned(), v);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.out
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

/// One JSON object per line; see the module docs for its shape.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                if let Some(f) = ext.get::<FormattedFields<N>>() {
                    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&f.fields) {
                        fields.extend(m);
                    }
                }
            }
        }
        event.record(&mut JsonVisitor {
            out: &mut fields,
            plugin_event: meta.target() == PLUGIN_TARGET,
        });
        let mut obj = Map::new();
        obj.insert(
            "timestamp".into(),
            Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        obj.insert("level".into(), Value::from(meta.level().as_str()));
        obj.insert("target".into(), Value::from(meta.target()));
        obj.insert("fields".into(), Value::Object(fields));
        writeln!(writer, "{}", Value::Object(obj))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_unless_told() {
        assert!(use_color(ColorChoice::Auto, true, false));
        assert!(!use_color(ColorChoice::Auto, false, false));
        assert!(!use_color(ColorChoice::Auto, true, true));
        assert!(use_color(ColorChoice::Always, false, true));
        assert!(!use_color(ColorChoice::Never, true, false));
    }
}
