//! Questions about facts the plan's own documents do not hold: this year's figures, the Medicare program itself,
//! laws, drug prices and names, state programs. The planner adds a web search for them.

use navigator_platform::text::contains_phrase;

/// Phrases that mark a question about facts the plan's own documents do not hold.
pub const OUTSIDE_FACT_CUES: &[&str] = &[
    "this year",
    "next year",
    "news",
    "law",
    "legislation",
    "standard part b",
    "standard medicare",
    "part b premium",
    "generic name",
    "generic version",
    "brand name",
    "price of",
    "medi-cal",
    "medicaid",
    "social security",
    "state program",
    "medicare.gov",
    "este año",
    "ley",
];

/// Whether the question asks for facts from outside the member's plan documents.
pub fn needs_outside_facts(question: &str) -> bool {
    let lower = question.to_lowercase();
    OUTSIDE_FACT_CUES.iter().any(|cue| contains_phrase(&lower, cue))
}
