//! A soak: open-loop arrivals at a steady rate for a long time against a running server, reading its memory,
//! descriptors and pool as it goes, and what grew after warm-up. `navigator-load run` soaks the LLM path as its last
//! scenario; `navigator-load soak` soaks any server on its own (the embedded default, whose CPU-bound turns the
//! LLM path's scenarios do not exercise) and writes a JSON record and a plot.

use crate::arrival::{self, Sample};
use crate::monitor::{self, Reading, Target};
use crate::plot::{Chart, Mark, Series};
use crate::questions::Question;
use crate::stats::{percentile, status_counts};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// The share of a soak counted as warm-up: caches, pools and the allocator's arenas fill in it.
const WARM_UP_SHARE: f64 = 0.2;

/// Drives `rate` requests a second for `length`, reading `target` every `every`; the readings and every request's
/// sample.
pub async fn drive(
    client: &reqwest::Client,
    chat_url: &str,
    questions: &[Question],
    target: &Target,
    rate: f64,
    length: Duration,
    every: Duration,
) -> (Vec<Reading>, Vec<Sample>) {
    let started = Instant::now();
    let load = {
        let (client, url, questions) = (client.clone(), chat_url.to_string(), questions.to_vec());
        tokio::spawn(async move { arrival::run(&client, &url, &questions, rate, length).await })
    };
    let mut readings = vec![target.read(client, started).await];
    while started.elapsed() < length {
        tokio::time::sleep(every).await;
        readings.push(target.read(client, started).await);
    }
    (readings, load.await.unwrap_or_default())
}

/// Least-squares slopes of RSS and of the heap held, in MB per 10 minutes, over the readings after warm-up (the
/// first fifth of `length`).
pub fn slopes(readings: &[Reading], length: Duration) -> (f64, f64) {
    let warm = length.as_secs_f64() * WARM_UP_SHARE;
    let slope_of = |value: fn(&Reading) -> f64| {
        let points: Vec<(f64, f64)> = readings
            .iter()
            .filter(|r| r.at_s >= warm && value(r).is_finite())
            .map(|r| (r.at_s, value(r)))
            .collect();
        monitor::slope(&points) * 600.0
    };
    (slope_of(|r| r.rss_mb), slope_of(|r| r.heap_mb))
}

/// What `navigator-load soak` writes.
#[derive(Debug, Serialize)]
pub struct Record {
    pub setup: String,
    pub rate: f64,
    pub seconds: f64,
    pub requests: usize,
    pub statuses: BTreeMap<u16, usize>,
    /// Of every answered turn, from when it was due.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub rss_slope_mb_per_10_min: f64,
    pub heap_slope_mb_per_10_min: f64,
    pub readings: Vec<Reading>,
}

impl Record {
    pub fn of(setup: String, readings: Vec<Reading>, samples: &[Sample], rate: f64, length: Duration) -> Self {
        let (rss, heap) = slopes(&readings, length);
        let answered: Vec<f64> = samples.iter().filter(|s| s.answered()).map(|s| s.latency_ms).collect();
        Self {
            setup,
            rate,
            seconds: length.as_secs_f64(),
            requests: samples.len(),
            statuses: status_counts(samples.iter().map(|s| s.status)),
            p50_ms: percentile(&answered, 0.50),
            p95_ms: percentile(&answered, 0.95),
            p99_ms: percentile(&answered, 0.99),
            rss_slope_mb_per_10_min: rss,
            heap_slope_mb_per_10_min: heap,
            readings,
        }
    }

    /// One paragraph for docs/PERFORMANCE.md.
    pub fn paragraph(&self) -> String {
        let (first, last) = (self.readings.first(), self.readings.last());
        let span = |value: fn(&Reading) -> f64| match (first, last) {
            (Some(a), Some(b)) => format!("{:.1} → {:.1}", value(a), value(b)),
            _ => "none".into(),
        };
        format!(
            "{} readings over {:.0} s at {} req/s ({} requests, statuses {:?}; answered P50 / P95 / P99 {:.0} / {:.0} / \
             {:.0} ms): RSS {} MB, slope after warm-up {:+.2} MB per 10 min; heap {} MB, slope {:+.3} MB per 10 min; \
             open fds {}; DB connections {}.",
            self.readings.len(),
            self.seconds,
            self.rate,
            self.requests,
            self.statuses,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            span(|r| r.rss_mb),
            self.rss_slope_mb_per_10_min,
            span(|r| r.heap_mb),
            self.heap_slope_mb_per_10_min,
            span(|r| r.open_fds as f64),
            span(|r| r.db_connections),
        )
    }
}

/// RSS, heap, descriptors and DB connections over a soak; a quantity the server did not report is left out.
pub fn chart(readings: &[Reading], title: String) -> Chart {
    let series = |name: &str, value: fn(&Reading) -> f64| Series {
        name: name.into(),
        points: readings
            .iter()
            .filter(|r| value(r).is_finite())
            .map(|r| (r.at_s, value(r)))
            .collect(),
        mark: Mark::Line,
    };
    Chart {
        title,
        x_label: "seconds".into(),
        y_label: "MB / count".into(),
        series: [
            series("RSS MB", |r| r.rss_mb),
            series("heap MB", |r| r.heap_mb),
            series("open fds", |r| r.open_fds as f64),
            series("DB connections", |r| r.db_connections),
        ]
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .collect(),
        rules: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(at_s: f64, rss_mb: f64, heap_mb: f64) -> Reading {
        Reading {
            at_s,
            rss_mb,
            heap_mb,
            open_fds: 20,
            breaker: f64::NAN,
            chat_in_flight: 0.0,
            db_connections: f64::NAN,
        }
    }

    #[test]
    fn slopes_leave_out_warm_up_and_read_in_mb_per_ten_minutes() {
        let length = Duration::from_secs(1_000);
        // Steep growth during warm-up (the first 200 s), then RSS rising 0.6 MB per 600 s and the heap flat.
        let mut readings: Vec<Reading> = (0..20)
            .map(|i| reading(i as f64 * 10.0, 100.0 + i as f64 * 5.0, 50.0))
            .collect();
        readings.extend((20..=100).map(|i| {
            let t = i as f64 * 10.0;
            reading(t, 300.0 + 0.001 * t, 60.0)
        }));
        let (rss, heap) = slopes(&readings, length);
        assert!((rss - 0.6).abs() < 1e-6, "{rss}");
        assert!(heap.abs() < 1e-9, "{heap}");
    }

    #[test]
    fn a_heap_the_server_does_not_report_gives_no_slope_rather_than_zero() {
        let readings: Vec<Reading> = (0..50).map(|i| reading(i as f64 * 10.0, 300.0, f64::NAN)).collect();
        let (rss, heap) = slopes(&readings, Duration::from_secs(500));
        assert!(rss.abs() < 1e-9);
        assert!(heap.is_nan());
    }
}
