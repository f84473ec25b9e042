//! Reading an uploaded file in a child process. A file is whatever a member sends: a PDF built to exhaust memory (a
//! compressed stream that inflates to gigabytes) or time, or one that makes the parser panic — and release builds
//! abort on panic. Read in this process, any of those would take the function down with every invocation in it.
//! Read in a child of the same binary, under its own address-space and CPU limits and a wall-clock timeout, the worst
//! a file can do is end its own reading, which the parent turns into a `failed` document with a reason.
//!
//! The protocol: the parent runs the reader program with `NAVIGATOR_UPLOAD_READER=1` and the file's name and limits
//! in the environment, writes the bytes to its stdin, and reads one line starting with [`MARKER`] from its stdout:
//! the JSON of `Result<SourceDocument, Rejection>`. Every binary that takes uploads calls [`serve_if_asked`] first
//! thing in `main`.

use navigator_platform::NavigatorError;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::SourceDocument;
use super::upload::{Rejection, UploadLimits, open};

/// Set in the child's environment: read one file from stdin and exit.
const READER_VARIABLE: &str = "NAVIGATOR_UPLOAD_READER";
/// The line of the child's stdout that carries its answer (anything else there is ignored).
pub const MARKER: &str = "navigator-upload-reader:";

/// Which program reads uploads, and with what arguments.
#[derive(Debug, Clone)]
pub struct ReaderProgram {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl ReaderProgram {
    /// This very binary, which answers as a reader because its `main` calls [`serve_if_asked`].
    pub fn this_binary() -> Result<Self, NavigatorError> {
        let program = std::env::current_exe()
            .map_err(|e| NavigatorError::internal(format!("cannot find this binary to read uploads with: {e}")))?;
        Ok(Self {
            program,
            args: Vec::new(),
        })
    }
}

/// In a child started by [`read`], reads the file and exits; otherwise returns at once.
pub fn serve_if_asked() {
    if std::env::var_os(READER_VARIABLE).is_none() {
        return;
    }
    let answer = serve();
    let line = serde_json::to_string(&answer).unwrap_or_else(|_| "null".into());
    let mut stdout = std::io::stdout().lock();
    // If the parent went away there is no one to tell.
    // On a line of its own, whatever the host printed before it.
    let _ = writeln!(stdout, "\n{MARKER}{line}");
    let _ = stdout.flush();
    std::process::exit(0);
}

fn serve() -> Result<SourceDocument, Rejection> {
    let variable = |name: &str| std::env::var(name).ok();
    let number = |name: &str| variable(name).and_then(|v| v.parse::<u64>().ok());
    let limits = UploadLimits {
        max_bytes: number("NAVIGATOR_UPLOAD_MAX_BYTES").map_or(UploadLimits::default().max_bytes, |n| n as usize),
        max_pages: number("NAVIGATOR_UPLOAD_MAX_PAGES").map_or(UploadLimits::default().max_pages, |n| n as usize),
        ..UploadLimits::default()
    };
    // The limits go on before a byte of the file is parsed. A read past them ends this process, not the parent.
    if let Some(memory) = number("NAVIGATOR_UPLOAD_MEMORY_BYTES") {
        limit(rustix::process::Resource::Data, memory);
    }
    if let Some(seconds) = number("NAVIGATOR_UPLOAD_CPU_SECONDS") {
        limit(rustix::process::Resource::Cpu, seconds);
    }
    let name = variable("NAVIGATOR_UPLOAD_NAME").unwrap_or_default();
    let mut bytes = Vec::new();
    if std::io::stdin()
        .take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return Err(Rejection::Unreadable);
    }
    open(&name, &bytes, &limits)
}

fn limit(resource: rustix::process::Resource, value: u64) {
    let limit = rustix::process::Rlimit {
        current: Some(value),
        maximum: Some(value),
    };
    if let Err(error) = rustix::process::setrlimit(resource, limit) {
        // Without its limit the read is not safe to run.
        eprintln!("upload reader: cannot set {resource:?}: {error}");
        std::process::exit(3);
    }
}

/// Reads `bytes` as the file `name` in a child process running `reader`, under `limits`. A child that dies, is
/// killed or overruns its time is a [`Rejection`]; only failing to start a child at all is an error.
pub async fn read(
    reader: &ReaderProgram,
    name: &str,
    bytes: &[u8],
    limits: &UploadLimits,
) -> Result<Result<SourceDocument, Rejection>, NavigatorError> {
    let mut child = tokio::process::Command::new(&reader.program)
        .args(&reader.args)
        // Nothing of this process's environment: a file that took over its reader finds no credentials or database
        // address there, and no setting (a minimum thread stack size, say) changes what its limits allow.
        .env_clear()
        // mimalloc (the functions' allocator) commits a whole 1 GiB arena at once where the OS overcommits; all of
        // it would count against the reader's memory limit, so some reads failed at their first allocation. On
        // demand, in 64 MiB reservations, only what the file really takes counts.
        .env("MIMALLOC_ARENA_EAGER_COMMIT", "0")
        .env("MIMALLOC_ARENA_RESERVE", "65536")
        .env(READER_VARIABLE, "1")
        .env("NAVIGATOR_UPLOAD_NAME", name)
        .env("NAVIGATOR_UPLOAD_MAX_BYTES", limits.max_bytes.to_string())
        .env("NAVIGATOR_UPLOAD_MAX_PAGES", limits.max_pages.to_string())
        .env("NAVIGATOR_UPLOAD_MEMORY_BYTES", limits.memory_bytes.to_string())
        .env(
            "NAVIGATOR_UPLOAD_CPU_SECONDS",
            limits.extract_time.as_secs().max(1).to_string(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| NavigatorError::internal(format!("cannot start the upload reader: {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| NavigatorError::internal("the upload reader has no stdin"))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| NavigatorError::internal("the upload reader has no stdout"))?;
    let exchange = async {
        // A child that dies early closes its stdin: what it says (or does not) decides, not the broken pipe.
        let _ = stdin.write_all(bytes).await;
        drop(stdin);
        let mut output = Vec::new();
        let _ = stdout.read_to_end(&mut output).await;
        let _ = child.wait().await;
        output
    };
    let wall = limits.extract_time + Duration::from_secs(2);
    let Ok(output) = tokio::time::timeout(wall, exchange).await else {
        // `kill_on_drop` ends the child with the future that owned it.
        return Ok(Err(Rejection::TooSlow));
    };
    let text = String::from_utf8_lossy(&output);
    let answer = text
        .lines()
        .find_map(|line| line.find(MARKER).map(|at| &line[at + MARKER.len()..]))
        .and_then(|json| serde_json::from_str::<Result<SourceDocument, Rejection>>(json).ok());
    // No answer: the child was killed (its memory or CPU limit) or aborted (a parser panic).
    Ok(answer.unwrap_or(Err(Rejection::Exhausting)))
}
