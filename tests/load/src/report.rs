//! `docs/PERFORMANCE.md` and its plots, from one run's results, with the targets' verdicts.

use crate::harness::{Results, Verdict};
use crate::plot::{Chart, Mark, Series};
use crate::questions::Path;
use crate::saturation::Saturation;
use crate::stats::{Summary, holds_share};
use std::fmt::Write;
use std::path::Path as FilePath;

/// Where and on what the run happened.
pub struct RunInfo {
    pub mode: String,
    pub commit: String,
    pub machine: String,
    pub date: String,
    pub setup: String,
}

/// The targets, each checked against the run.
pub fn target_verdicts(results: &Results) -> Vec<Verdict> {
    let at = |rate: f64| results.scenarios.iter().map(|(s, _)| s).find(|s| s.offered_rps == rate);
    let verdicts = std::cell::RefCell::new(Vec::new());
    // An invariant, and a capacity target (`Verdict` says which is which).
    let check = |name: &'static str, ok: bool, detail: String| {
        let mut verdict = Verdict::new(name);
        verdict.check(ok, detail);
        verdicts.borrow_mut().push(verdict);
    };
    let target = |name: &'static str, ok: bool, detail: String| {
        let mut verdict = Verdict::new(name);
        verdict.capacity(ok, detail);
        verdicts.borrow_mut().push(verdict);
    };
    if let Some(ten) = at(10.0) {
        target(
            "10 req/s sustained with < 1 % errors",
            ten.error_rate < 0.01 && results.soak_summary.as_ref().is_none_or(|s| s.error_rate < 0.01),
            format!(
                "errors {:.2} % at 10 req/s, {:.2} % over the soak",
                100.0 * ten.error_rate,
                100.0 * results.soak_summary.as_ref().map_or(0.0, |s| s.error_rate)
            ),
        );
        target(
            "retrieval-only P95 < 2 s and P99 < 3 s (10 req/s)",
            ten.retrieval.p95 < 2_000.0 && ten.retrieval.p99 < 3_000.0,
            format!("P95 {:.0} ms, P99 {:.0} ms", ten.retrieval.p95, ten.retrieval.p99),
        );
        target(
            "retrieval + web P95 < 3 s and P99 < 5 s (10 req/s)",
            ten.web.p95 < 3_000.0 && ten.web.p99 < 5_000.0,
            format!("P95 {:.0} ms, P99 {:.0} ms", ten.web.p95, ten.web.p99),
        );
    }
    if let Some(twenty) = at(20.0) {
        target(
            "20 req/s: errors other than 429 < 1 %",
            twenty.error_rate < 0.01,
            format!(
                "{:.2} % (429: {:.1} %)",
                100.0 * twenty.error_rate,
                100.0 * twenty.rate_429
            ),
        );
    }
    let best_scenario = results
        .scenarios
        .iter()
        .map(|(s, _)| s)
        .max_by(|a, b| a.goodput_rps.total_cmp(&b.goodput_rps));
    let best = best_scenario.map_or(0.0, |s| s.goodput_rps);
    if let Some(sixty) = at(60.0) {
        let hung = results
            .scenarios
            .iter()
            .filter(|(s, _)| s.offered_rps == 60.0)
            .flat_map(|(_, samples)| samples.iter())
            .filter(|s| s.status == 0)
            .count();
        let answers = |s: &Summary| s.goodput_rps * s.seconds;
        let holds_goodput = best_scenario.is_some_and(|best| holds_share(answers(best), answers(sixty), 0.9));
        check(
            "60 req/s: goodput ≥ 90 % of the best (within two standard errors of counting), no hang",
            holds_goodput && hung == 0,
            format!(
                "goodput {:.1}/s vs best {best:.1}/s ({:.0} %), unanswered {hung}",
                sixty.goodput_rps,
                100.0 * sixty.goodput_rps / best.max(f64::MIN_POSITIVE),
            ),
        );
        target(
            "60 req/s: no 5xx storm (errors < 5 %)",
            sixty.error_rate < 0.05,
            format!(
                "errors {:.2} %, 429 {:.1} %",
                100.0 * sixty.error_rate,
                100.0 * sixty.rate_429
            ),
        );
    }
    if let Some(saturation) = &results.saturation {
        let worst = saturation
            .levels
            .iter()
            .max_by(|a, b| a.failure_rate().total_cmp(&b.failure_rate()));
        target(
            "saturation (embedded default): 5xx ≤ 0.5 % at every level",
            worst.is_some_and(|level| level.failure_rate() <= 0.005),
            worst.map_or("no levels ran".into(), |level| {
                format!("worst {:.2} % at {}", 100.0 * level.failure_rate(), level.label)
            }),
        );
        let peak = saturation.peak_rps();
        let sixteen = saturation
            .levels
            .iter()
            .find(|level| level.clients == 16 * saturation.in_flight);
        check(
            "saturation: goodput at 16× the in-flight bound ≥ 0.9 × peak (within two standard errors of counting)",
            saturation.holds_peak(16 * saturation.in_flight, 0.9),
            format!(
                "{:.1}/s vs peak {peak:.1}/s ({:.2} of it)",
                sixteen.map_or(0.0, |level| level.goodput_rps),
                sixteen.map_or(0.0, |level| level.goodput_rps) / peak.max(f64::MIN_POSITIVE)
            ),
        );
        // A refusal after queueing would take a queue wait (up to 800 ms); one at the door takes a loopback round
        // trip, plus, on two cores shared by the client, the server and PostgreSQL, whatever the scheduler adds to
        // the client's and the server's wake-ups (measured: P99 up to ~15 ms at saturation). Judged: the median under
        // 5 ms at every level, and none past 50 ms. The P99 and the slowest are reported beside it.
        let p50_429 = saturation.levels.iter().map(|l| l.p50_429_ms).fold(0.0, f64::max);
        let p99_429 = saturation.levels.iter().map(|l| l.p99_429_ms).fold(0.0, f64::max);
        let slowest_429 = saturation.levels.iter().map(|l| l.max_429_ms).fold(0.0, f64::max);
        check(
            "saturation: 429s at the door (median < 5 ms at every level, none ≥ 50 ms)",
            p50_429 < 5.0 && slowest_429 < 50.0,
            format!("worst median {p50_429:.1} ms, worst P99 {p99_429:.1} ms, slowest {slowest_429:.1} ms"),
        );
        // The client's figures above carry both processes' wake-ups on the shared cores; the server's histogram
        // times each refusal from its outermost middleware to the response, which is what the refusal costs the
        // server once a worker has the request. Every one must be under the 5 ms there.
        // A result saved before the harness read the server's timing has none at any level: nothing to judge.
        let server: Vec<_> = saturation.levels.iter().filter_map(|level| level.server_429).collect();
        if !server.is_empty() {
            let (within, refused) = server
                .iter()
                .fold((0, 0), |(within, all), s| (within + s.within_5_ms, all + s.total));
            target(
                "saturation: the server handles every 429 within 5 ms (its own timing, middleware to response)",
                server.len() == saturation.levels.len() && within == refused,
                if server.len() == saturation.levels.len() {
                    format!("{within} of {refused} within 5 ms")
                } else {
                    "the server's /metrics was not read at every level".to_string()
                },
            );
        }
    }
    // The bound on both: resident memory, and the heap the program holds (which tells a leak from pages
    // the allocator keeps for reuse).
    let (rss, heap) = (results.soak_slope_mb_per_10_min, results.soak_heap_slope_mb_per_10_min);
    let figures = format!("RSS {rss:+.2} MB per 10 min, heap {heap:+.3} MB per 10 min");
    if results.judge_soak_slope {
        check(
            "soak memory flat (RSS and heap slopes ≤ 0.1 MB per 10 min after warm-up)",
            rss.abs() <= SOAK_SLOPE_MB_PER_10_MIN && (heap.is_nan() || heap.abs() <= SOAK_SLOPE_MB_PER_10_MIN),
            figures,
        );
    } else {
        check(
            "soak memory slopes (not judged: a short soak ends inside warm-up)",
            true,
            format!("{figures}, indicative only"),
        );
    }
    verdicts.into_inner()
}

/// The most memory may grow over a soak after warm-up, in MB per 10 minutes.
const SOAK_SLOPE_MB_PER_10_MIN: f64 = 0.1;

fn verdict_cell(verdict: &Verdict, judge_capacity: bool) -> &'static str {
    match (verdict.invariants_held, verdict.capacity_met) {
        (false, _) => "**FAIL**",
        (true, true) => "pass",
        (true, false) if judge_capacity => "**FAIL** (capacity)",
        (true, false) => "missed (capacity, not judged)",
    }
}

fn latency_cell(latency: &crate::stats::Latency) -> String {
    if latency.count == 0 {
        return "—".into();
    }
    format!("{:.0} / {:.0} / {:.0}", latency.p50, latency.p95, latency.p99)
}

fn scenario_row(name: &str, s: &Summary) -> String {
    format!(
        "| {name} | {:.0} | {} | {} | {} | {:.2} % | {:.1} % | {:.0} % | {:.1} |\n",
        s.offered_rps,
        s.requests,
        latency_cell(&s.retrieval),
        latency_cell(&s.web),
        100.0 * s.error_rate,
        100.0 * s.rate_429,
        100.0 * s.degraded_rate,
        s.goodput_rps
    )
}

/// Writes the report and its SVG plots; returns whether the run passed: every invariant held, and every capacity
/// target was met when `judge_capacity`.
pub fn write(results: &Results, info: &RunInfo, report: &FilePath, judge_capacity: bool) -> std::io::Result<bool> {
    let dir = report.parent().unwrap_or(FilePath::new(".")).join("performance");
    std::fs::create_dir_all(&dir)?;
    let targets = target_verdicts(results);
    let all_passed = targets
        .iter()
        .chain(&results.verdicts)
        .all(|v| v.passed(judge_capacity));

    let mut md = String::new();
    let _ = writeln!(md, "# Performance: load, chaos and soak on the chat path\n");
    let _ = writeln!(
        md,
        "Generated by `scripts/load` ({} mode) on {}. Commit `{}`. Machine: {}.\n",
        info.mode, info.date, info.commit, info.machine
    );
    let _ = writeln!(md, "{}\n", info.setup);
    let _ = writeln!(
        md,
        "Every request is `POST /v1/chat` on `navigator serve`. Load is open-loop at a constant arrival rate, and each \
         latency runs from when the request was *due*, so queueing anywhere shows (coordinated omission corrected). \
         Latency percentiles are of answered requests (200); errors are everything that is neither 200 nor 429 (5xx, \
         client timeouts at 10 s); goodput is 200s within the 3 s deadline per second.\n"
    );
    let _ = writeln!(md, "## Verdicts\n");
    let _ = writeln!(
        md,
        "Invariants hold on any machine; capacity targets are figures of this one, {} in this run.\n",
        if judge_capacity {
            "judged"
        } else {
            "reported, not judged,"
        }
    );
    let _ = writeln!(md, "| target | verdict | measured |\n|---|---|---|");
    for verdict in targets.iter().chain(&results.verdicts) {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            verdict.name,
            verdict_cell(verdict, judge_capacity),
            verdict.details.join("<br>")
        );
    }
    let _ = writeln!(md, "\n## Scenarios\n");
    let _ = writeln!(
        md,
        "| scenario | offered req/s | requests | retrieval only P50 / P95 / P99 ms | retrieval + web P50 / P95 / P99 ms | errors | 429 | degraded | goodput /s |\n|---|---|---|---|---|---|---|---|---|"
    );
    let names = ["baseline", "2×", "4× stress", "overload"];
    for ((summary, _), name) in results.scenarios.iter().zip(names) {
        md.push_str(&scenario_row(name, summary));
    }
    if let Some(soak) = &results.soak_summary {
        md.push_str(&scenario_row("soak", soak));
    }

    // Latency over time, every scenario back to back.
    let mut offset = 0.0;
    let mut retrieval = Vec::new();
    let mut web = Vec::new();
    let mut boundaries = Vec::new();
    for (summary, samples) in &results.scenarios {
        for sample in samples.iter().filter(|s| s.answered()) {
            let point = (offset + sample.due_s, sample.latency_ms);
            match sample.path {
                Path::Retrieval => retrieval.push(point),
                Path::RetrievalAndWeb => web.push(point),
            }
        }
        let length = samples.last().map_or(0.0, |s| s.due_s) + 1.0;
        boundaries.push(format!("{:.0} req/s from {offset:.0} s", summary.offered_rps));
        offset += length;
    }
    let latency = Chart {
        title: "Latency of answered turns over time (5, 10, 20, 60 req/s back to back)".into(),
        x_label: "seconds of load".into(),
        y_label: "ms".into(),
        series: vec![
            Series {
                name: "retrieval only".into(),
                points: retrieval,
                mark: Mark::Points,
            },
            Series {
                name: "retrieval + web".into(),
                points: web,
                mark: Mark::Points,
            },
        ],
        rules: vec![(3_000.0, "3 s deadline".into())],
    };
    std::fs::write(dir.join("latency-over-time.svg"), latency.svg())?;

    let offered: Vec<(f64, f64)> = results
        .scenarios
        .iter()
        .map(|(s, _)| (s.offered_rps, s.offered_rps))
        .collect();
    let goodput: Vec<(f64, f64)> = results
        .scenarios
        .iter()
        .map(|(s, _)| (s.offered_rps, s.goodput_rps))
        .collect();
    let goodput_chart = Chart {
        title: "Goodput (200 within 3 s) against offered load".into(),
        x_label: "offered req/s".into(),
        y_label: "req/s".into(),
        series: vec![
            Series {
                name: "offered".into(),
                points: offered,
                mark: Mark::Line,
            },
            Series {
                name: "goodput".into(),
                points: goodput,
                mark: Mark::Line,
            },
        ],
        rules: Vec::new(),
    };
    std::fs::write(dir.join("goodput.svg"), goodput_chart.svg())?;

    let rss_chart = crate::soak::chart(
        &results.soak,
        "Soak at 10 req/s: server RSS, heap and open descriptors".into(),
    );
    std::fs::write(dir.join("soak-rss.svg"), rss_chart.svg())?;

    let breaker_chart = Chart {
        title: "Tavily outage: breaker state (0 closed, 1 half-open, 2 open) and failures reaching Tavily".into(),
        x_label: "seconds since the outage began".into(),
        y_label: "state / failures".into(),
        series: vec![
            Series {
                name: "breaker state".into(),
                points: results.breaker_timeline.iter().map(|p| (p.0, p.1)).collect(),
                mark: Mark::Line,
            },
            Series {
                name: "failures".into(),
                points: results.breaker_timeline.iter().map(|p| (p.0, p.2)).collect(),
                mark: Mark::Line,
            },
        ],
        rules: Vec::new(),
    };
    std::fs::write(dir.join("breaker.svg"), breaker_chart.svg())?;

    if let Some(saturation) = &results.saturation {
        write_saturation(&mut md, saturation, &dir)?;
    }
    if let Some(environments) = &results.environments {
        let _ = writeln!(
            md,
            "\n## One Lambda environment: classic and Managed Instances\n\nThe orchestrator's release binary as one \
             execution environment, driven through a local Runtime API whose Lambda `Invoke` answers with fake tools \
             (`navigator-load managed-instances`): classic Lambda sends it one invocation at a time, Lambda Managed \
             Instances up to `AWS_LAMBDA_MAX_CONCURRENCY` at once, bounded inside by the audit's admission.\n\n{}",
            environments.trim_end()
        );
    }

    let _ = writeln!(md, "\n## Plots\n");
    let _ = writeln!(md, "Scenario order: {}.\n", boundaries.join(", "));
    for (file, alt) in [
        ("latency-over-time.svg", "latency over time"),
        ("goodput.svg", "goodput against offered load"),
        ("breaker.svg", "breaker state over the Tavily outage"),
        ("soak-rss.svg", "RSS over the soak"),
    ] {
        let _ = writeln!(md, "![{alt}](performance/{file})\n");
    }
    let _ = writeln!(md, "## Soak readings\n");
    let first = results.soak.first();
    let last = results.soak.last();
    if let (Some(first), Some(last)) = (first, last) {
        let _ = writeln!(
            md,
            "{} readings over {:.0} s: RSS {:.1} → {:.1} MB (slope after warm-up {:+.2} MB per 10 min), heap {:.1} → \
             {:.1} MB (slope {:+.3} MB per 10 min), open fds {} → {}, DB connections {} → {}.\n",
            results.soak.len(),
            last.at_s,
            first.rss_mb,
            last.rss_mb,
            results.soak_slope_mb_per_10_min,
            first.heap_mb,
            last.heap_mb,
            results.soak_heap_slope_mb_per_10_min,
            first.open_fds,
            last.open_fds,
            first.db_connections,
            last.db_connections
        );
    }
    let _ = writeln!(
        md,
        "## Reproduce\n\n`./scripts/load` (short mode, about 5 minutes, what CI runs) or `./scripts/load full` (every \
         scenario 60 s, then a 30-minute soak; `LOAD_SOAK_MINUTES=120 ./scripts/load full` for the 2-hour soak). It \
         starts PostgreSQL with the sample plan, the fake dependencies and `navigator serve`, and rewrites this file."
    );
    std::fs::write(report, md)?;
    Ok(all_passed)
}

fn write_saturation(md: &mut String, saturation: &Saturation, dir: &FilePath) -> std::io::Result<()> {
    let _ = writeln!(md, "\n## Saturation of the embedded default\n");
    let _ = writeln!(
        md,
        "{} Closed-loop clients send their next question when the last is answered, or after `Retry-After` when \
         refused; then open-loop arrivals at twice the peak. In-flight bound {}; peak goodput {:.1} turns/s.\n",
        saturation.setup,
        saturation.in_flight,
        saturation.peak_rps()
    );
    let total = saturation.stage_profile.get("total").copied().unwrap_or(f64::NAN);
    let _ = writeln!(
        md,
        "Where a turn's time goes, one question at a time on the idle server (mean of the answer's `timings_ms` over \
         {} turns; `wave_1` is retrieval: query embedding, KNN + full text in PostgreSQL, rerank):\n",
        saturation.profiled_turns
    );
    let _ = writeln!(md, "| stage | mean ms | share of total |\n|---|---|---|");
    for (stage, ms) in saturation.stage_profile.iter().filter(|(stage, _)| *stage != "total") {
        let _ = writeln!(md, "| {stage} | {ms:.1} | {:.0} % |", 100.0 * ms / total);
    }
    let _ = writeln!(md, "| total | {total:.1} | |\n");
    let _ = writeln!(
        md,
        "| level | requests | goodput /s | answered P50 / P95 / P99 ms | 5xx | 429 | 429 P50 / P99 / slowest ms | the server's 429s within 1 / 5 ms | statuses |\n|---|---|---|---|---|---|---|---|---|"
    );
    for level in &saturation.levels {
        let statuses: Vec<String> = level.statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {:.0} / {:.0} / {:.0} | {:.2} % | {:.1} % | {:.1} / {:.1} / {:.1} | {} | {} |",
            level.label,
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
            level.server_429.map_or("not read".to_string(), |server| format!(
                "{} / {} of {}",
                server.within_1_ms, server.within_5_ms, server.total
            )),
            statuses.join(", ")
        );
    }
    let closed: Vec<_> = saturation.levels.iter().filter(|l| l.clients > 0).collect();
    let chart = Chart {
        title: "Embedded default: goodput and answered P95 against closed-loop clients".into(),
        x_label: "clients".into(),
        y_label: "turns/s | P95 ms / 100".into(),
        series: vec![
            Series {
                name: "goodput turns/s".into(),
                points: closed.iter().map(|l| (l.clients as f64, l.goodput_rps)).collect(),
                mark: Mark::Line,
            },
            Series {
                name: "P95 ms / 100".into(),
                points: closed.iter().map(|l| (l.clients as f64, l.p95_ms / 100.0)).collect(),
                mark: Mark::Line,
            },
        ],
        rules: Vec::new(),
    };
    std::fs::write(dir.join("saturation.svg"), chart.svg())?;
    let _ = writeln!(
        md,
        "\n![saturation of the embedded default](performance/saturation.svg)"
    );
    Ok(())
}
