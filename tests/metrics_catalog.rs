//! Every metric the code records is in `navigator_metrics`' catalog (so it has help text, the right buckets and a
//! conventional name), and every metric the Grafana dashboard and the Prometheus alert rules query is one the code
//! can record: renaming a metric without its dashboard fails here, not on an operator's empty panel.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use regex::Regex;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

#[test]
fn the_code_records_only_catalogued_metrics() {
    let mut sources = Vec::new();
    for dir in ["functions", "shared", "cli", "tests/load"] {
        files(&workspace().join(dir), "rs", &mut sources);
    }
    let call = Regex::new(r"metrics::(counter|gauge|histogram)!\(\s*([^,)]+)").unwrap();
    let catalogued = Regex::new(r"^(navigator_metrics::)?([A-Z][A-Z_]*)\.name$").unwrap();
    let mut recorded = 0;
    for path in &sources {
        let text = std::fs::read_to_string(path).unwrap();
        for found in call.captures_iter(&text) {
            let name = found[2].trim();
            let constant = catalogued
                .captures(name)
                .unwrap_or_else(|| panic!("{}: `{name}` is not a catalog entry's name", path.display()));
            let known = navigator_metrics_constants();
            assert!(
                known.contains(&constant[2].to_string()),
                "{}: {} is not in navigator_metrics",
                path.display(),
                &constant[2]
            );
            recorded += 1;
        }
    }
    assert!(
        recorded > 25,
        "the scan found only {recorded} metric calls: is the pattern still right?"
    );
}

/// The catalog's constant names, read from its source.
fn navigator_metrics_constants() -> Vec<String> {
    let catalog = std::fs::read_to_string(workspace().join("shared/metrics/src/lib.rs")).unwrap();
    Regex::new(r"pub const ([A-Z_]+): Metric")
        .unwrap()
        .captures_iter(&catalog)
        .map(|c| c[1].to_string())
        .collect()
}

/// The metric names a PromQL text refers to (histogram series back to their metric).
fn metric_names(promql: &str) -> Vec<String> {
    Regex::new(r"\b(navigator_[a-z_]+|process_[a-z_]+)")
        .unwrap()
        .find_iter(promql)
        .map(|m| {
            let name = m.as_str();
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|base| navigator_metrics::find(base).is_some())
                })
                .unwrap_or(name)
                .to_string()
        })
        .collect()
}

#[test]
fn dashboards_and_alert_rules_query_catalogued_metrics() {
    let mut ops = Vec::new();
    files(&workspace().join("ops"), "json", &mut ops);
    files(&workspace().join("ops"), "yml", &mut ops);
    assert!(ops.len() >= 3, "the dashboard, the rules and their tests: {ops:?}");
    let mut referenced = 0;
    for path in &ops {
        let text = std::fs::read_to_string(path).unwrap();
        for name in metric_names(&text) {
            assert!(
                navigator_metrics::find(&name).is_some(),
                "{} queries {name}, which no code records",
                path.display()
            );
            referenced += 1;
        }
    }
    assert!(referenced > 20, "{referenced}");
}

#[test]
fn the_name_reader_folds_histogram_series() {
    assert_eq!(
        metric_names("histogram_quantile(0.95, sum by (le) (rate(navigator_chat_turn_duration_seconds_bucket[1m])))"),
        ["navigator_chat_turn_duration_seconds"]
    );
    assert_eq!(
        metric_names("navigator_breaker_state >= 2"),
        ["navigator_breaker_state"]
    );
}
