//! The turn's running record, its timings and degradations, and the response and metrics it ends with.

use std::time::Duration;
use tokio::time::Instant;

use crate::chat::{ChatResponse, Degraded, Stage, Timings, ToolReport};
use crate::compose::Composition;

pub(super) struct Ledger {
    started: Instant,
    timings: Timings,
    degraded: Vec<Degraded>,
}

impl Ledger {
    pub(super) fn start() -> Self {
        Self {
            started: Instant::now(),
            timings: Timings::default(),
            degraded: Vec::new(),
        }
    }

    pub(super) fn time(&mut self, stage: Stage, since: Instant) {
        self.timings.record(stage, ms(since.elapsed()));
    }

    pub(super) fn degrade(&mut self, what: Degraded) {
        if !self.degraded.contains(&what) {
            self.degraded.push(what);
        }
    }

    /// The 200 body, with the turn's total time; counted in the metrics.
    pub(super) fn finish(
        mut self,
        composition: Composition,
        language: String,
        tools: Vec<ToolReport>,
        request_id: &str,
    ) -> ChatResponse {
        self.time(Stage::Total, self.started);
        let status = composition.status.as_str();
        metrics::counter!(navigator_metrics::CHAT_TURNS.name, "status" => status).increment(1);
        for (stage, ms) in self.timings.iter() {
            if stage == Stage::Total {
                metrics::histogram!(navigator_metrics::CHAT_TURN_DURATION.name, "status" => status).record(ms / 1000.0);
            } else {
                metrics::histogram!(navigator_metrics::CHAT_STAGE_DURATION.name, "stage" => stage.to_string())
                    .record(ms / 1000.0);
            }
        }
        for degraded in &self.degraded {
            metrics::counter!(navigator_metrics::CHAT_DEGRADED.name, "what" => degraded.as_str()).increment(1);
        }
        ChatResponse {
            status: composition.status,
            answer: composition.answer,
            language,
            citations: composition.citations,
            tools,
            degraded: self.degraded,
            timings_ms: self.timings,
            request_id: request_id.to_string(),
        }
    }
}

/// Milliseconds, to two decimals.
pub(super) fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}
