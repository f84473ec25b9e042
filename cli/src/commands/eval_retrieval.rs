//! `navigator eval retrieval <file.jsonl>`: hit@1, hit@5 and MRR over the sample plan, overall and by kind and
//! language, plus how often a negative question's best score stays under the answerability threshold.

use navigator_resilience::Deadline;
use navigator_retrieval::eval::{Outcome, is_hit, parse_questions, summarize};
use navigator_retrieval::rerank::RerankWeights;
use navigator_retrieval::setup::demo_readers;
use std::path::Path;
use std::time::Duration;

use super::retriever_with_sample;

/// Chunks fetched per question: hit@5 needs 5; MRR and the recall line look deeper.
const DEPTH: u8 = 20;

pub async fn run(file: &Path, weights: &[String]) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let questions = parse_questions(&text)?;
    let mut chosen = RerankWeights::default();
    for weight in weights {
        let (name, value) = weight
            .split_once('=')
            .ok_or_else(|| format!("--weight {weight:?}: expected name=value"))?;
        chosen.set(name, value)?;
    }
    let (_, retriever) = retriever_with_sample().await?;
    let retriever = retriever.with_weights(chosen);
    let readers = demo_readers();
    let mut outcomes = Vec::new();
    for question in questions {
        let output = retriever
            .search(
                &readers,
                &question.question,
                DEPTH,
                Deadline::after(Duration::from_secs(10)),
            )
            .await
            .map_err(|e| format!("{}: {e}", question.id))?;
        let first_hit = output
            .chunks
            .iter()
            .position(|c| is_hit(&question, &c.text))
            .map(|i| i + 1);
        if std::env::var_os("NAVIGATOR_EVAL_VERBOSE").is_some()
            && !question.is_negative()
            && first_hit.is_none_or(|r| r > 5)
        {
            eprintln!(
                "miss {} {:?}: pages {:?}, got {:?}",
                question.id,
                question.question,
                question.pages,
                output.chunks.iter().take(5).map(|c| c.page).collect::<Vec<_>>()
            );
        }
        let top_score = output.chunks.first().map(|c| c.score);
        outcomes.push(Outcome {
            question,
            first_hit,
            top_score,
        });
    }
    println!("{:<20} {:>4} {:>7} {:>7} {:>7}", "group", "n", "hit@1", "hit@5", "MRR");
    for (group, scores) in summarize(&outcomes) {
        println!(
            "{group:<20} {:>4} {:>7.3} {:>7.3} {:>7.3}",
            scores.questions, scores.hit_at_1, scores.hit_at_5, scores.mrr
        );
    }
    let answerable: Vec<&Outcome> = outcomes.iter().filter(|o| !o.question.is_negative()).collect();
    let found = answerable.iter().filter(|o| o.first_hit.is_some()).count();
    println!("hit@{DEPTH}: {found}/{} of the answerable questions", answerable.len());
    let negatives: Vec<&Outcome> = outcomes.iter().filter(|o| o.question.is_negative()).collect();
    if !negatives.is_empty() {
        let threshold = navigator_retrieval::retriever::ANSWERABLE_SCORE;
        let below = negatives
            .iter()
            .filter(|o| o.top_score.is_none_or(|s| s < threshold))
            .count();
        println!(
            "negatives: {below}/{} with top score below the answerability threshold {threshold}",
            negatives.len()
        );
        let positives: Vec<f32> = outcomes
            .iter()
            .filter(|o| !o.question.is_negative())
            .filter_map(|o| o.top_score)
            .collect();
        let above = positives.iter().filter(|s| **s >= threshold).count();
        println!("answerable: {above}/{} with top score at or above it", positives.len());
    }
    Ok(())
}
