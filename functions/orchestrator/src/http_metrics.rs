//! Counts every HTTP request by route, method and status, and times it: the request rate, status mix and latency
//! panels of the dashboards. The outermost layer, so a 429 from admission is counted like any other answer.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// Middleware: records the request's route (the matched pattern, never the raw path, so ids do not become labels),
/// method, status and duration.
pub async fn http_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    if response.status().is_server_error() {
        metrics::counter!(navigator_metrics::HTTP_SERVER_ERRORS.name).increment(1);
    }
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        navigator_metrics::HTTP_REQUESTS.name,
        "route" => route.clone(),
        "method" => method,
        "status" => status.clone()
    )
    .increment(1);
    // By status too: a 429 must take the server next to nothing, and only its own timing tells that apart from the
    // turns it answers in the same second.
    metrics::histogram!(navigator_metrics::HTTP_REQUEST_DURATION.name, "route" => route, "status" => status)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::middleware::from_fn;
    use axum::routing::get;
    use navigator_platform::telemetry::MetricsRegistry;
    use tower::ServiceExt;

    #[tokio::test]
    async fn requests_are_counted_by_route_pattern_and_status() {
        let app = Router::new()
            .route("/v1/documents/{document_id}", get(|| async { StatusCode::NO_CONTENT }))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .layer(from_fn(http_metrics));
        let registry = MetricsRegistry::default();
        let guard = metrics::set_default_local_recorder(&registry);
        for path in ["/v1/documents/0b7e", "/v1/documents/91aa", "/nowhere"] {
            app.clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
        }
        drop(guard);
        let text = registry.render_prometheus();
        assert!(
            text.contains(
                r#"navigator_http_requests_total{route="/v1/documents/{document_id}",method="GET",status="204"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"navigator_http_requests_total{route="unmatched",method="GET",status="404"} 1"#),
            "{text}"
        );
        assert!(!text.contains("0b7e"), "ids never become labels: {text}");
        assert!(
            text.contains(
                r#"navigator_http_request_duration_seconds_count{route="/v1/documents/{document_id}",status="204"} 2"#
            ),
            "{text}"
        );
    }
}
