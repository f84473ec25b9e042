//! A `metrics` recorder that keeps counters, gauges and histograms in memory and renders them two ways:
//! Prometheus text for `navigator serve`'s `/metrics`, and CloudWatch Embedded Metric Format lines flushed after
//! each Lambda invocation. Each metric's buckets, unit and help text come from its entry in `navigator_metrics`.
//!
//! One recorder renders both sides, so a counter counts once; `metrics-exporter-prometheus` would have needed a
//! second recorder and a fan-out beside the EMF side for what is a few dozen lines of text rendering here.

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use navigator_metrics::{Kind, Metric};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// CloudWatch takes at most 100 values per metric in one EMF document.
const EMF_MAX_VALUES: usize = 100;

/// What a metric outside the catalog is rendered as (a test keeps the code's metrics in the catalog).
fn entry(name: &str) -> Metric {
    navigator_metrics::find(name).copied().unwrap_or(Metric {
        name: "",
        kind: Kind::Gauge,
        unit: navigator_metrics::Unit::Count,
        help: "",
    })
}

/// Reads a value only known when asked for (the pool's connections, the process's memory) into gauges, just before
/// each render or flush.
pub type Collector = Box<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct CounterCell {
    total: AtomicU64,
    flushed: AtomicU64,
}

impl CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        self.total.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.total.fetch_max(value, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct GaugeCell(AtomicU64);

impl GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }
    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }
    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }
}

impl GaugeCell {
    fn update(&self, f: impl Fn(f64) -> f64) {
        let _ = self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some(f(f64::from_bits(bits)).to_bits())
        });
    }
    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

struct HistogramState {
    /// Upper bounds, from the metric's unit.
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative), one per bound.
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
    /// Samples not yet flushed as EMF, capped so a burst cannot grow memory.
    pending: Vec<f64>,
}

struct HistogramCell(Mutex<HistogramState>);

impl HistogramCell {
    fn new(bounds: &'static [f64]) -> Self {
        Self(Mutex::new(HistogramState {
            bounds,
            buckets: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
            pending: Vec::new(),
        }))
    }
}

impl HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = state.bounds.iter().position(|bound| value <= *bound) {
            state.buckets[slot] += 1;
        }
        state.count += 1;
        state.sum += value;
        if state.pending.len() < EMF_MAX_VALUES {
            state.pending.push(value);
        }
    }
}

#[derive(Clone)]
enum Cell {
    Counter(Arc<CounterCell>),
    Gauge(Arc<GaugeCell>),
    Histogram(Arc<HistogramCell>),
}

type Labels = Vec<(String, String)>;

/// Every metric this process has recorded.
#[derive(Default)]
pub struct MetricsRegistry {
    cells: Mutex<BTreeMap<(String, Labels), Cell>>,
    collectors: Mutex<Vec<Collector>>,
}

fn labels_of(key: &Key) -> Labels {
    key.labels()
        .map(|label| (label.key().to_string(), label.value().to_string()))
        .collect()
}

impl MetricsRegistry {
    fn cell(&self, key: &Key, make: impl FnOnce() -> Cell) -> Cell {
        let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        cells
            .entry((key.name().to_string(), labels_of(key)))
            .or_insert_with(make)
            .clone()
    }

    /// Adds a collector, run before every render and flush for as long as the process lives.
    pub fn collect_with(&self, collector: Collector) {
        self.collectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(collector);
    }

    fn run_collectors(&self) {
        for collector in self.collectors.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            collector();
        }
    }

    /// Prometheus text exposition format, version 0.0.4, with a HELP and a TYPE line for each metric.
    pub fn render_prometheus(&self) -> String {
        self.run_collectors();
        let cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        let mut typed = String::new();
        for ((name, labels), cell) in cells.iter() {
            let kind = match cell {
                Cell::Counter(_) => "counter",
                Cell::Gauge(_) => "gauge",
                Cell::Histogram(_) => "histogram",
            };
            if typed != *name {
                let help = entry(name).help;
                if !help.is_empty() {
                    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
                }
                let _ = writeln!(out, "# TYPE {name} {kind}");
                typed.clone_from(name);
            }
            match cell {
                Cell::Counter(c) => {
                    let _ = writeln!(
                        out,
                        "{name}{} {}",
                        prometheus_labels(labels, None),
                        c.total.load(Ordering::Relaxed)
                    );
                }
                Cell::Gauge(g) => {
                    let _ = writeln!(out, "{name}{} {}", prometheus_labels(labels, None), g.get());
                }
                Cell::Histogram(h) => {
                    let state = h.0.lock().unwrap_or_else(PoisonError::into_inner);
                    let mut cumulative = 0;
                    for (bound, count) in state.bounds.iter().zip(&state.buckets) {
                        cumulative += count;
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {cumulative}",
                            prometheus_labels(labels, Some(&bound.to_string()))
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {}",
                        prometheus_labels(labels, Some("+Inf")),
                        state.count
                    );
                    let _ = writeln!(out, "{name}_sum{} {}", prometheus_labels(labels, None), state.sum);
                    let _ = writeln!(out, "{name}_count{} {}", prometheus_labels(labels, None), state.count);
                }
            }
        }
        out
    }

    /// CloudWatch EMF documents (one JSON line per label set) for what changed since the last flush.
    /// `dimensions` are added to every document, e.g. `[("function", "retrieve")]`.
    pub fn flush_emf(&self, namespace: &str, dimensions: &[(&str, &str)]) -> Vec<String> {
        self.run_collectors();
        let cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        let mut by_labels: BTreeMap<&Labels, Vec<(&str, Value, &str)>> = BTreeMap::new();
        for ((name, labels), cell) in cells.iter() {
            let entry = match cell {
                Cell::Counter(c) => {
                    let total = c.total.load(Ordering::Relaxed);
                    let delta = total - c.flushed.swap(total, Ordering::Relaxed).min(total);
                    (delta > 0).then(|| (name.as_str(), json!(delta), "Count"))
                }
                Cell::Gauge(g) => Some((name.as_str(), json!(g.get()), entry(name).unit.cloudwatch())),
                Cell::Histogram(h) => {
                    let mut state = h.0.lock().unwrap_or_else(PoisonError::into_inner);
                    let values = std::mem::take(&mut state.pending);
                    (!values.is_empty()).then(|| (name.as_str(), json!(values), entry(name).unit.cloudwatch()))
                }
            };
            if let Some(entry) = entry {
                by_labels.entry(labels).or_default().push(entry);
            }
        }
        let timestamp = unix_ms_now();
        by_labels
            .into_iter()
            .map(|(labels, metrics)| {
                let mut all: Vec<(&str, &str)> = dimensions.to_vec();
                all.extend(labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                emf_document(namespace, &all, metrics, timestamp)
            })
            .collect()
    }
}

/// Milliseconds since the Unix epoch, now (0 for a clock set before 1970).
pub fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One CloudWatch EMF document: the dimensions' values, each metric's value, and the `_aws` block naming the
/// namespace, the dimension set and each metric's unit. `metrics` are (name, value, CloudWatch unit).
pub fn emf_document(
    namespace: &str,
    dimensions: &[(&str, &str)],
    metrics: Vec<(&str, Value, &str)>,
    timestamp_ms: u64,
) -> String {
    let mut document = Map::new();
    for (k, v) in dimensions {
        document.insert((*k).into(), (*v).into());
    }
    let dimension_names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    for (name, value, _) in metrics {
        document.insert(name.into(), value);
    }
    document.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": [{
            "Namespace": namespace, "Dimensions": [dimension_names], "Metrics": definitions}]}),
    );
    Value::Object(document).to_string()
}

fn prometheus_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}=\"{}\"",
                v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
            )
        })
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

impl Recorder for MetricsRegistry {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        match self.cell(key, || Cell::Counter(Arc::default())) {
            Cell::Counter(cell) => Counter::from_arc(cell),
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        match self.cell(key, || Cell::Gauge(Arc::default())) {
            Cell::Gauge(cell) => Gauge::from_arc(cell),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let bounds = entry(key.name()).unit.buckets();
        match self.cell(key, || Cell::Histogram(Arc::new(HistogramCell::new(bounds)))) {
            Cell::Histogram(cell) => Histogram::from_arc(cell),
            _ => Histogram::noop(),
        }
    }
}

struct GlobalRecorder(&'static MetricsRegistry);

impl Recorder for GlobalRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description);
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description);
    }
    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_histogram(key, unit, description);
    }
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.0.register_counter(key, metadata)
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.0.register_gauge(key, metadata)
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.0.register_histogram(key, metadata)
    }
}

static REGISTRY: OnceLock<MetricsRegistry> = OnceLock::new();

/// Installs the process-wide registry as the `metrics` recorder (once) and returns it. The process's resident
/// memory, and its live heap bytes where the allocator counts them, are collected from the start.
pub fn install_metrics() -> &'static MetricsRegistry {
    let mut first = false;
    let registry = REGISTRY.get_or_init(|| {
        first = true;
        MetricsRegistry::default()
    });
    if first {
        let _ = metrics::set_global_recorder(GlobalRecorder(registry));
        registry.collect_with(Box::new(|| {
            if let Some(bytes) = resident_memory_bytes() {
                metrics::gauge!(navigator_metrics::PROCESS_RESIDENT_MEMORY.name).set(bytes as f64);
            }
            if let Some(bytes) = super::heap::allocated_bytes() {
                metrics::gauge!(navigator_metrics::HEAP_ALLOCATED.name).set(bytes as f64);
            }
        }));
    }
    registry
}

/// The process's resident set size, from `/proc/self/status` (Linux, which Lambda and this project's hosts run).
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use navigator_metrics::{BULKHEAD_IN_FLIGHT, CHAT_STAGE_DURATION, TOOL_CALLS};

    fn record(registry: &MetricsRegistry) {
        metrics::with_local_recorder(registry, || {
            metrics::counter!(TOOL_CALLS.name, "tool" => "retrieve", "outcome" => "ok").increment(2);
            metrics::counter!(TOOL_CALLS.name, "tool" => "web_search", "outcome" => "timeout").increment(1);
            metrics::gauge!(BULKHEAD_IN_FLIGHT.name, "bulkhead" => "chat").set(3.0);
            metrics::histogram!(CHAT_STAGE_DURATION.name, "stage" => "guard").record(0.004);
            metrics::histogram!(CHAT_STAGE_DURATION.name, "stage" => "guard").record(0.25);
        });
    }

    #[test]
    fn renders_prometheus_text_with_help_type_and_the_catalogs_buckets() {
        let registry = MetricsRegistry::default();
        record(&registry);
        let text = registry.render_prometheus();
        assert!(
            text.contains(&format!("# HELP navigator_tool_calls_total {}\n", TOOL_CALLS.help)),
            "{text}"
        );
        assert!(text.contains("# TYPE navigator_tool_calls_total counter"), "{text}");
        assert!(
            text.contains(r#"navigator_tool_calls_total{outcome="ok",tool="retrieve"} 2"#)
                || text.contains(r#"navigator_tool_calls_total{tool="retrieve",outcome="ok"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"navigator_bulkhead_in_flight{bulkhead="chat"} 3"#),
            "{text}"
        );
        let stage = "navigator_chat_stage_duration_seconds";
        assert!(
            text.contains(&format!(r#"{stage}_bucket{{stage="guard",le="0.005"}} 1"#)),
            "{text}"
        );
        assert!(
            text.contains(&format!(r#"{stage}_bucket{{stage="guard",le="0.3"}} 2"#)),
            "{text}"
        );
        assert!(
            text.contains(&format!(r#"{stage}_bucket{{stage="guard",le="+Inf"}} 2"#)),
            "{text}"
        );
        assert!(text.contains(&format!(r#"{stage}_count{{stage="guard"}} 2"#)), "{text}");
        assert_eq!(text.matches("# TYPE navigator_tool_calls_total").count(), 1);
        assert_eq!(text.matches("# HELP navigator_tool_calls_total").count(), 1);
    }

    #[test]
    fn collectors_run_before_each_render() {
        let registry = MetricsRegistry::default();
        let reads = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&reads);
        registry.collect_with(Box::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
        }));
        registry.render_prometheus();
        registry.flush_emf("PatientNavigator", &[]);
        assert_eq!(reads.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn resident_memory_is_read_from_proc() {
        let bytes = resident_memory_bytes().expect("Linux has /proc/self/status");
        assert!(bytes > 1_000_000, "{bytes}");
    }

    #[test]
    fn concurrent_invocations_and_flushes_count_every_call_exactly_once() {
        // Lambda Managed Instances: invocations of one environment record and flush their metrics at once.
        let registry = MetricsRegistry::default();
        let sent = |documents: Vec<String>| -> u64 {
            documents
                .iter()
                .filter_map(|d| serde_json::from_str::<Value>(d).ok())
                .filter_map(|d| d[TOOL_CALLS.name].as_u64())
                .sum()
        };
        let flushed = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        metrics::with_local_recorder(&registry, || {
                            metrics::counter!(TOOL_CALLS.name, "tool" => "retrieve", "outcome" => "ok").increment(1)
                        });
                    }
                });
            }
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        flushed.fetch_add(sent(registry.flush_emf("N", &[])), Ordering::Relaxed);
                    }
                });
            }
        });
        let total = flushed.load(Ordering::Relaxed) + sent(registry.flush_emf("N", &[]));
        assert_eq!(total, 8000, "no count lost, none sent twice");
    }

    #[test]
    fn emf_flushes_deltas_with_dimensions_and_the_catalogs_units() {
        let registry = MetricsRegistry::default();
        record(&registry);
        let documents = registry.flush_emf("PatientNavigator", &[("function", "orchestrator")]);
        let parsed: Vec<Value> = documents.iter().map(|d| serde_json::from_str(d).unwrap()).collect();
        let guard = parsed.iter().find(|d| d["stage"] == "guard").unwrap();
        assert_eq!(guard["navigator_chat_stage_duration_seconds"], json!([0.004, 0.25]));
        assert_eq!(guard["function"], "orchestrator");
        let emf = &guard["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(emf["Namespace"], "PatientNavigator");
        assert_eq!(emf["Dimensions"], json!([["function", "stage"]]));
        assert_eq!(emf["Metrics"][0]["Unit"], "Seconds");

        // A second flush with nothing new sends no counters or histograms again.
        let again = registry.flush_emf("PatientNavigator", &[("function", "orchestrator")]);
        assert!(
            again
                .iter()
                .all(|d| !d.contains("navigator_tool_calls_total") && !d.contains("stage_duration")),
            "{again:?}"
        );
    }
}
