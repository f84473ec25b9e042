//! Trains the guard's learned name model (`functions/guard/model/names.json`) and writes its cross-validation report
//! (`functions/guard/training/NAMES.md`).
//!
//! `cargo run --release -p guard --bin train-name-model`, with `NAVIGATOR_MODEL_DIR` set to the MiniLM files. It reads
//! only tuning halves and training texts (below); the validation halves are `navigator eval guard`'s to report.
//! Deterministic on one machine: the same files give the same model (candle picks its matrix kernels by CPU).
//! `NAME_TRAIN_REPORT=FILE` writes the report there and leaves the shipped model alone, for comparing settings: the
//! hidden layer's with `NAME_TRAIN_{UNITS,UNIT_EPOCHS,BATCH,UNIT_RATE,UNIT_L2}`, and with `NAME_TRAIN_UNITS=0` the
//! logistic model's with `NAME_TRAIN_{EPOCHS,RATE,L2}`.

use guard::names::units::UnitTraining;
use guard::names::{NAME_LAYER, NameModel, NameTraining, Word, name_words, words};
use navigator_embed::MiniLm;
use navigator_resilience::CpuPool;
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// Messages with their names marked, and messages with none (the answers' questions, plan questions full of
/// capitalised words that are no names): the tuning halves and `data/train/`.
const SETS: [&str; 16] = [
    "data/eval/pii-tuning.jsonl",
    "data/eval/pii-names-tuning.jsonl",
    "data/eval/pii-benign-tuning.jsonl",
    "data/eval/answers-tuning.jsonl",
    "data/train/names-train.jsonl",
    "data/train/benign-train.jsonl",
    "data/train/names-train-2.jsonl",
    "data/train/benign-train-2.jsonl",
    "data/train/names-train-3.jsonl",
    "data/train/benign-train-3.jsonl",
    "data/train/names-train-4.jsonl",
    "data/train/benign-train-4.jsonl",
    "data/train/names-train-5.jsonl",
    "data/train/benign-train-5.jsonl",
    "data/train/names-train-6.jsonl",
    "data/train/benign-train-6.jsonl",
];
const FOLDS: usize = 5;
/// Chosen out of fold on the first 1,168 of these messages (without the `-2` and `-3` files): 300 to 10,000 epochs, rates 0.02
/// to 0.1, L2 0.0001 to 0.000001 (the names found at the 2 % bound rose from 0.76 to 0.89 as the model was fitted
/// harder, reading the word alone; with its neighbours' states, 0.92 at L2 0.000001 and 0.00001 alike).
const SETTINGS: NameTraining = NameTraining {
    epochs: 1000,
    rate: 0.1,
    l2: 0.000001,
};
/// The shipped model: 64 rectified units. Chosen out of fold on the first 2,365 of these messages (before the `-4`
/// and `-5` files) against the logistic model
/// above (functions/guard/training/NAMES.md and docs/ARCHITECTURE.md, "Guard quality and speed").
const UNIT_SETTINGS: UnitTraining = UnitTraining {
    units: 64,
    epochs: 60,
    batch: 200,
    rate: 0.001,
    l2: 0.01,
};
/// The threshold is the lowest (in steps of 0.01) at which the model, out of fold, alters at most this share of the
/// messages that hold no name: the goal for benign plan questions.
const ALTERED_AT_MOST: f64 = 0.02;

#[derive(Deserialize)]
struct Line {
    #[serde(alias = "question")]
    text: String,
    #[serde(default)]
    pii: Vec<Value>,
}

#[derive(Deserialize)]
struct Value {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

struct Message {
    words: Vec<Word>,
    /// The message itself: which words a name extends over is read from it (`names::name_words`).
    text: String,
    /// Per word: whether it is part of a marked name.
    is_name: Vec<bool>,
    /// Per marked name: the indices of its words (of its first occurrence).
    names: Vec<Vec<usize>>,
    /// Whether the rules' own detections hold a name.
    rules_alter: bool,
    /// Per marked name: whether the rules' detections cover every word of it.
    rules_found: Vec<bool>,
    fold: usize,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train-name-model: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repository = root.join("../..");
    let model_dir = navigator_embed::model_dir(&navigator_platform::config::data_dir());
    let sentences = MiniLm::load(&model_dir, CpuPool::new("train-embed", 1, 1)).map_err(|e| e.to_string())?;
    let mut messages = Vec::new();
    for set in SETS {
        let path = repository.join(set);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let line: Line = serde_json::from_str(line).map_err(|e| format!("{set}:{}: {e}", number + 1))?;
            messages.push(read(&sentences, &line)?);
        }
    }
    // Folds dealt round-robin over the messages in a fixed pseudo-random order.
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by_key(|&i| fnv(i as u64));
    for (dealt, i) in order.into_iter().enumerate() {
        messages[i].fold = dealt % FOLDS;
    }
    let settings = NameTraining {
        epochs: read_env("NAME_TRAIN_EPOCHS", SETTINGS.epochs as f32) as usize,
        rate: read_env("NAME_TRAIN_RATE", SETTINGS.rate),
        l2: read_env("NAME_TRAIN_L2", SETTINGS.l2),
    };
    let unit_settings = UnitTraining {
        units: read_env("NAME_TRAIN_UNITS", UNIT_SETTINGS.units as f32) as usize,
        epochs: read_env("NAME_TRAIN_UNIT_EPOCHS", UNIT_SETTINGS.epochs as f32) as usize,
        batch: read_env("NAME_TRAIN_BATCH", UNIT_SETTINGS.batch as f32) as usize,
        rate: read_env("NAME_TRAIN_UNIT_RATE", UNIT_SETTINGS.rate),
        l2: read_env("NAME_TRAIN_UNIT_L2", UNIT_SETTINGS.l2),
    };
    // With no units, the logistic model.
    let fit = |examples: &[(&[f32], bool)], threshold: f32| -> Result<NameModel, String> {
        Ok(if unit_settings.units == 0 {
            NameModel::train(examples, settings, threshold)
        } else {
            NameModel::train_with_units(examples, unit_settings, threshold)?
        }
        .rounded())
    };
    eprintln!("{} messages; cross-validating", messages.len());
    let mut probabilities: Vec<Vec<f32>> = messages.iter().map(|m| vec![0.0; m.words.len()]).collect();
    for fold in 0..FOLDS {
        let model = fit(&examples(&messages, |m| m.fold != fold), 0.5)?;
        for (message, out) in messages.iter().zip(&mut probabilities).filter(|(m, _)| m.fold == fold) {
            for (word, p) in message.words.iter().zip(out.iter_mut()) {
                *p = model.probability(&word.features);
            }
        }
    }
    let mut report = format!(
        "# The guard's learned name model: training and cross-validation\n\n\
         Written by `cargo run --release -p guard --bin train-name-model` (with `NAVIGATOR_MODEL_DIR` set); do not \
         edit by hand. {} messages from {}, each word labelled as part of a marked name or not. Figures are out of \
         fold (5 folds over messages): each word is read by a model trained on the other folds. A name counts as found \
         when every word of it is at or above the threshold; a message without a name counts as altered when any word \
         of it is. The rules are `navigator_pii`'s name detectors on the same messages. The threshold is the lowest \
         (in steps of 0.01) that alters at most {:.0} % of the messages without a name.\n\n\
         Training: {}.\n\n",
        messages.len(),
        SETS.map(|s| format!("`{s}`")).join(", "),
        ALTERED_AT_MOST * 100.0,
        if unit_settings.units == 0 {
            format!(
                "logistic regression over each word's MiniLM state after layer {NAME_LAYER}, the previous and the next \
                 word's, and its {} cues, full-batch Adam from zero, {} epochs, rate {}, L2 {}",
                navigator_pii::detect::person::WORD_CUES,
                settings.epochs,
                settings.rate,
                settings.l2
            )
        } else {
            format!(
                "a hidden layer of {} rectified units over each word's MiniLM state after layer {NAME_LAYER}, the \
                 previous and the next word's, and its {} cues (from fixed pseudo-random weights, quantised to 8 bits \
                 per unit as it ships), then the name probability; mini-batch Adam over the words in a fixed order, \
                 {} epochs of batches of {}, rate {}, L2 {} a batch",
                unit_settings.units,
                navigator_pii::detect::person::WORD_CUES,
                unit_settings.epochs,
                unit_settings.batch,
                unit_settings.rate,
                unit_settings.l2
            )
        }
    );
    let (names, nameless) = (
        messages.iter().map(|m| m.names.len()).sum::<usize>(),
        messages.iter().filter(|m| m.names.is_empty()).count(),
    );
    let rules_found = messages.iter().flat_map(|m| &m.rules_found).filter(|&&f| f).count();
    let rules_altered = messages.iter().filter(|m| m.names.is_empty() && m.rules_alter).count();
    let _ = writeln!(
        report,
        "| | names found ({names}) | messages without a name altered ({nameless}) |\n|---|---|---|\n\
         | the rules | {:.3} | {:.3} |",
        rules_found as f64 / names as f64,
        rules_altered as f64 / nameless as f64,
    );
    let mut chosen = None;
    for hundredths in 5u8..=99 {
        let threshold = f32::from(hundredths) / 100.0;
        let (found, altered) = score(&messages, &probabilities, threshold);
        let (found, altered) = (found as f64 / names as f64, altered as f64 / nameless as f64);
        if hundredths % 10 == 0 || (chosen.is_none() && altered <= ALTERED_AT_MOST) {
            let _ = writeln!(report, "| the model at {threshold:.2} | {found:.3} | {altered:.3} |");
        }
        if chosen.is_none() && altered <= ALTERED_AT_MOST {
            chosen = Some(threshold);
        }
    }
    let threshold = chosen.ok_or("no threshold alters few enough messages")?;
    let _ = writeln!(report, "\nChosen threshold: {threshold:.2}.");
    let extend_threshold = choose_extension(&messages, &probabilities, threshold, &mut report);
    if let Ok(path) = std::env::var("NAME_TRAIN_REPORT") {
        return std::fs::write(&path, report).map_err(|e| format!("{path}: {e}"));
    }
    eprintln!("training on everything");
    let model = fit(&examples(&messages, |_| true), threshold)?.extending_at(extend_threshold);
    let json = serde_json::to_string(&model).map_err(|e| e.to_string())?;
    let path = root.join("model/names.json");
    std::fs::write(&path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    let path = root.join("training/NAMES.md");
    std::fs::write(&path, report).map_err(|e| format!("{}: {e}", path.display()))
}

/// A message's words, their labels and the rules' verdicts.
fn read(sentences: &MiniLm, line: &Line) -> Result<Message, String> {
    let text = &line.text;
    let rules = navigator_pii::find(text);
    let pieces = sentences
        .piece_states_blocking(text, NAME_LAYER)
        .map_err(|e| e.to_string())?;
    let words = words(text, &pieces, &rules);
    let mut is_name = vec![false; words.len()];
    let mut names = Vec::new();
    for value in line.pii.iter().filter(|v| v.kind == "name") {
        let Some(first) = occurrences(text, &value.value).into_iter().next() else {
            continue;
        };
        for (start, end) in occurrences(text, &value.value) {
            for (word, flag) in words.iter().zip(&mut is_name) {
                *flag |= word.start < end && start < word.end;
            }
        }
        let inside: Vec<usize> = (0..words.len())
            .filter(|&i| words[i].start < first.1 && first.0 < words[i].end)
            .collect();
        if !inside.is_empty() {
            names.push(inside);
        }
    }
    let rule_names: Vec<_> = rules.iter().filter(|d| d.kind == navigator_pii::Kind::Name).collect();
    let covered = |i: usize| {
        rule_names
            .iter()
            .any(|d| d.start <= words[i].start && words[i].end <= d.end)
    };
    let rules_found = names.iter().map(|name| name.iter().all(|&i| covered(i))).collect();
    Ok(Message {
        text: text.clone(),
        rules_alter: !rule_names.is_empty(),
        rules_found,
        words,
        is_name,
        names,
        fold: 0,
    })
}

/// Where `value` occurs in `text`: exactly, or else ignoring case where that keeps byte offsets.
fn occurrences(text: &str, value: &str) -> Vec<(usize, usize)> {
    let exact: Vec<(usize, usize)> = text.match_indices(value).map(|(at, v)| (at, at + v.len())).collect();
    if !exact.is_empty() || value.is_empty() {
        return exact;
    }
    let (lower_text, lower_value) = (text.to_lowercase(), value.to_lowercase());
    if lower_text.len() != text.len() || lower_value.len() != value.len() {
        return Vec::new();
    }
    lower_text
        .match_indices(&lower_value)
        .map(|(at, v)| (at, at + v.len()))
        .collect()
}

fn examples(messages: &[Message], keep: impl Fn(&Message) -> bool) -> Vec<(&[f32], bool)> {
    messages
        .iter()
        .filter(|m| keep(m))
        .flat_map(|m| m.words.iter().zip(&m.is_name).map(|(w, &y)| (w.features.as_slice(), y)))
        .collect()
}

/// Words beside a name may join it at a lower probability (`NameModel::extend_threshold`): that finds no name in a
/// message where none was found, so the messages altered stay as they are, and it can only find more of a name's
/// words. What it costs is words marked that are no part of a name. The extension threshold is the lowest (in steps
/// of 0.05, down from the threshold) at which those words grow by at most this share of the names it adds.
const WRONG_WORDS_PER_NAME_ADDED: f64 = 0.5;

/// Writes the extension thresholds' figures to `report` and returns the chosen one (`None`: no extension).
fn choose_extension(
    messages: &[Message],
    probabilities: &[Vec<f32>],
    threshold: f32,
    report: &mut String,
) -> Option<f32> {
    let (base_found, base_wrong) = extended(messages, probabilities, threshold, threshold);
    let _ = writeln!(
        report,
        "\nWords joined to a name's words (only spaces, line breaks or full stops between) may join it at a lower \
         probability. Out of fold, at the threshold of {threshold:.2}:\n\n\
         | extension threshold | names found | words marked that are no part of a name |\n|---|---|---|\n\
         | none | {base_found} | {base_wrong} |"
    );
    let mut chosen = None;
    for step in 1u8..20 {
        // Hundredths, so that the threshold read is the one that ships.
        let low = ((threshold - 0.05 * f32::from(step)) * 100.0).round() / 100.0;
        if low <= 0.01 {
            break;
        }
        let (found, wrong) = extended(messages, probabilities, threshold, low);
        let _ = writeln!(report, "| {low:.2} | {found} | {wrong} |");
        let added = found.saturating_sub(base_found) as f64;
        if added > 0.0 && (wrong.saturating_sub(base_wrong) as f64) <= WRONG_WORDS_PER_NAME_ADDED * added {
            chosen = Some(low);
        }
    }
    let _ = match chosen {
        Some(low) => writeln!(
            report,
            "\nChosen extension threshold: {low:.2} (the lowest at which the words wrongly marked grow by at most \
             {WRONG_WORDS_PER_NAME_ADDED} a name added)."
        ),
        None => writeln!(
            report,
            "\nNo extension threshold adds names at that cost; none is used."
        ),
    };
    chosen
}

/// Names found, and words marked that are no part of a name, with names extended at `low`.
fn extended(messages: &[Message], probabilities: &[Vec<f32>], high: f32, low: f32) -> (usize, usize) {
    let mut found = 0;
    let mut wrong = 0;
    for (message, p) in messages.iter().zip(probabilities) {
        let marks = name_words(&message.text, &message.words, p, high, low);
        found += message
            .names
            .iter()
            .filter(|name| name.iter().all(|&i| marks[i]))
            .count();
        wrong += marks.iter().zip(&message.is_name).filter(|&(&m, &y)| m && !y).count();
    }
    (found, wrong)
}

/// Names found and messages without a name altered, at `threshold`.
fn score(messages: &[Message], probabilities: &[Vec<f32>], threshold: f32) -> (usize, usize) {
    let mut found = 0;
    let mut altered = 0;
    for (message, p) in messages.iter().zip(probabilities) {
        found += message
            .names
            .iter()
            .filter(|name| name.iter().all(|&i| p[i] >= threshold))
            .count();
        if message.names.is_empty() && p.iter().any(|&v| v >= threshold) {
            altered += 1;
        }
    }
    (found, altered)
}

fn fnv(value: u64) -> u64 {
    value.to_le_bytes().iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn read_env(name: &str, default: f32) -> f32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
