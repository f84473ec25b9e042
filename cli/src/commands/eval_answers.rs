//! `navigator eval answers <file.jsonl>`: whole turns over the sample plan, scored by the answer text.
//!
//! For answerable questions: the share whose answer holds at least one answer fact (counted as in
//! `eval retrieval`: facts with digits when there are any) and the share holding every fact. For negatives: the
//! share answered `unanswered`. English and Spanish are reported apart.

use navigator_resilience::Deadline;
use navigator_retrieval::eval::{Question, holds_fact, is_hit, parse_questions};
use navigator_retrieval::setup::DEMO_USER_ID;
use orchestrator::{ChatRequest, ExtractiveSettings, Navigator, Stage, Status, TurnRequest};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

use super::{in_process_tools, navigator_with_sample};

#[derive(Default)]
struct Tally {
    answerable: usize,
    one_fact: usize,
    all_facts: usize,
    negatives: usize,
    declined: usize,
    turn_ms: Vec<f64>,
}

pub async fn run(file: &Path, settings: &[String]) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let questions = parse_questions(&text)?;
    let mut composer = ExtractiveSettings::default();
    for setting in settings {
        let (name, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("--set {setting:?}: expected name=value"))?;
        composer.set(name, value)?;
    }
    let navigator = if settings.is_empty() {
        navigator_with_sample().await?.1
    } else {
        let (settings, tools) = in_process_tools().await?;
        Navigator::offline_with(Arc::new(tools), &settings.budgets, composer)
    };
    let verbose = std::env::var_os("NAVIGATOR_EVAL_VERBOSE").is_some();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for question in &questions {
        let deadline = Deadline::after(navigator.budgets().total);
        let turn = TurnRequest {
            request_id: Uuid::new_v4().to_string(),
            user_id: DEMO_USER_ID,
            chat: ChatRequest {
                message: question.question.clone(),
                language: Some("auto".into()),
                ..ChatRequest::default()
            },
            deadline,
        };
        let response = navigator
            .answer(turn)
            .await
            .map_err(|error| format!("{}: {error}", question.id))?;
        let tally = tallies.entry(format!("lang={}", question.lang)).or_default();
        tally
            .turn_ms
            .push(response.timings_ms.get(Stage::Total).unwrap_or_default());
        score(tally, question, response.status, &response.answer, verbose);
    }
    println!(
        "{:<10} {:>4} {:>10} {:>10} {:>5} {:>10} {:>12}",
        "group", "n", "≥1 fact", "all facts", "neg", "declined", "turn p50 ms"
    );
    for (group, tally) in &tallies {
        let share = |part: usize, whole: usize| {
            if whole == 0 {
                f64::NAN
            } else {
                part as f64 / whole as f64
            }
        };
        let mut ms = tally.turn_ms.clone();
        ms.sort_by(f64::total_cmp);
        let p50 = ms.get(ms.len() / 2).copied().unwrap_or_default();
        println!(
            "{group:<10} {:>4} {:>10.3} {:>10.3} {:>5} {:>10.3} {:>12.1}",
            tally.answerable,
            share(tally.one_fact, tally.answerable),
            share(tally.all_facts, tally.answerable),
            tally.negatives,
            share(tally.declined, tally.negatives),
            p50
        );
    }
    Ok(())
}

fn score(tally: &mut Tally, question: &Question, status: Status, answer: &str, verbose: bool) {
    if question.is_negative() {
        tally.negatives += 1;
        let declined = status == Status::Unanswered;
        tally.declined += usize::from(declined);
        if verbose && !declined {
            eprintln!("answered negative {} {:?}:\n{answer}\n", question.id, question.question);
        }
        return;
    }
    tally.answerable += 1;
    let hit = is_hit(question, answer);
    tally.one_fact += usize::from(hit);
    tally.all_facts += usize::from(question.answer_facts.iter().all(|fact| holds_fact(answer, fact)));
    if verbose && !hit {
        eprintln!(
            "miss {} {:?} ({status:?}) facts {:?}:\n{answer}\n",
            question.id, question.question, question.answer_facts
        );
    }
}
