//! `navigator-load fakes` serves the fake dependencies; `navigator-load run` drives the load, chaos and soak runs
//! against a running `navigator serve` and writes the report. `scripts/load` starts everything in order.
//! `navigator-load soak` soaks one server on its own; `navigator-load upload` times a member's upload to `ready`. `navigator-load cold-start` measures each function binary's
//! init against a local Runtime API.

use clap::{Parser, Subcommand};
use navigator_load::cold_start;
use navigator_load::fakes::{self, FaultBoard};
use navigator_load::harness::{Database, Durations, Harness};
use navigator_load::monitor::Target;
use navigator_load::questions;
use navigator_load::report::{self, RunInfo};
use navigator_load::runtime_api;
use navigator_load::saturation;
use navigator_load::soak;
use navigator_load::upload;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "navigator-load", about = "load, chaos and soak runs of the chat path")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Whether a missed capacity target fails a `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CapacityTargets {
    Judge,
    Report,
}

// Parsed once per process: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the fake Tavily, OpenAI-compatible and DeepL APIs with realistic latencies.
    Fakes {
        #[arg(long, default_value = "127.0.0.1:9100")]
        address: SocketAddr,
    },
    /// Run every scenario against a running server and write the report.
    Run {
        #[arg(long, default_value = "short")]
        mode: String,
        #[arg(long, default_value_t = 30)]
        soak_minutes: u64,
        #[arg(long)]
        server: String,
        #[arg(long)]
        server_pid: u32,
        #[arg(long)]
        fakes: String,
        #[arg(long)]
        questions: PathBuf,
        /// `scripts/pg` and the cluster's folder, for the restart.
        #[arg(long)]
        pg_script: PathBuf,
        #[arg(long)]
        pg_dir: PathBuf,
        #[arg(long)]
        pg_port: u16,
        /// The role the navigator connects as (not a superuser, so connection slots can run out).
        #[arg(long, default_value = "navigator")]
        pg_role: String,
        #[arg(long)]
        pg_max_connections: usize,
        #[arg(long, default_value = "docs/PERFORMANCE.md")]
        report: PathBuf,
        #[arg(long, default_value = "")]
        commit: String,
        #[arg(long, default_value = "")]
        setup: String,
        /// A `navigator-load saturate` result to add to the report and its verdicts.
        #[arg(long)]
        saturation: Option<PathBuf>,
        /// A `navigator-load managed-instances` table to add to the report.
        #[arg(long)]
        environments: Option<PathBuf>,
        /// `judge`: a missed capacity target fails the run, as it should on the machine the targets were set for;
        /// `report`: capacity targets are reported only (a CI runner of unknown speed). Invariants always judge.
        #[arg(long, value_enum, default_value_t = CapacityTargets::Judge)]
        capacity_targets: CapacityTargets,
    },
    /// Drive a running `navigator serve` on the embedded default to saturation and save the figures as JSON.
    Saturate {
        #[arg(long, default_value = "short")]
        mode: String,
        #[arg(long)]
        server: String,
        /// The server's in-flight bound (NAVIGATOR_ORCHESTRATOR_IN_FLIGHT): client counts are multiples of it.
        #[arg(long)]
        in_flight: usize,
        #[arg(long)]
        questions: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "")]
        setup: String,
    },
    /// Soak a running server on its own: `--rate` questions a second for `--minutes`, reading its RSS, heap and
    /// descriptors (and PostgreSQL's count of its connections, given `--psql`) every `--every-seconds`. Writes the
    /// record as JSON, its plot as SVG beside it, and prints a paragraph for docs/PERFORMANCE.md.
    Soak {
        #[arg(long)]
        server: String,
        #[arg(long)]
        server_pid: u32,
        #[arg(long)]
        questions: PathBuf,
        #[arg(long, default_value_t = 120)]
        minutes: u64,
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        #[arg(long, default_value_t = 10)]
        every_seconds: u64,
        /// `psql` arguments reaching the server's PostgreSQL as an administrator, space-separated; none for SQLite.
        #[arg(long, default_value = "")]
        psql: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "")]
        setup: String,
    },
    /// Time a member's upload of `--file` (a PDF) to `ready` on a running `navigator serve`, `--runs` times (each a
    /// new file: a comment appended after its end), and print P50, P95 and the slowest; each document is deleted after.
    Upload {
        #[arg(long)]
        server: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Give up on one upload after this many seconds.
        #[arg(long, default_value_t = 600)]
        limit_seconds: u64,
    },
    /// Run every panel query of a Grafana dashboard through Prometheus over the last `--lookback-seconds`; fail when
    /// any returns no series.
    Dashboard {
        #[arg(long)]
        prometheus: String,
        #[arg(long, default_value = "ops/grafana/navigator.json")]
        dashboard: PathBuf,
        #[arg(long, default_value_t = 900)]
        lookback_seconds: u64,
    },
    /// Start each function binary against a local Runtime API and time its init (P50 and max over `--runs`).
    ColdStart {
        /// Where the release binaries are (`target/release`, or `target/<triple>/release` after `cargo lambda build`).
        #[arg(long, default_value = "target/release")]
        bin_dir: PathBuf,
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// The local embedding model, for the retrieve case that loads it (`NAVIGATOR_MODEL_DIR` if not given).
        #[arg(long, env = "NAVIGATOR_MODEL_DIR")]
        model_dir: Option<PathBuf>,
    },
    /// Turns per second of one orchestrator environment, classic Lambda (one invocation at a time) against Lambda
    /// Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY`), through a local Runtime API, with the same fake tools.
    ManagedInstances {
        #[arg(long, default_value = "target/release")]
        bin_dir: PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Invocations outstanding at once (closed loop).
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// The retrieve tool's latency, in milliseconds.
        #[arg(long, default_value_t = 40)]
        retrieve_ms: u64,
    },
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cores} vCPU ({cpu}), {memory_gb:.0} GiB")
}

/// The load client and the question mix, or the exit code after saying what is wrong.
fn client_and_questions(file: &std::path::Path) -> Result<(reqwest::Client, Vec<questions::Question>), ExitCode> {
    let questions = questions::load(file).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .map_err(|e| {
            eprintln!("HTTP client: {e}");
            ExitCode::FAILURE
        })?;
    Ok((client, questions))
}

fn read_saturation(file: &std::path::Path) -> Result<saturation::Saturation, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Saturate {
            mode,
            server,
            in_flight,
            questions,
            out,
            setup,
        } => {
            let duration = match mode.as_str() {
                "short" => Duration::from_secs(12),
                "full" => Duration::from_secs(30),
                other => {
                    eprintln!("--mode {other:?}: short or full");
                    return ExitCode::from(2);
                }
            };
            let (client, questions) = match client_and_questions(&questions) {
                Ok(pair) => pair,
                Err(code) => return code,
            };
            let chat_url = format!("{server}/v1/chat");
            let metrics_url = format!("{server}/metrics");
            let figures =
                saturation::run(&client, &chat_url, &metrics_url, &questions, in_flight, duration, setup).await;
            let written = serde_json::to_string_pretty(&figures)
                .map_err(|e| e.to_string())
                .and_then(|json| std::fs::write(&out, json).map_err(|e| e.to_string()));
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("cannot write {}: {e}", out.display());
                    ExitCode::FAILURE
                }
            }
        }
        Command::Soak {
            server,
            server_pid,
            questions,
            minutes,
            rate,
            every_seconds,
            psql,
            out,
            setup,
        } => {
            if !(rate > 0.0 && rate.is_finite()) || minutes == 0 || every_seconds == 0 {
                eprintln!("--rate, --minutes and --every-seconds must be positive");
                return ExitCode::from(2);
            }
            let (client, questions) = match client_and_questions(&questions) {
                Ok(pair) => pair,
                Err(code) => return code,
            };
            let target = Target {
                pid: server_pid,
                metrics_url: format!("{server}/metrics"),
                psql: psql.split_whitespace().map(String::from).collect(),
            };
            let length = Duration::from_secs(60 * minutes);
            eprintln!("soak: {rate} req/s for {minutes} min against {server}");
            let (readings, samples) = soak::drive(
                &client,
                &format!("{server}/v1/chat"),
                &questions,
                &target,
                rate,
                length,
                Duration::from_secs(every_seconds),
            )
            .await;
            let record = soak::Record::of(setup, readings, &samples, rate, length);
            println!("{}", record.paragraph());
            let chart = soak::chart(
                &record.readings,
                format!("Soak at {rate} req/s: server RSS, heap and descriptors"),
            );
            let written = serde_json::to_string_pretty(&record)
                .map_err(|e| e.to_string())
                .and_then(|json| std::fs::write(&out, json).map_err(|e| e.to_string()))
                .and_then(|()| std::fs::write(out.with_extension("svg"), chart.svg()).map_err(|e| e.to_string()));
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("cannot write {}: {e}", out.display());
                    ExitCode::FAILURE
                }
            }
        }
        Command::Upload {
            server,
            file,
            runs,
            limit_seconds,
        } => {
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(e) => {
                    eprintln!("cannot read {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            };
            let client = reqwest::Client::new();
            match upload::time_uploads(&client, &server, &bytes, runs, Duration::from_secs(limit_seconds)).await {
                Ok(uploads) => {
                    println!("{}", upload::summary(&uploads));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("upload: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Dashboard {
            prometheus,
            dashboard,
            lookback_seconds,
        } => {
            let parsed = std::fs::read_to_string(&dashboard)
                .map_err(|e| e.to_string())
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string()));
            let dashboard_json = match parsed {
                Ok(json) => json,
                Err(e) => {
                    eprintln!("{}: {e}", dashboard.display());
                    return ExitCode::from(2);
                }
            };
            let client = reqwest::Client::new();
            let lookback = Duration::from_secs(lookback_seconds);
            match navigator_load::dashboard::check(&client, &prometheus, &dashboard_json, lookback).await {
                Ok(lines) => {
                    lines.iter().for_each(|line| println!("{line}"));
                    println!("every panel of {} shows data", dashboard.display());
                    ExitCode::SUCCESS
                }
                Err(lines) => {
                    lines.iter().for_each(|line| println!("{line}"));
                    eprintln!("a panel of {} shows no data", dashboard.display());
                    ExitCode::FAILURE
                }
            }
        }
        Command::ManagedInstances {
            bin_dir,
            seconds,
            clients,
            retrieve_ms,
        } => match runtime_api::compare(
            &bin_dir,
            clients,
            Duration::from_secs(seconds),
            Duration::from_millis(retrieve_ms),
        )
        .await
        {
            Ok(table) => {
                println!("{table}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("managed-instances: {error}");
                ExitCode::FAILURE
            }
        },
        Command::ColdStart {
            bin_dir,
            runs,
            model_dir,
        } => {
            let failures = cold_start::run(&bin_dir, runs, model_dir).await;
            for failure in &failures {
                eprintln!("{failure}");
            }
            if failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Fakes { address } => {
            let listener = match tokio::net::TcpListener::bind(address).await {
                Ok(listener) => listener,
                Err(e) => {
                    eprintln!("cannot listen on {address}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            eprintln!("navigator-load fakes: http://{address}");
            match axum::serve(listener, fakes::router(FaultBoard::realistic())).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Run {
            mode,
            soak_minutes,
            server,
            server_pid,
            fakes,
            questions,
            pg_script,
            pg_dir,
            pg_port,
            pg_role,
            pg_max_connections,
            report,
            commit,
            setup,
            saturation,
            environments,
            capacity_targets,
        } => {
            let judge_capacity = capacity_targets == CapacityTargets::Judge;
            let saturation = match saturation.map(|file| read_saturation(&file)).transpose() {
                Ok(saturation) => saturation,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let durations = match mode.as_str() {
                "short" => Durations::short(),
                "full" => Durations::full(Duration::from_secs(60 * soak_minutes)),
                other => {
                    eprintln!("--mode {other:?}: short or full");
                    return ExitCode::from(2);
                }
            };
            let (client, questions) = match client_and_questions(&questions) {
                Ok(pair) => pair,
                Err(code) => return code,
            };
            let psql = |role: &str| {
                vec![
                    "-h".to_string(),
                    "127.0.0.1".into(),
                    "-p".into(),
                    pg_port.to_string(),
                    "-U".into(),
                    role.to_string(),
                    "-d".into(),
                    "postgres".into(),
                ]
            };
            let harness = Harness {
                client,
                chat_url: format!("{server}/v1/chat"),
                fakes_url: fakes,
                target: Target {
                    pid: server_pid,
                    metrics_url: format!("{server}/metrics"),
                    psql: psql("postgres"),
                },
                database: Database {
                    script: pg_script,
                    dir: pg_dir,
                    admin: psql("postgres"),
                    member_role: psql(&pg_role),
                    max_connections: pg_max_connections,
                },
                questions,
                durations,
            };
            let started = std::time::Instant::now();
            let mut results = harness.run_all().await;
            results.saturation = saturation;
            results.environments = environments.and_then(|file| std::fs::read_to_string(file).ok());
            for verdict in &results.verdicts {
                eprintln!("chaos: {} — {}", verdict.name, verdict.details.join("; "));
            }
            let info = RunInfo {
                mode,
                commit,
                machine: machine(),
                date: String::from_utf8(
                    std::process::Command::new("date")
                        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
                        .output()
                        .map(|o| o.stdout)
                        .unwrap_or_default(),
                )
                .unwrap_or_default()
                .trim()
                .to_string(),
                setup,
            };
            match report::write(&results, &info, &report, judge_capacity) {
                Ok(passed) => {
                    for verdict in report::target_verdicts(&results) {
                        eprintln!("target: {} — {}", verdict.name, verdict.details.join("; "));
                    }
                    eprintln!(
                        "load: {} in {:.0} s; report in {}",
                        match (passed, judge_capacity) {
                            (true, true) => "every verdict passed",
                            (true, false) => "every invariant held (capacity targets reported above, not judged)",
                            (false, _) => "SOME VERDICTS FAILED",
                        },
                        started.elapsed().as_secs_f64(),
                        report.display()
                    );
                    if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
                }
                Err(e) => {
                    eprintln!("cannot write {}: {e}", report.display());
                    ExitCode::FAILURE
                }
            }
        }
    }
}
