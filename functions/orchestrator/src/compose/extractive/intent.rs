//! What kind of answer a question asks for, read from how it asks, and whether a sentence holds that kind.
//!
//! The kinds are the ones plan questions take: an amount, a time limit, a phone number, a place to send something
//! or go, the steps to take, or a yes or no with its condition. They are read from the question's own form
//! ("how much", "how long", "where do I", a question opening with "is", "can", "do"), not from its topic.

use navigator_platform::text::contains_phrase;

use crate::compose::grounding::{Figure, figures};

/// What kind of answer the question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AnswerType {
    Amount,
    /// "How long ...", "How soon ...": a length of time.
    TimeLimit,
    /// "When ...", "By when ...", "What's the deadline ...": a length of time or a date.
    When,
    Phone,
    /// "What's the e-mail address of ...": one written with an @.
    Email,
    /// "Where do I send ...": an address, a website, a place.
    Place,
    /// "How do I ...": the steps, where to send what, whom to ask.
    Procedure,
    /// "Is ...?", "Can I ...?", "Do I ...?": yes or no, and on what condition.
    YesNo,
    Other,
}

impl AnswerType {
    /// Whether the question asks for a figure, which an answer must then state.
    pub(super) fn asks_for_a_figure(self) -> bool {
        matches!(
            self,
            Self::Amount | Self::Phone | Self::Email | Self::TimeLimit | Self::When
        )
    }

    #[cfg(feature = "tuning")]
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Amount => "amount",
            Self::TimeLimit => "time_limit",
            Self::When => "when",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Place => "place",
            Self::Procedure => "procedure",
            Self::YesNo => "yes_no",
            Self::Other => "other",
        }
    }
}

/// Cues of a question asking for an amount. "Will the plan pay for a wig?" asks whether, not how much.
const AMOUNT_CUES: &[&str] = &[
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
    "costo",
];
const PHONE_CUES: &[&str] = &["phone", "number", "tty", "teléfono", "telefono"];
/// Cues that ask for the address itself: "Can I get my EOB by email?" asks no such thing.
const EMAIL_CUES: &[&str] = &[
    "email address",
    "e-mail address",
    "email for",
    "e-mail for",
    "email of",
    "e-mail of",
    "dirección de correo",
    "correo electrónico de",
];
const TIME_CUES: &[&str] = &[
    "how long",
    "how soon",
    "how quickly",
    "how fast",
    "how many days",
    "how often",
    "how much notice",
    "how much time",
    "how far in advance",
    "cuánto tiempo",
];
/// Cues of a question asking when, beside a question opening with "when": a date answers it as a length of time does.
const WHEN_CUES: &[&str] = &["by when", "deadline", "time limit"];
/// Cues of a question asking how to do something.
const PROCEDURE_CUES: &[&str] = &[
    "how do i",
    "how can i",
    "how do we",
    "how can we",
    "how should i",
    "how to",
    "what do i do",
    "what should i do",
    "what steps",
    "what do i need",
    "cómo puedo",
    "qué debo hacer",
];
/// Cues of a question asking where.
const PLACE_CUES: &[&str] = &["where", "what address", "which address", "dónde", "donde"];
/// Words opening a yes-or-no question.
const YES_NO_OPENERS: &[&str] = &[
    "is", "are", "am", "do", "does", "did", "can", "could", "will", "would", "should", "shall", "has", "have", "must",
    "may", "was", "were",
];

/// Words of a sentence that tells the member what to do: send, ask for, call, or fill in something.
const PROCEDURE_WORDS: &[&str] = &[
    "submit",
    "mail",
    "send",
    "request",
    "ask for",
    "ask us",
    "call",
    "contact",
    "in writing",
    "fill out",
    "p.o. box",
    "form",
    "file",
];
/// Words that say "it costs nothing" or "it is not paid for": answers to "how much" without a dollar sign.
const AMOUNT_WORDS: &[&str] = &[
    "do not pay",
    "don't pay",
    "no cost",
    "not covered",
    "no coinsurance",
    "nothing",
    "free of charge",
    "%",
];
/// Words that settle a yes-or-no question about a plan: whether something is covered, needed or allowed.
const POLAR_WORDS: &[&str] = &[
    "covered", "cover", "covers", "not", "no", "excluded", "required", "must", "can", "may", "will", "you pay",
    "we pay", "need", "only",
];
/// Words of a place or an address.
const PLACE_WORDS: &[&str] = &[
    "p.o. box",
    "www.",
    ".gov",
    ".com",
    ".org",
    "suite",
    "street",
    "avenue",
    "boulevard",
];
const TIME_UNITS: &[&str] = &[
    "day", "days", "hour", "hours", "month", "months", "week", "weeks", "year", "years", "midnight",
];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "ten", "fourteen", "thirty", "sixty", "ninety",
];

/// The sentences of a message that ask something (those ending in a question mark), or all of them when none does.
/// "I got a new phone number. How do I update it?" asks how, not for a number: a sentence telling the member's
/// situation names things without asking for them. Not `navigator_platform::text::sentences`, which cuts plan text:
/// it joins a PDF's lines into chart rows, knows English abbreviations by their capitals and drops short pieces; a
/// member's message is typed, in either language, in any case.
pub(super) fn asking_sentences(message: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    for (at, c) in message.char_indices() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let end = at + c.len_utf8();
        if c == '.' && !full_stop_ends_a_sentence(message, at) {
            continue;
        }
        sentences.push(&message[start..end]);
        start = end;
    }
    if start < message.len() {
        sentences.push(&message[start..]);
    }
    sentences.retain(|s| !s.trim().is_empty());
    let asking: Vec<&str> = sentences
        .iter()
        .copied()
        .filter(|s| s.trim_end().ends_with('?'))
        .collect();
    if asking.is_empty() { sentences } else { asking }
}

/// Abbreviations whose full stop ends no sentence: "Dr. Patel", "phone no. for Member Services".
const ABBREVIATIONS: &[&str] = &[
    "dr", "dra", "mr", "mrs", "ms", "sr", "sra", "srta", "st", "no", "vs", "jr", "etc", "approx", "dept", "apt",
];

/// Whether the full stop at byte `at` ends a sentence: not inside a word or a number ("a.m.", "1.5"), unless a
/// capital follows it straight away ("SCAN Classic.Is my MRI covered?"), and not after an abbreviation.
fn full_stop_ends_a_sentence(message: &str, at: usize) -> bool {
    let next = message[at + 1..].chars().next();
    if next.is_some_and(|n| !n.is_whitespace() && !n.is_uppercase()) {
        return false;
    }
    let word = message[..at]
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_lowercase();
    // A single letter is an initial ("Walter J. Kowalski").
    !(ABBREVIATIONS.contains(&word.as_str()) || word.chars().count() == 1)
}

/// The asking sentences of a message as one text (see [`asking_sentences`]).
pub(super) fn asking(message: &str) -> String {
    asking_sentences(message)
        .iter()
        .map(|s| s.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The kind of answer `question` asks for.
pub(super) fn answer_type(question: &str) -> AnswerType {
    let lower = question.to_lowercase();
    let has = |cues: &[&str]| cues.iter().any(|cue| contains_phrase(&lower, cue));
    let first_word = first_word(main_clause(&lower));
    if has(PHONE_CUES) {
        AnswerType::Phone
    } else if has(EMAIL_CUES) {
        AnswerType::Email
    } else if has(TIME_CUES) {
        AnswerType::TimeLimit
    } else if first_word == "when" || has(WHEN_CUES) {
        AnswerType::When
    } else if has(AMOUNT_CUES) {
        AnswerType::Amount
    } else if has(PLACE_CUES) {
        AnswerType::Place
    } else if has(PROCEDURE_CUES) {
        AnswerType::Procedure
    } else if opens_yes_no(question) {
        AnswerType::YesNo
    } else {
        AnswerType::Other
    }
}

/// Whether the question opens like a yes-or-no question ("Do I ...", "Is there ...", "If they approve it, can I
/// ...?").
pub(super) fn opens_yes_no(question: &str) -> bool {
    let lower = question.to_lowercase();
    YES_NO_OPENERS.contains(&first_word(main_clause(&lower)))
}

/// The clause that asks: after a leading condition ("If SCAN changes the premium, when will I find out?" asks when),
/// the text after its comma; otherwise the whole question.
fn main_clause(lower: &str) -> &str {
    match first_word(lower) {
        // A comma inside a figure ("$2,000") is no clause's end.
        "if" | "si" => lower.split_once(", ").map_or(lower, |(_, rest)| rest),
        _ => lower,
    }
}

fn first_word(text: &str) -> &str {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .find(|w| !w.is_empty())
        .unwrap_or_default()
}

/// Whether `text` holds an answer of kind `answer`.
pub(super) fn holds(text: &str, answer: AnswerType) -> bool {
    let lower = text.to_lowercase();
    let has = |words: &[&str]| {
        words
            .iter()
            .any(|w| contains_phrase(&lower, w) || (w.len() > 3 && lower.contains(w)))
    };
    match answer {
        AnswerType::Amount => figures(text).iter().any(|f| matches!(f, Figure::Dollars(_))) || has(AMOUNT_WORDS),
        AnswerType::Phone => figures(text).iter().any(|f| matches!(f, Figure::Phone(_))),
        AnswerType::Email => text.split_whitespace().any(|w| {
            w.split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
        }),
        AnswerType::TimeLimit | AnswerType::When => {
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let is_number = |w: &str| w.chars().all(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&w);
            // A date answers "when" as a length of time does: "we will tell you in September", "on January 1".
            // "May" is also a verb: it counts only before a day's number.
            let is_month = |i: usize, w: &str| {
                MONTHS.contains(&w) || (w == "may" && words.get(i + 1).is_some_and(|next| next.parse::<u8>().is_ok()))
            };
            words.contains(&"midnight")
                || words.iter().enumerate().any(|(i, word)| {
                    (answer == AnswerType::When && is_month(i, word))
                        || (is_number(word) && words[i + 1..].iter().take(2).any(|next| TIME_UNITS.contains(next)))
                })
        }
        AnswerType::Place => has(PLACE_WORDS) || figures(text).iter().any(|f| matches!(f, Figure::Phone(_))),
        AnswerType::Procedure => has(PROCEDURE_WORDS),
        AnswerType::YesNo => has(POLAR_WORDS),
        AnswerType::Other => false,
    }
}
