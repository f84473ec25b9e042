//! Trains the query adapter shipped for the local sentence model (`shared/retrieval/data/query-adapter.bin`) and
//! writes its report (`shared/retrieval/data/QUERY-ADAPTER.md`).
//!
//! `cargo run --release -p navigator-retrieval --bin train-query-adapter`, from the repository's root with
//! `NAVIGATOR_MODEL_DIR` set to the MiniLM files. It reads the sample plan and the training questions written over
//! it (`data/train/answers-train-{a,b,c}.jsonl`), never the evaluation sets' answers: a training question whose vector
//! comes within 0.85 of any question of `data/eval/` (tuning, validation or dev) is left out, so that a question
//! reworded from one of them teaches nothing about it. Deterministic on one machine: the same files give the same
//! adapter (candle picks its matrix kernels by CPU).
//!
//! `QUERY_ADAPTER_OUT=FILE` writes the adapter there instead (and the report beside it), for comparing settings:
//! `QUERY_ADAPTER_{EPOCHS,RATE,L2,NEGATIVE_WEIGHT}`.

use navigator_embed::{Embedder, MiniLm, dot, model_dir, normalize};
use navigator_platform::text::sentences;
use navigator_resilience::{CpuPool, Deadline};
use navigator_retrieval::adapter::{AdapterExample, QueryAdapter, TrainSettings, train};
use navigator_retrieval::chunk::{ChunkSizes, chunk_pages};
use navigator_retrieval::eval::{Question, holds_fact, parse_questions};
use navigator_retrieval::setup::{SAMPLE_PLAN, data_dir};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The questions written to train on (data/train/README.md says why the later `-d`, `-e` and `-f` files are not).
const TRAINING: [&str; 3] = [
    "data/train/answers-train-a.jsonl",
    "data/train/answers-train-b.jsonl",
    "data/train/answers-train-c.jsonl",
];
/// The questions the adapter is measured on: it must not learn them.
const HELD_OUT: [&str; 3] = [
    "data/eval/answers-tuning.jsonl",
    "data/eval/answers-validation.jsonl",
    "data/eval/retrieval-dev.jsonl",
];
/// A training question this close to a held-out one is a rewording of it.
const NEAR_DUPLICATE: f32 = 0.85;
const SHIPPED: &str = "shared/retrieval/data/query-adapter.bin";
fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("train-query-adapter: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("train-query-adapter: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let settings = settings()?;
    let out = std::env::var("QUERY_ADAPTER_OUT").map_or_else(|_| PathBuf::from(SHIPPED), PathBuf::from);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let model = MiniLm::load(&model_dir(&data_dir()), CpuPool::new("embed", threads, 64)).map_err(|e| e.to_string())?;

    let source = navigator_retrieval::document::load(Path::new(SAMPLE_PLAN)).map_err(|e| e.to_string())?;
    let chunks = chunk_pages(&source.pages, ChunkSizes::default());
    let chunk_sentences: Vec<Vec<String>> = chunks.iter().map(|c| sentences(&c.text)).collect();
    eprintln!(
        "train-query-adapter: embedding {} chunks and their {} sentences",
        chunks.len(),
        chunk_sentences.iter().map(Vec::len).sum::<usize>()
    );
    let chunk_vectors = embed(&model, chunks.iter().map(|c| c.indexed_text()).collect()).await?;
    let sentence_vectors = embed(&model, chunk_sentences.iter().flatten().cloned().collect()).await?;

    let held_out = read_questions(HELD_OUT.iter().map(PathBuf::from).collect())?;
    let held_out_vectors = embed(&model, held_out.iter().map(|q| q.question.clone()).collect()).await?;
    let training = read_questions(TRAINING.iter().map(PathBuf::from).collect())?;
    let training: Vec<Question> = training.into_iter().filter(|q| q.lang == "en").collect();
    let training_vectors = embed(&model, training.iter().map(|q| q.question.clone()).collect()).await?;

    let mut report = TrainingCounts::default();
    let mut examples = Vec::new();
    for (question, vector) in training.iter().zip(training_vectors) {
        let closest = held_out_vectors
            .iter()
            .map(|held| dot(held, &vector))
            .fold(f32::MIN, f32::max);
        if closest >= NEAR_DUPLICATE {
            report.near_duplicates += 1;
            continue;
        }
        let Some(example) = example(question, vector, &chunks, &chunk_sentences) else {
            report.no_passage += 1;
            continue;
        };
        if example.chunks.is_empty() {
            report.negatives += 1;
        } else {
            report.answered += 1;
        }
        examples.push(example);
    }
    eprintln!(
        "train-query-adapter: training on {} questions ({} the plan does not answer)",
        examples.len(),
        report.negatives
    );
    let calibration = calibrate(&examples, &chunk_vectors, &sentence_vectors, &settings);
    let (matrix, trained) = train(&examples, &chunk_vectors, &sentence_vectors, &settings);
    let adapter = QueryAdapter::from_matrix(model.model(), model.dimensions(), &matrix).map_err(|e| e.to_string())?;
    std::fs::write(&out, adapter.to_bytes()).map_err(|e| format!("{}: {e}", out.display()))?;
    let report_path = out.with_file_name("QUERY-ADAPTER.md");
    let mut text = report.render(
        &settings,
        &trained,
        training.len(),
        chunks.len(),
        sentence_vectors.len(),
    );
    text.push_str(&calibration.render());
    std::fs::write(&report_path, text).map_err(|e| format!("{}: {e}", report_path.display()))?;
    eprintln!(
        "train-query-adapter: wrote {} and {}",
        out.display(),
        report_path.display()
    );
    Ok(())
}

/// Folds of the decline threshold's calibration.
const FOLDS: usize = 3;
/// The share of answerable questions among the English questions of the answers' tuning half (101 of 119): the
/// calibration weighs an answer kept and a negative declined as that half counts them, each question one.
const ANSWERABLE_SHARE: f64 = 101.0 / 119.0;

/// Out-of-fold similarities of the training questions, and the decline threshold they choose.
struct Calibration {
    /// Each held-out question's best chunk similarity under the adapter trained without it, and whether the plan
    /// answers it.
    scored: Vec<(f32, bool)>,
}

/// Trains the adapter `FOLDS` times, each without every `FOLDS`-th question (in file order), and reads each left-out
/// question's best chunk similarity under the adapter that did not learn it: how far apart answered and unanswered
/// questions come out on questions the adapter has not seen, which is what the composer's decline threshold needs.
fn calibrate(
    examples: &[AdapterExample],
    chunks: &[Vec<f32>],
    sentences: &[Vec<f32>],
    settings: &TrainSettings,
) -> Calibration {
    let mut scored = Vec::with_capacity(examples.len());
    for fold in 0..FOLDS {
        let training: Vec<AdapterExample> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS != fold)
            .map(|(_, e)| e.clone())
            .collect();
        let (matrix, _) = train(&training, chunks, sentences, settings);
        let d = chunks.first().map_or(0, Vec::len);
        if d == 0 || matrix.is_empty() {
            continue;
        }
        for example in examples.iter().skip(fold).step_by(FOLDS) {
            // The trained matrix itself, before the shipped file's 8-bit rounding.
            let mut adapted: Vec<f32> = matrix
                .chunks_exact(d)
                .map(|row| row.iter().zip(&example.vector).map(|(w, x)| *w as f32 * x).sum())
                .collect();
            normalize(&mut adapted);
            let best = chunks.iter().map(|c| dot(c, &adapted)).fold(f32::MIN, f32::max);
            scored.push((best, !example.chunks.is_empty()));
        }
        eprintln!("train-query-adapter: calibration fold {} of {FOLDS} done", fold + 1);
    }
    Calibration { scored }
}

impl Calibration {
    /// At `threshold`: the share of answered questions kept and of unanswered ones declined.
    fn rates(&self, threshold: f32) -> (f64, f64) {
        let share = |answered: bool, kept: bool| {
            let of: Vec<&(f32, bool)> = self.scored.iter().filter(|(_, a)| *a == answered).collect();
            let n = of.iter().filter(|(s, _)| (*s >= threshold) == kept).count();
            n as f64 / of.len().max(1) as f64
        };
        (share(true, true), share(false, false))
    }

    /// The thresholds tried, 0.20 to 0.60 in steps of 0.01.
    fn thresholds() -> impl Iterator<Item = f32> {
        (20..=60).map(|t| t as f32 / 100.0)
    }

    /// The threshold that keeps the most answers and declines the most negatives, weighed as the tuning half counts
    /// them; the lowest of equals.
    fn chosen(&self) -> f32 {
        let value = |t: f32| {
            let (kept, declined) = self.rates(t);
            ANSWERABLE_SHARE * kept + (1.0 - ANSWERABLE_SHARE) * declined
        };
        Self::thresholds().fold(
            0.0,
            |best: f32, t| if value(t) > value(best) + 1e-12 { t } else { best },
        )
    }

    /// How often an answered question scores above an unanswered one (ties count half): the area under the curve.
    fn separation(&self) -> f64 {
        let answered: Vec<f32> = self.scored.iter().filter(|(_, a)| *a).map(|(s, _)| *s).collect();
        let unanswered: Vec<f32> = self.scored.iter().filter(|(_, a)| !*a).map(|(s, _)| *s).collect();
        let mut above = 0.0;
        for a in &answered {
            for u in &unanswered {
                above += if a > u {
                    1.0
                } else if a == u {
                    0.5
                } else {
                    0.0
                };
            }
        }
        above / (answered.len() * unanswered.len()).max(1) as f64
    }

    fn render(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "\n## The decline threshold, out of fold\n\nEach training question's best chunk similarity under an adapter \
             trained without it ({FOLDS} folds): the share of answered questions a threshold keeps and of unanswered \
             ones it declines (area under the curve {:.3}, over {} questions). Chosen: **{:.2}** (the most answers kept plus negatives declined, weighed {:.2} to \
             {:.2} as the answers' tuning half counts its English questions).\n",
            self.separation(),
            self.scored.len(),
            self.chosen(),
            ANSWERABLE_SHARE,
            1.0 - ANSWERABLE_SHARE
        );
        let _ = writeln!(
            text,
            "| threshold | answered kept | unanswered declined |\n|---:|---:|---:|"
        );
        for t in Self::thresholds().step_by(2) {
            let (kept, declined) = self.rates(t);
            let _ = writeln!(text, "| {t:.2} | {kept:.3} | {declined:.3} |");
        }
        text
    }
}

/// The shipped settings, or those the environment names instead.
fn settings() -> Result<TrainSettings, String> {
    let mut settings = TrainSettings::SHIPPED;
    let read = |name: &str| -> Result<Option<f64>, String> {
        match std::env::var(name) {
            Ok(value) => value
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|e| format!("{name}={value}: {e}")),
            Err(_) => Ok(None),
        }
    };
    if let Some(epochs) = read("QUERY_ADAPTER_EPOCHS")? {
        settings.epochs = epochs as usize;
    }
    if let Some(rate) = read("QUERY_ADAPTER_RATE")? {
        settings.learning_rate = rate;
    }
    if let Some(l2) = read("QUERY_ADAPTER_L2")? {
        settings.l2 = l2;
    }
    if let Some(weight) = read("QUERY_ADAPTER_NEGATIVE_WEIGHT")? {
        settings.negative_weight = weight;
    }
    Ok(settings)
}

fn read_questions(files: Vec<PathBuf>) -> Result<Vec<Question>, String> {
    let mut questions = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        questions.extend(parse_questions(&text).map_err(|e| format!("{}: {e}", file.display()))?);
    }
    Ok(questions)
}

/// The question with the chunks on its pages that hold one of its facts, and those chunks' sentences that hold one;
/// a question the plan does not answer has none. None when no chunk holds an answerable question's facts (the
/// extraction split them): it would teach the adapter that the plan does not answer it.
fn example(
    question: &Question,
    vector: Vec<f32>,
    chunks: &[navigator_retrieval::chunk::Chunk],
    chunk_sentences: &[Vec<String>],
) -> Option<AdapterExample> {
    let mut example = AdapterExample {
        vector,
        chunks: Vec::new(),
        sentences: Vec::new(),
    };
    if question.is_negative() {
        return Some(example);
    }
    let holds = |text: &str| question.answer_facts.iter().any(|fact| holds_fact(text, fact));
    let on_its_pages =
        |start: u32, end: u32| question.pages.is_empty() || question.pages.iter().any(|p| (start..=end).contains(p));
    let mut sentence_index = 0;
    for (i, (chunk, sentences)) in chunks.iter().zip(chunk_sentences).enumerate() {
        if on_its_pages(chunk.page_start, chunk.page_end) && holds(&chunk.text) {
            example.chunks.push(i);
            for (j, sentence) in sentences.iter().enumerate() {
                if holds(sentence) {
                    example.sentences.push(sentence_index + j);
                }
            }
        }
        sentence_index += sentences.len();
    }
    (!example.chunks.is_empty()).then_some(example)
}

/// Each text's vector, each distinct text embedded once.
async fn embed(model: &MiniLm, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
    let mut distinct: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for text in &texts {
        if !index.contains_key(text) {
            index.insert(text.clone(), distinct.len());
            distinct.push(text.clone());
        }
    }
    let mut vectors = Vec::with_capacity(distinct.len());
    for batch in distinct.chunks(64) {
        let embedded = model
            .embed(batch.to_vec(), Deadline::after(Duration::from_secs(600)))
            .await
            .map_err(|e| e.to_string())?;
        vectors.extend(embedded);
    }
    Ok(texts.iter().map(|text| vectors[index[text]].clone()).collect())
}

#[derive(Default)]
/// How many training questions were read, left out and trained on.
struct TrainingCounts {
    answered: usize,
    negatives: usize,
    near_duplicates: usize,
    no_passage: usize,
}

impl TrainingCounts {
    fn render(
        &self,
        settings: &TrainSettings,
        trained: &navigator_retrieval::adapter::TrainReport,
        questions: usize,
        chunks: usize,
        sentences: usize,
    ) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "# The query adapter's training\n");
        let _ = writeln!(
            text,
            "Written by `train-query-adapter` (shared/retrieval/src/bin/train-query-adapter.rs); docs/RETRIEVAL.md says \
             how it was chosen and what it does to the figures.\n"
        );
        let _ = writeln!(text, "| | |\n|---|---:|");
        let _ = writeln!(text, "| English training questions read | {questions} |");
        let _ = writeln!(
            text,
            "| left out: within {NEAR_DUPLICATE} of an evaluation question | {} |",
            self.near_duplicates
        );
        let _ = writeln!(
            text,
            "| left out: no chunk of their pages holds their facts | {} |",
            self.no_passage
        );
        let _ = writeln!(text, "| trained on: answered by the plan | {} |", self.answered);
        let _ = writeln!(text, "| trained on: not answered by the plan | {} |", self.negatives);
        let _ = writeln!(text, "| the plan's chunks / sentences | {chunks} / {sentences} |");
        let _ = writeln!(
            text,
            "| epochs, rate, L2, temperature, negative weight | {}, {}, {}, {}, {} |",
            settings.epochs, settings.learning_rate, settings.l2, settings.temperature, settings.negative_weight
        );
        let first = trained.losses.first().copied().unwrap_or_default();
        let last = trained.losses.last().copied().unwrap_or_default();
        let _ = writeln!(text, "| loss, first and last epoch | {first:.3} → {last:.3} |");
        let _ = writeln!(
            text,
            "| \"none of these\" similarity at the end, chunks / sentences | {:.3} / {:.3} |",
            trained.none_similarity[0], trained.none_similarity[1]
        );
        text
    }
}
