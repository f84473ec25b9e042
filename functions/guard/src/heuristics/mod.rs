//! The heuristic stage: rules over the normalised text, in English and Spanish. Each rule that fires is a signal
//! with its category and weight; the strongest decides.
//!
//! - [`injection`]: instruction override, role play, asking for the system prompt, instructions hidden in pasted
//!   documents.
//! - [`privacy`]: asking for another member's data, or for lists of members.
//! - [`medical`]: asking for a diagnosis, or a decision to start, stop or change a treatment.
//! - [`off_topic`]: nothing to do with a health plan.

pub mod injection;
pub mod medical;
pub mod off_topic;
pub mod privacy;

use navigator_platform::contracts::BlockCategory;
use regex::Regex;

/// One rule that fired.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    pub category: BlockCategory,
    pub rule: &'static str,
    pub score: f32,
}

/// A named pattern with its weight.
pub(crate) struct Rule {
    pub name: &'static str,
    pub pattern: Regex,
    pub score: f32,
}

/// Compiles `(name, pattern, score)` triples. Patterns are constants checked by the tests.
pub(crate) fn rules(specs: &[(&'static str, &str, f32)]) -> Vec<Rule> {
    specs
        .iter()
        .filter_map(|(name, pattern, score)| match Regex::new(pattern) {
            Ok(pattern) => Some(Rule {
                name,
                pattern,
                score: *score,
            }),
            Err(error) => {
                tracing::error!(rule = name, %error, "a guard rule does not compile; skipped");
                None
            }
        })
        .collect()
}

/// The signals of `rules` that match `view`.
pub(crate) fn fire(rules: &[Rule], category: BlockCategory, view: &str) -> Vec<Signal> {
    rules
        .iter()
        .filter(|rule| rule.pattern.is_match(view))
        .map(|rule| Signal {
            category,
            rule: rule.name,
            score: rule.score,
        })
        .collect()
}

/// Every signal for the normalised text `view`, strongest first.
pub fn signals(view: &str) -> Vec<Signal> {
    let mut all = injection::signals(view);
    all.extend(privacy::signals(view));
    all.extend(medical::signals(view));
    all.extend(off_topic::signals(view));
    all.sort_by(|a, b| b.score.total_cmp(&a.score));
    all
}

/// A score at or above this blocks on its own.
pub const BLOCK_SCORE: f32 = 0.8;
