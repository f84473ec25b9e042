//! Requests with nothing to do with a health plan. A request that mentions the plan's world (coverage, costs,
//! doctors, drugs, claims) is never off topic, however it is phrased.

use navigator_platform::contracts::BlockCategory;
use regex::Regex;
use std::sync::LazyLock;

use super::{Rule, Signal, fire, rules};

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    rules(&[
        (
            "creative_writing",
            r"(?-u:\b)(write|compose)(?-u:\b).{0,20}(?-u:\b)(poem|song|story|essay|joke|limerick|haiku)(?-u:\b)|(?-u:\b)(poema|canci[oó]n|cuento|chiste)(?-u:\b)",
            0.85,
        ),
        (
            "sports",
            r"(?-u:\b)who won(?-u:\b)|(?-u:\b)(game|match|score) (last night|yesterday|today)(?-u:\b)|(?-u:\b)(nba|nfl|mlb|world cup|super bowl|warriors|giants|49ers|lakers)(?-u:\b)",
            0.85,
        ),
        (
            "weather",
            r"(?-u:\b)weather(?-u:\b)|(?-u:\b)forecast(?-u:\b)|(?-u:\b)(el )?clima(?-u:\b)|(?-u:\b)va a llover(?-u:\b)",
            0.85,
        ),
        (
            "recipes",
            r"(?-u:\b)recipe(?-u:\b)|(?-u:\b)recetas? (de|para) (cocina|cocinar|postres?|pasteles?|tamales|pollo|carne|sopa|galletas)(?-u:\b)|(?-u:\b)how (do i|to) (cook|bake)(?-u:\b)|(?-u:\b)tamales(?-u:\b)",
            0.85,
        ),
        (
            "programming",
            r"(?-u:\b)(python|javascript|java|rust|sql|c\+\+)(?-u:\b).{0,40}(?-u:\b)(error|bug|code|function|script)(?-u:\b)|(?-u:\b)(indexerror|typeerror|stack trace|segfault|compile error)(?-u:\b)",
            0.85,
        ),
        (
            "investing",
            r"(?-u:\b)(stocks?|crypto|bitcoin|shares|etf)(?-u:\b).{0,30}(?-u:\b)(buy|sell|invest)(?-u:\b)|(?-u:\b)(buy|sell|invest in)(?-u:\b).{0,30}(?-u:\b)(stocks?|crypto|bitcoin|shares)(?-u:\b)",
            0.85,
        ),
        (
            "trivia",
            r"(?-u:\b)(capital of|translate the lyrics|tell me a joke|homework)(?-u:\b)",
            0.8,
        ),
    ])
});

/// Words of a health plan's world: any of them keeps a request on topic.
static ON_TOPIC: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(plan|cover\w*|copay\w*|coinsurance|deductible|premium|claims?|doctor|physician|hospital|pharmacy|drugs?|prescriptions?|medicare|medicaid|medi-cal|scan|benefits?|insurance|dental|vision|hearing|referral|authorization|member|appeal|specialist|clinic|visit|therapy|surgery|nurse|ambulance|emergency|seguro|cobertura|cubre|m[eé]dico|farmacia|medicamento)(?-u:\b)",
    )
    .ok()
});

pub fn signals(view: &str) -> Vec<Signal> {
    if ON_TOPIC.as_ref().is_some_and(|words| words.is_match(view)) {
        return Vec::new();
    }
    fire(&RULES, BlockCategory::OffTopic, view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::view;

    fn fires(text: &str) -> bool {
        !signals(&view(text)).is_empty()
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(RULES.len(), 7);
        assert!(ON_TOPIC.is_some());
    }

    #[test]
    fn off_topic_requests_fire_and_plan_questions_do_not() {
        assert!(fires("Write a haiku about autumn leaves"));
        assert!(fires("Should I buy Tesla stock?"));
        assert!(fires("¿Va a llover mañana en San José?"));
        assert!(!fires("Does my plan cover a flu shot if the weather turns cold?"));
        assert!(!fires("Which pharmacy is closest to the game stadium?"));
    }

    #[test]
    fn a_receta_is_a_prescription_unless_it_is_for_cooking() {
        assert!(!fires("¿Qué hago si me niegan una receta?"));
        assert!(!fires("¿Cuánto dinero trae la tarjeta para productos sin receta?"));
        assert!(fires("Dame una receta de tamales de pollo"));
    }
}
