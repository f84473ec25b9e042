//! The turn, stage by stage: what runs in which order, under which share of the deadline.

use navigator_platform::NavigatorError;
use std::time::Duration;
use tokio::time::Instant;

use super::checks::{output_check, source_texts};
use super::guard_stage::{Guarded, GuardedTurn};
use super::ledger::Ledger;
use super::waves::{Gathered, no_source};
use super::{Navigator, TurnRequest};
use crate::chat::{ChatRequest, ChatResponse, Stage, Status};
use crate::compose::Composition;
use crate::tools::CallContext;

impl Navigator {
    pub(super) async fn run_turn(&self, request: TurnRequest) -> Result<ChatResponse, NavigatorError> {
        let mut ledger = Ledger::start();
        let deadline = request.deadline;
        let cx = CallContext {
            request_id: request.request_id.clone(),
            readers: request.readers.clone(),
        };
        let requested = request.chat.language.clone().filter(|l| l != "auto");
        let maybe_foreign = requested.as_deref() != Some("en");

        // 1. Guard the member's own words before anything else sees them.
        let stage = Instant::now();
        let guard_deadline = deadline.stage(self.budgets.guard, self.budgets.after_guard(maybe_foreign));
        let guarded = self.guard(&cx, &request.chat, guard_deadline, &mut ledger).await?;
        ledger.time(Stage::Guard, stage);
        let GuardedTurn {
            message,
            history,
            mut caveat,
        } = match guarded {
            Guarded::Refused(text) => {
                let language = requested.unwrap_or_else(|| "en".into());
                return Ok(ledger.finish(refusal(text), language, Vec::new(), &request.request_id));
            }
            Guarded::Allowed(turn) => turn,
        };

        // 2. Translate the (redacted) question into English.
        let stage = Instant::now();
        let translate_deadline = deadline.stage(self.budgets.translate, self.budgets.after_guard(maybe_foreign));
        let (question, language, new_to_the_guard) = self
            .translate_in(&cx, &message, requested.as_deref(), translate_deadline, &mut ledger)
            .await;
        ledger.time(Stage::TranslateIn, stage);
        if language != "en" && question != message && new_to_the_guard {
            // The translated text is new text: check it once more, in English.
            let recheck = deadline.stage(self.budgets.guard, self.budgets.after_guard(true));
            let chat = ChatRequest {
                message: question.clone(),
                ..ChatRequest::default()
            };
            match self.guard(&cx, &chat, recheck, &mut ledger).await? {
                Guarded::Refused(text) => {
                    return Ok(ledger.finish(refusal(text), language, Vec::new(), &request.request_id));
                }
                Guarded::Allowed(rechecked) => caveat = caveat.or(rechecked.caveat),
            }
        }
        let translating_back = language != "en";

        // 3. Plan and run at most MAX_WAVES waves.
        let Gathered {
            evidence,
            draft,
            reports,
        } = self
            .gather(&cx, &question, &history, translating_back, deadline, &mut ledger)
            .await;
        if !evidence.any_source_answered() {
            return Err(no_source(&evidence, deadline));
        }

        // 4. Compose, and keep only what the sources hold.
        let stage = Instant::now();
        let translate_reserve = if translating_back {
            self.budgets.translate_out_reserve
        } else {
            Duration::ZERO
        };
        let compose_deadline = deadline.stage(deadline.remaining(), translate_reserve);
        let sources = source_texts(&evidence);
        let composition = self
            .compose(
                &question,
                &evidence,
                &sources,
                draft.as_deref(),
                compose_deadline,
                &mut ledger,
            )
            .await;
        ledger.time(Stage::Compose, stage);

        // 5. The output check: no one else's personal data, no internal text.
        let stage = Instant::now();
        let mut composition = output_check(composition, &request.chat.message, &sources);
        ledger.time(Stage::OutputCheck, stage);
        if let Some(caveat) = caveat {
            composition.answer = format!("{caveat}\n\n{}", composition.answer);
        }

        // 6. Translate the answer back.
        let composition = if translating_back {
            let stage = Instant::now();
            let out_deadline = deadline.stage(self.budgets.translate, Duration::ZERO);
            let translated = self
                .translate_out(&cx, composition, &language, out_deadline, &mut ledger)
                .await;
            ledger.time(Stage::TranslateOut, stage);
            translated
        } else {
            composition
        };
        Ok(ledger.finish(composition, language, reports, &request.request_id))
    }
}

fn refusal(text: String) -> Composition {
    Composition {
        status: Status::Refused,
        answer: text,
        citations: Vec::new(),
    }
}
