//! Every metric the navigator records, in one catalog: its name, kind, unit and help text.
//!
//! Names follow Prometheus conventions, so the same names serve `/metrics` and CloudWatch EMF: a `navigator_` prefix,
//! the base unit in the name (`_seconds`, `_bytes`), `_total` on counters. Call sites name a metric by its entry here
//! (`metrics::counter!(CHAT_TURNS.name, ...)`), the registry takes a histogram's buckets and an EMF unit from its
//! entry, and `/metrics` prints each entry's help. The dashboards in `ops/` query these names; a test in the
//! workspace fails when code records a metric that is not here.

/// What kind of series a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    /// The word Prometheus' `# TYPE` line uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// What one observation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Bytes,
    /// A count of things (calls, turns, connections).
    Count,
}

impl Unit {
    /// CloudWatch's name for the unit in an EMF document.
    pub const fn cloudwatch(self) -> &'static str {
        match self {
            Self::Seconds => "Seconds",
            Self::Bytes => "Bytes",
            Self::Count => "Count",
        }
    }

    /// Histogram bucket bounds. Seconds span a 1 ms stage to the 3 s turn budget and past it; counts span a wave's
    /// one to three calls.
    pub const fn buckets(self) -> &'static [f64] {
        match self {
            Self::Seconds => &[
                0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0, 2.0, 3.0, 5.0,
            ],
            Self::Bytes => &[1e3, 1e4, 1e5, 1e6, 1e7, 1e8],
            Self::Count => &[1.0, 2.0, 3.0, 4.0, 6.0, 8.0],
        }
    }
}

/// One metric: what the registry needs to render it and what a reader needs to understand it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Unit,
    pub help: &'static str,
}

const fn counter(name: &'static str, help: &'static str) -> Metric {
    Metric {
        name,
        kind: Kind::Counter,
        unit: Unit::Count,
        help,
    }
}

const fn gauge(name: &'static str, unit: Unit, help: &'static str) -> Metric {
    Metric {
        name,
        kind: Kind::Gauge,
        unit,
        help,
    }
}

const fn histogram(name: &'static str, unit: Unit, help: &'static str) -> Metric {
    Metric {
        name,
        kind: Kind::Histogram,
        unit,
        help,
    }
}

// The chat API (orchestrator).
pub const HTTP_REQUESTS: Metric = counter(
    "navigator_http_requests_total",
    "HTTP requests answered, by route, method and status code (429s from admission included).",
);
pub const HTTP_SERVER_ERRORS: Metric = counter(
    "navigator_http_server_errors_total",
    "HTTP requests answered with a 5xx status, without labels: what the CloudWatch error-rate alarm reads.",
);
pub const HTTP_REQUEST_DURATION: Metric = histogram(
    "navigator_http_request_duration_seconds",
    Unit::Seconds,
    "Time from a request's arrival to its response, by route and status.",
);
pub const ADMISSION_REJECTED: Metric = counter(
    "navigator_admission_rejected_total",
    "Chat requests refused at the door with 429, by reason.",
);
pub const CHAT_TURNS: Metric = counter(
    "navigator_chat_turns_total",
    "Chat turns that ended with an answer body, by status (answered, unanswered, refused).",
);
pub const CHAT_TURN_DURATION: Metric = histogram(
    "navigator_chat_turn_duration_seconds",
    Unit::Seconds,
    "A chat turn's time inside the navigator, by status.",
);
pub const CHAT_STAGE_DURATION: Metric = histogram(
    "navigator_chat_stage_duration_seconds",
    Unit::Seconds,
    "Time of each stage of a chat turn (guard, translate_in, plan_N, wave_N, compose, output_check, translate_out).",
);
pub const CHAT_DEGRADED: Metric = counter(
    "navigator_chat_degraded_total",
    "Turns answered with a part missing, by what was missing.",
);
pub const PLANNER_CAPPED: Metric = counter(
    "navigator_planner_capped_total",
    "Plans cut to the limits (3 calls a wave, 2 waves), by which cap.",
);
pub const WAVE_TOOL_CALLS: Metric = histogram(
    "navigator_wave_tool_calls",
    Unit::Count,
    "Tool calls run together in one wave.",
);
pub const TOOL_CALLS: Metric = counter(
    "navigator_tool_calls_total",
    "Tool calls the orchestrator made, by tool, outcome and wave (1 or 2).",
);
pub const TOOL_CALL_DURATION: Metric = histogram(
    "navigator_tool_call_duration_seconds",
    Unit::Seconds,
    "A tool call's time as the orchestrator saw it, by tool and outcome.",
);
pub const ANSWER_UNGROUNDED_SENTENCES: Metric = counter(
    "navigator_answer_ungrounded_sentences_total",
    "Answer sentences dropped for stating an amount or phone number no source holds.",
);
pub const OUTPUT_CHECK_REMOVED: Metric = counter(
    "navigator_output_check_removed_total",
    "Personal values and leaked instructions the output check removed from answers.",
);

// The tool functions.
pub const TOOL_INVOCATION_DURATION: Metric = histogram(
    "navigator_tool_invocation_duration_seconds",
    Unit::Seconds,
    "A tool function's invocation time, by tool and outcome.",
);
pub const GUARD_VERDICTS: Metric = counter("navigator_guard_verdicts_total", "Guard verdicts, by verdict.");
pub const TRANSLATIONS: Metric = counter(
    "navigator_translations_total",
    "Texts translated, by the provider that translated them.",
);
pub const RETRIEVE_CACHE_LOOKUPS: Metric = counter(
    "navigator_retrieve_cache_lookups_total",
    "Retrieval result-cache lookups, by outcome (hit, miss).",
);
pub const RETRIEVE_STAGE_DURATION: Metric = histogram(
    "navigator_retrieve_stage_duration_seconds",
    Unit::Seconds,
    "Time of each retrieval stage (embed, knn, rerank).",
);
pub const INGEST_UPLOADS: Metric = counter(
    "navigator_ingest_uploads_total",
    "Uploaded documents taken in, by the status they ended in.",
);

// Resilience: bulkheads and breakers.
pub const BULKHEAD_IN_FLIGHT: Metric = gauge(
    "navigator_bulkhead_in_flight",
    Unit::Count,
    "Calls holding a bulkhead's permit now.",
);
pub const BULKHEAD_QUEUED: Metric = gauge(
    "navigator_bulkhead_queued",
    Unit::Count,
    "Calls waiting in a bulkhead's queue now.",
);
pub const BULKHEAD_ADMITTED: Metric = counter("navigator_bulkhead_admitted_total", "Calls a bulkhead admitted.");
pub const BULKHEAD_REJECTED: Metric = counter(
    "navigator_bulkhead_rejected_total",
    "Calls a bulkhead refused (queue full, or the deadline passed while queued).",
);
pub const BREAKER_STATE: Metric = gauge(
    "navigator_breaker_state",
    Unit::Count,
    "A circuit breaker's state: 0 closed, 1 half-open, 2 open.",
);
pub const BREAKER_TRANSITIONS: Metric = counter(
    "navigator_breaker_transitions_total",
    "Circuit breaker state changes, by the state entered.",
);
pub const BREAKER_REJECTED: Metric = counter(
    "navigator_breaker_rejected_total",
    "Calls an open circuit breaker refused without trying.",
);

// Storage and the process.
pub const DB_POOL_CONNECTIONS: Metric = gauge(
    "navigator_db_pool_connections",
    Unit::Count,
    "Database pool connections, by database and state (in_use, idle).",
);
pub const DB_POOL_MAX_CONNECTIONS: Metric = gauge(
    "navigator_db_pool_max_connections",
    Unit::Count,
    "The most connections a database pool may open.",
);
pub const PROCESS_RESIDENT_MEMORY: Metric = gauge(
    "process_resident_memory_bytes",
    Unit::Bytes,
    "Resident memory size of the process.",
);

pub const HEAP_ALLOCATED: Metric = gauge(
    "navigator_heap_allocated_bytes",
    Unit::Bytes,
    "Bytes the program has allocated and not freed, counted at its global allocator (resident memory less what the allocator keeps for reuse).",
);

/// Every metric, for the registry's lookups and the help lines.
pub const ALL: &[Metric] = &[
    HTTP_REQUESTS,
    HTTP_SERVER_ERRORS,
    HTTP_REQUEST_DURATION,
    ADMISSION_REJECTED,
    CHAT_TURNS,
    CHAT_TURN_DURATION,
    CHAT_STAGE_DURATION,
    CHAT_DEGRADED,
    PLANNER_CAPPED,
    WAVE_TOOL_CALLS,
    TOOL_CALLS,
    TOOL_CALL_DURATION,
    ANSWER_UNGROUNDED_SENTENCES,
    OUTPUT_CHECK_REMOVED,
    TOOL_INVOCATION_DURATION,
    GUARD_VERDICTS,
    TRANSLATIONS,
    RETRIEVE_CACHE_LOOKUPS,
    RETRIEVE_STAGE_DURATION,
    INGEST_UPLOADS,
    BULKHEAD_IN_FLIGHT,
    BULKHEAD_QUEUED,
    BULKHEAD_ADMITTED,
    BULKHEAD_REJECTED,
    BREAKER_STATE,
    BREAKER_TRANSITIONS,
    BREAKER_REJECTED,
    DB_POOL_CONNECTIONS,
    DB_POOL_MAX_CONNECTIONS,
    PROCESS_RESIDENT_MEMORY,
    HEAP_ALLOCATED,
];

/// The catalog entry of a metric name.
pub fn find(name: &str) -> Option<&'static Metric> {
    ALL.iter().find(|metric| metric.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_follow_prometheus_conventions() {
        let mut seen = HashSet::new();
        for metric in ALL {
            assert!(seen.insert(metric.name), "{} is in the catalog twice", metric.name);
            assert!(
                metric.name.starts_with("navigator_") || metric.name.starts_with("process_"),
                "{} lacks the application prefix",
                metric.name
            );
            assert!(
                metric
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                metric.name
            );
            assert_eq!(
                metric.name.ends_with("_total"),
                metric.kind == Kind::Counter,
                "{}: counters and only counters end in _total",
                metric.name
            );
            if metric.unit == Unit::Seconds {
                assert!(metric.name.ends_with("_seconds"), "{} needs its unit", metric.name);
            }
            if metric.unit == Unit::Bytes {
                assert!(metric.name.ends_with("_bytes"), "{} needs its unit", metric.name);
            }
            assert!(
                !metric.name.contains("_ms"),
                "{}: base units, not milliseconds",
                metric.name
            );
            assert!(metric.help.ends_with('.'), "{}: help is a sentence", metric.name);
        }
    }

    #[test]
    fn buckets_rise() {
        for unit in [Unit::Seconds, Unit::Bytes, Unit::Count] {
            assert!(unit.buckets().windows(2).all(|pair| pair[0] < pair[1]), "{unit:?}");
        }
        assert_eq!(find("navigator_chat_turns_total"), Some(&CHAT_TURNS));
        assert_eq!(find("chat_turns_total"), None);
    }
}
