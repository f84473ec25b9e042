use super::*;
use crate::chat::{Citation, Status};
use crate::compose::extractive::intent::Intent;
use crate::evidence::{CallRecord, CallResult, PlannedCall};
use navigator_platform::contracts::{ChunkHit, RetrieveOutput, RetrieveTimings, WebResult, WebSearchOutput};
use uuid::Uuid;

fn chunk(n: u128, page: u32, text: &str, score: f32) -> ChunkHit {
    ChunkHit {
        chunk_id: Uuid::from_u128(n),
        document_id: Uuid::from_u128(100),
        title: "SCAN Classic Evidence of Coverage".into(),
        page,
        section: "Chapter 4".into(),
        text: text.into(),
        score,
    }
}

fn evidence(chunks: Vec<ChunkHit>, web: Vec<WebResult>) -> Evidence {
    let mut calls = vec![CallRecord {
        wave: 1,
        call: PlannedCall {
            id: "w1-0".into(),
            call: ToolCall::Retrieve { query: "q".into() },
        },
        result: CallResult::Retrieved(RetrieveOutput {
            chunks,
            timings_ms: RetrieveTimings::default(),
        }),
        ms: 1.0,
    }];
    if !web.is_empty() {
        calls.push(CallRecord {
            wave: 1,
            call: PlannedCall {
                id: "w1-1".into(),
                call: ToolCall::WebSearch { query: "q".into() },
            },
            result: CallResult::Searched(WebSearchOutput { results: web }),
            ms: 1.0,
        });
    }
    Evidence { calls }
}

fn chart() -> Vec<ChunkHit> {
    vec![
        chunk(
            1,
            92,
            "Physician services\nPrimary care visit\n$0 copayment for each\noffice visit.\nSpecialist visit\n$20 copayment for each\noffice visit.\nPrior authorization rules may apply.",
            1.5,
        ),
        chunk(
            2,
            71,
            "Emergency care\nYou pay a $90 copayment for each\nemergency room visit.\nIf you are admitted, you do not pay it.",
            1.2,
        ),
        chunk(
            3,
            12,
            "You do not pay a separate monthly plan premium for SCAN Classic.\nYou must continue to pay your Medicare Part B premium.",
            1.1,
        ),
    ]
}

fn compose(question: &str, evidence: &Evidence) -> Composition {
    ExtractiveComposer::default().compose_now(question, evidence)
}

#[test]
fn quotes_the_row_that_answers_with_its_page() {
    let answer = compose("What does a specialist visit cost me?", &evidence(chart(), vec![]));
    assert_eq!(answer.status, Status::Answered);
    assert!(
        answer
            .answer
            .contains("Specialist visit $20 copayment for each office visit. [p. 92]"),
        "{}",
        answer.answer
    );
    assert_eq!(
        answer.citations[0],
        Citation::page("SCAN Classic Evidence of Coverage", 92)
    );
    let er = compose("How much is the ER?", &evidence(chart(), vec![]));
    assert!(
        er.answer.contains("$90 copayment") && er.answer.contains("[p. 71]"),
        "{}",
        er.answer
    );
}

#[test]
fn a_how_do_i_question_prefers_the_passage_that_says_what_to_send_where() {
    let chunks = vec![
        chunk(
            1,
            149,
            "You can ask us to pay you back for a bill you paid for covered medical care. We will look at the bill and decide whether the services should be covered.",
            1.4,
        ),
        chunk(
            2,
            152,
            "To get paid back for a bill, mail your request for payment with the bill and proof of payment to SCAN Health Plan, P.O. Box 21543, Eagan, MN 55121.",
            1.3,
        ),
    ];
    let answer = compose("How do I get paid back for a bill I paid?", &evidence(chunks, vec![]));
    assert_eq!(answer.status, Status::Answered);
    let address = answer
        .answer
        .find("P.O. Box 21543")
        .unwrap_or_else(|| panic!("the address is quoted: {}", answer.answer));
    let other = answer.answer.find("We will look at the bill").unwrap_or(usize::MAX);
    assert!(address < other, "the steps come first: {}", answer.answer);
    // Not a figure question: a procedure answer is not declined for lacking one.
    assert_eq!(intent("How do I appeal?"), Intent::Procedure);
    assert_eq!(intent("How do I appeal, and how long do I have?"), Intent::TimeSpan);
}

#[test]
fn every_quoted_line_carries_a_citation() {
    let answer = compose(
        "Is there a monthly premium for SCAN Classic?",
        &evidence(chart(), vec![]),
    );
    assert_eq!(answer.status, Status::Answered);
    for line in answer.answer.lines().skip(1) {
        assert!(line.ends_with(']'), "{line}");
    }
}

#[test]
fn a_name_the_sources_never_mention_is_unanswered() {
    let answer = compose(
        "What tier is Eliquis on, and what's my copay?",
        &evidence(chart(), vec![]),
    );
    assert_eq!(answer.status, Status::Unanswered);
    assert!(answer.answer.contains("do not mention Eliquis"), "{}", answer.answer);
    assert!(!answer.answer.contains('$'), "no amount is offered as an answer");
}

#[test]
fn a_name_that_only_sets_the_scene_does_not_decline_the_question() {
    let answer = compose(
        "I'm flying to Lisbon next week. How much is the ER?",
        &evidence(chart(), vec![]),
    );
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    let asked = compose(
        "I'm flying next week. Does Lisbon General take my plan?",
        &evidence(chart(), vec![]),
    );
    assert_eq!(asked.status, Status::Unanswered, "{}", asked.answer);
}

#[test]
fn an_amount_question_without_an_amount_in_the_sources_is_unanswered() {
    let sources = vec![chunk(
        1,
        12,
        "You must continue to pay your Medicare Part B premium to stay a member.",
        1.4,
    )];
    let answer = compose(
        "How much is the standard Medicare Part B premium?",
        &evidence(sources, vec![]),
    );
    assert_eq!(answer.status, Status::Unanswered, "{}", answer.answer);
}

#[test]
fn nothing_retrieved_is_unanswered_not_an_empty_answer() {
    let answer = compose("Is acupuncture covered?", &Evidence::default());
    assert_eq!(answer.status, Status::Unanswered);
    assert!(answer.answer.starts_with("I could not find"));
}

#[test]
fn web_results_are_cited_by_url() {
    let web = vec![WebResult {
        title: "Medicare costs".into(),
        url: "https://www.medicare.gov/basics/costs".into(),
        snippet: "The standard Part B premium amount in 2025 is $185.00.".into(),
        score: 0.9,
    }];
    let answer = compose(
        "How much is the standard Part B premium in 2025?",
        &evidence(vec![], web),
    );
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    assert!(
        answer
            .answer
            .contains("$185.00. [https://www.medicare.gov/basics/costs]")
    );
    assert_eq!(
        answer.citations[0].url.as_deref(),
        Some("https://www.medicare.gov/basics/costs")
    );
}

#[test]
fn a_referred_section_that_was_read_is_quoted_after_its_reference() {
    let in_section = |n: u128, page: u32, section: &str, text: &str, score: f32| ChunkHit {
        section: section.into(),
        ..chunk(n, page, text, score)
    };
    let referrer = in_section(
        1,
        10,
        "CHAPTER 1: Getting started › Section 2.1 Your eligibility requirements",
        "You are eligible as long as you live in our geographic service area (Section 2.2 below describes our \
         service area).",
        1.4,
    );
    let target = in_section(
        2,
        10,
        "CHAPTER 1: Getting started › Section 2.2 Here is the plan service area",
        "Section 2.2 Here is the plan service area\nThe plan is for people who live in our service area.\n\
         Our service area includes these counties in California: Alameda and San Mateo counties.",
        0.7,
    );
    let unrelated = in_section(
        3,
        131,
        "CHAPTER 5: Drugs › Section 9.1 Hospital stays",
        "If you live in a hospital, we cover your drugs.",
        1.0,
    );
    let question = "Where do I have to live to stay on this plan?";
    let with_section = evidence(vec![referrer.clone(), target.clone(), unrelated.clone()], vec![]);
    let answer = ExtractiveComposer::default().compose_now(question, &with_section);
    assert_eq!(answer.status, Status::Answered);
    let reference = answer.answer.find("Section 2.2 below").unwrap();
    let counties = answer
        .answer
        .find("Alameda and San Mateo counties")
        .expect("the opening is quoted");
    assert!(reference < counties, "{}", answer.answer);
    assert!(
        answer.answer.contains("hospital"),
        "with room, a near-best passage stays: {}",
        answer.answer
    );

    // Without the section's passage there is nothing to follow: the reference stands alone.
    let without = evidence(vec![referrer, unrelated], vec![]);
    let answer = ExtractiveComposer::default().compose_now(question, &without);
    assert!(!answer.answer.contains("Alameda"), "{}", answer.answer);

    // With room for only two passages, the one kept for scoring near the best gives way to the opening of the
    // section the best one refers to.
    let tight = ExtractiveComposer {
        settings: ExtractiveSettings {
            max_passages: 2,
            ..ExtractiveSettings::default()
        },
    };
    let answer = tight.compose_now(question, &with_section);
    assert!(
        answer.answer.contains("Alameda and San Mateo counties"),
        "{}",
        answer.answer
    );
    assert!(!answer.answer.contains("hospital"), "{}", answer.answer);
}
