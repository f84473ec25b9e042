//! The offline composer: it answers first with the passage that answers, then at most a couple of supporting
//! passages, each with its page or URL; and it says plainly when the sources do not answer.
//!
//! A passage is one to a few consecutive sentences of a source (so a benefits-chart row keeps its label), scored
//! by a generic method ([`scoring`]): how close its best sentence's vector is to the question (the sentence
//! vectors retrieval stored at ingest), how much of the question's wording it holds (each word weighted by how rare
//! it is among the sources), whether it holds the kind of answer the question asks for ([`intent`]: an amount, a
//! time limit, a number, a place, steps, a yes or no), and how well its source ranked. Each part of a multi-part
//! question gets its own passage, or a line saying the plan documents do not answer it.
//!
//! Two thresholds decide whether the question is answered at all. The first is how close the plan's closest chunk
//! came to the question as retrieval's query adapter read it (`RetrieveOutput::best_similarity`, calibrated out of
//! fold on the adapter's training questions; a search no adapter read reports none, and this check stands aside).
//! The second is the leading passage's score; every leading passage of the repository's question sets scores above
//! it (see `ExtractiveSettings::answer_threshold`), so today it declines only a source that matches nothing. The
//! answer is also `unanswered` when the question names something (a drug, a hospital, a company) no source mentions,
//! when it asks for a figure no quoted passage states, or when retrieval found nothing good (every chunk under
//! `ANSWERABLE_SCORE`) and the web did not answer.

mod intent;
mod names;
mod render;
mod scoring;
mod settings;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::{CpuPool, Deadline};

use self::names::unmentioned_name;
use self::render::{Line, answered, closest_citations, unanswered};
use super::passages::sentences;
use super::{ComposeContext, Composer, Composition};
use crate::evidence::{Evidence, ToolCall};
use crate::question::question_parts;

#[cfg(feature = "tuning")]
pub use scoring::Features;
pub use settings::ExtractiveSettings;

/// The extractive composer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractiveComposer {
    pub settings: ExtractiveSettings,
}

/// The extractive composer on a CPU pool. Its 2 ms of arithmetic on an async worker is 2 ms in which that worker
/// answers no one, not even a request admission would refuse at once; on a pool below the workers' priority, it is
/// not (docs/PERFORMANCE.md). The question and the evidence are copied to the pool, about 100 KB with the sentence
/// vectors.
pub struct PooledExtractiveComposer {
    inner: ExtractiveComposer,
    pool: CpuPool,
}

impl Composer for PooledExtractiveComposer {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn compose<'a>(
        &'a self,
        cx: ComposeContext<'a>,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<Composition, NavigatorError>> {
        let (composer, question, evidence) = (self.inner, cx.question.to_owned(), cx.evidence.clone());
        Box::pin(async move {
            Ok(self
                .pool
                .run(deadline, move || composer.compose_now(&question, &evidence))
                .await?)
        })
    }
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
    /// This composer, run on `pool` rather than on the async worker that awaits it.
    pub fn on_pool(self, pool: CpuPool) -> PooledExtractiveComposer {
        PooledExtractiveComposer { inner: self, pool }
    }

    /// Composes on the calling thread: the work is a few thousand comparisons, about 2 ms.
    pub fn compose_now(&self, question: &str, evidence: &Evidence) -> Composition {
        let settings = &self.settings;
        let candidates = sentences(evidence);
        if candidates.is_empty() {
            return unanswered(&[], "no passage of your plan documents matched it");
        }
        let closest = || closest_citations(&candidates);
        if let Some(name) = unmentioned_name(question, evidence) {
            return unanswered(&closest(), &format!("they do not mention {name}"));
        }
        // How close the plan's passages come to the question as a whole: below the threshold, none is about what was
        // asked (the adapter was trained to move such questions away from every passage), and the nearest would
        // read as an answer. When the web answered, its results are weighed with the plan's passages as before.
        let distant = evidence
            .best_similarity()
            .is_some_and(|best| best < settings.min_similarity);
        if distant && evidence.web_results().is_empty() {
            return unanswered(&closest(), "no passage is about what you asked");
        }
        let scored = self.score(question, &candidates);
        let Some(lead) = scored.first() else {
            return unanswered(&closest(), "no passage answers it");
        };
        if lead.score < settings.answer_threshold {
            return unanswered(&closest(), "no passage answers it");
        }
        // Retrieval found nothing good (the floor the planner asks the web under) and the web did not answer: the
        // best of poor passages would read as an answer. When the planner asked the web for outside facts beside good
        // passages, those answer as for any question: its judgement that a question needs outside facts does not
        // tell the questions the plan answers from those it does not (docs/ARCHITECTURE.md, Answer quality).
        if evidence.found_nothing_good() && evidence.web_results().is_empty() {
            let reason = if evidence.called(ToolCall::is_web_search) {
                "no passage matched it well, and web search did not answer"
            } else {
                "no passage matched it well"
            };
            return unanswered(&closest(), reason);
        }
        let parts = question_parts(question);
        let mut lines = Vec::new();
        let mut chosen = Vec::new();
        if parts.len() > 1 {
            // Each part answered in turn, the first by its own best passage rather than the whole question's.
            for part in &parts {
                let part_scored = self.score(part, &candidates);
                match part_scored
                    .into_iter()
                    .find(|s| !chosen.iter().any(|c: &scoring::Scored<'_>| c.overlaps(s)))
                {
                    Some(best) if best.score >= settings.answer_threshold => {
                        chosen.push(best.clone());
                        lines.push(Line::Quote(best));
                    }
                    _ => lines.push(Line::Missing(part.clone())),
                }
            }
        } else {
            chosen.push(lead.clone());
            lines.push(Line::Quote(lead.clone()));
        }
        let top = chosen.first().map_or(lead.score, |c| c.score);
        let mut chars: usize = chosen.iter().map(scoring::Scored::chars).sum();
        let mut supports = 0;
        for candidate in &scored {
            if supports >= settings.max_supports || candidate.score < settings.support_ratio * top {
                break;
            }
            // Overlapping chunks repeat sentences: a passage saying again what is quoted adds nothing.
            let repeats = chosen.iter().any(|c| {
                c.overlaps(candidate)
                    || candidate
                        .window
                        .iter()
                        .any(|s| c.window.iter().any(|q| q.text == s.text))
            });
            if repeats || chars + candidate.chars() > settings.max_chars {
                continue;
            }
            chars += candidate.chars();
            chosen.push(candidate.clone());
            lines.push(Line::Quote(candidate.clone()));
            supports += 1;
        }
        if lines.iter().all(|line| matches!(line, Line::Missing(_))) {
            return unanswered(&closest(), "no passage answers it");
        }
        // A question asking for a figure (an amount, a number, an e-mail address, a time) is answered only by a
        // passage stating one: a passage about the subject without it would read as the answer. What it asks for is
        // read from its asking sentences: a decline says the plan lacks something, so it must be what was asked, not
        // what the member's situation named ("I got a new phone number. How do I update it?"). Ranking reads the
        // whole message, where such words are context.
        let asked = intent::asking(question);
        let answer = intent::answer_type(&asked);
        let states_it = |line: &Line<'_>| match line {
            Line::Quote(scored) => scored.window.iter().any(|s| intent::holds(&s.text, answer)),
            Line::Missing(_) => false,
        };
        // A yes-or-no question ("Do I pay the ambulance copay?") can be answered without one.
        let asks_figure = answer.asks_for_a_figure() && !intent::opens_yes_no(&asked);
        if asks_figure && parts.len() <= 1 && !lines.iter().any(states_it) {
            let what = match answer {
                intent::AnswerType::Amount => "the amount you asked about",
                intent::AnswerType::Phone => "the number you asked for",
                intent::AnswerType::Email => "the e-mail address you asked for",
                _ => "the time you asked about",
            };
            return unanswered(&closest(), &format!("they do not state {what}"));
        }
        answered(&lines)
    }
}

/// One passage the composer could have quoted, with what its score is made of.
#[cfg(feature = "tuning")]
#[derive(Debug, Clone, serde::Serialize)]
pub struct WindowRecord {
    pub text: String,
    pub page: Option<u32>,
    #[serde(flatten)]
    pub features: Features,
}

#[cfg(feature = "tuning")]
impl ExtractiveComposer {
    /// The question's answer type, its number of parts, and every window the composer weighs, best first.
    pub(crate) fn windows(&self, question: &str, evidence: &Evidence) -> (&'static str, usize, Vec<WindowRecord>) {
        let candidates = sentences(evidence);
        let windows = self
            .score(question, &candidates)
            .into_iter()
            .map(|scored| WindowRecord {
                text: scored.text(),
                page: scored.citation().page,
                features: scored.features,
            })
            .collect();
        (
            intent::answer_type(question).name(),
            question_parts(question).len(),
            windows,
        )
    }
}

#[cfg(test)]
mod tests;
