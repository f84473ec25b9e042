use super::*;
use crate::chat::{Citation, Status};
use crate::compose::extractive::intent::{AnswerType, answer_type};
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
        similarity: None,
        units: Vec::new(),
        piece_matches: Vec::new(),
    }
}

/// A wave-1 search for `query` that ended in `result`.
fn search(id: &str, query: &str, result: CallResult) -> CallRecord {
    CallRecord {
        wave: 1,
        call: PlannedCall {
            id: id.into(),
            call: ToolCall::Retrieve { query: query.into() },
        },
        result,
        ms: 1.0,
    }
}

fn found(chunks: Vec<ChunkHit>) -> CallResult {
    CallResult::Retrieved(RetrieveOutput {
        chunks,
        best_similarity: None,
        timings_ms: RetrieveTimings::default(),
    })
}

fn evidence(chunks: Vec<ChunkHit>, web: Vec<WebResult>) -> Evidence {
    let mut calls = vec![search("w1-0", "q", found(chunks))];
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

/// `chunk` with a similarity for each of its sentences, as retrieval scores them: `closest` for sentences holding
/// `about`, `rest` for the others.
fn scored(chunk: ChunkHit, about: &str, closest: f32, rest: f32) -> ChunkHit {
    let units = navigator_platform::text::sentences(&chunk.text)
        .iter()
        .map(|s| {
            if !about.is_empty() && s.contains(about) {
                closest
            } else {
                rest
            }
        })
        .collect();
    ChunkHit { units, ..chunk }
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
        Citation::document_page("SCAN Classic Evidence of Coverage", uuid::Uuid::from_u128(100), 92)
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
    assert_eq!(answer_type("How do I appeal?"), AnswerType::Procedure);
    assert_eq!(
        answer_type("How do I appeal, and how long do I have?"),
        AnswerType::TimeLimit
    );
}

#[test]
fn answer_types_come_from_how_the_question_asks() {
    for (question, expected) in [
        ("What's the TTY number for Member Services?", AnswerType::Phone),
        ("How soon must you decide on my appeal?", AnswerType::TimeLimit),
        ("When does my coverage start?", AnswerType::When),
        ("By when must I file the appeal?", AnswerType::When),
        ("What's the deadline to enroll in a new plan?", AnswerType::When),
        (
            "What is the time limit for asking for a reconsideration?",
            AnswerType::When,
        ),
        ("How much is a hearing aid?", AnswerType::Amount),
        ("Where do I mail a complaint?", AnswerType::Place),
        ("How can I get a copy of the drug list?", AnswerType::Procedure),
        ("Is acupuncture covered?", AnswerType::YesNo),
        ("Do I have to pay the ambulance copay?", AnswerType::Amount),
        ("Tell me about hospice.", AnswerType::Other),
        // After a leading condition, the clause that asks decides.
        (
            "If SCAN changes the premium for next year, when will I find out?",
            AnswerType::When,
        ),
        ("If I move, can I keep my doctor?", AnswerType::YesNo),
        ("What's the e-mail address of the ombudsman?", AnswerType::Email),
        ("Can I get my EOB by email?", AnswerType::YesNo),
        (
            "If I've paid $2,000 this year, when does catastrophic coverage start?",
            AnswerType::When,
        ),
        ("What's the email and TTY for the privacy office?", AnswerType::Phone),
    ] {
        assert_eq!(answer_type(question), expected, "{question}");
    }
    assert!(intent::opens_yes_no("Do I have to pay the ambulance copay?"));
    assert!(intent::opens_yes_no(
        "If you agree to drop the prior authorization, can I also ask to pay a lower copay?"
    ));
    assert!(!intent::opens_yes_no("If I lose my card, what do I do?"));
}

#[test]
fn a_date_answers_a_when_question_but_not_a_how_long_one() {
    let dates = [
        "We will tell you in September.",
        "Your coverage begins on January 1.",
        "Changes take effect May 1, 2025.",
    ];
    for text in dates {
        assert!(intent::holds(text, AnswerType::When), "{text}");
        assert!(!intent::holds(text, AnswerType::TimeLimit), "{text}");
    }
    let length = "We must answer within 14 calendar days.";
    assert!(intent::holds(length, AnswerType::When) && intent::holds(length, AnswerType::TimeLimit));
    for text in ["You may ask us for a fast decision.", "Call Member Services."] {
        assert!(!intent::holds(text, AnswerType::When), "{text}");
    }
}

#[test]
fn a_when_question_after_a_condition_is_answered_by_a_passage_with_a_date() {
    let sources = vec![chunk(
        1,
        17,
        "If we change the plan premium, we will tell you in September, and the change will take effect on January 1.",
        1.5,
    )];
    let answer = compose(
        "If SCAN changes the premium for next year, when will I find out?",
        &evidence(sources, vec![]),
    );
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    assert!(answer.answer.contains("in September"), "{}", answer.answer);
}

#[test]
fn a_figure_named_by_the_member_s_situation_is_not_one_the_question_asks_for() {
    let chunks = vec![chunk(
        1,
        18,
        "If any of this information changes, please let us know by calling Member Services. You can also change \
         your address and phone number online by registering your member account.",
        1.6,
    )];
    let ask = |question: &str| compose(question, &evidence(chunks.clone(), vec![]));
    // The situation names a phone number; the question asks how: the passage answers without stating a number.
    let answer = ask("I got a new phone number and address. How do I update them with SCAN?");
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    assert!(answer.answer.contains("change your address and phone number online"));
    // Asked for the number itself, the same passage does not answer.
    let answer = ask("I moved last month. What phone number do I call to update my address?");
    assert_eq!(answer.status, Status::Unanswered, "{}", answer.answer);
    // Abbreviations and initials end no sentence; a capital right after a full stop starts one.
    for (message, asked) in [
        ("I moved. What number do I call? It's urgent.", "What number do I call?"),
        ("Call me at 8 a.m. please", "Call me at 8 a.m. please"),
        ("How much is a visit to Dr. Patel?", "How much is a visit to Dr. Patel?"),
        (
            "What's the phone no. for Member Services?",
            "What's the phone no. for Member Services?",
        ),
        ("I have SCAN Classic.Is my MRI covered?", "Is my MRI covered?"),
        ("¿Cuánto cobra la Dra. López?", "¿Cuánto cobra la Dra. López?"),
    ] {
        assert_eq!(intent::asking(message), asked, "{message}");
    }
}

#[test]
fn the_sentence_closest_in_meaning_leads_even_from_a_lower_ranked_chunk() {
    let chunks = vec![
        scored(
            chunk(
                1,
                40,
                "Our plan covers many services. Some services need approval first.",
                1.6,
            ),
            "",
            0.0,
            0.3,
        ),
        scored(
            chunk(
                2,
                92,
                "An electronic home unit or neck pendant is covered. You pay a $0 copayment.",
                1.2,
            ),
            "neck pendant",
            0.85,
            0.5,
        ),
    ];
    let answer = compose("Do you cover a medical alert necklace?", &evidence(chunks, vec![]));
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    let first = answer.answer.lines().nth(1).unwrap();
    assert!(
        first.contains("neck pendant") && first.ends_with("[p. 92]"),
        "{}",
        answer.answer
    );
}

#[test]
fn each_part_is_answered_or_said_to_be_missing() {
    let chunks = chart().into_iter().map(|c| scored(c, "Specialist", 0.8, 0.2)).collect();
    let answer = compose(
        "What does a specialist visit cost, and how many acupuncture visits do I get a year?",
        &evidence(chunks, vec![]),
    );
    assert_eq!(answer.status, Status::Answered);
    let lines: Vec<&str> = answer.answer.lines().collect();
    assert!(lines[1].contains("$20 copayment"), "{}", answer.answer);
    assert!(
        lines[2].starts_with("• Your plan documents do not say: how many acupuncture visits"),
        "{}",
        answer.answer
    );
}

#[test]
fn at_most_two_passages_support_the_answer_and_none_repeats_it() {
    let repeated = "For most adult Part D vaccines, you will pay nothing.";
    let chunks = vec![
        chunk(
            1,
            146,
            &format!("{repeated} Some vaccines are covered under Part B."),
            1.5,
        ),
        chunk(2, 146, &format!("Some states limit pharmacies. {repeated}"), 1.4),
        chunk(
            3,
            147,
            "Vaccines recommended by ACIP cost you nothing. Part D covers vaccines.",
            1.3,
        ),
        chunk(4, 148, "You pay nothing for most vaccines at a network pharmacy.", 1.2),
    ];
    let answer = compose("Which Part D vaccines cost me nothing?", &evidence(chunks, vec![]));
    let quotes = answer.answer.lines().filter(|l| l.starts_with('•')).count();
    assert!((1..=3).contains(&quotes), "{}", answer.answer);
    assert_eq!(answer.answer.matches(repeated).count(), 1, "{}", answer.answer);
}

#[test]
fn a_year_no_source_mentions_is_unanswered() {
    let answer = compose("What will the monthly premium be in 2031?", &evidence(chart(), vec![]));
    assert_eq!(answer.status, Status::Unanswered, "{}", answer.answer);
    assert!(answer.answer.contains("2031"), "{}", answer.answer);
}

#[test]
fn a_weak_best_passage_is_declined_by_the_threshold() {
    let chunks = vec![chunk(1, 9, "SCAN Classic is a Medicare Advantage HMO plan.", 1.2)];
    let strict = ExtractiveComposer {
        settings: ExtractiveSettings {
            answer_threshold: 5.0,
            ..ExtractiveSettings::default()
        },
    };
    let declined = strict.compose_now("Is SCAN Classic an HMO?", &evidence(chunks.clone(), vec![]));
    assert_eq!(declined.status, Status::Unanswered);
    let answered = compose("Is SCAN Classic an HMO?", &evidence(chunks, vec![]));
    assert_eq!(answered.status, Status::Answered, "{}", answered.answer);
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

#[tokio::test]
async fn on_a_pool_it_composes_the_same_answer_there() {
    let evidence = evidence(chart(), vec![]);
    let question = "What do I pay for a specialist visit?";
    let pool = CpuPool::new("compose-test", 1, 4);
    let pooled = ExtractiveComposer::default().on_pool(pool.clone());
    let cx = ComposeContext {
        question,
        evidence: &evidence,
        draft: None,
    };
    let composed = pooled
        .compose(cx, Deadline::after(std::time::Duration::from_secs(5)))
        .await
        .expect("composed on the pool");
    assert_eq!(composed, compose(question, &evidence));
    assert!(pool.mean_run() > std::time::Duration::ZERO, "the pool ran the work");
}

/// Whether the answer's first quote starts with `text`.
fn leads(answer: &Composition, text: &str) -> bool {
    answer
        .answer
        .lines()
        .find_map(|line| line.strip_prefix("• "))
        .is_some_and(|quote| quote.starts_with(text))
}

/// `chunk` with each sentence's best match for each question piece, as retrieval gives them.
fn matched(chunk: ChunkHit, matches: &[f32]) -> ChunkHit {
    let sentences = navigator_platform::text::sentences(&chunk.text).len();
    ChunkHit {
        units: vec![0.6; sentences],
        piece_matches: vec![matches.to_vec(); sentences],
        ..chunk
    }
}

#[test]
fn the_sentence_that_matches_the_questions_rarer_pieces_leads() {
    // Same sentence similarity, same words of the question held, both hold an amount: only the pieces differ. The
    // second chunk matches the question's third piece ("aids", say) where the first does not.
    let chunks = vec![
        matched(chunk(1, 60, "Hearing exams cost $0 each year.", 1.4), &[0.9, 0.9, 0.5]),
        matched(
            chunk(2, 61, "Hearing devices cost $550 per device.", 1.3),
            &[0.9, 0.9, 0.95],
        ),
    ];
    let question = "What do hearing aids cost?";
    let answer = compose(question, &evidence(chunks.clone(), vec![]));
    assert_eq!(answer.status, Status::Answered);
    assert!(leads(&answer, "Hearing devices cost $550"), "{}", answer.answer);

    // Without the matches weighed, the better-ranked source leads: the pieces are what decided.
    let mut unweighted = ExtractiveComposer::default();
    unweighted.settings.interaction_weight = 0.0;
    let answer = unweighted.compose_now(question, &evidence(chunks, vec![]));
    assert!(leads(&answer, "Hearing exams cost $0"), "{}", answer.answer);
}

#[test]
fn matches_made_for_another_questions_pieces_are_not_weighed() {
    // The first search matched the question's two pieces; a sub-question's search matched its own three. Rows of
    // another length are not the same pieces: read as the question's, the second chunk's would win.
    let chunks = vec![
        matched(chunk(1, 60, "Hearing exams cost $0 each year.", 1.4), &[0.5, 0.5]),
        matched(
            chunk(2, 61, "Hearing devices cost $550 per device.", 1.3),
            &[0.99, 0.99, 0.99],
        ),
    ];
    let answer = compose("What do hearing aids cost?", &evidence(chunks, vec![]));
    assert!(leads(&answer, "Hearing exams cost $0"), "{}", answer.answer);
}

/// A later part's search of "What do hearing aids cost? Are exams covered?": its rows match its own two pieces.
fn later_part_search() -> CallRecord {
    search(
        "w1-1",
        "Are exams covered? What do hearing aids cost?",
        found(vec![matched(
            chunk(2, 61, "Hearing devices cost $550 per device.", 1.3),
            &[0.99, 0.99],
        )]),
    )
}

#[test]
fn matches_made_for_a_later_parts_search_are_not_weighed_even_of_the_same_length() {
    // The turn's own search matched the question's two pieces; a later part's search matched two pieces of its own
    // query. Same length, other pieces: read as the question's, the second chunk's rows would win.
    let evidence = Evidence {
        calls: vec![
            search(
                "w1-0",
                "What do hearing aids cost? Are exams covered?",
                found(vec![matched(
                    chunk(1, 60, "Hearing exams cost $0 each year.", 1.4),
                    &[0.5, 0.5],
                )]),
            ),
            later_part_search(),
        ],
    };
    assert_eq!(evidence.question_piece_matches().len(), 1);
    let answer = compose("What do hearing aids cost?", &evidence);
    assert!(leads(&answer, "Hearing exams cost $0"), "{}", answer.answer);
}

#[test]
fn a_passage_never_stops_on_a_sentence_that_introduces_the_next() {
    // The address line holds none of the question's words: without the colon read as a promise, the window that
    // stops at "this address:" scores as well as the one that goes on, and is quoted without the address. (The
    // answer type is not weighed here: holding an address, the longer window would win on it alone.)
    let text = "Mail your request for payment with your pharmacy receipts to us at this address:\n\
                Express Scripts, P.O. Box 14718, Lexington, KY 40512-4718";
    let cut = navigator_platform::text::sentences(text);
    assert!(
        cut.len() == 2 && cut[0].ends_with(':'),
        "the fixture is two sentences: {cut:?}"
    );
    let sentences = cut.len();
    let chunks = vec![ChunkHit {
        units: vec![0.7; sentences],
        ..chunk(1, 152, text, 1.5)
    }];
    let mut composer = ExtractiveComposer::default();
    composer.settings.answer_type_weight = 0.0;
    let answer = composer.compose_now("Where do I mail my pharmacy receipts?", &evidence(chunks, vec![]));
    assert_eq!(answer.status, Status::Answered);
    assert!(answer.answer.contains("P.O. Box 14718"), "{}", answer.answer);
    assert!(!answer.answer.contains("address: [p."), "{}", answer.answer);
}

#[test]
fn windows_reach_past_their_limits_only_to_what_a_colon_introduces() {
    // Five lines: the fourth introduces the fifth; the first two are a chain of introductions.
    let text =
        "Dental services:\nPreventive care:\nCleanings are covered twice a year.\nYou pay this amount:\n$0 copay.";
    let candidates = super::super::passages::sentences(&evidence(vec![chunk(1, 80, text, 1.5)], vec![]));
    assert_eq!(candidates.len(), 5, "the fixture is five sentences");
    let composer = ExtractiveComposer::default();
    assert_eq!(composer.settings.window_sentences, 4);
    let windows: Vec<(usize, usize)> = composer
        .score("What do cleanings cost?", &candidates)
        .iter()
        .map(|s| (s.first, s.window.len()))
        .collect();
    // No window stops on a line ending in a colon while the source goes on.
    for &(first, len) in &windows {
        let last = &candidates[first + len - 1].text;
        assert!(
            !last.ends_with(':') || len == 5,
            "window {first}+{len} stops on {last:?}"
        );
    }
    // The window from the first line reaches the amount its fourth line introduces: one past the 4-sentence limit.
    assert!(windows.contains(&(0, 5)), "{windows:?}");
    // And no further: nothing is longer than the limit and one.
    assert!(windows.iter().all(|&(_, len)| len <= 5), "{windows:?}");
    // A source ending on a colon line still offers it.
    let cut_short = "Mail your request to this address:";
    let candidates = super::super::passages::sentences(&evidence(vec![chunk(2, 80, cut_short, 1.5)], vec![]));
    assert_eq!(composer.score("Where do I mail my request?", &candidates).len(), 1);
}

#[test]
fn piece_matches_come_from_the_first_search_that_found_something() {
    // The whole question's search failed; a later part's search then holds the only rows, and they are weighed.
    let evidence = Evidence {
        calls: vec![
            search(
                "w1-0",
                "What do hearing aids cost? Are exams covered?",
                CallResult::Failed {
                    outcome: crate::chat::Outcome::Timeout,
                    error: None,
                },
            ),
            later_part_search(),
        ],
    };
    let matches = evidence.question_piece_matches();
    assert_eq!(matches.get(&Uuid::from_u128(2)).map(|rows| rows.len()), Some(1));
}

/// `chart()` found by a search that reports how close the plan came to the question (`best`), as an adapted search
/// does, beside `web`.
fn chart_at(best: Option<f32>, web: Vec<WebResult>) -> Evidence {
    let mut evidence = evidence(chart(), web);
    for record in &mut evidence.calls {
        if let CallResult::Retrieved(output) = &mut record.result {
            output.best_similarity = best;
        }
    }
    evidence
}

#[test]
fn a_question_no_passage_is_close_to_is_declined_when_the_search_was_adapted() {
    let threshold = ExtractiveSettings::default().min_similarity;
    let question = "What does a specialist visit cost me?";
    let below = compose(question, &chart_at(Some(threshold - 0.05), vec![]));
    assert_eq!(below.status, Status::Unanswered, "{}", below.answer);
    assert!(
        below.answer.contains("no passage is about what you asked"),
        "{}",
        below.answer
    );

    let above = compose(question, &chart_at(Some(threshold + 0.05), vec![]));
    assert_eq!(above.status, Status::Answered, "{}", above.answer);
    // A search no adapter read reports no similarity, and the check stands aside.
    let unadapted = compose(question, &chart_at(None, vec![]));
    assert_eq!(unadapted.status, Status::Answered, "{}", unadapted.answer);
}

#[test]
fn a_distant_plan_does_not_decline_what_the_web_answered() {
    let threshold = ExtractiveSettings::default().min_similarity;
    let web = vec![WebResult {
        title: "Medicare.gov: Part B premium".into(),
        url: "https://www.medicare.gov/basics/costs/medicare-costs".into(),
        snippet: "The standard Part B premium in 2025 is $185.00 each month.".into(),
        score: 0.9,
    }];
    let answer = compose(
        "What is the standard Part B premium in 2025?",
        &chart_at(Some(threshold - 0.1), web),
    );
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    assert!(answer.answer.contains("$185.00"), "{}", answer.answer);
}

#[test]
fn the_plan_answers_when_the_web_search_beside_it_failed() {
    // The planner asked the web too ("Part B premium" is a Medicare programme fact), and the web was switched off:
    // the plan's passage that answers is still the answer.
    let mut evidence = evidence(chart(), vec![]);
    evidence.calls.push(CallRecord {
        wave: 1,
        call: PlannedCall {
            id: "w1-1".into(),
            call: ToolCall::WebSearch {
                query: "Part B premium".into(),
            },
        },
        result: CallResult::Failed {
            outcome: crate::chat::Outcome::Rejected,
            error: None,
        },
        ms: 0.0,
    });
    let answer = compose(
        "Do I still have to pay my Part B premium while I'm in SCAN Classic, or just a copayment?",
        &evidence,
    );
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    assert!(answer.answer.contains("Medicare Part B premium"), "{}", answer.answer);
    assert!(answer.answer.contains("[p. 12]"), "{}", answer.answer);
}

#[test]
fn poor_passages_without_the_web_are_declined() {
    // Every passage scores under the floor the planner asks the web under, and the web did not answer.
    let weak: Vec<ChunkHit> = chart()
        .into_iter()
        .map(|chunk| ChunkHit { score: 0.5, ..chunk })
        .collect();
    let answer = compose("What does a specialist visit cost me?", &evidence(weak, vec![]));
    assert_eq!(answer.status, Status::Unanswered, "{}", answer.answer);
    assert!(
        answer.answer.contains("no passage matched it well"),
        "{}",
        answer.answer
    );
    // The same passages scoring well answer.
    let answer = compose("What does a specialist visit cost me?", &evidence(chart(), vec![]));
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
}

/// A source that covers emergencies abroad and names no country, and one that gives hours "including holidays".
fn abroad_and_hours() -> Vec<ChunkHit> {
    vec![
        chunk(
            1,
            50,
            "Worldwide emergency and urgent coverage\nYou pay a $90 copayment for emergency care you get outside the United States.",
            1.4,
        ),
        chunk(
            2,
            101,
            "Telehealth urgent care\nA doctor is available by video 24 hours a day, 7 days a week, including holidays.",
            1.3,
        ),
    ]
}

#[test]
fn a_country_or_holiday_counts_as_mentioned_when_the_sources_speak_of_its_kind() {
    let sources = evidence(abroad_and_hours(), vec![]);
    for question in [
        "Am I covered if I end up in the ER in Canada?",
        "What do I pay for emergency care while visiting Thailand?",
        "Can I see the video doctor on Christmas?",
    ] {
        let answer = compose(question, &sources);
        assert_eq!(answer.status, Status::Answered, "{question}: {}", answer.answer);
    }
    // The kind's phrase must be in the sources: the chart covers nothing abroad and gives no holiday hours.
    for (question, name) in [
        ("Am I covered if I end up in the ER in Canada?", "Canada"),
        ("Can I see a doctor on Christmas?", "Christmas"),
    ] {
        let answer = compose(question, &evidence(chart(), vec![]));
        assert_eq!(answer.status, Status::Unanswered, "{question}: {}", answer.answer);
        assert!(answer.answer.contains(name), "{}", answer.answer);
    }
    // Other names are still names: a hospital abroad is not the plan's worldwide coverage.
    let hospital = compose("Is Toronto General in the network?", &sources);
    assert_eq!(hospital.status, Status::Unanswered, "{}", hospital.answer);
}

#[test]
fn the_name_kinds_file_parses_into_kinds_with_phrases_and_words() {
    let kinds = super::names::kinds_for_tests();
    assert!(kinds.len() >= 2);
    for (phrases, words) in kinds {
        assert!(
            phrases > 0 && words > 0,
            "a kind with {phrases} phrases and {words} words"
        );
    }
}

#[test]
fn an_email_question_is_answered_only_by_a_passage_with_an_address_written_with_an_at() {
    let without = vec![chunk(
        1,
        204,
        "You can file a grievance in person, by phone, mail, or fax with the Grievance and Appeals Department.",
        1.5,
    )];
    let question = "What's the email address for the Grievance and Appeals Department?";
    let answer = compose(question, &evidence(without, vec![]));
    assert_eq!(answer.status, Status::Unanswered, "{}", answer.answer);
    assert!(answer.answer.contains("e-mail address"), "{}", answer.answer);
    let with = vec![chunk(
        1,
        31,
        "Grievance and Appeals Department: write to appeals@example.org or call Member Services.",
        1.5,
    )];
    let answer = compose(question, &evidence(with, vec![]));
    assert_eq!(answer.status, Status::Answered, "{}", answer.answer);
    assert!(intent::holds("write to appeals@example.org", AnswerType::Email));
    assert!(!intent::holds("write to us @ the address below.", AnswerType::Email));
}
