//! The load, chaos and soak runs against a running `navigator serve`, each ending in figures and, for chaos, a
//! pass/fail verdict. `scripts/load` starts what they need (PostgreSQL with the sample plan, the fake dependencies,
//! the server) and hands its addresses over.

use crate::arrival::{self, Sample};
use crate::fakes::faults::{Fault, StatsSnapshot};
use crate::monitor::{self, Reading};
use crate::questions::{Path, Question};
use crate::soak;
use crate::stats::{Latency, Summary, percentile, status_counts};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

/// How long each part runs.
#[derive(Debug, Clone, Copy)]
pub struct Durations {
    /// A short run judges everything but the soak's RSS slope, which needs minutes past warm-up to mean anything.
    pub judge_soak_slope: bool,
    pub scenario: Duration,
    pub chaos: Duration,
    pub soak: Duration,
    pub soak_every: Duration,
}

impl Durations {
    /// The CI run: every scenario, at reduced duration (under 5 minutes in all).
    pub fn short() -> Self {
        Self {
            judge_soak_slope: false,
            scenario: Duration::from_secs(15),
            chaos: Duration::from_secs(15),
            soak: Duration::from_secs(40),
            soak_every: Duration::from_secs(5),
        }
    }

    /// The published run; the soak length is a parameter (30 min by default, 2 h documented).
    pub fn full(soak: Duration) -> Self {
        Self {
            judge_soak_slope: true,
            scenario: Duration::from_secs(60),
            chaos: Duration::from_secs(60),
            soak,
            soak_every: Duration::from_secs(10),
        }
    }
}

/// Controls PostgreSQL for the database chaos (through `scripts/pg`).
#[derive(Debug, Clone)]
pub struct Database {
    pub script: PathBuf,
    pub dir: PathBuf,
    /// `psql` arguments as the administrator, and as the navigator's own role.
    pub admin: Vec<String>,
    pub member_role: Vec<String>,
    pub max_connections: usize,
}

pub struct Harness {
    pub client: reqwest::Client,
    pub chat_url: String,
    pub fakes_url: String,
    pub target: monitor::Target,
    pub database: Database,
    pub questions: Vec<Question>,
    pub durations: Durations,
}

/// A scenario's outcome: its checks, each either an invariant or a capacity target.
///
/// An invariant holds on any machine (no hang, a 429 answered at the door, the breaker opening after five failures,
/// recovery without a restart); a capacity target is a figure of the machine the run is on (error shares under
/// overload, latency percentiles, answers kept while the CPU is starved) and is judged only where the run says so:
/// on the machine the targets were set for, not on a CI runner of unknown speed (`--capacity-targets`).
#[derive(Debug, Clone)]
pub struct Verdict {
    pub name: &'static str,
    /// Every invariant held.
    pub invariants_held: bool,
    /// Every capacity target was met.
    pub capacity_met: bool,
    /// What was measured, against what.
    pub details: Vec<String>,
}

impl Verdict {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            invariants_held: true,
            capacity_met: true,
            details: Vec::new(),
        }
    }

    /// An invariant: fails the run wherever it runs.
    pub fn check(&mut self, ok: bool, detail: String) {
        self.invariants_held &= ok;
        self.details
            .push(format!("{} {detail}", if ok { "pass:" } else { "FAIL:" }));
    }

    /// A capacity target: fails the run only when capacity targets are judged.
    pub fn capacity(&mut self, ok: bool, detail: String) {
        self.capacity_met &= ok;
        self.details.push(format!(
            "{} {detail}",
            if ok { "pass:" } else { "MISSED (capacity target):" }
        ));
    }

    /// Whether the run passes on this verdict: its invariants, and its capacity targets when they are judged.
    pub fn passed(&self, judge_capacity: bool) -> bool {
        self.invariants_held && (self.capacity_met || !judge_capacity)
    }
}

/// Everything a run measured.
pub struct Results {
    pub scenarios: Vec<(Summary, Vec<Sample>)>,
    pub verdicts: Vec<Verdict>,
    /// Breaker state and Tavily failures over the outage scenario: (s, state, failures so far).
    pub breaker_timeline: Vec<(f64, f64, f64)>,
    pub soak: Vec<Reading>,
    pub soak_summary: Option<Summary>,
    /// Slopes after warm-up, in MB per 10 minutes: resident memory, and the heap the program holds.
    pub soak_slope_mb_per_10_min: f64,
    pub soak_heap_slope_mb_per_10_min: f64,
    pub judge_soak_slope: bool,
    /// The embedded default driven to saturation (`navigator-load saturate`), when that run was made.
    pub saturation: Option<crate::saturation::Saturation>,
    /// One orchestrator environment, classic against Lambda Managed Instances (`navigator-load managed-instances`).
    pub environments: Option<String>,
}

const RATES: [f64; 4] = [5.0, 10.0, 20.0, 60.0];

impl Harness {
    async fn set_fault(&self, service: &str, fault: Fault) {
        let url = format!("{}/admin/faults/{service}", self.fakes_url);
        let response = self.client.put(url).json(&fault).send().await;
        assert!(
            response.is_ok_and(|r| r.status().is_success()),
            "the fake dependencies accept a fault for {service}"
        );
    }

    async fn fake_stats(&self, service: &str) -> StatsSnapshot {
        let url = format!("{}/admin/stats", self.fakes_url);
        let stats: BTreeMap<String, StatsSnapshot> = match self.client.get(url).send().await {
            Ok(response) => response.json().await.unwrap_or_default(),
            Err(_) => BTreeMap::new(),
        };
        stats.get(service).copied().unwrap_or_default()
    }

    async fn load(&self, rate: f64, duration: Duration) -> Vec<Sample> {
        arrival::run(&self.client, &self.chat_url, &self.questions, rate, duration).await
    }

    /// The same load in the background, while the caller injects faults and watches.
    fn spawn_load(&self, rate: f64, duration: Duration) -> tokio::task::JoinHandle<Vec<Sample>> {
        let client = self.client.clone();
        let url = self.chat_url.clone();
        let questions = self.questions.clone();
        tokio::spawn(async move { arrival::run(&client, &url, &questions, rate, duration).await })
    }

    pub async fn run_all(&self) -> Results {
        let mut scenarios = Vec::new();
        for rate in RATES {
            eprintln!("load: {rate} req/s for {:?}", self.durations.scenario);
            let samples = self.load(rate, self.durations.scenario).await;
            let summary = Summary::of(&samples, rate, self.durations.scenario);
            eprintln!("load:   {}", one_line(&summary));
            scenarios.push((summary, samples));
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        let baseline = scenarios
            .iter()
            .find(|(s, _)| s.offered_rps == 10.0)
            .map(|(s, _)| s.retrieval)
            .expect("the 10 req/s scenario ran");
        let mut verdicts = vec![self.web_latency(baseline).await];
        self.settle_breaker().await;
        let (outage, breaker_timeline) = self.tavily_outage().await;
        verdicts.push(outage);
        verdicts.push(self.database_chaos().await);
        verdicts.push(self.client_disconnect().await);
        let (soak, soak_summary, (slope, heap_slope)) = self.soak().await;
        Results {
            scenarios,
            verdicts,
            breaker_timeline,
            soak,
            soak_summary: Some(soak_summary),
            soak_slope_mb_per_10_min: slope,
            soak_heap_slope_mb_per_10_min: heap_slope,
            judge_soak_slope: self.durations.judge_soak_slope,
            saturation: None,
            environments: None,
        }
    }

    /// Web latency raised to 2 s: web calls end at their budget, retrieval-only P95 does not move.
    async fn web_latency(&self, baseline: Latency) -> Verdict {
        eprintln!("chaos: web latency 2 s");
        self.set_fault("tavily", Fault::latency(2_000, 2_000)).await;
        let samples = self.load(10.0, self.durations.chaos).await;
        self.set_fault("tavily", Fault::realistic("tavily")).await;
        let summary = Summary::of(&samples, 10.0, self.durations.chaos);
        let mut verdict = Verdict::new("web latency raised to 2 s");
        let allowed = (baseline.p95 * 1.25).max(baseline.p95 + 250.0);
        verdict.capacity(
            summary.retrieval.p95 <= allowed,
            format!(
                "retrieval-only P95 {:.0} ms vs {:.0} ms at baseline (allowed ≤ {allowed:.0} ms)",
                summary.retrieval.p95, baseline.p95
            ),
        );
        let web: Vec<&Sample> = samples.iter().filter(|s| s.path == Path::RetrievalAndWeb).collect();
        let degraded = web.iter().filter(|s| s.answered() && s.degraded).count();
        verdict.capacity(
            !web.is_empty() && degraded == web.len(),
            format!(
                "{degraded}/{} web-path questions answered with `degraded` (the web call timed out at its budget, \
                 or was refused at once by the breaker those timeouts opened)",
                web.len()
            ),
        );
        verdict.capacity(
            summary.web.p99 <= 3_000.0,
            format!(
                "web-path P99 {:.0} ms ≤ 3,000 ms (nobody waits for the 2 s web)",
                summary.web.p99
            ),
        );
        verdict.capacity(
            summary.error_rate < 0.01,
            format!("errors {:.2} %", 100.0 * summary.error_rate),
        );
        verdict
    }

    /// Light load until the web breaker is closed again (the timeouts of the previous scenario may have opened it),
    /// so the outage starts from a closed breaker. At most 45 s: the open window is 30 s.
    async fn settle_breaker(&self) {
        let load = self.spawn_load(5.0, Duration::from_secs(45));
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(45) {
            let state = self.target.read(&self.client, started).await.breaker;
            if state == 0.0 || state.is_nan() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        load.abort();
        eprintln!(
            "chaos: web breaker closed after {:.0} s of light load",
            started.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
    }

    /// Tavily answers 500 for a while: the breaker opens after 5 failures, answers go on from retrieval, and the
    /// breaker closes again within 30 s of the outage's end.
    async fn tavily_outage(&self) -> (Verdict, Vec<(f64, f64, f64)>) {
        eprintln!("chaos: Tavily 500s for {:?}", self.durations.chaos);
        let outage = self.durations.chaos;
        let recovery_window = Duration::from_secs(40);
        let before = self.fake_stats("tavily").await;
        self.set_fault(
            "tavily",
            Fault {
                fail_share: 1.0,
                fail_status: 500,
                ..Fault::realistic("tavily")
            },
        )
        .await;
        let started = Instant::now();
        let load = self.spawn_load(10.0, outage + recovery_window);
        let mut timeline = Vec::new();
        let mut restored_at = None;
        let mut failures_when_opened = None;
        let mut closed_after = None;
        while started.elapsed() < outage + recovery_window {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if restored_at.is_none() && started.elapsed() >= outage {
                self.set_fault("tavily", Fault::realistic("tavily")).await;
                restored_at = Some(started.elapsed());
            }
            let reading = self.target.read(&self.client, started).await;
            let failed = self.fake_stats("tavily").await.failed - before.failed;
            timeline.push((reading.at_s, reading.breaker, failed as f64));
            if reading.breaker == 2.0 && failures_when_opened.is_none() {
                failures_when_opened = Some(failed);
            }
            if let Some(restored) = restored_at
                && closed_after.is_none()
                && reading.breaker == 0.0
            {
                closed_after = Some(started.elapsed().saturating_sub(restored));
            }
        }
        let samples = load.await.unwrap_or_default();
        let during: Vec<Sample> = samples
            .iter()
            .filter(|s| s.due_s < outage.as_secs_f64())
            .cloned()
            .collect();
        let summary = Summary::of(&during, 10.0, outage);
        let mut verdict = Verdict::new("Tavily answers 500 during the outage");
        // Calls already in flight when the 5th failure opens the breaker still fail; allow for them.
        verdict.check(
            failures_when_opened.is_some_and(|n| n <= 8),
            format!(
                "breaker opened after {} failures reached Tavily (5, plus those already in flight: ≤ 8)",
                failures_when_opened.map_or("—".into(), |n| n.to_string())
            ),
        );
        let answered = |path: Path| {
            let all: Vec<&Sample> = during.iter().filter(|s| s.path == path).collect();
            let ok = all.iter().filter(|s| s.answered()).count();
            (ok, all.len())
        };
        let (retrieval_ok, retrieval_all) = answered(Path::Retrieval);
        let (web_ok, web_all) = answered(Path::RetrievalAndWeb);
        verdict.capacity(
            retrieval_ok as f64 >= 0.99 * retrieval_all as f64 && web_ok as f64 >= 0.99 * web_all as f64,
            format!(
                "answers continued: retrieval-only {retrieval_ok}/{retrieval_all}, retrieval + web {web_ok}/{web_all} \
                 (degraded {:.0} % of answers)",
                100.0 * summary.degraded_rate
            ),
        );
        // The breaker stays open 30 s from its last trip; the first successful probe then closes it.
        verdict.check(
            closed_after.is_some_and(|d| d <= Duration::from_secs(32)),
            format!(
                "closed {} after the outage ended (≤ 30 s open window + one probe: ≤ 32 s)",
                closed_after.map_or("never".into(), |d| format!("{:.1} s", d.as_secs_f64()))
            ),
        );
        (verdict, timeline)
    }

    async fn pg(&self, command: &str) -> bool {
        tokio::process::Command::new(&self.database.script)
            .arg(command)
            .arg(&self.database.dir)
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    /// Connections exhausted, then PostgreSQL restarted mid-run: fast 503/429, no hang, full recovery without
    /// restarting the server.
    async fn database_chaos(&self) -> Verdict {
        eprintln!("chaos: PostgreSQL connections exhausted, then restarted");
        let phase = self.durations.chaos / 3;
        let total = phase * 4;
        let started = Instant::now();
        let load = self.spawn_load(10.0, total);
        tokio::time::sleep(phase).await;
        // Exhaust: hold every slot a non-superuser may take, cut the navigator's own connections, and take the slots
        // they free before its pool can reconnect (a few rounds: the pool races for them).
        let fault_from = started.elapsed().as_secs_f64();
        let mut hogs = Vec::new();
        let mut cut_total = 0u64;
        for _ in 0..4 {
            for _ in 0..self.database.max_connections {
                let child = tokio::process::Command::new("psql")
                    .args(&self.database.member_role)
                    .args(["-Atc", "SELECT pg_sleep(3600)"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .spawn();
                if let Ok(child) = child {
                    hogs.push(child);
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            cut_total += monitor::psql(
                    &self.database.admin,
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'navigator-retrieve'",
                )
                .await
                .ok()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let held = monitor::psql(
            &self.database.admin,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'",
        )
        .await
        .unwrap_or_default();
        let navigator_left = monitor::db_connections(&self.database.admin).await;
        tokio::time::sleep(phase).await;
        for hog in &mut hogs {
            let _ = hog.kill().await;
        }
        let restarted = self.pg("restart").await;
        let fault_until = started.elapsed().as_secs_f64();
        let samples = load.await.unwrap_or_default();
        let mut verdict = Verdict::new("PostgreSQL exhausted, then restarted");
        verdict.check(
            restarted && navigator_left == Some(0.0),
            format!(
                "every slot held ({held} sleeping sessions), {cut_total} navigator connections cut, {} left to it; \
                 PostgreSQL restarted: {restarted}",
                navigator_left.map_or("?".into(), |n| n.to_string())
            ),
        );
        let during: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.due_s >= fault_from && s.due_s < fault_until + 1.0)
            .collect();
        let failed: Vec<f64> = during.iter().filter(|s| !s.answered()).map(|s| s.latency_ms).collect();
        let kinds = status_counts(during.iter().map(|s| s.status));
        let only_typed = during.iter().all(|s| matches!(s.status, 200 | 429 | 503 | 504));
        verdict.check(
            only_typed && none_or_at_most(percentile(&failed, 1.0), 3_000.0),
            format!(
                "during the fault: statuses {kinds:?}, slowest failure {:.0} ms (≤ 3,000 ms, no hang, no client timeout)",
                percentile(&failed, 1.0)
            ),
        );
        let recovery: Vec<u16> = samples
            .iter()
            .filter(|s| s.due_s >= fault_until + 3.0)
            .map(|s| s.status)
            .collect();
        let answered = recovery.iter().filter(|&&status| status == 200).count();
        verdict.check(
            recovered(&recovery),
            format!(
                "recovered without restarting serve: {answered}/{} answered from 3 s after the restart (statuses \
                 {:?}; a 429 is admission at work, not a failure; at most one straggler or 1 % may fail)",
                recovery.len(),
                status_counts(recovery.iter().copied())
            ),
        );
        let alive = monitor::rss_mb(self.target.pid).is_some();
        verdict.check(
            alive,
            format!("serve (pid {}) still the same process: {alive}", self.target.pid),
        );
        verdict
    }

    /// A client that hangs up mid-turn: its tool and model calls are cancelled, nothing stays in flight.
    async fn client_disconnect(&self) -> Verdict {
        eprintln!("chaos: clients disconnecting mid-turn");
        self.set_fault("llm", Fault::latency(1_500, 1_500)).await;
        let before = self.fake_stats("llm").await;
        let question = self.questions[0].text.clone();
        let hang_ups = 10;
        let mut calls = Vec::new();
        for _ in 0..hang_ups {
            let client = self.client.clone();
            let url = self.chat_url.clone();
            let question = question.clone();
            calls.push(tokio::spawn(async move {
                client
                    .post(url)
                    .json(&serde_json::json!({"message": question}))
                    .timeout(Duration::from_millis(400))
                    .send()
                    .await
                    .is_err()
            }));
        }
        let mut hung_up = 0;
        for call in calls {
            hung_up += usize::from(call.await.unwrap_or(false));
        }
        // Well before the model's 1.5 s answer would have come.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = self.fake_stats("llm").await;
        let reading = self.target.read(&self.client, Instant::now()).await;
        self.set_fault("llm", Fault::realistic("llm")).await;
        let mut verdict = Verdict::new("client disconnects mid-turn");
        let cancelled = after.cancelled - before.cancelled;
        verdict.check(
            hung_up == hang_ups && cancelled >= hang_ups as u64,
            format!("{hung_up} clients hung up at 400 ms; {cancelled} model calls were cancelled at the model"),
        );
        verdict.check(
            after.in_flight == 0 && reading.chat_in_flight == 0.0,
            format!(
                "700 ms later: {} model calls and {} chat turns still in flight",
                after.in_flight, reading.chat_in_flight
            ),
        );
        verdict
    }

    /// 10 req/s for the soak's length, sampling RSS, heap, descriptors and pool size; the RSS and heap slopes.
    async fn soak(&self) -> (Vec<Reading>, Summary, (f64, f64)) {
        eprintln!("soak: 10 req/s for {:?}", self.durations.soak);
        let (readings, samples) = soak::drive(
            &self.client,
            &self.chat_url,
            &self.questions,
            &self.target,
            10.0,
            self.durations.soak,
            self.durations.soak_every,
        )
        .await;
        let summary = Summary::of(&samples, 10.0, self.durations.soak);
        let slopes = soak::slopes(&readings, self.durations.soak);
        (readings, summary, slopes)
    }
}

/// `value` is at most `limit`, or there was nothing to measure (`NaN`).
fn none_or_at_most(value: f64, limit: f64) -> bool {
    value.is_nan() || value <= limit
}

pub fn one_line(summary: &Summary) -> String {
    format!(
        "{} requests, retrieval P50/P95/P99 {:.0}/{:.0}/{:.0} ms, web {:.0}/{:.0}/{:.0} ms, errors {:.2} %, 429 {:.1} %, goodput {:.1}/s, statuses {:?}",
        summary.requests,
        summary.retrieval.p50,
        summary.retrieval.p95,
        summary.retrieval.p99,
        summary.web.p50,
        summary.web.p95,
        summary.web.p99,
        100.0 * summary.error_rate,
        100.0 * summary.rate_429,
        summary.goodput_rps,
        summary.statuses
    )
}

/// Whether the turns after PostgreSQL came back show a recovered server: some answered, and failures (anything but
/// a 200, or a 429 given at the door) no more than one straggler or 1 % of them. A server that did not recover fails
/// most of them.
fn recovered(statuses: &[u16]) -> bool {
    let failed = statuses
        .iter()
        .filter(|&&status| status != 200 && status != 429)
        .count();
    statuses.contains(&200) && failed as f64 <= (0.01 * statuses.len() as f64).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_allows_one_straggler_and_the_doors_429s_but_not_a_server_still_failing() {
        let mut statuses = vec![200; 27];
        statuses.push(503);
        assert!(recovered(&statuses), "one straggler in 28");
        statuses.extend([429, 429]);
        assert!(recovered(&statuses), "429s are admission at work");
        statuses.push(504);
        assert!(!recovered(&statuses), "two failures in 31");
        assert!(!recovered(&[503; 30]), "still failing");
        assert!(!recovered(&[]), "nothing asked, nothing shown");
    }

    #[test]
    fn a_missed_capacity_target_fails_a_run_only_where_capacity_is_judged() {
        let mut verdict = Verdict::new("overload");
        verdict.check(true, "no hang".into());
        verdict.capacity(false, "errors 3.7 %".into());
        assert!(!verdict.passed(true), "judged: the missed target fails");
        assert!(verdict.passed(false), "reported: the invariants held");
        assert_eq!(
            verdict.details,
            ["pass: no hang", "MISSED (capacity target): errors 3.7 %"]
        );
        verdict.check(false, "a hang".into());
        assert!(!verdict.passed(false), "a broken invariant fails wherever it runs");
    }
}
