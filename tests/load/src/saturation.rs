//! Saturation of the CPU-bound embedded default: closed-loop clients at 1, 2, 4, 8 and 16 times the server's
//! in-flight bound, each honouring `Retry-After`, then open-loop arrivals at twice the measured peak. What it shows:
//! whether overload is refused at the door (429, at once) rather than admitted and failed later (5xx), and whether
//! goodput holds at its peak however many clients push.

use crate::arrival;
use crate::questions::Question;
use crate::stats::{DEADLINE, percentile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Client multiples of the in-flight bound, in order.
pub const MULTIPLES: [usize; 5] = [1, 2, 4, 8, 16];

/// One response as a client saw it.
#[derive(Debug, Clone, Copy)]
pub struct Response {
    /// HTTP status; 0 when none came within [`CLIENT_TIMEOUT`].
    pub status: u16,
    pub latency_ms: f64,
}

/// One level's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Level {
    pub label: String,
    /// Closed-loop clients (0 for the open-loop level).
    pub clients: usize,
    /// Open-loop arrivals a second (0 for closed-loop levels).
    pub offered_rps: f64,
    pub requests: usize,
    /// 200s within the 3 s deadline, per second.
    pub goodput_rps: f64,
    /// How long the level ran.
    pub seconds: f64,
    pub statuses: BTreeMap<u16, usize>,
    /// Of answered turns (200).
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// 429s, as the client saw them: a refusal must cost the server nothing. The client shares the machine's cores
    /// with the server, so its own wake-ups are in these figures too; the slowest is the worst of both.
    pub p50_429_ms: f64,
    pub p99_429_ms: f64,
    pub max_429_ms: f64,
    /// The same 429s as the server timed them, from its outermost middleware to the response: without either
    /// process's wake-ups or the kernel's part. Absent when its `/metrics` could not be read.
    #[serde(default)]
    pub server_429: Option<ServerRefusals>,
}

/// How many 429s the server handled within 1, 2 and 5 ms, of how many: read off its HTTP duration
/// histogram (`navigator_http_request_duration_seconds`, route `/v1/chat`, status 429), whose bounds include those.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRefusals {
    pub total: u64,
    pub within_1_ms: u64,
    pub within_2_ms: u64,
    pub within_5_ms: u64,
}

impl ServerRefusals {
    /// The counts since the server started, from its Prometheus text.
    pub fn read(metrics: &str) -> Self {
        let mut counts = Self::default();
        for line in metrics.lines() {
            let Some(labels) = line.strip_prefix("navigator_http_request_duration_seconds_bucket{") else {
                continue;
            };
            if !(labels.contains(r#"route="/v1/chat""#) && labels.contains(r#"status="429""#)) {
                continue;
            }
            let Some((labels, value)) = labels.rsplit_once("} ") else {
                continue;
            };
            let Ok(value) = value.trim().parse::<u64>() else {
                continue;
            };
            let Some(bound) = labels.split(',').find_map(|label| label.strip_prefix("le=")) else {
                continue;
            };
            match bound.trim_matches('"') {
                "0.001" => counts.within_1_ms = value,
                "0.002" => counts.within_2_ms = value,
                "0.005" => counts.within_5_ms = value,
                "+Inf" => counts.total = value,
                _ => {}
            }
        }
        counts
    }

    /// The counts between two readings.
    pub fn since(self, before: Self) -> Self {
        Self {
            total: self.total.saturating_sub(before.total),
            within_1_ms: self.within_1_ms.saturating_sub(before.within_1_ms),
            within_2_ms: self.within_2_ms.saturating_sub(before.within_2_ms),
            within_5_ms: self.within_5_ms.saturating_sub(before.within_5_ms),
        }
    }
}

/// The server's 429 counts now, or `None` when its `/metrics` does not answer.
async fn read_refusals(client: &reqwest::Client, metrics_url: &str) -> Option<ServerRefusals> {
    let response = client.get(metrics_url).send().await.ok()?.error_for_status().ok()?;
    Some(ServerRefusals::read(&response.text().await.ok()?))
}

impl Level {
    pub fn of(label: String, clients: usize, offered_rps: f64, responses: &[Response], duration: Duration) -> Self {
        let answered: Vec<f64> = responses
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.latency_ms)
            .collect();
        let refused: Vec<f64> = responses
            .iter()
            .filter(|r| r.status == 429)
            .map(|r| r.latency_ms)
            .collect();
        let in_time = answered
            .iter()
            .filter(|&&ms| ms <= DEADLINE.as_secs_f64() * 1000.0)
            .count();
        Self {
            label,
            clients,
            offered_rps,
            requests: responses.len(),
            goodput_rps: in_time as f64 / duration.as_secs_f64(),
            seconds: duration.as_secs_f64(),
            statuses: crate::stats::status_counts(responses.iter().map(|r| r.status)),
            p50_ms: percentile(&answered, 0.50),
            p95_ms: percentile(&answered, 0.95),
            p99_ms: percentile(&answered, 0.99),
            p50_429_ms: if refused.is_empty() {
                0.0
            } else {
                percentile(&refused, 0.50)
            },
            p99_429_ms: if refused.is_empty() {
                0.0
            } else {
                percentile(&refused, 0.99)
            },
            max_429_ms: refused.iter().copied().fold(0.0, f64::max),
            server_429: None,
        }
    }

    /// Share of requests that ended in a 5xx or no answer at all.
    pub fn failure_rate(&self) -> f64 {
        let failed: usize = self
            .statuses
            .iter()
            .filter(|(status, _)| **status == 0 || **status >= 500)
            .map(|(_, n)| n)
            .sum();
        failed as f64 / self.requests.max(1) as f64
    }

    pub fn rate_429(&self) -> f64 {
        self.statuses.get(&429).copied().unwrap_or(0) as f64 / self.requests.max(1) as f64
    }
}

/// The whole run, saved by `navigator-load saturate` and read into the report by `navigator-load run`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saturation {
    pub setup: String,
    pub in_flight: usize,
    /// Mean milliseconds per turn stage (the answer's `timings_ms`), one question at a time on an idle server.
    pub stage_profile: BTreeMap<String, f64>,
    /// Turns in that profile.
    pub profiled_turns: usize,
    pub levels: Vec<Level>,
}

impl Saturation {
    /// The best goodput of the closed-loop levels.
    pub fn peak_rps(&self) -> f64 {
        self.peak().map_or(0.0, |level| level.goodput_rps)
    }

    fn peak(&self) -> Option<&Level> {
        self.levels
            .iter()
            .filter(|l| l.clients > 0)
            .max_by(|a, b| a.goodput_rps.total_cmp(&b.goodput_rps))
    }

    /// Whether goodput at `clients` holds `share` of the peak, counting noise allowed ([`crate::stats::holds_share`]).
    pub fn holds_peak(&self, clients: usize, share: f64) -> bool {
        let (Some(peak), Some(level)) = (self.peak(), self.levels.iter().find(|l| l.clients == clients)) else {
            return false;
        };
        let answers = |l: &Level| l.goodput_rps * l.seconds;
        crate::stats::holds_share(answers(peak), answers(level), share)
    }
}

/// Runs every level against `chat_url`, `duration` each, reading the server's own timing of its 429s from
/// `metrics_url` around each level.
pub async fn run(
    client: &reqwest::Client,
    chat_url: &str,
    metrics_url: &str,
    questions: &[Question],
    in_flight: usize,
    duration: Duration,
    setup: String,
) -> Saturation {
    let (stage_profile, profiled_turns) = profile(client, chat_url, questions).await;
    eprintln!("saturation: one at a time, mean ms per stage over {profiled_turns} turns: {stage_profile:?}");
    let mut levels = Vec::new();
    for multiple in MULTIPLES {
        let clients = multiple * in_flight;
        eprintln!("saturation: {clients} closed-loop clients ({multiple}× the in-flight bound) for {duration:?}");
        let before = read_refusals(client, metrics_url).await;
        let responses = closed_loop(client, chat_url, questions, clients, duration).await;
        let mut level = Level::of(
            format!("{clients} clients ({multiple}×)"),
            clients,
            0.0,
            &responses,
            duration,
        );
        level.server_429 = refusals_since(client, metrics_url, before).await;
        eprintln!("saturation:   {}", one_line(&level));
        levels.push(level);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut saturation = Saturation {
        setup,
        in_flight,
        stage_profile,
        profiled_turns,
        levels,
    };
    let rate = (2.0 * saturation.peak_rps()).max(1.0);
    eprintln!("saturation: open loop at {rate:.1} req/s (2× the peak) for {duration:?}");
    let before = read_refusals(client, metrics_url).await;
    let samples = arrival::run(client, chat_url, questions, rate, duration).await;
    let responses: Vec<Response> = samples
        .iter()
        .map(|s| Response {
            status: s.status,
            latency_ms: s.latency_ms,
        })
        .collect();
    let mut level = Level::of(
        format!("open loop {rate:.0} req/s (2× peak)"),
        0,
        rate,
        &responses,
        duration,
    );
    level.server_429 = refusals_since(client, metrics_url, before).await;
    eprintln!("saturation:   {}", one_line(&level));
    saturation.levels.push(level);
    saturation
}

async fn refusals_since(
    client: &reqwest::Client,
    metrics_url: &str,
    before: Option<ServerRefusals>,
) -> Option<ServerRefusals> {
    Some(read_refusals(client, metrics_url).await?.since(before?))
}

pub fn one_line(level: &Level) -> String {
    let server = level.server_429.map_or(String::new(), |server| {
        format!(
            "; the server handled {} of {} 429s within 5 ms ({} within 1 ms)",
            server.within_5_ms, server.total, server.within_1_ms
        )
    });
    format!(
        "{} requests, goodput {:.1}/s, P50/P95/P99 {:.0}/{:.0}/{:.0} ms, 5xx {:.2} %, 429 {:.1} % (P50 {:.1} ms, P99 {:.1} ms, slowest {:.1} ms), statuses {:?}",
        level.requests,
        level.goodput_rps,
        level.p50_ms,
        level.p95_ms,
        level.p99_ms,
        100.0 * level.failure_rate(),
        100.0 * level.rate_429(),
        level.p50_429_ms,
        level.p99_429_ms,
        level.max_429_ms,
        level.statuses
    ) + &server
}

/// Every question once, one at a time: the mean of each stage's `timings_ms` over the answered turns.
async fn profile(client: &reqwest::Client, chat_url: &str, questions: &[Question]) -> (BTreeMap<String, f64>, usize) {
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    let mut turns = 0;
    for question in questions {
        let response = arrival::post_question(client, chat_url, &question.text).await;
        let Ok(response) = response.and_then(|r| r.error_for_status()) else {
            continue;
        };
        let Ok(body) = response.json::<serde_json::Value>().await else {
            continue;
        };
        let Some(timings) = body["timings_ms"].as_object() else {
            continue;
        };
        turns += 1;
        for (stage, ms) in timings {
            *sums.entry(stage.clone()).or_insert(0.0) += ms.as_f64().unwrap_or(0.0);
        }
    }
    let means = sums
        .into_iter()
        .map(|(stage, sum)| (stage, sum / turns.max(1) as f64))
        .collect();
    (means, turns)
}

/// `clients` clients, each sending its next question as soon as the last is answered, or after `Retry-After` when
/// refused, until `duration` has passed. Questions go round in order across all clients.
pub async fn closed_loop(
    client: &reqwest::Client,
    chat_url: &str,
    questions: &[Question],
    clients: usize,
    duration: Duration,
) -> Vec<Response> {
    let questions: Arc<[Question]> = questions.into();
    let chat_url: Arc<str> = chat_url.into();
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, questions, chat_url, next) = (
                client.clone(),
                Arc::clone(&questions),
                Arc::clone(&chat_url),
                Arc::clone(&next),
            );
            tokio::spawn(async move {
                let mut responses = Vec::new();
                while start.elapsed() < duration {
                    let question = &questions[next.fetch_add(1, Ordering::Relaxed) % questions.len()];
                    let sent = Instant::now();
                    let (status, retry_after) = ask(&client, &chat_url, &question.text).await;
                    responses.push(Response {
                        status,
                        latency_ms: sent.elapsed().as_secs_f64() * 1000.0,
                    });
                    if let Some(wait) = retry_after {
                        tokio::time::sleep(wait).await;
                    }
                }
                responses
            })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        if let Ok(mine) = task.await {
            responses.extend(mine);
        }
    }
    responses
}

/// One question: the status, and how long the server asked the client to wait before the next.
async fn ask(client: &reqwest::Client, chat_url: &str, message: &str) -> (u16, Option<Duration>) {
    let Ok(response) = arrival::post_question(client, chat_url, message).await else {
        return (0, None);
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // The whole body is read, as a real client would.
    match response.bytes().await {
        Ok(_) => (status, retry_after),
        Err(_) => (0, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, latency_ms: f64) -> Response {
        Response { status, latency_ms }
    }

    #[test]
    fn a_level_counts_goodput_failures_and_the_slowest_refusal() {
        let responses = [
            response(200, 100.0),
            response(200, 3_500.0),
            response(429, 1.5),
            response(429, 3.0),
            response(503, 40.0),
            response(0, 10_000.0),
        ];
        let level = Level::of("t".into(), 4, 0.0, &responses, Duration::from_secs(2));
        assert_eq!(level.goodput_rps, 0.5, "one 200 within 3 s over 2 s");
        assert!((level.failure_rate() - 2.0 / 6.0).abs() < 1e-9);
        assert!((level.rate_429() - 2.0 / 6.0).abs() < 1e-9);
        assert_eq!(level.max_429_ms, 3.0);
        assert_eq!(level.p99_429_ms, 3.0, "nearest rank of two");
        assert_eq!(level.p50_429_ms, 1.5);
        let saturation = Saturation {
            setup: String::new(),
            in_flight: 4,
            stage_profile: BTreeMap::new(),
            profiled_turns: 0,
            levels: vec![
                level.clone(),
                Level {
                    goodput_rps: 9.0,
                    ..level
                },
            ],
        };
        assert_eq!(saturation.peak_rps(), 9.0);
    }

    #[test]
    fn the_servers_429s_are_read_off_its_histogram_for_the_chat_route_only() {
        let metrics = |within_1: u64, within_5: u64, all: u64| {
            format!(
                r#"# TYPE navigator_http_request_duration_seconds histogram
navigator_http_request_duration_seconds_bucket{{route="/v1/chat",status="200",le="0.005"}} 7
navigator_http_request_duration_seconds_bucket{{route="/v1/chat",status="429",le="0.001"}} {within_1}
navigator_http_request_duration_seconds_bucket{{route="/v1/chat",status="429",le="0.002"}} {within_1}
navigator_http_request_duration_seconds_bucket{{route="/v1/chat",status="429",le="0.005"}} {within_5}
navigator_http_request_duration_seconds_bucket{{route="/v1/chat",status="429",le="+Inf"}} {all}
navigator_http_request_duration_seconds_bucket{{route="/v1/documents",status="429",le="+Inf"}} 50
navigator_http_request_duration_seconds_count{{route="/v1/chat",status="429"}} {all}
"#
            )
        };
        let before = ServerRefusals::read(&metrics(3, 4, 4));
        let after = ServerRefusals::read(&metrics(10, 12, 13));
        assert_eq!(
            after.since(before),
            ServerRefusals {
                total: 9,
                within_1_ms: 7,
                within_2_ms: 7,
                within_5_ms: 8,
            }
        );
        assert_eq!(ServerRefusals::read("no metrics here"), ServerRefusals::default());
    }

    fn level_with(clients: usize, goodput_rps: f64) -> Level {
        let mut level = Level::of("t".into(), clients, 0.0, &[], Duration::from_secs(12));
        level.goodput_rps = goodput_rps;
        level
    }

    #[test]
    fn a_plateau_holds_its_peak_within_counting_noise_and_a_collapse_does_not() {
        let run = |last: f64| Saturation {
            setup: String::new(),
            in_flight: 4,
            stage_profile: BTreeMap::new(),
            profiled_turns: 0,
            levels: vec![level_with(4, 20.8), level_with(16, 21.6), level_with(64, last)],
        };
        assert!(run(21.0).holds_peak(64, 0.9));
        assert!(
            run(19.4).holds_peak(64, 0.9),
            "just under 0.9 × the peak: within counting noise"
        );
        assert!(!run(12.0).holds_peak(64, 0.9), "a real fall");
        assert!(!run(21.0).holds_peak(32, 0.9), "no such level");
    }
}
