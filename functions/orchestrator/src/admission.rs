//! Admission for the local server: a bulkhead of IN_FLIGHT permits and a queue of QUEUE_BOUND, and a look at the
//! CPU. Past the queue, once a queued request has waited its whole budget, or while new work would queue for a CPU
//! pool longer than the CPU queue budget, the answer is 429 with `Retry-After`, at once and before any work: a turn
//! that would only time out later is refused at the door. On Lambda, reserved concurrency is the bound and this layer
//! is not used.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use navigator_platform::NavigatorError;
use navigator_resilience::{Bulkhead, CpuLoad, Deadline};
use std::time::Duration;

use crate::api::ApiError;

/// What the admission layer needs: the bulkhead, how long a request may wait in its queue, and the CPU pools whose
/// queues it must not overfill.
#[derive(Debug, Clone)]
pub struct Admission {
    pub bulkhead: Bulkhead,
    pub max_queue_wait: Duration,
    pub cpu: CpuLoad,
    pub max_cpu_wait: Duration,
}

impl Admission {
    pub fn new(in_flight: usize, queue_bound: usize, max_queue_wait: Duration) -> Self {
        Self {
            bulkhead: Bulkhead::new("chat", in_flight, queue_bound),
            max_queue_wait,
            cpu: CpuLoad::default(),
            max_cpu_wait: Duration::MAX,
        }
    }

    /// Also refuses while new work would wait longer than `max_wait` for any of `cpu`'s pools.
    pub fn with_cpu(mut self, cpu: CpuLoad, max_wait: Duration) -> Self {
        self.cpu = cpu;
        self.max_cpu_wait = max_wait;
        self
    }

    /// The refusal for a CPU already queued past its budget; `None` while there is room.
    fn cpu_refusal(&self) -> Option<NavigatorError> {
        let pressure = self.cpu.pressure()?;
        if pressure.wait <= self.max_cpu_wait {
            return None;
        }
        metrics::counter!("admission_rejected_total", "reason" => "cpu").increment(1);
        // By the time the client comes back the queue it saw has drained: it holds less than a second of work.
        Some(NavigatorError::rejected(
            format!(
                "the CPU is saturated: new work would queue {} ms for {}",
                pressure.wait.as_millis(),
                pressure.pool
            ),
            Some(Duration::from_secs(1)),
        ))
    }
}

/// Middleware: holds a permit for the whole request, or answers 429.
pub async fn admit(State(admission): State<Admission>, request: Request, next: Next) -> Response {
    if let Some(refusal) = admission.cpu_refusal() {
        return refuse(refusal);
    }
    match admission
        .bulkhead
        .acquire(Deadline::after(admission.max_queue_wait))
        .await
    {
        // A request that queued for its permit looks at the CPU again: it may have filled while it waited.
        Ok(_permit) => match admission.cpu_refusal() {
            Some(refusal) => refuse(refusal),
            None => next.run(request).await,
        },
        Err(overloaded) => refuse(NavigatorError::from(overloaded)),
    }
}

fn refuse(error: NavigatorError) -> Response {
    ApiError {
        error,
        request_id: uuid::Uuid::new_v4().to_string(),
    }
    .into_response()
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn while_the_cpu_queue_is_past_its_budget_a_turn_is_refused_before_any_work() {
        use navigator_resilience::{CpuLoad, CpuPool};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let far = || Deadline::after(Duration::from_secs(30));
        let pool = CpuPool::new("embed", 1, 8);
        // The pool learns that a job takes about 30 ms.
        pool.run(far(), || std::thread::sleep(Duration::from_millis(30)))
            .await
            .unwrap();
        let admission = Admission::new(4, 8, Duration::from_secs(1))
            .with_cpu(CpuLoad::new([pool.clone()]), Duration::from_millis(10));
        let turns = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&turns);
        let app = Router::new()
            .route(
                "/v1/chat",
                post(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    async {}
                }),
            )
            .layer(from_fn_with_state(admission, admit));
        let chat = || Request::post("/v1/chat").body(Body::empty()).unwrap();

        assert_eq!(
            app.clone().oneshot(chat()).await.unwrap().status(),
            StatusCode::OK,
            "an idle CPU admits"
        );
        // One job runs and one waits: new work would queue about 60 ms, past the 10 ms budget.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let holder = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(far(), move || hold.recv().ok()).await })
        };
        let queued = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(far(), || ()).await })
        };
        while pool.stats().waiting == 0 {
            tokio::task::yield_now().await;
        }
        let refused = app.clone().oneshot(chat()).await.unwrap();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers().get(header::RETRY_AFTER).unwrap(), "1");
        let body = axum::body::to_bytes(refused.into_body(), usize::MAX).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "rejected", "{body}");
        assert_eq!(turns.load(Ordering::SeqCst), 1, "the refused turn did no work");

        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        queued.await.unwrap().unwrap();
        assert_eq!(
            app.oneshot(chat()).await.unwrap().status(),
            StatusCode::OK,
            "a drained CPU admits again"
        );
        assert_eq!(turns.load(Ordering::SeqCst), 2);
    }
}
