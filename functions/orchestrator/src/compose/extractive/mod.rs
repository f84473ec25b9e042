//! The offline composer: it quotes the sentences of the sources that answer the question, each with its page or
//! URL, and says plainly when they do not.
//!
//! Each sentence is scored by
//! - how much of the question it covers: the question's content words it holds, weighted by how rare each is among
//!   the candidate sentences (a word every sentence has says little);
//! - whether it holds what the question asks for: an amount for "how much", a phone number for "what number", a
//!   time span for "how long", what to send or ask for and where for "how do I";
//! - the rank of its source.
//!
//! The best sentence and those close to it are quoted, best first, within a length budget. The answer is
//! `unanswered` when no sentence covers enough of the question, when the question asks for an amount or a number
//! that no good sentence holds, or when it names something (a drug, a hospital, a company) no source mentions.

mod intent;
mod names;
mod references;
mod render;
mod scoring;
mod settings;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;

use self::intent::{Intent, intent};
use self::names::unmentioned_name;
use self::render::{answered, closest_citations, unanswered};
use super::passages::sentences;
use super::{ComposeContext, Composer, Composition};
use crate::evidence::{Evidence, ToolCall};
use crate::question::question_parts;

pub use settings::ExtractiveSettings;

/// The extractive composer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractiveComposer {
    pub settings: ExtractiveSettings,
}

impl Composer for ExtractiveComposer {
    fn name(&self) -> &'static str {
        "extractive"
    }

    fn compose<'a>(
        &'a self,
        cx: ComposeContext<'a>,
        _deadline: Deadline,
    ) -> BoxFuture<'a, Result<Composition, NavigatorError>> {
        let composition = self.compose_now(cx.question, cx.evidence);
        Box::pin(async move { Ok(composition) })
    }
}

impl ExtractiveComposer {
    /// Composes at once: the work is a few thousand string comparisons.
    pub fn compose_now(&self, question: &str, evidence: &Evidence) -> Composition {
        let candidates = sentences(evidence);
        if candidates.is_empty() {
            return unanswered(&[], "no passage of your plan documents matched it");
        }
        if let Some(name) = unmentioned_name(question, evidence) {
            let closest = closest_citations(&candidates);
            return unanswered(&closest, &format!("they do not mention {name}"));
        }
        let intent = intent(question);
        let scored = self.score(question, intent, &candidates);
        let Some(best) = scored.first() else {
            return unanswered(&closest_citations(&candidates), "no passage covers it");
        };
        if best.coverage < self.settings.min_coverage {
            return unanswered(&closest_citations(&candidates), "no passage covers it");
        }
        // The planner judged the question to need facts from outside the plan, and the web did not answer: the
        // plan's own passages answer only if they match the whole question.
        let web_wanted_but_silent = evidence.called(ToolCall::is_web_search) && evidence.web_results().is_empty();
        if web_wanted_but_silent && best.coverage < self.settings.outside_fact_coverage {
            return unanswered(
                &closest_citations(&candidates),
                "this is about facts outside your plan, and web search could not be reached",
            );
        }
        let mut chosen = vec![best.clone()];
        // Each later part of a question ("..., and how long do I have?") gets its own best passage.
        for part in question_parts(question).iter().skip(1) {
            let part_scored = self.score(part, self::intent(part), &candidates);
            if let Some(found) = part_scored
                .iter()
                .filter(|s| s.coverage >= self.settings.min_coverage)
                .find(|s| !chosen.iter().any(|c| c.overlaps(s)))
            {
                chosen.push(found.clone());
            }
        }
        self.fill(&scored, &mut chosen);
        self.follow_references(&candidates, intent, &mut chosen);
        let states_what_was_asked = chosen
            .iter()
            .any(|s| s.answers_intent && s.coverage >= self.settings.min_intent_coverage);
        if intent.asks_for_a_figure() && !states_what_was_asked {
            // The question asks for a figure, and no passage about its subject states one.
            let what = match intent {
                Intent::Amount => "the amount you asked about",
                Intent::PhoneNumber => "the number you asked for",
                Intent::TimeSpan => "the time you asked about",
                Intent::Procedure | Intent::Other => "it",
            };
            return unanswered(&closest_citations(&candidates), &format!("they do not state {what}"));
        }
        answered(&chosen)
    }
}

#[cfg(test)]
mod tests;
