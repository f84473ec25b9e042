//! `navigator eval answers <file.jsonl>...`: whole turns over the sample plan, scored by what the member reads.
//!
//! For each file and language, over the answerable questions:
//! - `≥1 fact`: the answer holds at least one answer fact (counted as in `eval retrieval`: facts with digits when
//!   there are any), and `all facts`: it holds every one;
//! - `first`: of the answers holding a fact, the share whose first quoted passage (or, for prose, first sentence)
//!   holds it: the answer leads with what answers;
//! - `page`: the answer cites one of the question's pages;
//! - over the negatives, `declined`: the turn ended `unanswered`;
//! - `notes`: English questions whose answer carries the untranslated-answer note (a detection mistake);
//! - `ungrounded`: dollar amounts and phone numbers in answers that the plan document never states;
//! - turn P50 / P95 in milliseconds, one turn at a time.

use navigator_resilience::Deadline;
use navigator_retrieval::document;
use navigator_retrieval::eval::{Question, holds_fact, is_hit, normalize, parse_questions};
use navigator_retrieval::setup::{SAMPLE_PLAN, demo_readers};
use orchestrator::{ChatRequest, ChatResponse, ExtractiveSettings, Navigator, Stage, Status, TurnRequest};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

use super::{in_process_tools, navigator_with_sample};

/// The note an answer carries when it could not be put in the member's language.
const TRANSLATION_NOTE: &str = "could not translate this answer";

#[derive(Default)]
struct Tally {
    answerable: usize,
    one_fact: usize,
    all_facts: usize,
    first: usize,
    right_page: usize,
    negatives: usize,
    declined: usize,
    english: usize,
    notes: usize,
    ungrounded: usize,
    turn_ms: Vec<f64>,
}

/// One question's scores.
#[derive(serde::Serialize)]
struct Scored<'a> {
    id: &'a str,
    question: &'a str,
    status: &'static str,
    hit: bool,
    all_facts: bool,
    first: bool,
    right_page: bool,
    note: bool,
    ungrounded: Vec<String>,
    answer: &'a str,
    cited_pages: Vec<u32>,
    facts: &'a [String],
    pages: &'a [u32],
}

/// Composer settings from `name=value` words.
pub fn composer_settings<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<ExtractiveSettings, String> {
    let mut composer = ExtractiveSettings::default();
    for setting in words {
        let (name, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("{setting:?}: expected name=value"))?;
        composer.set(name, value)?;
    }
    Ok(composer)
}

/// Every line of `grid` as composer settings over the same tools (retrieval's cache makes later lines fast): one
/// summary line each, English questions of every file together.
pub async fn grid(files: &[std::path::PathBuf], grid: &Path) -> Result<(), String> {
    let lines = std::fs::read_to_string(grid).map_err(|e| format!("{}: {e}", grid.display()))?;
    let mut questions = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        questions.extend(parse_questions(&text)?.into_iter().filter(|q| q.lang == "en"));
    }
    let (settings, tools) = in_process_tools().await?;
    let plan_text = plan_text()?;
    println!(
        "{:>7} {:>7} {:>7} {:>8}  settings",
        "≥1fact", "first", "page", "declined"
    );
    for line in lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let composer = composer_settings(line.split_whitespace())?;
        let navigator = Navigator::offline_with(Arc::new(tools.clone()), &settings.budgets, composer);
        let mut tally = Tally::default();
        for question in &questions {
            let response = answer(&navigator, question).await?;
            let scored = score(question, &response, &plan_text);
            self::tally(&mut tally, question, &scored, 0.0);
        }
        let share = |part: usize, whole: usize| part as f64 / whole.max(1) as f64;
        println!(
            "{:>7.3} {:>7.3} {:>7.3} {:>8.3}  {line}",
            share(tally.one_fact, tally.answerable),
            share(tally.first, tally.one_fact),
            share(tally.right_page, tally.answerable),
            share(tally.declined, tally.negatives),
        );
    }
    Ok(())
}

pub async fn run(files: &[std::path::PathBuf], out: Option<&Path>, settings: &[String]) -> Result<(), String> {
    let composer = composer_settings(settings.iter().map(String::as_str))?;
    let navigator = if settings.is_empty() {
        navigator_with_sample().await?.1
    } else {
        let (settings, tools) = in_process_tools().await?;
        Navigator::offline_with(Arc::new(tools), &settings.budgets, composer)
    };
    let plan_text = plan_text()?;
    let mut out = match out {
        Some(path) => Some(std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => None,
    };
    let verbose = std::env::var_os("NAVIGATOR_EVAL_VERBOSE").is_some();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let questions = parse_questions(&text)?;
        let set = file.file_stem().and_then(|s| s.to_str()).unwrap_or("set").to_string();
        for question in &questions {
            let response = answer(&navigator, question).await?;
            let scored = score(question, &response, &plan_text);
            if verbose && (!scored.hit || !scored.first) && !question.is_negative() {
                eprintln!(
                    "{} {} {:?} ({}) facts {:?} pages {:?}:\n{}\n",
                    if scored.hit { "late" } else { "miss" },
                    question.id,
                    question.question,
                    scored.status,
                    question.answer_facts,
                    question.pages,
                    response.answer
                );
            }
            if verbose && question.is_negative() && response.status != Status::Unanswered {
                eprintln!(
                    "answered negative {} {:?}:\n{}\n",
                    question.id, question.question, response.answer
                );
            }
            if let Some(out) = out.as_mut() {
                let line = serde_json::to_string(&scored).map_err(|e| e.to_string())?;
                writeln!(out, "{line}").map_err(|e| e.to_string())?;
            }
            let turn_ms = response.timings_ms.get(Stage::Total).unwrap_or_default();
            for group in [format!("{set} {}", question.lang), format!("{set} all")] {
                tally(tallies.entry(group).or_default(), question, &scored, turn_ms);
            }
        }
    }
    print_table(&tallies);
    Ok(())
}

pub async fn answer(navigator: &Navigator, question: &Question) -> Result<ChatResponse, String> {
    let turn = TurnRequest {
        request_id: Uuid::new_v4().to_string(),
        readers: demo_readers(),
        chat: ChatRequest {
            message: question.question.clone(),
            language: Some("auto".into()),
            ..ChatRequest::default()
        },
        deadline: Deadline::after(navigator.budgets().total),
    };
    navigator
        .answer(turn)
        .await
        .map_err(|error| format!("{}: {error}", question.id))
}

/// The sample plan's whole text, normalised: where a figure in an answer must come from.
fn plan_text() -> Result<String, String> {
    let source = document::load(Path::new(SAMPLE_PLAN)).map_err(|e| e.to_string())?;
    let pages: Vec<&str> = source.pages.iter().map(|p| p.text.as_str()).collect();
    Ok(normalize(&pages.join(" ")))
}

fn score<'a>(question: &'a Question, response: &'a ChatResponse, plan_text: &str) -> Scored<'a> {
    let answer = response.answer.as_str();
    let units = answer_units(answer);
    let hit = is_hit(question, answer);
    let cited_pages: Vec<u32> = response.citations.iter().filter_map(|c| c.page).collect();
    Scored {
        id: &question.id,
        question: &question.question,
        status: response.status.as_str(),
        hit,
        all_facts: !question.is_negative() && question.answer_facts.iter().all(|fact| holds_fact(answer, fact)),
        first: hit && units.first().is_some_and(|first| is_hit(question, first)),
        right_page: cited_pages.iter().any(|page| question.pages.contains(page)),
        note: answer.contains(TRANSLATION_NOTE),
        ungrounded: figures(answer)
            .into_iter()
            .filter(|figure| !plan_text.contains(&normalize(figure)))
            .collect(),
        answer,
        cited_pages,
        facts: &question.answer_facts,
        pages: &question.pages,
    }
}

fn tally(tally: &mut Tally, question: &Question, scored: &Scored<'_>, turn_ms: f64) {
    tally.turn_ms.push(turn_ms);
    tally.ungrounded += scored.ungrounded.len();
    if question.lang == "en" {
        tally.english += 1;
        tally.notes += usize::from(scored.note);
    }
    if question.is_negative() {
        tally.negatives += 1;
        tally.declined += usize::from(scored.status == Status::Unanswered.as_str());
        return;
    }
    tally.answerable += 1;
    tally.one_fact += usize::from(scored.hit);
    tally.all_facts += usize::from(scored.all_facts);
    tally.first += usize::from(scored.first);
    tally.right_page += usize::from(scored.right_page);
}

/// The passages of an extractive answer (its `•` lines), or the sentences of a prose one.
fn answer_units(answer: &str) -> Vec<&str> {
    let bullets: Vec<&str> = answer
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix('•'))
        .collect();
    if !bullets.is_empty() {
        return bullets;
    }
    // Prose: a sentence ends at `.`, `?` or `!` outside a citation marker's brackets, or at a line break.
    let mut units = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (at, c) in answer.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' | '?' | '!' | '\n' if depth == 0 => {
                let end = at + c.len_utf8();
                units.push(answer[start..end].trim());
                start = end;
            }
            _ => {}
        }
    }
    units.push(answer[start..].trim());
    units.retain(|s| s.len() > 1);
    units
}

/// Dollar amounts (`$1,500`, `$0.50`) and North American phone numbers (`1-800-559-3500`, `(510) 555-0147`).
fn figures(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            let mut end = i + 1;
            while end < chars.len()
                && (chars[end].is_ascii_digit()
                    || ((chars[end] == ',' || chars[end] == '.')
                        && chars.get(end + 1).is_some_and(char::is_ascii_digit)))
            {
                end += 1;
            }
            found.push(chars[i..end].iter().collect());
            i = end;
            continue;
        }
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let mut end = i;
            while end < chars.len() && (chars[end].is_ascii_digit() || chars[end] == '-') {
                end += 1;
            }
            let run: String = chars[i..end].iter().collect();
            let digits = run.chars().filter(char::is_ascii_digit).count();
            if run.contains('-') && (10..=11).contains(&digits) {
                found.push(run.trim_end_matches('-').to_string());
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    found
}

fn print_table(tallies: &BTreeMap<String, Tally>) {
    println!(
        "{:<28} {:>4} {:>8} {:>9} {:>6} {:>6} {:>4} {:>9} {:>6} {:>10} {:>8} {:>8}",
        "group",
        "n",
        "≥1 fact",
        "all facts",
        "first",
        "page",
        "neg",
        "declined",
        "notes",
        "ungrounded",
        "p50 ms",
        "p95 ms"
    );
    for (group, tally) in tallies {
        let share = |part: usize, whole: usize| {
            if whole == 0 {
                f64::NAN
            } else {
                part as f64 / whole as f64
            }
        };
        let mut ms = tally.turn_ms.clone();
        ms.sort_by(f64::total_cmp);
        let percentile = |p: f64| {
            ms.get(((ms.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        println!(
            "{group:<28} {:>4} {:>8.3} {:>9.3} {:>6.3} {:>6.3} {:>4} {:>9.3} {:>6} {:>10} {:>8.1} {:>8.1}",
            tally.answerable,
            share(tally.one_fact, tally.answerable),
            share(tally.all_facts, tally.answerable),
            share(tally.first, tally.one_fact),
            share(tally.right_page, tally.answerable),
            tally.negatives,
            share(tally.declined, tally.negatives),
            format!("{}/{}", tally.notes, tally.english),
            tally.ungrounded,
            percentile(0.5),
            percentile(0.95),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_amounts_and_phone_numbers() {
        let text = "You pay $1,500 or $0.50. Call 1-800-559-3500 (TTY 711) or (510) 555-0147, 8 a.m. to 8 p.m. \
                    on 2025-01-01.";
        assert_eq!(figures(text), ["$1,500", "$0.50", "1-800-559-3500"]);
    }

    #[test]
    fn an_extractive_answer_is_read_by_its_passages_and_prose_by_sentences() {
        let quoted = "Here is what your plan documents say:\n• You pay $20. [p. 92]\n• Referral needed. [p. 93]";
        assert_eq!(
            answer_units(quoted),
            [" You pay $20. [p. 92]", " Referral needed. [p. 93]"]
        );
        assert_eq!(
            answer_units("You pay $20 [p. 92]. A referral is needed."),
            ["You pay $20 [p. 92].", "A referral is needed."]
        );
    }
}
