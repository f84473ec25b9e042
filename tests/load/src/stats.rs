//! Figures of a run: latency percentiles by path, error and 429 rates, goodput.

use crate::arrival::Sample;
use crate::questions::Path;
use std::collections::BTreeMap;
use std::time::Duration;

/// An answer counts towards goodput when it is a 200 within the turn's deadline.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// The `q` quantile (0..=1) of `values`, nearest rank; `NaN` when empty.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Latency percentiles of answered requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Latency {
    pub fn of<'a>(samples: impl Iterator<Item = &'a Sample>) -> Self {
        let values: Vec<f64> = samples.filter(|s| s.answered()).map(|s| s.latency_ms).collect();
        Self {
            count: values.len(),
            p50: percentile(&values, 0.50),
            p95: percentile(&values, 0.95),
            p99: percentile(&values, 0.99),
        }
    }
}

/// How many responses ended with each status.
pub fn status_counts(statuses: impl IntoIterator<Item = u16>) -> BTreeMap<u16, usize> {
    statuses.into_iter().fold(BTreeMap::new(), |mut counts, status| {
        *counts.entry(status).or_insert(0) += 1;
        counts
    })
}

/// Whether `count` answers hold `share` of `reference` answers, within two standard errors of counting. Each count
/// of answers in a fixed time is Poisson-like, with a standard error of its square root, so the shortfall
/// `share × reference − count` must stay within two standard errors of that difference: a short run's ~250 answers
/// carry ±6 %, and comparing raw figures against the best of several runs fails a flat plateau about one time in three.
pub fn holds_share(reference: f64, count: f64, share: f64) -> bool {
    let shortfall = share * reference - count;
    let error = (share * share * reference + count).sqrt();
    shortfall <= 2.0 * error
}

/// One scenario's figures.
#[derive(Debug, Clone)]
pub struct Summary {
    pub offered_rps: f64,
    pub requests: usize,
    pub retrieval: Latency,
    pub web: Latency,
    /// Share of requests that got neither a 200 nor a 429 (5xx, timeouts, connection errors).
    pub error_rate: f64,
    pub rate_429: f64,
    /// Share of answers that named a degraded tool.
    pub degraded_rate: f64,
    /// 200s within [`DEADLINE`] per second of the run.
    pub goodput_rps: f64,
    /// How long the run lasted.
    pub seconds: f64,
    /// The slowest response of any kind, answered or not.
    pub max_ms: f64,
    /// How many requests ended with each status (0: no answer).
    pub statuses: BTreeMap<u16, usize>,
}

impl Summary {
    pub fn of(samples: &[Sample], offered_rps: f64, duration: Duration) -> Self {
        let n = samples.len().max(1) as f64;
        let count = |f: &dyn Fn(&Sample) -> bool| samples.iter().filter(|s| f(s)).count() as f64;
        let deadline_ms = DEADLINE.as_secs_f64() * 1000.0;
        Self {
            offered_rps,
            requests: samples.len(),
            retrieval: Latency::of(samples.iter().filter(|s| s.path == Path::Retrieval)),
            web: Latency::of(samples.iter().filter(|s| s.path == Path::RetrievalAndWeb)),
            error_rate: count(&|s| s.status != 200 && s.status != 429) / n,
            rate_429: count(&|s| s.status == 429) / n,
            degraded_rate: count(&|s| s.answered() && s.degraded) / count(&|s| s.answered()).max(1.0),
            goodput_rps: count(&|s| s.answered() && s.latency_ms <= deadline_ms) / duration.as_secs_f64(),
            seconds: duration.as_secs_f64(),
            max_ms: samples.iter().map(|s| s.latency_ms).fold(0.0, f64::max),
            statuses: status_counts(samples.iter().map(|s| s.status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(path: Path, status: u16, latency_ms: f64) -> Sample {
        Sample {
            due_s: 0.0,
            path,
            status,
            latency_ms,
            degraded: false,
        }
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(
            (
                percentile(&values, 0.5),
                percentile(&values, 0.95),
                percentile(&values, 0.99)
            ),
            (50.0, 95.0, 99.0)
        );
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn errors_429s_and_goodput_are_counted_apart() {
        let samples = vec![
            sample(Path::Retrieval, 200, 1_000.0),
            sample(Path::Retrieval, 200, 3_500.0),
            sample(Path::RetrievalAndWeb, 200, 2_000.0),
            sample(Path::Retrieval, 429, 2.0),
            sample(Path::Retrieval, 503, 50.0),
            sample(Path::Retrieval, 0, 10_000.0),
        ];
        let summary = Summary::of(&samples, 3.0, Duration::from_secs(2));
        assert_eq!(summary.requests, 6);
        assert!((summary.error_rate - 2.0 / 6.0).abs() < 1e-9);
        assert!((summary.rate_429 - 1.0 / 6.0).abs() < 1e-9);
        assert!((summary.goodput_rps - 1.0).abs() < 1e-9, "two 200s within 3 s over 2 s");
        assert_eq!(summary.retrieval.count, 2);
        assert_eq!(summary.web.p50, 2_000.0);
        assert_eq!(summary.max_ms, 10_000.0);
    }

    #[test]
    fn a_share_of_answers_holds_within_counting_noise_and_not_past_it() {
        // 217 answers against a best of 241: 0.90 of it, and well within noise of 0.9.
        assert!(holds_share(241.0, 217.0, 0.9));
        // 200 of 241 (0.83): 17 short of 0.9 × 241, inside two standard errors (~2 × 20.6).
        assert!(holds_share(241.0, 200.0, 0.9));
        // 120 of 241: half, a real fall.
        assert!(!holds_share(241.0, 120.0, 0.9));
        // With ten times the answers the same 0.83 is no longer noise.
        assert!(!holds_share(2_410.0, 2_000.0, 0.9));
    }
}
