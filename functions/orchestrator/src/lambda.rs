//! The Lambda edge of the chat API: the identity comes from API Gateway's authorizer, each invocation runs in its
//! own span, and its metrics are flushed as EMF when it ends.

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::tower::ServiceExt;
use navigator_platform::telemetry::invocation_span;
use std::convert::Infallible;
use std::sync::Arc;
use tracing::Instrument;

use crate::admission::{Admission, admitted_router};
use crate::api::{AppState, RequestDeadline};
use crate::http_metrics::http_metrics;
use crate::identity::{Identity, plan_claim};

/// The router as served on Lambda, for as many invocations at once as the platform sends
/// (`navigator_lambda::max_concurrency`).
pub fn service(state: Arc<AppState>) -> Router {
    service_for(state, navigator_lambda::max_concurrency())
}

/// `service` for `lambda_http::run_concurrent`, which needs `Sync` responses: each axum response is read into
/// Lambda's own body type (text or binary by its content type, as `lambda_http::run` does), which a Lambda response
/// is buffered into whole anyway.
pub fn concurrent_service(
    state: Arc<AppState>,
) -> impl lambda_http::tower::Service<
    lambda_http::Request,
    Response = lambda_http::Response<lambda_http::Body>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    let router = service(state);
    lambda_http::service_fn(move |request: lambda_http::Request| {
        let router = router.clone();
        async move {
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(lambda_http::IntoResponse::into_response(response).await)
        }
    })
}

/// The router for `concurrency` invocations at once. On classic Lambda (1) reserved concurrency bounds the turns in
/// flight; on Lambda Managed Instances one environment serves many invocations, so the audit's in-process bound
/// applies, as in `navigator serve`: IN_FLIGHT turns, QUEUE_BOUND waiting, 429 with `Retry-After` past that. The
/// chat router sits behind a fallback so that the edge runs before routing (a layer on the router itself would run
/// after the route was chosen); request metrics are outermost, so a 429 is counted.
pub fn service_for(state: Arc<AppState>, concurrency: usize) -> Router {
    let admission = (concurrency > 1).then(|| Admission::for_budgets(&state.budgets.orchestrator));
    let chat = admitted_router(state, admission);
    Router::new()
        .fallback_service(chat.layer(from_fn(http_metrics)))
        .layer(from_fn(lambda_edge))
}

async fn lambda_edge(mut request: Request, next: Next) -> Response {
    let (aws_request_id, trace_id, lambda_deadline_ms) = match request.lambda_context_ref() {
        Some(context) => (
            context.request_id.clone(),
            context.xray_trace_id.clone(),
            context.deadline,
        ),
        None => (String::new(), None, 0),
    };
    // Answer before Lambda stops the environment, so the member gets a 504 rather than a gateway error.
    if let Some(deadline) = navigator_lambda::lambda_deadline(lambda_deadline_ms) {
        request.extensions_mut().insert(RequestDeadline(deadline));
    }
    let identity = request
        .request_context_ref()
        .and_then(|context| Identity::from_request_context(context, plan_claim()))
        .or_else(|| sam_local_identity(&request));
    if let Some(identity) = identity {
        request.extensions_mut().insert(identity);
    }
    route_on_raw_path(&mut request);
    let span = invocation_span(crate::FUNCTION, &aws_request_id, trace_id.as_deref());
    let response = next.run(request).instrument(span).await;
    navigator_lambda::flush_metrics(crate::FUNCTION);
    response
}

/// Under `sam local start-api`, which emulates no authorizer, the claims of the request's bearer token, unchecked,
/// stand in for the JWT authorizer's. SAM sets `AWS_SAM_LOCAL=true` in its containers; Lambda never does, so a
/// deployed function reads identity from the authorizer alone.
fn sam_local_identity(request: &Request) -> Option<Identity> {
    static UNDER_SAM: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let under_sam = *UNDER_SAM.get_or_init(|| {
        let under_sam = std::env::var("AWS_SAM_LOCAL").is_ok_and(|value| value == "true");
        if under_sam {
            tracing::warn!("AWS_SAM_LOCAL: bearer tokens are read without checking their signature");
        }
        under_sam
    });
    if !under_sam {
        return None;
    }
    let authorization = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    Identity::from_unverified_bearer(authorization, plan_claim())
}

/// Routes on the path the client called. lambda_http prefixes a REST API's stage (`/prod/v1/chat`) unless an
/// environment variable says otherwise; the router should not depend on how a stage is named or configured.
fn route_on_raw_path(request: &mut Request) {
    let raw = request.raw_http_path().to_string();
    if raw.is_empty() || raw == request.uri().path() {
        return;
    }
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{raw}?{query}"),
        None => raw,
    };
    let mut parts = request.uri().clone().into_parts();
    let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) else {
        return;
    };
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakeTools;
    use crate::identity::Identity;
    use crate::turn::Navigator;
    use axum::body::Body;
    use axum::http::StatusCode;
    use navigator_platform::config::Budgets;
    use navigator_platform::contracts::ToolName;
    use std::collections::BTreeSet;
    use std::time::Duration;
    use uuid::Uuid;

    /// One environment on 1 vCPU (IN_FLIGHT 2, QUEUE_BOUND 4) over `tools`, serving `concurrency` invocations. Its
    /// CPU pools are not lowered: a lowered pool runs on threads of its own, which tokio's paused clock cannot see,
    /// so it would skip ahead while the composer works.
    fn environment(tools: Arc<FakeTools>, concurrency: usize) -> Router {
        let budgets = Budgets::from_lookup(|name| match name {
            "NAVIGATOR_VCPUS" => Some("1".to_string()),
            "NAVIGATOR_CPU_NICENESS" => Some("0".to_string()),
            _ => None,
        })
        .unwrap();
        let navigator = Navigator::offline(tools, &budgets);
        service_for(Arc::new(AppState::chat_only(budgets, navigator)), concurrency)
    }

    fn chat_as(member: u128) -> Request {
        let mut request = Request::post("/v1/chat")
            .body(Body::from(r#"{"message": "What does a specialist visit cost?"}"#))
            .unwrap();
        request.extensions_mut().insert(Identity {
            user_id: Uuid::from_u128(member),
            plan_id: None,
        });
        request
    }

    #[tokio::test(start_paused = true)]
    async fn sixteen_invocations_at_once_meet_the_in_process_bound_on_managed_instances() {
        let tools = Arc::new(FakeTools::answering(Duration::from_millis(500)));
        let app = environment(Arc::clone(&tools), 16);
        let replies = crate::fakes::send_at_once(&app, (0..16).map(chat_as)).await;
        let ok = replies.iter().filter(|(s, _, _)| *s == StatusCode::OK).count();
        let rejected: Vec<_> = replies
            .iter()
            .filter(|(s, _, _)| *s == StatusCode::TOO_MANY_REQUESTS)
            .collect();
        assert_eq!(ok + rejected.len(), 16, "only answers and 429s: {replies:?}");
        assert!((2..=6).contains(&ok), "in flight + queued were served, no more: {ok}");
        assert!(rejected.iter().all(|(_, retry_after, at)| *retry_after && at.is_zero()));
        assert!(
            tools.counters.peak() <= 2 * 3,
            "two turns' waves at most at once: {}",
            tools.counters.peak()
        );
    }

    #[tokio::test]
    async fn off_sam_a_bearer_token_without_authorizer_claims_is_no_member() {
        use base64::Engine;
        let claims = serde_json::json!({"sub": "3f6c1a52-8d1e-4b7a-9c2f-0d5e6a7b8c9d"}).to_string();
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims);
        assert!(
            std::env::var("AWS_SAM_LOCAL").is_err(),
            "the test runs as deployed code does"
        );
        let request = Request::post("/v1/chat")
            .header("authorization", format!("Bearer e30.{payload}.forged"))
            .body(Body::from(r#"{"message": "What does a specialist visit cost?"}"#))
            .unwrap();
        let app = environment(Arc::new(FakeTools::answering(Duration::ZERO)), 1);
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "an unchecked token is never trusted"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn classic_lambda_leaves_the_bound_to_reserved_concurrency() {
        let tools = Arc::new(FakeTools::answering(Duration::from_millis(500)));
        let app = environment(Arc::clone(&tools), 1);
        let replies = futures_util::future::join_all((0..8).map(|member| app.clone().oneshot(chat_as(member)))).await;
        assert!(replies.iter().all(|r| r.as_ref().unwrap().status() == StatusCode::OK));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_invocations_never_cross_members_or_request_ids() {
        let tools = Arc::new(FakeTools::answering(Duration::from_millis(50)));
        // Within the bound: every turn is served, and each keeps its own member and id.
        let app = environment(Arc::clone(&tools), 16);
        let replies = futures_util::future::join_all((1..=2).map(|member| {
            let app = app.clone();
            async move {
                let response = app.oneshot(chat_as(member)).await.unwrap();
                let id = response.headers()["x-request-id"].to_str().unwrap().to_string();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
                let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
                (id, body)
            }
        }))
        .await;
        let ids: BTreeSet<&str> = replies.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), 2, "one id per invocation");
        for (id, body) in &replies {
            assert_eq!(body["request_id"], *id, "the body and the header agree");
        }
        let retrieves: Vec<_> = tools
            .counters
            .requests()
            .into_iter()
            .filter(|(tool, _)| *tool == ToolName::Retrieve)
            .map(|(_, request)| {
                (
                    request.request_id.clone(),
                    request.input["user_id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(!retrieves.is_empty());
        for (request_id, member) in retrieves {
            let expected = if request_id == replies[0].0 {
                Uuid::from_u128(1)
            } else {
                Uuid::from_u128(2)
            };
            assert!(ids.contains(request_id.as_str()), "a tool call carries its turn's id");
            assert_eq!(
                member,
                expected.to_string(),
                "turn {request_id} searched only its own member"
            );
        }
    }
}
