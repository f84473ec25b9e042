//! What a fake dependency does to each request: a latency drawn from a range, and a share of failures with a status.
//! The load harness changes it during a run (`PUT /admin/faults/{service}`), which is how chaos is injected.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The services a fake server speaks for.
pub const SERVICES: [&str; 4] = ["llm", "embeddings", "tavily", "deepl"];

/// One service's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Latency is uniform in `min_ms..=max_ms`.
    pub min_ms: u64,
    pub max_ms: u64,
    /// The share of requests (0..=1) answered with `fail_status` (after the latency).
    #[serde(default)]
    pub fail_share: f64,
    #[serde(default = "default_fail_status")]
    pub fail_status: u16,
}

fn default_fail_status() -> u16 {
    500
}

impl Fault {
    pub const fn latency(min_ms: u64, max_ms: u64) -> Self {
        Self {
            min_ms,
            max_ms,
            fail_share: 0.0,
            fail_status: 500,
        }
    }

    /// The realistic defaults of the load runs: LLM 300–900 ms, Tavily 300–700 ms, translation 50–150 ms, embeddings
    /// 20–60 ms.
    pub fn realistic(service: &str) -> Self {
        match service {
            "llm" => Self::latency(300, 900),
            "tavily" => Self::latency(300, 700),
            "deepl" => Self::latency(50, 150),
            _ => Self::latency(20, 60),
        }
    }
}

/// Counters of one service, for the harness's verdicts.
#[derive(Debug, Default)]
pub struct ServiceStats {
    pub requests: AtomicU64,
    pub failed: AtomicU64,
    pub in_flight: AtomicU64,
    /// Requests whose caller went away before the answer: the caller cancelled its call.
    pub cancelled: AtomicU64,
}

/// A snapshot of [`ServiceStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    pub requests: u64,
    pub failed: u64,
    pub in_flight: u64,
    pub cancelled: u64,
}

/// Faults and counters of every service, shared by the handlers.
#[derive(Clone)]
pub struct FaultBoard {
    faults: Arc<Mutex<BTreeMap<String, Fault>>>,
    stats: Arc<BTreeMap<&'static str, ServiceStats>>,
    draws: Arc<AtomicU64>,
}

impl Default for FaultBoard {
    fn default() -> Self {
        Self::realistic()
    }
}

impl FaultBoard {
    pub fn realistic() -> Self {
        Self {
            faults: Arc::new(Mutex::new(
                SERVICES.iter().map(|s| (s.to_string(), Fault::realistic(s))).collect(),
            )),
            stats: Arc::new(SERVICES.iter().map(|s| (*s, ServiceStats::default())).collect()),
            draws: Arc::new(AtomicU64::new(0x9e37_79b9_7f4a_7c15)),
        }
    }

    pub fn set(&self, service: &str, fault: Fault) -> Result<(), String> {
        if !SERVICES.contains(&service) {
            return Err(format!("unknown service {service:?}: one of {SERVICES:?}"));
        }
        if fault.min_ms > fault.max_ms || !(0.0..=1.0).contains(&fault.fail_share) {
            return Err("need min_ms <= max_ms and 0 <= fail_share <= 1".into());
        }
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(service.to_string(), fault);
        Ok(())
    }

    pub fn get(&self, service: &str) -> Fault {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(service)
            .copied()
            .unwrap_or_else(|| Fault::realistic(service))
    }

    pub fn all(&self) -> BTreeMap<String, Fault> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn stats(&self) -> BTreeMap<String, StatsSnapshot> {
        self.stats
            .iter()
            .map(|(name, s)| {
                let snapshot = StatsSnapshot {
                    requests: s.requests.load(Ordering::Relaxed),
                    failed: s.failed.load(Ordering::Relaxed),
                    in_flight: s.in_flight.load(Ordering::Relaxed),
                    cancelled: s.cancelled.load(Ordering::Relaxed),
                };
                (name.to_string(), snapshot)
            })
            .collect()
    }

    /// A uniform draw in `0..1` (splitmix64 over a shared counter: no RNG crate, and threads never share a state).
    fn uniform(&self) -> f64 {
        let mut z = self.draws.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Applies the service's fault: waits its latency, then says whether to fail (and with which status). The
    /// returned ticket counts the request as cancelled if it is dropped before [`Ticket::finish`].
    pub async fn apply(&self, service: &'static str) -> (Ticket, Option<u16>) {
        let fault = self.get(service);
        let ticket = Ticket::new(self.stats.clone(), service);
        let span = fault.max_ms - fault.min_ms;
        let latency = fault.min_ms + (self.uniform() * (span + 1) as f64) as u64;
        tokio::time::sleep(Duration::from_millis(latency.min(fault.max_ms))).await;
        let fail = fault.fail_share > 0.0 && self.uniform() < fault.fail_share;
        if fail && let Some(stats) = self.stats.get(service) {
            stats.failed.fetch_add(1, Ordering::Relaxed);
        }
        (ticket, fail.then_some(fault.fail_status))
    }
}

/// One request in flight at a fake service.
pub struct Ticket {
    stats: Arc<BTreeMap<&'static str, ServiceStats>>,
    service: &'static str,
    finished: bool,
}

impl Ticket {
    fn new(stats: Arc<BTreeMap<&'static str, ServiceStats>>, service: &'static str) -> Self {
        if let Some(s) = stats.get(service) {
            s.requests.fetch_add(1, Ordering::Relaxed);
            s.in_flight.fetch_add(1, Ordering::Relaxed);
        }
        Self {
            stats,
            service,
            finished: false,
        }
    }

    pub fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(s) = self.stats.get(self.service) {
            s.in_flight.fetch_sub(1, Ordering::Relaxed);
            if !self.finished {
                s.cancelled.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn latency_stays_in_its_range_and_failures_follow_their_share() {
        let board = FaultBoard::realistic();
        board
            .set(
                "tavily",
                Fault {
                    min_ms: 100,
                    max_ms: 200,
                    fail_share: 1.0,
                    fail_status: 503,
                },
            )
            .unwrap();
        for _ in 0..20 {
            let started = tokio::time::Instant::now();
            let (ticket, fail) = board.apply("tavily").await;
            ticket.finish();
            let waited = started.elapsed();
            assert!(waited >= Duration::from_millis(100) && waited <= Duration::from_millis(200));
            assert_eq!(fail, Some(503));
        }
        let stats = board.stats()["tavily"];
        assert_eq!(
            (stats.requests, stats.failed, stats.in_flight, stats.cancelled),
            (20, 20, 0, 0)
        );
        assert!(board.set("nope", Fault::latency(1, 2)).is_err());
        assert!(board.set("llm", Fault::latency(5, 1)).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_dropped_midway_counts_as_cancelled() {
        let board = FaultBoard::realistic();
        board.set("llm", Fault::latency(1_000, 1_000)).unwrap();
        let call = board.apply("llm");
        let _ = tokio::time::timeout(Duration::from_millis(10), call).await;
        let stats = board.stats()["llm"];
        assert_eq!((stats.requests, stats.in_flight, stats.cancelled), (1, 0, 1));
    }
}
