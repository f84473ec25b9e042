//! Observability (docs/DESIGN.md §7): JSON logs whose every line carries `request_id`, `trace_id`, `function` and
//! `cold_start`, and a metrics facade that renders CloudWatch EMF on Lambda and Prometheus text locally.

mod heap;
mod logs;
mod metrics_registry;

pub use heap::{allocated_bytes, count_heap_with};
pub use logs::{FirstTime, LogFormat, init_logging, invocation_span, take_cold_start};
pub use metrics_registry::{Collector, MetricsRegistry, emf_document, install_metrics, unix_ms_now};
