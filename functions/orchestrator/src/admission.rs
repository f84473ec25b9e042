//! Admission for the local server: a bulkhead of IN_FLIGHT permits and a queue of QUEUE_BOUND. Past the queue, or
//! once a queued request has waited its whole budget, the answer is 429 with `Retry-After`, at once. On Lambda,
//! reserved concurrency is the bound and this layer is not used.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use navigator_platform::NavigatorError;
use navigator_resilience::{Bulkhead, Deadline};
use std::time::Duration;

use crate::api::ApiError;

/// What the admission layer needs: the bulkhead, and how long a request may wait in its queue.
#[derive(Debug, Clone)]
pub struct Admission {
    pub bulkhead: Bulkhead,
    pub max_queue_wait: Duration,
}

impl Admission {
    pub fn new(in_flight: usize, queue_bound: usize, max_queue_wait: Duration) -> Self {
        Self {
            bulkhead: Bulkhead::new("chat", in_flight, queue_bound),
            max_queue_wait,
        }
    }
}

/// Middleware: holds a permit for the whole request, or answers 429.
pub async fn admit(State(admission): State<Admission>, request: Request, next: Next) -> Response {
    match admission
        .bulkhead
        .acquire(Deadline::after(admission.max_queue_wait))
        .await
    {
        Ok(_permit) => next.run(request).await,
        Err(overloaded) => {
            let error = NavigatorError::from(overloaded);
            ApiError {
                error,
                request_id: uuid::Uuid::new_v4().to_string(),
            }
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{StatusCode, header};
    use axum::middleware::from_fn_with_state;
    use axum::routing::post;
    use tokio::time::Instant;
    use tower::ServiceExt;

    fn slow_app(admission: Admission) -> Router {
        Router::new()
            .route(
                "/v1/chat",
                post(|| async { tokio::time::sleep(Duration::from_secs(2)).await }),
            )
            .layer(from_fn_with_state(admission, admit))
    }

    #[tokio::test(start_paused = true)]
    async fn past_in_flight_and_queue_the_excess_gets_429_at_once() {
        let admission = Admission::new(4, 8, Duration::from_secs(60));
        let app = slow_app(admission.clone());
        let started = Instant::now();
        let requests: Vec<_> = (0..100)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move {
                    let response = app
                        .oneshot(Request::post("/v1/chat").body(Body::empty()).unwrap())
                        .await
                        .unwrap();
                    (
                        response.status(),
                        response.headers().get(header::RETRY_AFTER).cloned(),
                        started.elapsed(),
                    )
                })
            })
            .collect();
        let mut ok = 0;
        for request in requests {
            let (status, retry_after, elapsed) = request.await.unwrap();
            match status {
                StatusCode::OK => ok += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    assert_eq!(retry_after.unwrap(), "1");
                    assert_eq!(elapsed, Duration::ZERO, "a rejection never waits");
                }
                other => panic!("unexpected {other}"),
            }
        }
        // 4 run at once and 8 wait their turn; the other 88 are refused without waiting.
        assert_eq!(ok, 12);
        let stats = admission.bulkhead.stats();
        assert_eq!(stats.rejected as usize + ok, 100);
        assert_eq!(
            (stats.in_flight, stats.waiting),
            (0, 0),
            "nothing is left holding a slot"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_queued_request_waits_no_longer_than_its_budget() {
        let admission = Admission::new(1, 4, Duration::from_millis(500));
        let app = slow_app(admission);
        let first = tokio::spawn(
            app.clone()
                .oneshot(Request::post("/v1/chat").body(Body::empty()).unwrap()),
        );
        tokio::task::yield_now().await;
        let started = Instant::now();
        let second = app
            .oneshot(Request::post("/v1/chat").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(started.elapsed(), Duration::from_millis(500));
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}
