//! The guard stage: the member's message, and the history they sent with it, checked before anything else sees
//! them. The guard fails closed: without its verdict the turn does not go on. A message blocked as a clinical decision
//! that also asks about coverage goes on: its answer starts with the refusal, and answers the coverage part.

use navigator_platform::NavigatorError;
use navigator_platform::contracts::{BlockCategory, GuardOutput, ToolName, Verdict};
use navigator_resilience::Deadline;

use super::Navigator;
use super::ledger::Ledger;
use crate::chat::{ChatRequest, Degraded, Role, Turn};
use crate::question::asks_about_coverage;
use crate::tools::CallContext;

impl Navigator {
    pub(super) async fn guard(
        &self,
        cx: &CallContext,
        chat: &ChatRequest,
        deadline: Deadline,
        ledger: &mut Ledger,
    ) -> Result<Guarded, NavigatorError> {
        if !self.tools.provides(ToolName::Guard) {
            ledger.degrade(Degraded::Guard);
            return Ok(Guarded::Allowed(GuardedTurn {
                message: chat.message.clone(),
                history: chat.history.clone(),
                caveat: None,
            }));
        }
        let history_text = joined_history(&chat.history);
        let (message, history) = tokio::join!(self.tools.guard(cx, &chat.message, deadline), async {
            match &history_text {
                Some(text) => Some(self.tools.guard(cx, text, deadline).await),
                None => None,
            }
        });
        // The guard fails closed: without its verdict the turn does not go on.
        let message = message.map_err(|error| guard_failure(error, "message"))?;
        let history = history.transpose().map_err(|error| guard_failure(error, "history"))?;
        let mut caveat = None;
        for (i, verdict) in std::iter::once(&message).chain(history.as_ref()).enumerate() {
            if verdict.degraded {
                ledger.degrade(Degraded::Guard);
            }
            let clinical_with_coverage =
                i == 0 && verdict.category == Some(BlockCategory::UnsafeMedical) && asks_about_coverage(&chat.message);
            if verdict.verdict == Verdict::Block && clinical_with_coverage {
                tracing::info!("guard refused the clinical part; the coverage part is answered");
                caveat = Some(
                    verdict
                        .refusal
                        .clone()
                        .unwrap_or_else(|| BlockCategory::UnsafeMedical.refusal().to_string()),
                );
            } else if verdict.verdict == Verdict::Block {
                tracing::info!(category = ?verdict.category, "guard blocked the turn");
                let category = verdict.category.unwrap_or(BlockCategory::Injection);
                let text = verdict
                    .refusal
                    .clone()
                    .unwrap_or_else(|| category.refusal().to_string());
                return Ok(Guarded::Refused(text));
            }
        }
        Ok(Guarded::Allowed(GuardedTurn {
            message: message.text,
            history: match history {
                Some(redacted) => split_history(&chat.history, &redacted),
                None => Vec::new(),
            },
            caveat,
        }))
    }
}

pub(super) enum Guarded {
    Allowed(GuardedTurn),
    Refused(String),
}

pub(super) struct GuardedTurn {
    pub(super) message: String,
    pub(super) history: Vec<Turn>,
    /// The refusal of a clinical part, to open the answer to the coverage part.
    pub(super) caveat: Option<String>,
}

/// Separates history turns in the one text the guard checks; no placeholder or redaction spans it.
const HISTORY_SEPARATOR: &str = "\n\n\u{2063}\n\n";

fn joined_history(history: &[Turn]) -> Option<String> {
    let texts: Vec<&str> = history.iter().map(|turn| turn.content.as_str()).collect();
    (!texts.is_empty()).then(|| texts.join(HISTORY_SEPARATOR))
}

/// The history with each turn's text replaced by its redacted form; turns that no longer line up are dropped.
fn split_history(history: &[Turn], redacted: &GuardOutput) -> Vec<Turn> {
    let parts: Vec<&str> = redacted.text.split(HISTORY_SEPARATOR).collect();
    if parts.len() != history.len() {
        return Vec::new();
    }
    history
        .iter()
        .zip(parts)
        .map(|(turn, text)| Turn {
            role: turn.role,
            content: text.to_string(),
        })
        .filter(|turn| turn.role == Role::User || turn.role == Role::Assistant)
        .collect()
}

fn guard_failure(error: NavigatorError, what: &str) -> NavigatorError {
    tracing::error!(error = %error, what, "guard failed; the turn stops (fail closed)");
    match error {
        NavigatorError::Timeout { .. } => NavigatorError::timeout("guard"),
        NavigatorError::Rejected { reason, retry_after } => NavigatorError::rejected(reason, retry_after),
        other => NavigatorError::unavailable("guard", other),
    }
}
