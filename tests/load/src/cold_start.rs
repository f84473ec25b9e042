//! Cold start of each function: process start → ready for the first invoke, measured as Lambda measures its Init
//! Duration. Each release binary is started against a local Runtime API stand-in, and the clock stops when the
//! runtime asks for its first event (`GET /2018-06-01/runtime/invocation/next`): everything `main` does before that
//! (logging, budgets, clients, pools, models) is init.
//!
//! `navigator-load cold-start --bin-dir DIR [--runs N]`; `scripts/test` points it at the binaries `cargo lambda
//! build --release` made. The retrieve function is measured twice: with remote embeddings (nothing to load) and with
//! the local model (`NAVIGATOR_MODEL_DIR`, as `scripts/fetch-model` leaves it).

use crate::runtime_api::lambda_command;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// The goal for a function without a local model (issue 8).
const GOAL_MS: f64 = 30.0;

struct Case {
    label: &'static str,
    binary: &'static str,
    env: Vec<(&'static str, String)>,
    has_model: bool,
}

fn cases(model_dir: Option<PathBuf>) -> Vec<Case> {
    // Dummy AWS credentials come with every Lambda command (`runtime_api::lambda_command`).
    let with = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        extra.iter().map(|(k, v)| (*k, v.to_string())).collect()
    };
    let mut cases = vec![
        Case {
            label: "orchestrator (Lambda invoker, 4 tools)",
            binary: "orchestrator",
            env: with(&[
                ("TOOL_INVOKER", "lambda"),
                ("TRANSLATE_FUNCTION", "translate"),
                ("GUARD_FUNCTION", "guard"),
                ("RETRIEVE_FUNCTION", "retrieve"),
                ("WEB_SEARCH_FUNCTION", "web-search"),
            ]),
            has_model: false,
        },
        Case {
            label: "guard (rules, name lists, lexical model; no MiniLM files, as deployed)",
            binary: "guard",
            env: with(&[("GUARD_ML", "local"), ("NAVIGATOR_DATA_DIR", "/nonexistent")]),
            has_model: false,
        },
        Case {
            label: "translate (Amazon Translate client)",
            binary: "translate",
            env: with(&[("TRANSLATE_PROVIDERS", "aws")]),
            has_model: false,
        },
        Case {
            label: "web-search (Tavily client)",
            binary: "web-search",
            env: with(&[("TAVILY_API_KEY", "tvly-cold-start")]),
            has_model: false,
        },
        Case {
            label: "retrieve (PostgreSQL pool, remote embeddings)",
            binary: "retrieve",
            env: with(&[
                ("DATABASE_URL", "postgres://navigator@127.0.0.1:1/plans"),
                ("EMBEDDINGS_PROVIDER", "openai"),
                ("OPENAI_API_KEY", "sk-cold-start"),
                ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
            ]),
            has_model: false,
        },
    ];
    if let Some(dir) = model_dir {
        let mut env = with(&[("GUARD_ML", "local")]);
        env.push(("NAVIGATOR_MODEL_DIR", dir.display().to_string()));
        cases.push(Case {
            label: "guard (semantic model: MiniLM loaded at init)",
            binary: "guard",
            env,
            has_model: true,
        });
        let mut env = with(&[
            ("DATABASE_URL", "postgres://navigator@127.0.0.1:1/plans"),
            ("EMBEDDINGS_PROVIDER", "local"),
        ]);
        env.push(("NAVIGATOR_MODEL_DIR", dir.display().to_string()));
        cases.push(Case {
            label: "retrieve (local MiniLM model loaded at init)",
            binary: "retrieve",
            env,
            has_model: true,
        });
    }
    cases
}

/// Starts `binary` against a fresh Runtime API stand-in; returns the time until it asked for its first event.
async fn init_duration(binary: &Path, case: &Case) -> Result<Duration, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("local Runtime API: {e}"))?;
    let runtime_api = listener
        .local_addr()
        .map_err(|e| format!("local Runtime API: {e}"))?
        .to_string();
    let mut command = lambda_command(binary, &runtime_api, case.binary);
    command
        .env("RUST_LOG", "warn")
        .envs(case.env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("{}: {e}", binary.display()))?;
    let first_next = async {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            if String::from_utf8_lossy(&request).contains("/runtime/invocation/next") {
                return started.elapsed();
            }
        }
    };
    let outcome = tokio::select! {
        elapsed = first_next => Ok(elapsed),
        status = child.wait() => {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr).await;
            }
            Err(format!("{} exited before its first invoke ({status:?}): {stderr}", case.binary))
        }
        _ = tokio::time::sleep(Duration::from_secs(20)) => Err(format!("{} never asked for an event", case.binary)),
    };
    let _ = child.kill().await;
    outcome
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Measures every function `runs` times; prints a Markdown table to stdout. Returns the failures (a function that
/// exited before its first invoke, or never asked for one).
pub async fn run(bin_dir: &Path, runs: usize, model_dir: Option<PathBuf>) -> Vec<String> {
    let runs = runs.max(1);
    println!(
        "cold start (process start → first GET /runtime/invocation/next), {runs} runs each, binaries in {}",
        bin_dir.display()
    );
    println!("| function | P50 ms | max ms | binary MB | goal |");
    println!("|---|---|---|---|---|");
    let mut failures = Vec::new();
    for case in cases(model_dir) {
        let binary = bin_dir.join(case.binary);
        let size_mb = std::fs::metadata(&binary)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(f64::NAN);
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            match init_duration(&binary, &case).await {
                Ok(elapsed) => samples.push(elapsed.as_secs_f64() * 1000.0),
                Err(error) => {
                    failures.push(error);
                    break;
                }
            }
        }
        if samples.is_empty() {
            continue;
        }
        samples.sort_by(f64::total_cmp);
        let p50 = percentile(&samples, 0.5);
        let goal = if case.has_model {
            "reported separately".to_string()
        } else if p50 <= GOAL_MS {
            format!("≤ {GOAL_MS} ms: met")
        } else {
            format!("≤ {GOAL_MS} ms: MISSED")
        };
        println!(
            "| {} | {p50:.1} | {:.1} | {size_mb:.1} | {goal} |",
            case.label,
            samples[samples.len() - 1]
        );
    }
    failures
}
