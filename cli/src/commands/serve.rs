//! `navigator serve`: the chat API on loopback, for one developer. The same router as on Lambda, behind the
//! admission bulkhead (429 past IN_FLIGHT + QUEUE_BOUND), with `/metrics` in Prometheus text. A local identity layer
//! stands in for API Gateway's authorizer and makes every request the demo member (or `--user`); it lives here, in
//! the CLI, so it is never compiled into a Lambda.

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::get;
use navigator_platform::config::Budgets;
use navigator_platform::telemetry::install_metrics;
use orchestrator::admission::{Admission, admit};
use orchestrator::api::{AppState, router};
use orchestrator::identity::Identity;
use std::net::SocketAddr;
use std::sync::Arc;
use uuid::Uuid;

pub async fn run(address: SocketAddr, user: Uuid) -> Result<(), String> {
    let budgets = Budgets::from_env().map_err(|e| e.to_string())?;
    budgets.log();
    let app = local_app(budgets, user);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    eprintln!("navigator serve: http://{address}  (POST /v1/chat, GET /v1/health, GET /metrics) as member {user}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| e.to_string())
}

/// The local server's routes: the chat API behind admission and the local identity, plus `/metrics`.
pub fn local_app(budgets: Budgets, user: Uuid) -> Router {
    install_metrics();
    let admission = Admission::new(
        budgets.orchestrator.in_flight,
        budgets.orchestrator.queue_bound,
        budgets.orchestrator.wave,
    );
    let chat = router(Arc::new(AppState { budgets })).layer(from_fn_with_state(admission, admit));
    Router::new()
        .route("/metrics", get(|| async { install_metrics().render_prometheus() }))
        .merge(chat)
        .layer(from_fn_with_state(Identity { user_id: user }, local_identity))
}

async fn local_identity(State(identity): State<Identity>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(identity);
    next.run(request).await
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    #[tokio::test]
    async fn serves_the_chat_api_as_the_local_member_and_metrics() {
        let app = local_app(Budgets::from_lookup(|_| None).unwrap(), Uuid::from_u128(7));
        let health = app
            .clone()
            .oneshot(Request::get("/v1/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        // Signed in locally: a bad body is 400, not 401.
        let chat = app
            .clone()
            .oneshot(Request::post("/v1/chat").body(Body::from("{")).unwrap())
            .await
            .unwrap();
        assert_eq!(chat.status(), StatusCode::BAD_REQUEST);
        let metrics = app
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(metrics.status(), StatusCode::OK);
        let text = String::from_utf8(
            axum::body::to_bytes(metrics.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        assert!(text.contains("bulkhead_admitted_total"), "{text}");
    }
}
