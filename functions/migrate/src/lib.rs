//! The `Custom::NavigatorMigrations` resource: on stack create and update it applies the migrations embedded in this
//! binary (`navigator_retrieval::db::MIGRATOR`, plain SQL written to keep the data already there) through the RDS
//! Proxy; on delete it leaves the database alone (the data outlives the stack).
//!
//! CloudFormation waits for an answer at the request's `ResponseURL`, for up to an hour, so every path answers:
//! success, a failed migration, an unreachable database, a malformed request and a deadline about to pass each send
//! `SUCCESS` or `FAILED` with a reason before the function returns.

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

/// The function's name in logs and metrics.
pub const FUNCTION: &str = "migrate";
/// The physical id of the one migrations resource a stack has.
pub const PHYSICAL_ID: &str = "navigator-migrations";
/// Time kept back from the deadline to send the answer.
const ANSWER_MARGIN: Duration = Duration::from_secs(5);
/// CloudFormation shows at most this much of a reason.
const MAX_REASON_CHARS: usize = 1000;

/// Which request it is, and where its answer goes; the rest of the answer is copied from the request.
fn read(payload: &Value) -> Result<(&'static str, String), String> {
    let request: CloudFormationCustomResourceRequest =
        serde_json::from_value(payload.clone()).map_err(|e| format!("not a custom resource request: {e}"))?;
    Ok(match request {
        CloudFormationCustomResourceRequest::Create(r) => ("Create", r.response_url),
        CloudFormationCustomResourceRequest::Update(r) => ("Update", r.response_url),
        CloudFormationCustomResourceRequest::Delete(r) => ("Delete", r.response_url),
        // A request type this function was not written for: answered FAILED rather than left hanging.
        _ => return Err("an unknown request type".into()),
    })
}

/// Handles one request: `migrate` runs for Create and Update, never for Delete, and the answer goes to the
/// request's `ResponseURL`. Returns the answer sent. Errors only when no answer could be sent at all (a request with
/// no readable `ResponseURL`, or the URL refusing it).
pub async fn handle<M, F>(
    http: &reqwest::Client,
    payload: Value,
    deadline: Deadline,
    migrate: M,
) -> Result<Value, NavigatorError>
where
    M: FnOnce() -> F,
    F: Future<Output = Result<String, NavigatorError>>,
{
    let (kind, response_url) = match read(&payload) {
        Ok(request) => request,
        Err(reason) => {
            // Without a request to read there may still be a URL to tell.
            let url = payload.get("ResponseURL").and_then(Value::as_str);
            let Some(url) = url else {
                return Err(NavigatorError::invalid(reason));
            };
            let answer = answer_for(&payload, "FAILED", &reason, None);
            send(http, url, &answer).await?;
            return Ok(answer);
        }
    };
    let (status, reason, data) = if kind == "Delete" {
        ("SUCCESS", "the database is kept when the stack goes".to_string(), None)
    } else {
        let budget = Deadline::after(deadline.remaining().saturating_sub(ANSWER_MARGIN));
        match budget.run(migrate()).await {
            Ok(Ok(applied)) => (
                "SUCCESS",
                format!("migrations applied up to {applied}"),
                Some(json!({ "Applied": applied })),
            ),
            Ok(Err(error)) => ("FAILED", format!("migrations failed: {error}"), None),
            Err(_) => (
                "FAILED",
                "migrations did not finish before the function's deadline".into(),
                None,
            ),
        }
    };
    tracing::info!(kind, status, reason, "custom resource answered");
    let answer = answer_for(&payload, status, &reason, data);
    send(http, &response_url, &answer).await?;
    Ok(answer)
}

/// The answer to `payload`: its ids copied back, and the physical id it had (a new resource gets [`PHYSICAL_ID`]).
fn answer_for(payload: &Value, status: &str, reason: &str, data: Option<Value>) -> Value {
    let field = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    json!({
        "Status": status,
        "Reason": reason.chars().take(MAX_REASON_CHARS).collect::<String>(),
        "PhysicalResourceId": payload.get("PhysicalResourceId").and_then(Value::as_str).unwrap_or(PHYSICAL_ID),
        "StackId": field("StackId"),
        "RequestId": field("RequestId"),
        "LogicalResourceId": field("LogicalResourceId"),
        "NoEcho": false,
        "Data": data.unwrap_or_else(|| json!({})),
    })
}

/// The answer is a `PUT` of JSON to the presigned URL, with an empty content type (what the URL was signed with).
async fn send(http: &reqwest::Client, url: &str, answer: &Value) -> Result<(), NavigatorError> {
    let body = serde_json::to_vec(answer).map_err(NavigatorError::internal)?;
    let response = http
        .put(url)
        .header("content-type", "")
        .body(body)
        .send()
        .await
        .map_err(|e| NavigatorError::unavailable("cloudformation", e))?;
    if !response.status().is_success() {
        return Err(NavigatorError::unavailable(
            "cloudformation",
            format!("the response URL answered {}", response.status()),
        ));
    }
    Ok(())
}

/// Applies the embedded migrations to the configured database. Returns the latest version now applied.
pub async fn apply_migrations(secrets: &navigator_platform::secrets::SecretStore) -> Result<String, NavigatorError> {
    let options = navigator_retrieval::db::connect_options(secrets)
        .await?
        .ok_or_else(|| NavigatorError::internal("no database configured: set DATABASE_SECRET_ARN or DATABASE_URL"))?;
    let settings = navigator_retrieval::db::PoolSettings::new(1, Duration::from_secs(10), "navigator-migrate");
    let pool = navigator_retrieval::db::pg_pool(options, &settings);
    navigator_retrieval::db::MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| NavigatorError::unavailable("postgres", e))?;
    let latest = navigator_retrieval::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or_default();
    pool.close().await;
    Ok(latest.to_string())
}
