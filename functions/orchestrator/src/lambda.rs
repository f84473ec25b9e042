//! The Lambda edge of the chat API: the identity comes from API Gateway's authorizer, each invocation runs in its
//! own span, and its metrics are flushed as EMF when it ends.

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use lambda_http::RequestExt;
use navigator_platform::telemetry::invocation_span;
use std::sync::Arc;
use tracing::Instrument;

use crate::api::{AppState, RequestDeadline, router};
use crate::http_metrics::http_metrics;
use crate::identity::{Identity, plan_claim};

/// The router as served on Lambda. The chat router sits behind a fallback so that the edge runs before routing
/// (a layer on the router itself would run after the route was chosen).
pub fn service(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback_service(router(state).layer(from_fn(http_metrics)))
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
    if let Some(identity) = request
        .request_context_ref()
        .and_then(|context| Identity::from_request_context(context, plan_claim()))
    {
        request.extensions_mut().insert(identity);
    }
    route_on_raw_path(&mut request);
    let span = invocation_span(crate::FUNCTION, &aws_request_id, trace_id.as_deref());
    let response = next.run(request).instrument(span).await;
    navigator_lambda::flush_metrics(crate::FUNCTION);
    response
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
