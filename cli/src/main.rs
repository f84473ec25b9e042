//! `navigator`: the developer CLI. Each subcommand runs real pieces of the system locally.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
}

#[tokio::main]
async fn main() -> ExitCode {
    navigator_platform::telemetry::init_logging(navigator_platform::telemetry::LogFormat::from_env(), "warn");
    let result = match Cli::parse().command {
        Command::Config => commands::config::run(),
        Command::Migrate => commands::migrate::run().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("navigator: {message}");
            ExitCode::FAILURE
        }
    }
}
