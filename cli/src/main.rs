//! `navigator`: the developer CLI. Each subcommand runs real pieces of the system locally.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;

use clap::{Parser, Subcommand};
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
    /// Ingest a plan document (PDF, Markdown or text) for a member.
    Ingest {
        /// The member who owns the document.
        #[arg(long)]
        user: Uuid,
        file: PathBuf,
    },
    /// Search a member's plan documents.
    Search {
        /// The member (default: the demo member, who owns the sample plan).
        #[arg(long)]
        user: Option<Uuid>,
        #[arg(long, default_value_t = 5)]
        top_k: u8,
        /// Print exactly the retrieve function's output.
        #[arg(long)]
        json: bool,
        question: String,
    },
    /// Serve the chat API on loopback, with admission control and /metrics, as one local member.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        address: std::net::SocketAddr,
        /// The member every request is made as (default: the demo member).
        #[arg(long)]
        user: Option<Uuid>,
    },
    /// Measure quality against a question set.
    Eval {
        #[command(subcommand)]
        target: EvalTarget,
    },
}

#[derive(Subcommand)]
enum EvalTarget {
    /// hit@1, hit@5 and MRR of retrieval on a retrieval-dev.jsonl-style file, over the sample plan.
    Retrieval { file: PathBuf },
}

#[tokio::main]
async fn main() -> ExitCode {
    navigator_platform::telemetry::init_logging(navigator_platform::telemetry::LogFormat::from_env(), "warn");
    let result = match Cli::parse().command {
        Command::Config => commands::config::run(),
        Command::Migrate => commands::migrate::run().await,
        Command::Ingest { user, file } => commands::ingest::run(user, &file).await,
        Command::Search {
            user,
            top_k,
            json,
            question,
        } => commands::search::run(user, top_k, json, &question).await,
        Command::Serve { address, user } => {
            commands::serve::run(address, user.unwrap_or(navigator_retrieval::setup::DEMO_USER_ID)).await
        }
        Command::Eval {
            target: EvalTarget::Retrieval { file },
        } => commands::eval_retrieval::run(&file).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("navigator: {message}");
            ExitCode::FAILURE
        }
    }
}
