//! `navigator`: the developer CLI. Each subcommand runs real pieces of the system locally.

#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

mod commands;

use clap::{Parser, Subcommand};
use navigator_platform::owner::{Owner, PlanId, Readers};
use navigator_retrieval::setup::{DEMO_USER_ID, demo_plan};
use std::path::PathBuf;
use std::process::ExitCode;
use uuid::Uuid;

#[derive(Parser)]
#[command(name = "navigator", version, about = "patient-navigator developer CLI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every budget as resolved from the environment, or name the variables that are wrong.
    Config,
    /// Apply the database migrations to DATABASE_URL (or DATABASE_SECRET_ARN).
    Migrate,
    /// Ingest a plan document (PDF, Markdown or text) for a plan (read by all its members) or for one member.
    Ingest {
        #[command(flatten)]
        owner: OwnerArgs,
        file: PathBuf,
    },
    /// Ask the navigator one question: a whole chat turn in this process, over the sample plan; or, with
    /// `--endpoint`, one turn against a deployed API or `navigator serve`, failing unless it is answered with
    /// citations (the post-deploy smoke test).
    Ask {
        #[command(flatten)]
        member: MemberArgs,
        /// The API's base URL (the stack's ChatApiUrl output, or http://127.0.0.1:8080 for `navigator serve`).
        #[arg(long, env = "NAVIGATOR_ENDPOINT")]
        endpoint: Option<String>,
        /// A member's JWT for the API's authorizer (better from NAVIGATOR_TOKEN than on the command line).
        #[arg(long, env = "NAVIGATOR_TOKEN", requires = "endpoint", hide_env_values = true)]
        token: Option<String>,
        /// The member's language: "auto" to detect it, or an ISO 639-1 code.
        #[arg(long, default_value = "auto")]
        language: String,
        /// Print exactly the 200 body of POST /v1/chat.
        #[arg(long)]
        json: bool,
        question: String,
    },
    /// Print the chat API's OpenAPI 3.1 document (what `GET /v1/openapi.json` serves).
    Openapi,
    /// The guard's verdict on a text: verdict, redacted text, findings and stage timings.
    Guard {
        /// Print exactly the guard function's output.
        #[arg(long)]
        json: bool,
        text: String,
    },
    /// Search the web through the configured provider (disabled without TAVILY_API_KEY).
    Websearch {
        /// Print exactly the web-search function's output.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 5)]
        max_results: u8,
        query: String,
    },
    /// Translate a text through the configured providers (the offline glossary without TRANSLATE_PROVIDERS).
    Translate {
        /// The source language: "auto" to detect it, or an ISO 639-1 code.
        #[arg(long, default_value = "auto")]
        from: String,
        #[arg(long)]
        to: String,
        /// Print exactly the translate function's output.
        #[arg(long)]
        json: bool,
        text: String,
    },
    /// Search a member's plan documents: their own and their plan's.
    Search {
        #[command(flatten)]
        member: MemberArgs,
        #[arg(long, default_value_t = 5)]
        top_k: u8,
        /// Read only this section, e.g. "Chapter 3, Section 2.4".
        #[arg(long)]
        section: Option<String>,
        /// Print exactly the retrieve function's output.
        #[arg(long)]
        json: bool,
        question: String,
    },
    /// Serve the chat API on loopback, with admission control and /metrics, as one local member.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        address: std::net::SocketAddr,
        #[command(flatten)]
        member: MemberArgs,
    },
    /// Measure quality against a question set.
    Eval {
        #[command(subcommand)]
        target: EvalTarget,
    },
}

/// Who a local command acts as.
#[derive(clap::Args)]
struct MemberArgs {
    /// The member (default: the demo member).
    #[arg(long)]
    user: Option<Uuid>,
    /// The member's plan, whose documents they read with their own (default: the sample plan for the demo member,
    /// none for any other).
    #[arg(long)]
    plan: Option<String>,
}

impl MemberArgs {
    fn readers(&self) -> Result<Readers, String> {
        let user = self.user.unwrap_or(DEMO_USER_ID);
        let plan = match &self.plan {
            Some(plan) => Some(PlanId::parse(plan).map_err(|e| e.to_string())?),
            None if user == DEMO_USER_ID => Some(demo_plan()),
            None => None,
        };
        Ok(Readers::new(user, plan))
    }
}

/// Who an ingested document belongs to: one of the two.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct OwnerArgs {
    /// The plan whose members all read the document.
    #[arg(long)]
    plan: Option<String>,
    /// The member who alone reads the document.
    #[arg(long)]
    user: Option<Uuid>,
}

impl OwnerArgs {
    fn owner(&self) -> Result<Owner, String> {
        match (&self.plan, self.user) {
            (Some(plan), _) => Ok(Owner::Plan(PlanId::parse(plan).map_err(|e| e.to_string())?)),
            (None, Some(user)) => Ok(Owner::Member(user)),
            (None, None) => Err("name the document's owner with --plan or --user".into()),
        }
    }
}

#[derive(Subcommand)]
enum EvalTarget {
    /// hit@1, hit@5 and MRR of retrieval on a retrieval-dev.jsonl-style file, over the sample plan.
    Retrieval {
        file: PathBuf,
        /// Try a rerank weight, e.g. `--weight sentence=1.0` (repeatable).
        #[arg(long = "weight")]
        weights: Vec<String>,
    },
    /// Language detection accuracy per language, short and long texts, on a `{lang, text}` JSON-lines file.
    Languages { file: PathBuf },
    /// Precision and recall per label, block and PII recall on a security-dev.jsonl-style file.
    Guard { file: PathBuf },
    /// Whole turns on retrieval-dev.jsonl-style files: answers holding the facts, the answering passage first,
    /// citations on the right page, negatives declined, language-note mistakes, ungrounded figures, turn times.
    Answers {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write one JSON line per question (its answer, status and scores) to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Try each line of this file as a set of composer settings (`name=value name=value`), one summary line each.
        #[arg(long)]
        grid: Option<PathBuf>,
        /// Try an extractive composer setting, e.g. `--set keep_ratio=0.6` (repeatable).
        #[arg(long = "set")]
        settings: Vec<String>,
        /// Write every passage the composer weighed, with its features and whether it holds an answer fact, one
        /// JSON line per question, instead of scoring the answers: for choosing the composer's settings.
        #[arg(long, conflicts_with = "grid")]
        windows: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    one_core_per_model_pass();
    navigator_platform::telemetry::count_heap_with(|| ALLOCATOR.allocated());
    // A child started to read one uploaded file does that and exits (navigator_retrieval::document::isolated),
    // before a runtime starts threads: under the reader's memory limit their stacks would count against the file.
    navigator_retrieval::document::isolated::serve_if_asked();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Each forward pass of the sentence model runs on one core; the CPU pools that call the model run as many passes at
/// once as there are cores. Left to itself, candle splits every pass across a process-wide thread pool (and, for
/// element-wise work, a spinning barrier pool) sized to the cores: with a pass in flight on every core, those threads
/// contend for the same cores and spend them handing work over (docs/PERFORMANCE.md, "One core per model pass", has
/// the figures). candle reads the thread count only from `RAYON_NUM_THREADS`, so it is set here, unless the operator
/// set it. The Lambda functions get it from template.yaml.
#[allow(unsafe_code)]
fn one_core_per_model_pass() {
    if std::env::var_os(MODEL_PASS_THREADS).is_none() {
        // SAFETY: the first statement of `main`, before anything has started a thread: nothing reads the
        // environment while it changes.
        unsafe { std::env::set_var(MODEL_PASS_THREADS, "1") };
    }
}

const MODEL_PASS_THREADS: &str = "RAYON_NUM_THREADS";

async fn run() -> ExitCode {
    navigator_platform::telemetry::init_logging(navigator_platform::telemetry::LogFormat::from_env(), "warn");
    let result = match Cli::parse().command {
        Command::Config => commands::config::run(),
        Command::Migrate => commands::migrate::run().await,
        Command::Ingest { owner, file } => match owner.owner() {
            Ok(owner) => commands::ingest::run(&owner, &file).await,
            Err(error) => Err(error),
        },
        Command::Ask {
            endpoint: Some(endpoint),
            token,
            language,
            json,
            question,
            ..
        } => commands::ask_endpoint::run(&endpoint, token.as_deref(), &language, json, &question).await,
        Command::Ask {
            member,
            language,
            json,
            question,
            ..
        } => match member.readers() {
            Ok(readers) => commands::ask::run(readers, &language, json, &question).await,
            Err(error) => Err(error),
        },
        Command::Openapi => {
            println!("{}", orchestrator::openapi_document());
            Ok(())
        }
        Command::Guard { json, text } => commands::guard::run(json, &text).await,
        Command::Translate { from, to, json, text } => commands::translate::run(&from, &to, json, &text).await,
        Command::Websearch {
            json,
            max_results,
            query,
        } => commands::websearch::run(json, max_results, &query).await,
        Command::Search {
            member,
            top_k,
            section,
            json,
            question,
        } => match member.readers() {
            Ok(readers) => commands::search::run(&readers, top_k, section.as_deref(), json, &question).await,
            Err(error) => Err(error),
        },
        Command::Serve { address, member } => match member.readers() {
            Ok(readers) => commands::serve::run(address, readers).await,
            Err(error) => Err(error),
        },
        Command::Eval {
            target: EvalTarget::Retrieval { file, weights },
        } => commands::eval_retrieval::run(&file, &weights).await,
        Command::Eval {
            target: EvalTarget::Languages { file },
        } => commands::eval_languages::run(&file),
        Command::Eval {
            target: EvalTarget::Guard { file },
        } => commands::eval_guard::run(&file).await,
        Command::Eval {
            target:
                EvalTarget::Answers {
                    files,
                    out,
                    grid,
                    settings,
                    windows,
                },
        } => match (grid, windows) {
            (Some(grid), _) => commands::eval_answers::grid(&files, &grid).await,
            (None, Some(windows)) => commands::eval_windows::run(&files, &windows, &settings).await,
            (None, None) => commands::eval_answers::run(&files, out.as_deref(), &settings).await,
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("navigator: {message}");
            ExitCode::FAILURE
        }
    }
}
