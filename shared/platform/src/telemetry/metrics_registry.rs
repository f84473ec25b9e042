//! A `metrics` recorder that keeps counters, gauges and histograms in memory and renders them two ways:
//! Prometheus text for `navigator serve`'s `/metrics`, and CloudWatch Embedded Metric Format lines flushed after
//! each Lambda invocation.

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Histogram bucket bounds. By convention histograms record milliseconds and their names end in `_ms`.
const BUCKETS: [f64; 14] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1000.0, 2000.0, 5000.0,
];
/// CloudWatch takes at most 100 values per metric in one EMF document.
const EMF_MAX_VALUES: usize = 100;

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

#[derive(Default)]
struct HistogramState {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
    /// Samples not yet flushed as EMF, capped so a burst cannot grow memory.
    pending: Vec<f64>,
}

#[derive(Default)]
struct HistogramCell(Mutex<HistogramState>);

impl HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = BUCKETS.iter().position(|bound| value <= *bound) {
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

    /// Prometheus text exposition format, version 0.0.4.
    pub fn render_prometheus(&self) -> String {
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
                    for (bound, count) in BUCKETS.iter().zip(state.buckets) {
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
        let cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        let mut by_labels: BTreeMap<&Labels, Vec<(&str, Value, &str)>> = BTreeMap::new();
        for ((name, labels), cell) in cells.iter() {
            let entry = match cell {
                Cell::Counter(c) => {
                    let total = c.total.load(Ordering::Relaxed);
                    let delta = total - c.flushed.swap(total, Ordering::Relaxed).min(total);
                    (delta > 0).then(|| (name.as_str(), json!(delta), "Count"))
                }
                Cell::Gauge(g) => Some((name.as_str(), json!(g.get()), "None")),
                Cell::Histogram(h) => {
                    let mut state = h.0.lock().unwrap_or_else(PoisonError::into_inner);
                    let values = std::mem::take(&mut state.pending);
                    (!values.is_empty()).then(|| (name.as_str(), json!(values), "Milliseconds"))
                }
            };
            if let Some(entry) = entry {
                by_labels.entry(labels).or_default().push(entry);
            }
        }
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        by_labels
            .into_iter()
            .map(|(labels, metrics)| {
                let mut document = Map::new();
                let mut dimension_names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
                for (k, v) in dimensions {
                    document.insert((*k).into(), (*v).into());
                }
                for (k, v) in labels {
                    document.insert(k.clone(), v.clone().into());
                    dimension_names.push(k);
                }
                let definitions: Vec<Value> = metrics
                    .iter()
                    .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
                    .collect();
                for (name, value, _) in metrics {
                    document.insert(name.into(), value);
                }
                document.insert(
                    "_aws".into(),
                    json!({"Timestamp": timestamp, "CloudWatchMetrics": [{
                        "Namespace": namespace, "Dimensions": [dimension_names], "Metrics": definitions}]}),
                );
                Value::Object(document).to_string()
            })
            .collect()
    }
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
        match self.cell(key, || Cell::Histogram(Arc::default())) {
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

/// Installs the process-wide registry as the `metrics` recorder (once) and returns it.
pub fn install_metrics() -> &'static MetricsRegistry {
    let mut first = false;
    let registry = REGISTRY.get_or_init(|| {
        first = true;
        MetricsRegistry::default()
    });
    if first {
        let _ = metrics::set_global_recorder(GlobalRecorder(registry));
    }
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(registry: &MetricsRegistry) {
        metrics::with_local_recorder(registry, || {
            metrics::counter!("tool_calls_total", "tool" => "retrieve", "outcome" => "ok").increment(2);
            metrics::counter!("tool_calls_total", "tool" => "web_search", "outcome" => "timeout").increment(1);
            metrics::gauge!("bulkhead_in_flight", "bulkhead" => "chat").set(3.0);
            metrics::histogram!("stage_latency_ms", "stage" => "guard").record(4.0);
            metrics::histogram!("stage_latency_ms", "stage" => "guard").record(250.0);
        });
    }

    #[test]
    fn renders_prometheus_text() {
        let registry = MetricsRegistry::default();
        record(&registry);
        let text = registry.render_prometheus();
        assert!(text.contains("# TYPE tool_calls_total counter"), "{text}");
        assert!(
            text.contains(r#"tool_calls_total{outcome="ok",tool="retrieve"} 2"#)
                || text.contains(r#"tool_calls_total{tool="retrieve",outcome="ok"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"bulkhead_in_flight{bulkhead="chat"} 3"#), "{text}");
        assert!(
            text.contains(r#"stage_latency_ms_bucket{stage="guard",le="5"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"stage_latency_ms_bucket{stage="guard",le="300"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"stage_latency_ms_count{stage="guard"} 2"#), "{text}");
        assert_eq!(text.matches("# TYPE tool_calls_total").count(), 1);
    }

    #[test]
    fn emf_flushes_deltas_with_dimensions() {
        let registry = MetricsRegistry::default();
        record(&registry);
        let documents = registry.flush_emf("PatientNavigator", &[("function", "orchestrator")]);
        let parsed: Vec<Value> = documents.iter().map(|d| serde_json::from_str(d).unwrap()).collect();
        let guard = parsed.iter().find(|d| d["stage"] == "guard").unwrap();
        assert_eq!(guard["stage_latency_ms"], json!([4.0, 250.0]));
        assert_eq!(guard["function"], "orchestrator");
        assert_eq!(guard["_aws"]["CloudWatchMetrics"][0]["Namespace"], "PatientNavigator");
        assert_eq!(
            guard["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["function", "stage"]])
        );

        // A second flush with nothing new sends no counters or histograms again.
        let again = registry.flush_emf("PatientNavigator", &[("function", "orchestrator")]);
        assert!(
            again
                .iter()
                .all(|d| !d.contains("tool_calls_total") && !d.contains("stage_latency_ms")),
            "{again:?}"
        );
    }
}
