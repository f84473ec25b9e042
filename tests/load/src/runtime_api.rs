//! One Lambda execution environment of the orchestrator, driven through a local Runtime API: what Lambda Managed
//! Instances does when it sends one environment many invocations at once (`AWS_LAMBDA_MAX_CONCURRENCY`), and what
//! classic Lambda does when it sends one at a time. The same local server answers the orchestrator's Lambda
//! `Invoke` calls with fake tools speaking the tools' wire form, so the real binary runs end to end: runtime client,
//! admission, turn, tool invoker.
//!
//! `navigator-load managed-instances --bin-dir DIR` benchmarks turns per second per environment both ways; the
//! orchestrator's `tests/managed_instances.rs` checks the bound, the 429s and that concurrent invocations never cross.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use navigator_platform::contracts::ToolName;
use navigator_platform::telemetry::unix_ms_now;
use orchestrator::fakes::FakeTools;
use orchestrator::{ToolInvoker, WireRequest};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// An invocation waiting for the runtime to take it.
struct Pending {
    request_id: String,
    /// How long the function may run once it has the invocation (Lambda's timeout starts then).
    budget: Duration,
    event: Value,
}

/// What the function answered: its response, or its error (`errorType`, `errorMessage`).
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

impl Outcome {
    /// The API Gateway response's status, or `None` for a function error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Response(response) => response["statusCode"].as_u64().map(|s| s as u16),
            Outcome::Error(_) => None,
        }
    }

    /// The API Gateway response's header `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        match self {
            Outcome::Response(response) => response["headers"][name].as_str().map(str::to_string),
            Outcome::Error(_) => None,
        }
    }

    /// The API Gateway response's JSON body.
    pub fn body(&self) -> Value {
        match self {
            Outcome::Response(response) => response["body"]
                .as_str()
                .and_then(|body| serde_json::from_str(body).ok())
                .unwrap_or(Value::Null),
            Outcome::Error(error) => error.clone(),
        }
    }
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    tools: Arc<FakeTools>,
}

/// The local Runtime API and Lambda Invoke API.
pub struct RuntimeApi {
    pub address: SocketAddr,
    submit: mpsc::UnboundedSender<Pending>,
    shared: Arc<Shared>,
}

impl RuntimeApi {
    /// Serves on a free loopback port; tool calls are answered by `tools`.
    pub async fn start(tools: Arc<FakeTools>) -> std::io::Result<Self> {
        let (submit, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::default(),
            tools,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .route("/2015-03-31/functions/{function}/invocations", post(invoke_tool))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            submit,
            shared,
        })
    }

    /// Sends `event` as invocation `request_id`, which may run for `budget` once the runtime takes it; what the
    /// function answered (`None` if the server went away).
    pub async fn invoke(&self, request_id: &str, event: Value, budget: Duration) -> Option<Outcome> {
        let (answer, answered) = oneshot::channel();
        if let Ok(mut waiting) = self.shared.waiting.lock() {
            waiting.insert(request_id.to_string(), answer);
        }
        let pending = Pending {
            request_id: request_id.to_string(),
            budget,
            event,
        };
        self.submit.send(pending).ok()?;
        answered.await.ok()
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let pending = shared.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", pending.request_id.clone());
    let deadline_unix_ms = unix_ms_now() + pending.budget.as_millis() as u64;
    set("lambda-runtime-deadline-ms", deadline_unix_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:orchestrator".into(),
    );
    set(
        "lambda-runtime-trace-id",
        format!("Root=1-00000000-{:0>24};Sampled=1", pending.request_id.replace('-', "")),
    );
    (headers, axum::Json(pending.event)).into_response()
}

fn answer(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    let waiter = shared.waiting.lock().ok().and_then(|mut waiting| waiting.remove(id));
    match waiter {
        Some(waiter) => {
            let _ = waiter.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn response(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    answer(&shared, &id, Outcome::Response(value))
}

async fn error(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    answer(&shared, &id, Outcome::Error(value))
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("runtime-api: init error: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

/// Lambda `Invoke` of a tool: the fake's output in the tools' envelope, or a function error.
async fn invoke_tool(State(shared): State<Arc<Shared>>, UrlPath(function): UrlPath<String>, body: Bytes) -> Response {
    let Some(tool) = navigator_tool(&function) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"Type": "User", "Message": "no such function"})),
        )
            .into_response();
    };
    let Ok(request) = serde_json::from_slice::<WireRequest>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a tool request").into_response();
    };
    match shared.tools.invoke(tool, request).await {
        Ok(output) => axum::Json(json!({ "output": output })).into_response(),
        Err(error) => (
            [("x-amz-function-error", "Unhandled")],
            axum::Json(json!({"errorType": error.error_type(), "errorMessage": error.to_string()})),
        )
            .into_response(),
    }
}

/// The tool a function name (the orchestrator's `*_FUNCTION`, see `start_environment`) stands for.
fn navigator_tool(function: &str) -> Option<ToolName> {
    ToolName::ALL.into_iter().find(|tool| tool.function_name() == function)
}

/// `binary` as Lambda starts a function named `function` against the Runtime API at `runtime_api`: nothing of this
/// process's environment but PATH, Lambda's own variables, JSON logs, and dummy AWS credentials (so the SDK's
/// credential chain never probes the instance-metadata address). Callers add the function's own settings.
pub fn lambda_command(binary: &Path, runtime_api: &str, function: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// The orchestrator binary as one execution environment against `api`: classic (one invocation at a time) when
/// `concurrency` is `None`, Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY`) otherwise. Its log lines go to
/// `log`.
pub fn start_environment(
    binary: &Path,
    api: SocketAddr,
    concurrency: Option<usize>,
    log: &Path,
) -> std::io::Result<Child> {
    let mut command = lambda_command(binary, &api.to_string(), "orchestrator");
    command
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096")
        .env("AWS_ENDPOINT_URL_LAMBDA", format!("http://{api}"))
        .env("TOOL_INVOKER", "lambda")
        .env("GUARD_FUNCTION", "guard")
        .env("RETRIEVE_FUNCTION", "retrieve")
        .env("TRANSLATE_FUNCTION", "translate")
        .env("WEB_SEARCH_FUNCTION", "web-search")
        // Two vCPUs per environment: the audit's in-flight bound is then 4 turns, with 8 waiting.
        .env("NAVIGATOR_VCPUS", "2")
        .env("RUST_LOG", "info")
        .stdout(std::fs::File::create(log)?)
        .stderr(std::fs::File::create(log.with_extension("stderr"))?);
    if let Some(concurrency) = concurrency {
        command.env("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.to_string());
    }
    command.spawn()
}

/// An API Gateway HTTP API (v2) chat event for `member` of the sample events' plan.
pub fn chat_event(member: &str, message: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "POST /v1/chat",
        "rawPath": "/v1/chat",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "local", "domainPrefix": "local",
            "http": {"method": "POST", "path": "/v1/chat", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "runtime-api"},
            "requestId": member, "routeKey": "POST /v1/chat", "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0,
            "authorizer": {"jwt": {"claims": {"sub": member, "custom:plan_id": "scan-classic-hmo-2025"},
                                   "scopes": null}}
        },
        "isBase64Encoded": false,
        "body": json!({"message": message}).to_string()
    })
}

/// Turns per second one environment answers with 200, closed loop: `clients` invocations outstanding for
/// `duration`, each client waiting out a 429's `Retry-After`. Returns (answered per second, every outcome's status; `None` for a function error or no answer).
pub async fn throughput(api: &RuntimeApi, clients: usize, duration: Duration) -> (f64, Vec<Option<u16>>) {
    let started = Instant::now();
    let workers = (0..clients).map(|client| async move {
        let mut statuses = Vec::new();
        let mut turn = 0usize;
        while started.elapsed() < duration {
            turn += 1;
            let request_id = format!("00000000-0000-4000-8000-{client:04}{turn:08}");
            let event = chat_event(&request_id, "What does a specialist visit cost?");
            let outcome = api.invoke(&request_id, event, Duration::from_secs(5)).await;
            let status = outcome.as_ref().and_then(Outcome::status);
            statuses.push(status);
            // A client honours Retry-After, as the load harness's clients do.
            if status == Some(429) {
                let retry_after = outcome
                    .as_ref()
                    .and_then(|o| o.header("retry-after"))
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(retry_after).min(duration.saturating_sub(started.elapsed())))
                    .await;
            }
        }
        statuses
    });
    let statuses: Vec<Option<u16>> = futures_util::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect();
    let answered = statuses.iter().filter(|s| **s == Some(200)).count();
    (answered as f64 / started.elapsed().as_secs_f64(), statuses)
}

/// Classic against managed instances: one environment each, `clients` invocations outstanding for `duration`, the
/// retrieve tool answering after `retrieve`. A Markdown table: mode, answered turns per second, the status mix.
pub async fn compare(bin_dir: &Path, clients: usize, duration: Duration, retrieve: Duration) -> Result<String, String> {
    let binary = bin_dir.join("orchestrator");
    let mut table = format!(
        "one orchestrator environment, {clients} invocations outstanding for {} s, retrieve answering in {} ms \
         (NAVIGATOR_VCPUS=2: 4 turns in flight, 8 waiting)\n\n| mode | answered turns/s | 200 | 429 | other |\n|---|---|---|---|---|\n",
        duration.as_secs(),
        retrieve.as_millis()
    );
    for (mode, concurrency) in [
        ("classic (one invocation at a time)", None),
        ("managed instances (AWS_LAMBDA_MAX_CONCURRENCY=16)", Some(16)),
    ] {
        let api = RuntimeApi::start(Arc::new(FakeTools::answering(retrieve)))
            .await
            .map_err(|e| format!("local Runtime API: {e}"))?;
        let log = std::env::temp_dir().join(format!("navigator-mi-bench-{}.log", std::process::id()));
        let _environment = start_environment(&binary, api.address, concurrency, &log)
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let warm = api
            .invoke(
                "warm-up",
                chat_event("00000000-0000-4000-8000-000000000000", "hello"),
                Duration::from_secs(30),
            )
            .await;
        if warm.as_ref().and_then(Outcome::status).is_none() {
            return Err(format!("the environment did not answer its first invocation: {warm:?}"));
        }
        let (per_second, statuses) = throughput(&api, clients, duration).await;
        let count = |status: u16| statuses.iter().filter(|s| **s == Some(status)).count();
        let other = statuses.len() - count(200) - count(429);
        table.push_str(&format!(
            "| {mode} | {per_second:.1} | {} | {} | {other} |\n",
            count(200),
            count(429)
        ));
    }
    Ok(table)
}
