//! A consecutive-failure circuit breaker: closed → open after N failures in a row → half-open after the recovery
//! time → closed after M probe successes; any probe failure reopens it (docs/DESIGN.md §5).
//!
//! State is per execution environment. On Lambda each environment serves one invocation at a time, so a count of
//! consecutive failures (not a rate over a 100-call window) is what can trip, and recover, within 30 s.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

use crate::{Clock, TokioClock};

/// Tuning for a [`CircuitBreaker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before admitting probes.
    pub recovery: Duration,
    /// Probes admitted while half-open; this many successes close it.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    /// The audit's numbers: 5 failures, 30 s recovery, 3 half-open probes.
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            recovery: Duration::from_secs(30),
            half_open_probes: 3,
        }
    }
}

/// What a caller sees of the breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decides whether an error says the dependency is unhealthy.
///
/// Timeouts, connection errors, 5xx and 429 count; a 4xx about our own request does not (the dependency answered).
pub trait FailureClass {
    fn trips_breaker(&self) -> bool;
}

/// The breaker refused the call without running it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker {breaker} is {state}; retry after {}ms", retry_after.as_millis())]
pub struct BreakerOpen {
    pub breaker: &'static str,
    pub state: BreakerState,
    pub retry_after: Duration,
}

/// The outcome of [`CircuitBreaker::call`] when it is not a success.
#[derive(Debug, thiserror::Error)]
pub enum BreakerError<E> {
    #[error(transparent)]
    Open(BreakerOpen),
    #[error(transparent)]
    Inner(E),
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { started: u32, succeeded: u32 },
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    /// Bumped on every transition, so an outcome from a permit of an earlier phase is ignored.
    generation: u64,
}

/// A circuit breaker with an injectable clock. See the module docs for the state machine.
pub struct CircuitBreaker {
    name: &'static str,
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish()
    }
}

/// Leave to make one call. Report how it went with [`BreakerPermit::success`] or [`BreakerPermit::failure`];
/// a permit dropped without a verdict (the call was cancelled) frees its probe slot and counts as nothing.
#[must_use = "report the call's outcome, or the breaker learns nothing"]
pub struct BreakerPermit<'a> {
    breaker: &'a CircuitBreaker,
    generation: u64,
    probe: bool,
    settled: bool,
}

impl BreakerPermit<'_> {
    pub fn success(mut self) {
        self.settled = true;
        self.breaker.on_success(self.generation);
    }

    pub fn failure(mut self) {
        self.settled = true;
        self.breaker.on_failure(self.generation);
    }

    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl Drop for BreakerPermit<'_> {
    fn drop(&mut self) {
        if !self.settled && self.probe {
            self.breaker.on_abandoned_probe(self.generation);
        }
    }
}

impl CircuitBreaker {
    pub fn new(name: &'static str, config: BreakerConfig) -> Self {
        Self::with_clock(name, config, Arc::new(TokioClock))
    }

    pub fn with_clock(name: &'static str, config: BreakerConfig, clock: Arc<dyn Clock>) -> Self {
        let config = BreakerConfig {
            failure_threshold: config.failure_threshold.max(1),
            half_open_probes: config.half_open_probes.max(1),
            ..config
        };
        metrics::gauge!(navigator_metrics::BREAKER_STATE.name, "breaker" => name).set(0.0);
        Self {
            name,
            config,
            clock,
            inner: Mutex::new(Inner {
                phase: Phase::Closed { failures: 0 },
                generation: 0,
            }),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn config(&self) -> BreakerConfig {
        self.config
    }

    /// The state as of now: an open breaker whose recovery time has passed reads as half-open.
    pub fn state(&self) -> BreakerState {
        let inner = self.lock();
        match inner.phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { until } if self.clock.now() >= until => BreakerState::HalfOpen,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Asks to make one call. Never waits and never does I/O: an open breaker answers in well under a microsecond.
    pub fn try_acquire(&self) -> Result<BreakerPermit<'_>, BreakerOpen> {
        let now = self.clock.now();
        let mut inner = self.lock();
        if let Phase::Open { until } = inner.phase {
            if now < until {
                drop(inner);
                return Err(self.rejected(BreakerState::Open, until - now));
            }
            self.transition(
                &mut inner,
                Phase::HalfOpen {
                    started: 0,
                    succeeded: 0,
                },
            );
        }
        match &mut inner.phase {
            Phase::Closed { .. } => Ok(self.permit(inner.generation, false)),
            Phase::HalfOpen { started, .. } if *started < self.config.half_open_probes => {
                *started += 1;
                Ok(self.permit(inner.generation, true))
            }
            _ => {
                drop(inner);
                // Every probe is out; one of them decides soon. A short hint keeps callers from hammering.
                Err(self.rejected(BreakerState::HalfOpen, Duration::from_secs(1)))
            }
        }
    }

    /// Runs `call` if the breaker admits it, and records its outcome by the error's [`FailureClass`].
    pub async fn call<T, E, F, Fut>(&self, call: F) -> Result<T, BreakerError<E>>
    where
        E: FailureClass,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_classified(call, E::trips_breaker).await
    }

    /// Like [`CircuitBreaker::call`], with the failure classifier given by the caller.
    pub async fn call_classified<T, E, F, Fut>(
        &self,
        call: F,
        trips: impl FnOnce(&E) -> bool,
    ) -> Result<T, BreakerError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire().map_err(BreakerError::Open)?;
        let result = call().await;
        match &result {
            Err(error) if trips(error) => permit.failure(),
            _ => permit.success(),
        }
        result.map_err(BreakerError::Inner)
    }

    fn permit(&self, generation: u64, probe: bool) -> BreakerPermit<'_> {
        BreakerPermit {
            breaker: self,
            generation,
            probe,
            settled: false,
        }
    }

    fn rejected(&self, state: BreakerState, retry_after: Duration) -> BreakerOpen {
        metrics::counter!(navigator_metrics::BREAKER_REJECTED.name, "breaker" => self.name).increment(1);
        BreakerOpen {
            breaker: self.name,
            state,
            retry_after,
        }
    }

    fn on_success(&self, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        match &mut inner.phase {
            Phase::Closed { failures } => *failures = 0,
            Phase::HalfOpen { succeeded, .. } => {
                *succeeded += 1;
                if *succeeded >= self.config.half_open_probes {
                    self.transition(&mut inner, Phase::Closed { failures: 0 });
                }
            }
            Phase::Open { .. } => {}
        }
    }

    fn on_failure(&self, generation: u64) {
        let now = self.clock.now();
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        let open = Phase::Open {
            until: now + self.config.recovery,
        };
        match &mut inner.phase {
            Phase::Closed { failures } => {
                *failures += 1;
                if *failures >= self.config.failure_threshold {
                    self.transition(&mut inner, open);
                }
            }
            Phase::HalfOpen { .. } => self.transition(&mut inner, open),
            Phase::Open { .. } => {}
        }
    }

    fn on_abandoned_probe(&self, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if let Phase::HalfOpen { started, .. } = &mut inner.phase {
            *started = started.saturating_sub(1);
        }
    }

    fn transition(&self, inner: &mut Inner, to: Phase) {
        let from = public_state(inner.phase);
        inner.phase = to;
        inner.generation += 1;
        let to = public_state(to);
        tracing::warn!(
            breaker = self.name,
            from = from.as_str(),
            to = to.as_str(),
            "circuit breaker state change"
        );
        metrics::counter!(navigator_metrics::BREAKER_TRANSITIONS.name, "breaker" => self.name, "to" => to.as_str())
            .increment(1);
        let level = match to {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        };
        metrics::gauge!(navigator_metrics::BREAKER_STATE.name, "breaker" => self.name).set(level);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The critical sections never panic; a poisoned lock still holds a consistent state.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn public_state(phase: Phase) -> BreakerState {
    match phase {
        Phase::Closed { .. } => BreakerState::Closed,
        Phase::Open { .. } => BreakerState::Open,
        Phase::HalfOpen { .. } => BreakerState::HalfOpen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    enum FakeError {
        ServerError,
        BadRequest,
    }

    impl FailureClass for FakeError {
        fn trips_breaker(&self) -> bool {
            matches!(self, Self::ServerError)
        }
    }

    fn breaker(clock: &ManualClock) -> CircuitBreaker {
        CircuitBreaker::with_clock("test", BreakerConfig::default(), Arc::new(clock.clone()))
    }

    async fn fail(breaker: &CircuitBreaker) -> Result<(), BreakerError<FakeError>> {
        breaker.call(|| async { Err::<(), _>(FakeError::ServerError) }).await
    }

    async fn succeed(breaker: &CircuitBreaker) -> Result<(), BreakerError<FakeError>> {
        breaker.call(|| async { Ok::<(), FakeError>(()) }).await
    }

    #[tokio::test]
    async fn opens_after_five_consecutive_failures() {
        let clock = ManualClock::new();
        let breaker = breaker(&clock);
        for _ in 0..4 {
            assert!(matches!(fail(&breaker).await, Err(BreakerError::Inner(_))));
            assert_eq!(breaker.state(), BreakerState::Closed);
        }
        assert!(matches!(fail(&breaker).await, Err(BreakerError::Inner(_))));
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[tokio::test]
    async fn a_success_resets_the_failure_count() {
        let clock = ManualClock::new();
        let breaker = breaker(&clock);
        for _ in 0..4 {
            let _ = fail(&breaker).await;
        }
        succeed(&breaker).await.unwrap();
        for _ in 0..4 {
            let _ = fail(&breaker).await;
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn client_errors_do_not_count() {
        let clock = ManualClock::new();
        let breaker = breaker(&clock);
        for _ in 0..20 {
            let result = breaker.call(|| async { Err::<(), _>(FakeError::BadRequest) }).await;
            assert!(matches!(result, Err(BreakerError::Inner(FakeError::BadRequest))));
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn open_breaker_rejects_without_running_the_call() {
        let clock = ManualClock::new();
        let breaker = breaker(&clock);
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        let calls = AtomicU32::new(0);
        clock.advance(Duration::from_secs(29));
        let result = breaker
            .call(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<(), FakeError>(())
            })
            .await;
        match result {
            Err(BreakerError::Open(open)) => {
                assert_eq!(open.state, BreakerState::Open);
                assert_eq!(open.retry_after, Duration::from_secs(1));
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn admits_exactly_three_probes_after_thirty_seconds() {
        let clock = ManualClock::new();
        let breaker = breaker(&clock);
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        clock.advance(Duration::from_secs(30));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        let probes: Vec<_> = (0..3).map(|_| breaker.try_acquire().expect("a probe slot")).collect();
        assert!(probes.iter().all(BreakerPermit::is_probe));
        let fourth = breaker
            .try_acquire()
            .err()
            .expect("a fourth concurrent probe must be refused");
        assert_eq!(fourth.state, BreakerState::HalfOpen);

        let mut probes = probes.into_iter();
        probes.next().unwrap().success();
        probes.next().unwrap().success();
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        probes.next().unwrap().success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        succeed(&breaker).await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_probe_reopens_for_another_recovery_period() {
        let clock = ManualClock::new();
        let breaker = breaker(&clock);
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        clock.advance(Duration::from_secs(30));
        let first = breaker.try_acquire().unwrap();
        let second = breaker.try_acquire().unwrap();
        first.success();
        second.failure();
        assert_eq!(breaker.state(), BreakerState::Open);
        clock.advance(Duration::from_secs(29));
        assert!(breaker.try_acquire().is_err());
        clock.advance(Duration::from_secs(1));
        assert!(breaker.try_acquire().unwrap().is_probe());
    }

    #[tokio::test]
    async fn an_abandoned_probe_frees_its_slot() {
        let clock = ManualClock::new();
        let breaker = breaker(&clock);
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        clock.advance(Duration::from_secs(30));
        let held: Vec<_> = (0..3).map(|_| breaker.try_acquire().unwrap()).collect();
        assert!(breaker.try_acquire().is_err());
        drop(held);
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.try_acquire().is_ok());
    }

    #[tokio::test]
    async fn a_late_outcome_from_before_a_transition_is_ignored() {
        let clock = ManualClock::new();
        let breaker = breaker(&clock);
        let slow = breaker.try_acquire().unwrap();
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        clock.advance(Duration::from_secs(30));
        let probe = breaker.try_acquire().unwrap();
        slow.success();
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        probe.failure();
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn recovers_on_tokios_paused_clock() {
        let breaker = CircuitBreaker::new("paused", BreakerConfig::default());
        for _ in 0..5 {
            let _ = fail(&breaker).await;
        }
        assert_eq!(breaker.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(30)).await;
        for _ in 0..3 {
            succeed(&breaker).await.unwrap();
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
