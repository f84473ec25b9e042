//! Structured logs through `tracing`. Span fields are flattened into each line, so a line logged deep inside a stage
//! still carries the invocation's `request_id`, `trace_id`, `function` and `cold_start`.

use serde_json::{Map, Value};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line, for CloudWatch and log tooling.
    Json,
    /// Compact text on stderr, for a developer at a terminal.
    Text,
}

impl LogFormat {
    /// JSON on Lambda or when `AWS_LAMBDA_LOG_FORMAT`/`NAVIGATOR_LOG_FORMAT` says `json`; text otherwise.
    pub fn from_env() -> Self {
        let asked = |name| {
            std::env::var(name)
                .map(|v| v.eq_ignore_ascii_case("json"))
                .unwrap_or(false)
        };
        if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
            || asked("AWS_LAMBDA_LOG_FORMAT")
            || asked("NAVIGATOR_LOG_FORMAT")
        {
            Self::Json
        } else {
            Self::Text
        }
    }
}

/// Installs the global subscriber once. The level comes from `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`, then
/// `default_level`. Message text and personal data are never logged at INFO (docs/DESIGN.md §7).
pub fn init_logging(format: LogFormat, default_level: &str) {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|level| level.to_lowercase())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default_level.to_string());
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let result = match format {
        LogFormat::Json => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .fmt_fields(JsonFields::new())
            .event_format(FlatJson)
            .with_writer(std::io::stdout)
            .try_init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .compact()
            .with_writer(std::io::stderr)
            .try_init(),
    };
    // A second call (tests, or a CLI subcommand that runs a function in-process) keeps the first subscriber.
    let _ = result;
}

/// True for exactly one caller, however many ask at once: on Lambda Managed Instances many invocations of one
/// execution environment start together, and only one of them is its cold start.
pub struct FirstTime(AtomicBool);

impl FirstTime {
    pub const fn new() -> Self {
        Self(AtomicBool::new(true))
    }

    /// True the first time, false after.
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

impl Default for FirstTime {
    fn default() -> Self {
        Self::new()
    }
}

static COLD_START: FirstTime = FirstTime::new();

/// True for the first invocation of this execution environment, false after.
pub fn take_cold_start() -> bool {
    COLD_START.take()
}

/// The span one invocation runs in. Every log line inside it carries these fields.
///
/// `request_id` is the chat turn's id, which travels in every tool envelope, so one id follows a turn through all
/// five functions; record it with `span.record("request_id", id)` once known. `aws_request_id` is Lambda's own.
pub fn invocation_span(function: &'static str, aws_request_id: &str, trace_id: Option<&str>) -> tracing::Span {
    tracing::info_span!(
        "invocation",
        function,
        request_id = tracing::field::Empty,
        aws_request_id,
        trace_id = trace_id.unwrap_or(""),
        cold_start = take_cold_start()
    )
}

/// Formats an event as one flat JSON object: time, level, target, the fields of every enclosing span (outermost
/// first), then the event's own fields.
struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = Map::new();
        let unix_ms = super::unix_ms_now();
        // Lambda's advanced logging filters JSON lines by `level` and needs an RFC 3339 `timestamp` beside it.
        line.insert("timestamp".into(), rfc3339_utc(unix_ms).into());
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("target".into(), event.metadata().target().into());
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut FieldsToJson(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// `2026-12-02T04:05:06.789Z` from epoch milliseconds (civil date from days: H. Hinnant's algorithm, which holds
/// for every date after 1970 without a calendar crate).
fn rfc3339_utc(unix_ms: u64) -> String {
    let days = unix_ms / 86_400_000;
    let ms_of_day = unix_ms % 86_400_000;
    let (hour, minute) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (second, millis) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
}

struct FieldsToJson<'a>(&'a mut Map<String, Value>);

impl Visit for FieldsToJson<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn of_sixteen_invocations_starting_together_exactly_one_is_the_cold_start() {
        let first = FirstTime::new();
        let cold: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16).map(|_| scope.spawn(|| first.take())).collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap_or(false)))
                .sum()
        });
        assert_eq!(cold, 1);
        assert!(!first.take(), "and never again");
    }
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn every_line_carries_the_invocation_fields() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(FlatJson)
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let invocation = tracing::info_span!(
                "invocation",
                function = "retrieve",
                request_id = "req-7",
                trace_id = "1-abc",
                cold_start = true
            );
            let _invocation = invocation.enter();
            let stage = tracing::info_span!("stage", stage = "knn");
            let _stage = stage.enter();
            tracing::info!(rows = 5_u64, "searched");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["function"], "retrieve");
        assert_eq!(line["request_id"], "req-7");
        assert_eq!(line["trace_id"], "1-abc");
        assert_eq!(line["cold_start"], true);
        assert_eq!(line["stage"], "knn");
        assert_eq!(line["rows"], 5);
        assert_eq!(line["message"], "searched");
        assert_eq!(line["level"], "INFO");
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(timestamp.len() == 24 && timestamp.ends_with('Z'), "{timestamp}");
    }

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(rfc3339_utc(1_796_184_306_789), "2026-12-02T04:05:06.789Z");
        assert_eq!(rfc3339_utc(4_102_444_800_000), "2100-01-01T00:00:00.000Z");
    }
}
