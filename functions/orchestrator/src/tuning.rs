//! What the extractive composer saw, turn by turn, so that its weights and its answer threshold can be chosen
//! offline on a tuning set (`navigator eval answers --windows FILE`). Built only with the `tuning` feature: no
//! function records its members' questions.

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use navigator_resilience::Deadline;
use serde::Serialize;
use std::sync::{Arc, Mutex};

use crate::compose::extractive::{ExtractiveComposer, ExtractiveSettings};
pub use crate::compose::extractive::{Features, WindowRecord};
use crate::compose::{ComposeContext, Composer, Composition};
use crate::tools::ToolInvoker;
use crate::turn::Navigator;

/// One composition: the question as the composer saw it and every passage it weighed, in its order.
#[derive(Debug, Clone, Serialize)]
pub struct ComposeRecord {
    pub question: String,
    pub answer_type: &'static str,
    pub parts: usize,
    pub windows: Vec<WindowRecord>,
    pub status: &'static str,
}

/// The compositions recorded so far.
#[derive(Debug, Default)]
pub struct Recorder {
    records: Mutex<Vec<ComposeRecord>>,
}

impl Recorder {
    /// The records since the last call, oldest first.
    pub fn take(&self) -> Vec<ComposeRecord> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

struct Recording {
    inner: ExtractiveComposer,
    recorder: Arc<Recorder>,
}

impl Composer for Recording {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn compose<'a>(
        &'a self,
        cx: ComposeContext<'a>,
        _deadline: Deadline,
    ) -> BoxFuture<'a, Result<Composition, NavigatorError>> {
        let composition = self.inner.compose_now(cx.question, cx.evidence);
        let (answer_type, parts, windows) = self.inner.windows(cx.question, cx.evidence);
        let record = ComposeRecord {
            question: cx.question.to_string(),
            answer_type,
            parts,
            windows,
            status: composition.status.as_str(),
        };
        self.recorder
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(record);
        Box::pin(async move { Ok(composition) })
    }
}

/// The offline navigator, its extractive composer set to `settings`, recording every composition.
pub fn recording_navigator(
    invoker: Arc<dyn ToolInvoker>,
    budgets: &Budgets,
    settings: ExtractiveSettings,
) -> (Navigator, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let composer = Recording {
        inner: ExtractiveComposer { settings },
        recorder: Arc::clone(&recorder),
    };
    let navigator = Navigator::offline_composing(invoker, budgets, Arc::new(composer));
    (navigator, recorder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ChatRequest;
    use crate::fakes::FakeTools;
    use crate::turn::TurnRequest;
    use navigator_platform::owner::Readers;
    use std::time::Duration;
    use uuid::Uuid;

    #[tokio::test]
    async fn each_turn_records_the_question_and_every_window_best_first() {
        let budgets = Budgets::from_lookup(|_| None).expect("the default budgets");
        let tools = FakeTools::answering(Duration::ZERO);
        let (navigator, recorder) = recording_navigator(Arc::new(tools), &budgets, ExtractiveSettings::default());
        let turn = TurnRequest {
            request_id: "turn-1".into(),
            readers: Readers::new(Uuid::from_u128(7), None),
            chat: ChatRequest {
                message: "What does a specialist visit cost?".into(),
                language: Some("en".into()),
                ..ChatRequest::default()
            },
            deadline: Deadline::after(Duration::from_secs(3)),
        };
        let response = navigator.answer(turn).await.expect("the turn answers");

        let records = recorder.take();
        assert_eq!(records.len(), 1, "one composition per turn");
        let record = &records[0];
        assert_eq!(record.question, "What does a specialist visit cost?");
        assert_eq!(record.answer_type, "amount");
        assert_eq!(record.status, response.status.as_str());
        assert!(
            record.windows.len() > 3,
            "every window is recorded, not only the quoted ones"
        );
        // The answer leads with the best window.
        let lead = &record.windows[0];
        assert!(
            response.answer.contains(&lead.text),
            "{}\nleads with\n{}",
            response.answer,
            lead.text
        );
        assert!(lead.features.typed && lead.text.contains("$20"));
        assert!(recorder.take().is_empty(), "taken records are gone");
    }
}
