//! Admission for the local server, decided at the door so that every refusal is immediate: a bulkhead of IN_FLIGHT
//! permits with a queue of QUEUE_BOUND, a prediction of the wait in that queue, and a look at the CPU. A turn is
//! refused with 429 and `Retry-After`, before any work, when the queue is full, when the turns ahead of it would keep
//! it queued longer than its queue budget, or while new work would queue for a CPU pool longer than the CPU queue
//! budget: a turn that would only time out later is turned away now. A queued turn is a promise: it is served when its
//! permit comes, even if the prediction was wrong and that takes longer than the queue budget, so every 429 is
//! answered at the door within microseconds. Only a permit that does not come within the turn's whole budget (the
//! turns holding them are bounded by that same budget, so this means they are stuck) ends the wait with a 429. On
//! classic Lambda, reserved concurrency is the bound and this layer is not used; on Lambda Managed Instances, where one
//! environment serves many invocations, it is (`lambda::service_for`).

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use navigator_platform::NavigatorError;
use navigator_platform::config::OrchestratorBudgets;
use navigator_resilience::{Bulkhead, CpuLoad, Deadline, MeanTime};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use crate::api::{ApiError, AppState, chat, routes};

/// The chat API's routes, with `admission` in front of chat turns only: a turn is what queues for the CPU, and a
/// member reading their documents' status, or a health check, should not be refused because turns or an ingest are
/// holding it.
pub fn admitted_router(state: Arc<AppState>, admission: Option<Admission>) -> Router {
    let chat_route = match admission {
        // `route_layer`: only a matched `POST` is admitted; a wrong method is answered 405 at once, taking no permit.
        Some(admission) => post(chat).route_layer(from_fn_with_state(admission, admit)),
        None => post(chat),
    };
    routes(state, chat_route)
}

/// What the admission layer needs: the bulkhead, how long a request may wait in its queue, how long turns take,
/// and the CPU pools whose queues it must not overfill.
#[derive(Debug, Clone)]
pub struct Admission {
    pub bulkhead: Bulkhead,
    /// The longest predicted queue wait a turn is admitted with.
    pub max_queue_wait: Duration,
    /// How long an admitted turn waits for its permit before it is given up on.
    pub max_hold: Duration,
    turns: MeanTime,
    pub cpu: CpuLoad,
    pub max_cpu_wait: Duration,
}

/// A refusal is a hint to come back soon: what a client sees queued has drained well within a second.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl Admission {
    /// `max_queue_wait` is the admission threshold on the predicted wait; `max_hold` (at least `max_queue_wait`)
    /// bounds the actual wait of an admitted turn: the turn budget.
    pub fn new(in_flight: usize, queue_bound: usize, max_queue_wait: Duration, max_hold: Duration) -> Self {
        // Every refusal reason is a series from the start: a dashboard shows 0 refusals, not no data.
        for reason in REFUSAL_REASONS {
            metrics::counter!(navigator_metrics::ADMISSION_REJECTED.name, "reason" => reason).increment(0);
        }
        Self {
            bulkhead: Bulkhead::new("chat", in_flight, queue_bound),
            max_queue_wait,
            max_hold: max_hold.max(max_queue_wait),
            turns: MeanTime::default(),
            cpu: CpuLoad::default(),
            max_cpu_wait: Duration::MAX,
        }
    }

    /// The chat path's admission from its budgets: IN_FLIGHT turns, QUEUE_BOUND waiting, a predicted wait past one
    /// wave budget refused, an admitted turn held at most the turn budget.
    pub fn for_budgets(budgets: &OrchestratorBudgets) -> Self {
        Self::new(budgets.in_flight, budgets.queue_bound, budgets.wave, budgets.total)
    }

    /// Also refuses while new work would wait longer than `max_wait` for any of `cpu`'s pools.
    pub fn with_cpu(mut self, cpu: CpuLoad, max_wait: Duration) -> Self {
        self.cpu = cpu;
        self.max_cpu_wait = max_wait;
        self
    }

    /// Why a turn arriving now must be refused; `None` when it may go in or queue.
    fn refusal(&self) -> Option<NavigatorError> {
        if let Some(pressure) = self.cpu.pressure()
            && pressure.wait > self.max_cpu_wait
        {
            return Some(refused(
                "cpu",
                format!(
                    "the CPU is saturated: new work would queue {} ms for {}",
                    pressure.wait.as_millis(),
                    pressure.pool
                ),
            ));
        }
        let wait = self.bulkhead.expected_wait(self.turns.mean());
        (wait > self.max_queue_wait).then(|| {
            refused(
                "queue",
                format!(
                    "the turns ahead would keep this one queued about {} ms, past its {} ms",
                    wait.as_millis(),
                    self.max_queue_wait.as_millis()
                ),
            )
        })
    }
}

/// Why admission refuses before the bulkhead: the CPU pools' queues, or the turns ahead.
const REFUSAL_REASONS: [&str; 2] = ["cpu", "queue"];

fn refused(reason: &'static str, message: String) -> NavigatorError {
    debug_assert!(REFUSAL_REASONS.contains(&reason), "{reason}");
    metrics::counter!(navigator_metrics::ADMISSION_REJECTED.name, "reason" => reason).increment(1);
    NavigatorError::rejected(message, Some(RETRY_AFTER))
}

/// Middleware: holds a permit for the whole request, or answers 429.
pub async fn admit(State(admission): State<Admission>, request: Request, next: Next) -> Response {
    if let Some(refusal) = admission.refusal() {
        return refuse(refusal);
    }
    match admission.bulkhead.acquire(Deadline::after(admission.max_hold)).await {
        Ok(_permit) => {
            let started = Instant::now();
            let response = next.run(request).await;
            admission.turns.record(started.elapsed());
            response
        }
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
        let admission = Admission::new(4, 8, Duration::from_secs(60), Duration::from_secs(60));
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

    /// With one 2 s turn running, a second turn's status and how long it took.
    async fn behind_a_running_turn(admission: Admission) -> (StatusCode, Duration) {
        let app = slow_app(admission);
        let chat = || Request::post("/v1/chat").body(Body::empty()).unwrap();
        let first = tokio::spawn(app.clone().oneshot(chat()));
        tokio::task::yield_now().await;
        let started = Instant::now();
        let second = app.oneshot(chat()).await.unwrap();
        let took = started.elapsed();
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
        (second.status(), took)
    }

    #[tokio::test(start_paused = true)]
    async fn a_queued_turn_is_served_even_when_its_wait_outlasts_the_prediction() {
        // The mean turn is unknown (zero), so the door predicts no wait; the turn ahead takes 2 s, four times the
        // 500 ms queue budget. The queued turn was admitted: it is served when the permit comes, not refused late.
        let admission = Admission::new(1, 4, Duration::from_millis(500), Duration::from_secs(3));
        let (status, took) = behind_a_running_turn(admission).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            took,
            Duration::from_secs(4),
            "2 s queued behind the first, then its own 2 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_queued_turn_whose_permit_never_comes_is_refused_at_the_turn_budget() {
        let admission = Admission::new(1, 4, Duration::from_millis(500), Duration::from_secs(1));
        let (status, took) = behind_a_running_turn(admission).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(took, Duration::from_secs(1));
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
        let admission = Admission::new(4, 8, Duration::from_secs(1), Duration::from_secs(3))
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
        // The holder takes the one slot before the second job is sent, or that job could run first and never wait.
        while pool.stats().in_flight == 0 {
            tokio::task::yield_now().await;
        }
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

    #[tokio::test(start_paused = true)]
    async fn once_turns_are_known_to_be_slow_a_turn_that_would_queue_too_long_is_refused_at_once() {
        let admission = Admission::new(1, 4, Duration::from_millis(500), Duration::from_secs(3));
        let app = slow_app(admission);
        let chat = || Request::post("/v1/chat").body(Body::empty()).unwrap();
        // The first turn teaches admission that a turn takes 2 s.
        assert_eq!(app.clone().oneshot(chat()).await.unwrap().status(), StatusCode::OK);
        let running = tokio::spawn(app.clone().oneshot(chat()));
        tokio::task::yield_now().await;
        let started = Instant::now();
        let refused = app.oneshot(chat()).await.unwrap();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "refused at the door, not after 500 ms queued"
        );
        assert_eq!(refused.headers().get(header::RETRY_AFTER).unwrap(), "1");
        assert_eq!(running.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}
