//! What kind of answer a question asks for, and whether a sentence holds it.

use navigator_platform::text::contains_phrase;

use crate::compose::grounding::{Figure, figures};

/// What kind of answer the question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Intent {
    Amount,
    PhoneNumber,
    TimeSpan,
    /// "How do I ...": the steps, where to send what, whom to ask.
    Procedure,
    Other,
}

impl Intent {
    /// Whether the question asks for a figure, which an answer must then state.
    pub(super) fn asks_for_a_figure(self) -> bool {
        matches!(self, Self::Amount | Self::PhoneNumber | Self::TimeSpan)
    }
}

/// Cues of a question asking for an amount. "Will the plan pay for a wig?" asks whether, not how much.
pub(super) const AMOUNT_CUES: &[&str] = &[
    "how much",
    "cost",
    "costs",
    "copay",
    "copayment",
    "coinsurance",
    "price",
    "premium",
    "charge",
    "fee",
    "owe",
    "deductible",
    "what do i pay",
    "what will i pay",
    "do i pay",
    "i have to pay",
    "my share",
    "cuánto",
    "cuanto",
    "cuesta",
    "pago",
    "costo",
];
pub(super) const PHONE_CUES: &[&str] = &["phone", "number", "call", "teléfono", "telefono", "llamar"];
pub(super) const TIME_CUES: &[&str] = &[
    "how long",
    "how soon",
    "how many days",
    "how often",
    "how much notice",
    "how much time",
    "how far in advance",
    "deadline",
    "cuánto tiempo",
];

/// Cues of a question asking how to do something.
pub(super) const PROCEDURE_CUES: &[&str] = &[
    "how do i",
    "how can i",
    "how do we",
    "how can we",
    "how should i",
    "what do i do",
    "what should i do",
    "what steps",
    "cómo puedo",
    "qué debo hacer",
];

/// Words of a sentence that tells the member what to do: send, ask for, or fill in something.
pub(super) const PROCEDURE_WORDS: &[&str] = &[
    "submit",
    "mail",
    "send",
    "request",
    "ask for",
    "ask us",
    "in writing",
    "fill out",
    "p.o. box",
    "form",
];

/// Words that say "it costs nothing" or "it is not paid for": answers to "how much" without a dollar sign.
pub(super) const AMOUNT_WORDS: &[&str] = &[
    "do not pay",
    "don't pay",
    "no cost",
    "not covered",
    "no coinsurance",
    "nothing",
    "free of charge",
    "%",
];

pub(super) fn intent(question: &str) -> Intent {
    let lower = question.to_lowercase();
    let has = |cues: &[&str]| cues.iter().any(|cue| contains_phrase(&lower, cue));
    if has(PHONE_CUES) && (lower.contains("phone") || lower.contains("number") || lower.contains("teléfono")) {
        Intent::PhoneNumber
    } else if has(TIME_CUES) {
        Intent::TimeSpan
    } else if has(AMOUNT_CUES) {
        Intent::Amount
    } else if has(PROCEDURE_CUES) {
        Intent::Procedure
    } else {
        Intent::Other
    }
}

pub(super) fn holds_intent(text: &str, intent: Intent) -> bool {
    let lower = text.to_lowercase();
    match intent {
        Intent::Amount => {
            figures(text).iter().any(|f| matches!(f, Figure::Dollars(_)))
                || AMOUNT_WORDS.iter().any(|w| lower.contains(w))
        }
        Intent::PhoneNumber => figures(text).iter().any(|f| matches!(f, Figure::Phone(_))),
        Intent::TimeSpan => {
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let is_number = |w: &str| w.chars().all(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&w);
            let is_unit = |w: &str| TIME_UNITS.contains(&w);
            words
                .iter()
                .enumerate()
                .any(|(i, word)| is_number(word) && words[i + 1..].iter().take(2).any(|next| is_unit(next)))
        }
        Intent::Procedure => PROCEDURE_WORDS.iter().any(|w| contains_phrase(&lower, w)),
        Intent::Other => false,
    }
}

pub(super) const TIME_UNITS: &[&str] = &[
    "day", "days", "hour", "hours", "month", "months", "week", "weeks", "year", "years",
];
pub(super) const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "ten", "fourteen", "thirty", "sixty", "ninety",
];
