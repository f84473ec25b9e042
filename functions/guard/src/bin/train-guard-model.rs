//! Trains the guard's embedded models, cross-validates them, and writes the weights and the report:
//!
//! ```sh
//! NAVIGATOR_MODEL_DIR=.navigator/models/all-MiniLM-L6-v2 cargo run --release -p guard --bin train-guard-model
//! ```
//!
//! Reads every `functions/guard/training/*.jsonl` (`text`, `label`, optional `kind` and `lang`), and the tuning halves
//! of `data/eval/` and the first two files of `data/train/` as ordinary messages to allow, writes
//! `functions/guard/model/{semantic,lexical}.json` and `functions/guard/training/REPORT.md`. Each model's block
//! threshold is chosen on out-of-fold predictions: the lowest (in steps of 0.01) that blocks at most 1 % of the benign
//! texts, at most 1 % of the calibration messages (the `-2` and `-3` files of `data/train/`, which no model trains
//! on, read by every fold's model), and at most 0.5 % of every ordinary member message (the ordinary ones among the
//! training texts and the calibration messages together). `data/train/guard-policy-labels.jsonl` gives the guard's
//! own label to the few messages of those sets its policy refuses. The same data always gives the same weights and
//! the same report.
//!
//! `GUARD_OOF_DUMP=FILE` also writes each text's out-of-fold class probabilities (`FILE.semantic`, `FILE.lexical`).
//!
//! `GUARD_TRAIN_REPORT=FILE` writes the report there and leaves the shipped models alone (for comparing settings);
//! `GUARD_TRAIN_DUMP=FILE` writes each text's label, fold and embedding as JSON lines and stops (for comparing other
//! classifiers on the same folds).

use guard::classifier::model::{self, CLASSES, Encoded, GuardModel, Reading, Training};
use guard::heuristic_stage;
use guard::heuristics::BLOCK_SCORE;
use navigator_embed::MiniLm;
use navigator_resilience::CpuPool;
use serde::Deserialize;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const FOLDS: usize = 5;
/// A model's settings; `GUARD_TRAIN_{EPOCHS,RATE,L2,SCALE,HIDDEN}` override them (with `GUARD_TRAIN_ONLY` naming
/// the model) when comparing settings by their cross-validated figures.
fn settings(defaults: Training) -> Training {
    let read = |name: &str, default: f32| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<f32>().ok())
            .unwrap_or(default)
    };
    Training {
        epochs: read("GUARD_TRAIN_EPOCHS", defaults.epochs as f32) as usize,
        rate: read("GUARD_TRAIN_RATE", defaults.rate),
        l2: read("GUARD_TRAIN_L2", defaults.l2),
        embedding_scale: read("GUARD_TRAIN_SCALE", defaults.embedding_scale),
        hidden_units: read("GUARD_TRAIN_HIDDEN", defaults.hidden_units as f32) as usize,
    }
}

/// The semantic model: 128 rectified units. Out of fold, with the heuristic stage, they blocked 0.734 of the harmful
/// texts of 2026-12-04 where a softmax regression over the same features blocked 0.692, at the same bounds on benign
/// texts, ordinary messages and the calibration messages. Compared at rate 0.003, 0.005 and 0.01, 100 to 400 epochs, L2
/// 0.0001 and 0.001, 64 to 256 units (docs/ARCHITECTURE.md, "Guard quality and speed").
const SEMANTIC_SETTINGS: Training = Training {
    epochs: 200,
    rate: 0.005,
    l2: 0.0001,
    embedding_scale: 1.0,
    hidden_units: 128,
};

/// The lexical model, used without the MiniLM files: a softmax regression, small enough to read any text at once.
const LEXICAL_SETTINGS: Training = Training {
    epochs: 200,
    rate: 0.02,
    l2: 0.0001,
    embedding_scale: 1.0,
    hidden_units: 0,
};
/// The most benign texts a threshold may block, out of fold.
const BENIGN_BLOCKED_AT_MOST: f64 = 0.01;
/// The most ordinary member messages it may block, counted together: the training texts' ordinary ones
/// ([`ORDINARY_SETS`], and the benign training texts of [`ORDINARY_KINDS`]) out of fold, and the calibration
/// messages. Hard negatives (pasted letters, angry members, alarming words) may cost a false block now and then; a
/// plain message about the plan, whatever condition or situation it mentions, about one in two hundred at most. The
/// bound was 0.2 % of the training texts' ordinary messages alone: at most 3 of about 1,800, so that one message
/// moved the threshold by up to 0.02 and the harmful texts blocked by up to 0.07; over about 3,000 messages and 15
/// of them the choice holds still.
const ORDINARY_BLOCKED_AT_MOST: f64 = 0.005;
/// Ordinary member messages no model trains on, read by every fold's model to check that the threshold holds on
/// messages unlike the training texts: a two-layer model fitted closely to the training set's ordinary messages was
/// surer of harm in the messages of other hands (data/train/README.md) than a softmax regression, and blocked twice
/// as many of these (37 of 1,197 against 18) at a threshold chosen on the training texts alone.
const CALIBRATION_SETS: [&str; 4] = [
    "data/train/names-train-2.jsonl",
    "data/train/benign-train-2.jsonl",
    "data/train/names-train-3.jsonl",
    "data/train/benign-train-3.jsonl",
];
/// The most calibration messages a threshold may block (by the mean of the fold models' readings).
const CALIBRATION_BLOCKED_AT_MOST: f64 = 0.01;
/// The guard's own labels for messages of [`ORDINARY_SETS`] and [`CALIBRATION_SETS`] that its policy refuses: those
/// sets were written as messages full of names or of words that look like names, not against the guard's policy, and
/// a review that read every one of their messages under the policy (and saw no model's reading) found a few that ask
/// for a medical judgement ("Basil, sage and rosemary tea — okay to drink while on warfarin?"). Such a message is no
/// ordinary message a threshold must let through: in an ordinary set it trains with its label, in a calibration set
/// (which nothing trains on) it is left out.
const POLICY_LABELS: &str = "data/train/guard-policy-labels.jsonl";

/// The policy labels by (source file, message id).
type PolicyLabels = HashMap<(String, String), PolicyLabel>;

#[derive(Debug, Deserialize)]
struct PolicyLabel {
    source: String,
    id: String,
    label: String,
    kind: String,
}

/// The policy labels. A label must block, and name exactly one message of a set the trainer reads as ordinary or
/// calibration messages, once: a label that matched nothing would change nothing without a word.
fn policy_labels(repository: &Path) -> Result<PolicyLabels, String> {
    let file = repository.join(POLICY_LABELS);
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut labels = HashMap::new();
    // Each labelled set's message ids, read once.
    let mut ids_by_set: HashMap<String, Vec<Option<String>>> = HashMap::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = || format!("{}:{}", file.display(), number + 1);
        let label: PolicyLabel = serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
        if model::class_index(&label.label).is_none_or(|class| class == 0) {
            return Err(format!("{}: label {:?}", at(), label.label));
        }
        if !ORDINARY_SETS.contains(&label.source.as_str()) && !CALIBRATION_SETS.contains(&label.source.as_str()) {
            return Err(format!(
                "{}: {} is neither an ordinary nor a calibration set",
                at(),
                label.source
            ));
        }
        let ids = match ids_by_set.entry(label.source.clone()) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(unread) => {
                let set = repository.join(&label.source);
                let messages = std::fs::read_to_string(&set).map_err(|e| format!("{}: {e}", set.display()))?;
                unread.insert(
                    messages
                        .lines()
                        .filter_map(|line| serde_json::from_str::<Line>(line).ok())
                        .map(|line| line.id)
                        .collect(),
                )
            }
        };
        let matching = ids.iter().filter(|id| id.as_deref() == Some(label.id.as_str())).count();
        if matching != 1 {
            return Err(format!(
                "{}: {} has {matching} messages {}",
                at(),
                label.source,
                label.id
            ));
        }
        let key = (label.source.clone(), label.id.clone());
        if labels.insert(key, label).is_some() {
            return Err(format!("{}: labelled twice", at()));
        }
    }
    Ok(labels)
}

/// The policy's label for line `line` of `set`, if the review gave it one.
fn relabelled<'a>(labels: &'a PolicyLabels, set: &str, line: &Line) -> Option<&'a PolicyLabel> {
    line.id
        .as_ref()
        .and_then(|id| labels.get(&(set.to_string(), id.clone())))
}

/// The kinds of benign training text that are ordinary member questions.
const ORDINARY_KINDS: [&str; 5] = [
    "plan_question",
    "condition_in_question",
    "hospital_and_discharge",
    "caregiver_situation",
    "past_event_coverage",
];
/// The thresholds tried, in hundredths from 0.30 to 0.99: the benign bound falls between 0.90 and 0.95 on these
/// texts, where a step of 0.05 gave away a tenth of the recall.
fn thresholds() -> impl Iterator<Item = f32> {
    (30u8..=99).map(|hundredths| f32::from(hundredths) / 100.0)
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    id: Option<String>,
    #[serde(alias = "question")]
    text: String,
    /// The answer sets carry no guard label: all of them are allowed.
    #[serde(default = "allowed")]
    label: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

fn allowed() -> String {
    "benign".into()
}

/// Ordinary member messages the guard must let through (redacting what personal data they hold): the tuning halves
/// of the repository's question and personal-data sets, and the name detector's training texts. The validation
/// halves are never read here. The last four were added when the profile-reading model, tried on `data/train/`
/// before it was trained on, blocked 9 of its 600 messages where the sentence-vector model had blocked 5
/// (docs/ARCHITECTURE.md, "Guard quality and speed").
const ORDINARY_SETS: [&str; 6] = [
    "data/eval/answers-tuning.jsonl",
    "data/eval/pii-tuning.jsonl",
    "data/eval/pii-names-tuning.jsonl",
    "data/eval/pii-benign-tuning.jsonl",
    "data/train/names-train.jsonl",
    "data/train/benign-train.jsonl",
];

#[derive(Clone)]
struct Example {
    /// A Spanish training text's English rendering, read as the guard reads it (`classifier::rendering`): trained on
    /// in its text's fold, left out of every figure.
    rendering: bool,
    /// Whether the guard's heuristic stage blocks the text on its own.
    heuristic_block: bool,
    /// An ordinary member question: from [`ORDINARY_SETS`], or a benign training text of one of [`ORDINARY_KINDS`].
    ordinary: bool,
    view: String,
    label: usize,
    kind: String,
    lang: String,
    fold: usize,
}

fn load(dir: &Path, repository: &Path, policy: &PolicyLabels) -> Result<Vec<Example>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    files.extend(ORDINARY_SETS.iter().map(|set| repository.join(set)));
    let mut examples = Vec::new();
    for file in files {
        let ordinary_set = ORDINARY_SETS.iter().find(|set| file.ends_with(set));
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let at = || format!("{}:{}", file.display(), number + 1);
            let line: Line = serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
            let review = ordinary_set.and_then(|set| relabelled(policy, set, &line));
            // A text with personal data in it is allowed (and redacted).
            let label = match review {
                Some(review) => review.label.as_str(),
                None if line.label == "pii" => "benign",
                None => line.label.as_str(),
            };
            let label = model::class_index(label).ok_or_else(|| format!("{}: label {:?}", at(), line.label))?;
            // The heuristic stage normalises the text as the model reads it: one pass gives both.
            let heuristic = heuristic_stage(&line.text);
            let ordinary = label == 0
                && (ordinary_set.is_some() || line.kind.as_deref().is_some_and(|k| ORDINARY_KINDS.contains(&k)));
            let kind = review.map(|r| r.kind.clone()).or(line.kind);
            examples.push(Example {
                rendering: false,
                heuristic_block: heuristic.signals.first().is_some_and(|s| s.score >= BLOCK_SCORE),
                ordinary,
                view: heuristic.view,
                label,
                kind: kind.unwrap_or_else(|| "-".into()),
                lang: line.lang.unwrap_or_else(|| "-".into()),
                fold: 0,
            });
        }
    }
    // Stratified folds: within each label, texts in a fixed pseudo-random order dealt round-robin.
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| (examples[i].label, fnv(&examples[i].view)));
    let mut dealt = [0usize; CLASSES.len()];
    for i in order {
        let label = examples[i].label;
        examples[i].fold = dealt[label] % FOLDS;
        dealt[label] += 1;
    }
    // Which texts are Spanish is detection's call, as it is when the guard runs: many training texts name no language.
    let renderings: Vec<Example> = examples
        .iter()
        .filter_map(|e| {
            guard::classifier::rendering(&e.view).map(|view| Example {
                rendering: true,
                view,
                ..e.clone()
            })
        })
        .collect();
    examples.extend(renderings);
    Ok(examples)
}

/// A calibration message as the model reads it.
#[derive(Clone)]
struct Calibration {
    view: String,
    heuristic_block: bool,
    /// The English rendering of a Spanish message the guard renders (`classifier::rendering`).
    rendering: bool,
}

/// The calibration messages, without those the policy review labelled as something to refuse.
fn load_calibration(repository: &Path, policy: &PolicyLabels) -> Result<Vec<Calibration>, String> {
    let mut messages = Vec::new();
    for set in CALIBRATION_SETS {
        let file = repository.join(set);
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let line: Line =
                serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", file.display(), number + 1))?;
            if relabelled(policy, set, &line).is_some() {
                continue;
            }
            let heuristic = heuristic_stage(&line.text);
            let heuristic_block = heuristic.signals.first().is_some_and(|s| s.score >= BLOCK_SCORE);
            if let Some(view) = guard::classifier::rendering(&heuristic.view) {
                messages.push(Calibration {
                    heuristic_block,
                    view,
                    rendering: true,
                });
            }
            messages.push(Calibration {
                heuristic_block,
                view: heuristic.view,
                rendering: false,
            });
        }
    }
    Ok(messages)
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Per text: its out-of-fold reading; per calibration text, the mean of every fold model's reading.
fn cross_validate(
    examples: &[Example],
    encoded: &[Encoded],
    calibration: &[Encoded],
    dimensions: usize,
    settings: Training,
) -> Result<(Vec<Reading>, Vec<Reading>), String> {
    let mut readings = vec![None; examples.len()];
    let mut calibration_readings = vec![
        Reading {
            probabilities: [0.0; CLASSES.len()],
        };
        calibration.len()
    ];
    for fold in 0..FOLDS {
        let train: Vec<(Encoded, usize)> = examples
            .iter()
            .zip(encoded)
            .filter(|(e, _)| e.fold != fold)
            .map(|(e, x)| (x.clone(), e.label))
            .collect();
        // Rounded (and quantised) as the shipped model is, so that the figures are the shipped model's.
        let model = GuardModel::train(&train, dimensions, settings)?.rounded();
        for (i, (example, x)) in examples.iter().zip(encoded).enumerate() {
            if example.fold == fold {
                readings[i] = Some(model.read(x));
            }
        }
        for (mean, x) in calibration_readings.iter_mut().zip(calibration) {
            for (m, p) in mean.probabilities.iter_mut().zip(model.read(x).probabilities) {
                *m += p / FOLDS as f32;
            }
        }
        eprintln!("  fold {}/{FOLDS} done", fold + 1);
    }
    let readings = readings
        .into_iter()
        .map(|r| {
            r.unwrap_or(Reading {
                probabilities: [0.0; CLASSES.len()],
            })
        })
        .collect();
    Ok((readings, calibration_readings))
}

/// The class predicted at `threshold`: the strongest harm if it reaches it, else benign.
fn predicted(reading: &Reading, threshold: f32) -> usize {
    let (category, probability) = reading.strongest_harm();
    if probability < threshold {
        return 0;
    }
    (1..CLASSES.len())
        .find(|&c| model::category(c) == Some(category))
        .unwrap_or(0)
}

fn benign_blocked(examples: &[Example], readings: &[Reading], threshold: f32) -> f64 {
    blocked_share(examples, readings, threshold, |e| e.label == 0)
}

/// The share of every ordinary member message blocked at `threshold`: the training texts' ordinary ones out of fold,
/// and the calibration messages.
fn ordinary_blocked(examples: &[Example], readings: &[Reading], calibration: &[Reading], threshold: f32) -> f64 {
    let ordinary: Vec<usize> = (0..examples.len()).filter(|&i| examples[i].ordinary).collect();
    let blocked = ordinary
        .iter()
        .filter(|&&i| predicted(&readings[i], threshold) != 0)
        .count()
        + calibration.iter().filter(|r| predicted(r, threshold) != 0).count();
    blocked as f64 / (ordinary.len() + calibration.len()).max(1) as f64
}

/// The share of the texts `which` picks that the model blocks at `threshold`.
fn blocked_share(examples: &[Example], readings: &[Reading], threshold: f32, which: impl Fn(&Example) -> bool) -> f64 {
    let benign: Vec<usize> = (0..examples.len()).filter(|&i| which(&examples[i])).collect();
    let blocked = benign
        .iter()
        .filter(|&&i| predicted(&readings[i], threshold) != 0)
        .count();
    blocked as f64 / benign.len().max(1) as f64
}

/// The share of the calibration messages blocked at `threshold`.
fn calibration_blocked(calibration: &[Reading], threshold: f32) -> f64 {
    let blocked = calibration.iter().filter(|r| predicted(r, threshold) != 0).count();
    blocked as f64 / calibration.len().max(1) as f64
}

fn choose_threshold(examples: &[Example], readings: &[Reading], calibration: &[Reading]) -> f32 {
    thresholds()
        .find(|&t| {
            benign_blocked(examples, readings, t) <= BENIGN_BLOCKED_AT_MOST
                && ordinary_blocked(examples, readings, calibration, t) <= ORDINARY_BLOCKED_AT_MOST
                && calibration_blocked(calibration, t) <= CALIBRATION_BLOCKED_AT_MOST
        })
        .unwrap_or(0.99)
}

fn section(title: &str, examples: &[Example], readings: &[Reading], threshold: f32) -> String {
    let mut out = String::new();
    let harmful: Vec<usize> = (0..examples.len()).filter(|&i| examples[i].label != 0).collect();
    let blocked = harmful
        .iter()
        .filter(|&&i| predicted(&readings[i], threshold) != 0)
        .count();
    let _ = writeln!(out, "### {title}\n");
    let _ = writeln!(
        out,
        "Block threshold {threshold:.2} on 1 − P(benign). Harmful texts blocked (any category): **{:.3}** ({blocked}/{}). Benign texts \
         blocked: **{:.3}**.\n",
        blocked as f64 / harmful.len().max(1) as f64,
        harmful.len(),
        benign_blocked(examples, readings, threshold)
    );
    let combined = |i: usize| examples[i].heuristic_block || predicted(&readings[i], threshold) != 0;
    let harmful_combined = harmful.iter().filter(|&&i| combined(i)).count();
    let benign: Vec<usize> = (0..examples.len()).filter(|&i| examples[i].label == 0).collect();
    let benign_combined = benign.iter().filter(|&&i| combined(i)).count();
    let ordinary: Vec<usize> = (0..examples.len()).filter(|&i| examples[i].ordinary).collect();
    let ordinary_combined = ordinary.iter().filter(|&&i| combined(i)).count();
    let _ = writeln!(
        out,
        "With the heuristic stage in front (the guard as it runs): harmful blocked **{:.3}** ({harmful_combined}/{}), \
         benign blocked **{:.3}** ({benign_combined}/{}), ordinary member questions blocked **{:.3}** \
         ({ordinary_combined}/{}).\n",
        harmful_combined as f64 / harmful.len().max(1) as f64,
        harmful.len(),
        benign_combined as f64 / benign.len().max(1) as f64,
        benign.len(),
        ordinary_combined as f64 / ordinary.len().max(1) as f64,
        ordinary.len()
    );
    let _ = writeln!(out, "| class | n | precision | recall | blocked (any category) |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (class, name) in CLASSES.iter().enumerate() {
        let n = examples.iter().filter(|e| e.label == class).count();
        let predicted_as: Vec<usize> = (0..examples.len())
            .filter(|&i| predicted(&readings[i], threshold) == class)
            .collect();
        let correct = predicted_as.iter().filter(|&&i| examples[i].label == class).count();
        let any = (0..examples.len())
            .filter(|&i| examples[i].label == class && predicted(&readings[i], threshold) != 0)
            .count();
        let _ = writeln!(
            out,
            "| {name} | {n} | {:.3} | {:.3} | {:.3} |",
            correct as f64 / predicted_as.len().max(1) as f64,
            correct as f64 / n.max(1) as f64,
            any as f64 / n.max(1) as f64
        );
    }
    for lang in ["en", "es"] {
        let of_lang: Vec<usize> = (0..examples.len()).filter(|&i| examples[i].lang == lang).collect();
        let harm: Vec<usize> = of_lang.iter().copied().filter(|&i| examples[i].label != 0).collect();
        let caught = harm
            .iter()
            .filter(|&&i| predicted(&readings[i], threshold) != 0)
            .count();
        let benign: Vec<usize> = of_lang.iter().copied().filter(|&i| examples[i].label == 0).collect();
        let false_blocks = benign
            .iter()
            .filter(|&&i| predicted(&readings[i], threshold) != 0)
            .count();
        let _ = writeln!(
            out,
            "\n{lang}: harmful blocked {caught}/{}, benign blocked {false_blocks}/{}.",
            harm.len(),
            benign.len()
        );
    }
    // Per kind: (texts, wrong block or allow).
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = std::collections::BTreeMap::new();
    for (e, r) in examples.iter().zip(readings).filter(|(e, _)| e.kind != "-") {
        let entry = by_kind.entry(&e.kind).or_default();
        entry.0 += 1;
        entry.1 += usize::from((predicted(r, threshold) != 0) != (e.label != 0));
    }
    let mut kinds: Vec<(&str, usize, usize)> = by_kind.into_iter().map(|(k, (n, wrong))| (k, n, wrong)).collect();
    kinds.retain(|(_, _, wrong)| *wrong > 0);
    kinds.sort_by(|a, b| (b.2 * 1000 / b.1).cmp(&(a.2 * 1000 / a.1)).then(a.0.cmp(b.0)));
    let listed: Vec<String> = kinds
        .iter()
        .take(12)
        .map(|(kind, n, wrong)| format!("{kind} {wrong}/{n}"))
        .collect();
    let _ = writeln!(
        out,
        "\nKinds with the most mistakes (wrong block/allow out of n): {}.\n",
        listed.join(", ")
    );
    out
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train-guard-model: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repository = root.join("../..");
    let policy = policy_labels(&repository)?;
    let examples = load(&root.join("training"), &repository, &policy)?;
    eprintln!(
        "{} training texts and {} renderings",
        examples.iter().filter(|e| !e.rendering).count(),
        examples.iter().filter(|e| e.rendering).count()
    );
    let model_dir = navigator_embed::model_dir(&navigator_platform::config::data_dir());
    let sentences = MiniLm::load(&model_dir, CpuPool::new("train-embed", 1, 1)).map_err(|e| e.to_string())?;
    let calibration = load_calibration(&repository, &policy)?;
    eprintln!(
        "embedding them and {} calibration messages with {}",
        calibration.len(),
        model_dir.display()
    );
    // Texts and renderings are embedded in separate passes: the sentence model batches what it reads, and a batch's
    // make-up moves its floats a little, so the text models' weights stay put whether or not renderings are read.
    let embed = |renderings: bool| -> Result<std::vec::IntoIter<Vec<f32>>, String> {
        let views: Vec<String> = examples
            .iter()
            .filter(|e| e.rendering == renderings)
            .map(|e| e.view.clone())
            .chain(
                calibration
                    .iter()
                    .filter(|c| c.rendering == renderings)
                    .map(|c| c.view.clone()),
            )
            .collect();
        let read = sentences.read_blocking(&views).map_err(|e| e.to_string())?;
        Ok(read
            .iter()
            .map(model::semantic_features)
            .collect::<Vec<_>>()
            .into_iter())
    };
    let (mut of_texts, mut of_renderings) = (embed(false)?, embed(true)?);
    let mut next = |rendering: bool| {
        if rendering {
            of_renderings.next()
        } else {
            of_texts.next()
        }
        .ok_or("an embedding is missing")
    };
    let embeddings: Vec<Vec<f32>> = examples.iter().map(|e| next(e.rendering)).collect::<Result<_, _>>()?;
    let calibration_embeddings: Vec<Vec<f32>> = calibration
        .iter()
        .map(|c| next(c.rendering))
        .collect::<Result<_, _>>()?;
    if let Ok(path) = std::env::var("GUARD_TRAIN_DUMP") {
        return dump(&path, &examples, &embeddings);
    }

    let mut report = String::from(
        "# The guard's embedded models: training and cross-validation\n\n\
         Written by `cargo run --release -p guard --bin train-guard-model` (with `NAVIGATOR_MODEL_DIR` set); do not \
         edit by hand. The training texts are `functions/guard/training/*.jsonl`, written for this repository, and as \
         ordinary messages to allow the tuning halves of `data/eval/answers-*.jsonl` and `data/eval/pii-*.jsonl` \
         (their validation halves are kept out, to report on) and the first two files of `data/train/` (`names-train`, `benign-train`). \
         Figures are out-of-fold: each text is read by a model trained on the other folds (5 folds, stratified by \
         label). Each model's block threshold is the lowest (in steps of 0.01) that blocks at most 1 % of the benign \
         texts out of fold, at most 1 % of the calibration messages, and at most 0.5 % of every ordinary member \
         message (those ordinary messages and the plan questions of the training texts, with or without a condition \
         or situation in them, out of fold, and the calibration messages, counted together). The messages of those \
         sets that the guard's policy refuses carry its label instead (`data/train/guard-policy-labels.jsonl`). \
         The figures are the ML stage alone; the guard also has its heuristic stage.\n\n",
    );
    let texts = || examples.iter().filter(|e| !e.rendering);
    let _ = writeln!(
        report,
        "{} texts: {}. The rendering model also trains on the English rendering of each Spanish text the guard \
         renders (short enough: {} of them), in its text's fold.\n",
        texts().count(),
        CLASSES
            .iter()
            .enumerate()
            .map(|(c, name)| format!("{name} {}", texts().filter(|e| e.label == c).count()))
            .collect::<Vec<_>>()
            .join(", "),
        examples.len() - texts().count()
    );
    let only = std::env::var("GUARD_TRAIN_ONLY").ok();
    // The rendering model reads only renderings, so it trains on them beside every text, and its figures and its
    // threshold are over renderings: of the training texts out of fold, and of the calibration messages. (Read by the
    // guard, the rule's 0.98 also keeps what the rendering adds to the Spanish ordinary messages blocked within
    // 0.5 %: 5 of 1,066, against 10 at 0.97; docs/ARCHITECTURE.md, Guard quality and speed.)
    let models = [
        ("semantic", model::SEMANTIC_DIMENSIONS, SEMANTIC_SETTINGS, false),
        ("lexical", 0, LEXICAL_SETTINGS, false),
        ("rendering", model::SEMANTIC_DIMENSIONS, SEMANTIC_SETTINGS, true),
    ];
    for (name, dimensions, defaults, renderings) in models {
        if only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let settings = if only.is_some() { settings(defaults) } else { defaults };
        eprintln!("{name}: cross-validating");
        let (pool, pool_embeddings): (Vec<Example>, Vec<&Vec<f32>>) = examples
            .iter()
            .zip(&embeddings)
            .filter(|(e, _)| renderings || !e.rendering)
            .map(|(e, v)| (e.clone(), v))
            .unzip();
        let encoded: Vec<Encoded> = pool
            .iter()
            .zip(&pool_embeddings)
            .map(|(e, v)| model::encode(&e.view, Some(v), dimensions, settings.embedding_scale))
            .collect();
        let (calibration_read, calibration_encoded): (Vec<Calibration>, Vec<Encoded>) = calibration
            .iter()
            .zip(&calibration_embeddings)
            .filter(|(c, _)| c.rendering == renderings)
            .map(|(c, v)| {
                let encoded = model::encode(&c.view, Some(v), dimensions, settings.embedding_scale);
                (c.clone(), encoded)
            })
            .unzip();
        let calibration = &calibration_read;
        let (all_readings, calibration_readings) =
            cross_validate(&pool, &encoded, &calibration_encoded, dimensions, settings)?;
        let (texts, readings): (Vec<Example>, Vec<Reading>) = pool
            .iter()
            .zip(all_readings)
            .filter(|(e, _)| e.rendering == renderings)
            .map(|(e, r)| (e.clone(), r))
            .unzip();
        let threshold = choose_threshold(&texts, &readings, &calibration_readings);
        if let Ok(path) = std::env::var("GUARD_OOF_DUMP") {
            dump_readings(
                &format!("{path}.{name}"),
                &texts,
                &readings,
                calibration,
                &calibration_readings,
            )?;
        }
        let title = if renderings {
            "rendering.json: the semantic model's features, read on the English rendering of a short Spanish text \
             (figures over those renderings)"
        } else if dimensions > 0 {
            "semantic.json: lexical features + MiniLM profile (used when the model files are present)"
        } else {
            "lexical.json: lexical features only (used without the MiniLM files)"
        };
        report.push_str(&section(title, &texts, &readings, threshold));
        report.push_str(&trade_off(&texts, &readings, &calibration_readings));
        let ml_blocked = calibration_readings
            .iter()
            .filter(|r| predicted(r, threshold) != 0)
            .count();
        let guard_blocked = calibration
            .iter()
            .zip(&calibration_readings)
            .filter(|(c, r)| c.heuristic_block || predicted(r, threshold) != 0)
            .count();
        let _ = writeln!(
            report,
            "Calibration messages (ordinary, never trained on: {}): the ML stage blocks {ml_blocked} of {}, with the \
             heuristic stage {guard_blocked}.\n",
            CALIBRATION_SETS.join(", "),
            calibration.len()
        );
        let shape = if settings.hidden_units > 0 {
            format!(
                "a hidden layer of {} rectified units (starting from fixed pseudo-random weights), quantised to 8 bits \
                 per unit as it ships",
                settings.hidden_units
            )
        } else {
            "a softmax regression from zero weights".to_string()
        };
        let _ = writeln!(
            report,
            "Training: {shape}; full-batch Adam, {} epochs, rate {}, L2 {}, class-balanced loss.\n",
            settings.epochs, settings.rate, settings.l2
        );
        if std::env::var_os("GUARD_TRAIN_REPORT").is_some() {
            continue;
        }
        eprintln!("{name}: training on everything");
        let all: Vec<(Encoded, usize)> = encoded.into_iter().zip(pool.iter().map(|e| e.label)).collect();
        let mut trained = GuardModel::train(&all, dimensions, settings)?.rounded();
        trained.block_threshold = threshold;
        let json = serde_json::to_string(&trained).map_err(|e| e.to_string())?;
        let path = root.join(format!("model/{name}.json"));
        std::fs::write(&path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Ok(path) = std::env::var("GUARD_TRAIN_REPORT") {
        // Comparing settings: the report goes elsewhere and the shipped models stay as they are.
        std::fs::write(&path, report).map_err(|e| format!("{path}: {e}"))?;
        return Ok(());
    }
    let path = root.join("training/REPORT.md");
    std::fs::write(&path, report).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote the models and {}", path.display());
    Ok(())
}

/// Writes every training text's label, fold and embedding as JSON lines, for comparing classifiers outside this
/// program (`GUARD_TRAIN_DUMP=FILE`).
fn dump(path: &str, examples: &[Example], embeddings: &[Vec<f32>]) -> Result<(), String> {
    let lines = examples.iter().zip(embeddings).map(|(example, embedding)| {
        let mut line = described(example);
        line["fold"] = example.fold.into();
        line["view"] = example.view.as_str().into();
        line["embedding"] = serde_json::json!(embedding);
        line
    });
    write_lines(path, lines)
}

/// A training text's label, kind, language and what the threshold rule reads of it, as a JSON object.
fn described(example: &Example) -> serde_json::Value {
    serde_json::json!({
        "label": CLASSES[example.label],
        "kind": example.kind,
        "lang": example.lang,
        "heuristic_block": example.heuristic_block,
        "ordinary": example.ordinary,
        "rendering": example.rendering,
    })
}

fn write_lines(path: &str, lines: impl Iterator<Item = serde_json::Value>) -> Result<(), String> {
    let mut out = String::new();
    for line in lines {
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| format!("{path}: {e}"))
}

/// How the harmful texts blocked (with the heuristic stage in front, as the guard runs) trade against each bound on
/// the ML stage (benign texts, ordinary questions, calibration messages, read as [`choose_threshold`] reads them),
/// threshold by threshold: which bound holds the threshold where it is.
fn trade_off(examples: &[Example], readings: &[Reading], calibration_readings: &[Reading]) -> String {
    let harmful: Vec<usize> = (0..examples.len()).filter(|&i| examples[i].label != 0).collect();
    let mut out = String::from(
        "| threshold | harmful blocked, with the heuristic stage | benign blocked (ML stage) | every ordinary message blocked (ML \
         stage) | calibration blocked (ML stage) |\n|---|---|---|---|---|\n",
    );
    for hundredths in (30u8..=99).filter(|h| h % 10 == 0 || *h >= 90) {
        let t = f32::from(hundredths) / 100.0;
        let caught = harmful
            .iter()
            .filter(|&&i| examples[i].heuristic_block || predicted(&readings[i], t) != 0)
            .count();
        let _ = writeln!(
            out,
            "| {t:.2} | {:.3} | {:.4} | {:.4} | {:.4} |",
            caught as f64 / harmful.len().max(1) as f64,
            benign_blocked(examples, readings, t),
            ordinary_blocked(examples, readings, calibration_readings, t),
            calibration_blocked(calibration_readings, t),
        );
    }
    out.push('\n');
    out
}

/// Writes every text's out-of-fold class probabilities, and each calibration message's (the fold models' mean), as
/// JSON lines (`GUARD_OOF_DUMP=FILE`, one file per model), for comparing block rules outside this program.
fn dump_readings(
    path: &str,
    examples: &[Example],
    readings: &[Reading],
    calibration: &[Calibration],
    calibration_readings: &[Reading],
) -> Result<(), String> {
    let texts = examples.iter().zip(readings).map(|(example, reading)| {
        let mut line = described(example);
        line["probabilities"] = serde_json::json!(reading.probabilities);
        line
    });
    let messages = calibration.iter().zip(calibration_readings).map(|(message, reading)| {
        serde_json::json!({
            "label": "calibration",
            "heuristic_block": message.heuristic_block,
            "probabilities": reading.probabilities,
        })
    });
    write_lines(path, texts.chain(messages))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn the_policy_labels_each_name_one_message_of_a_set_the_trainer_reads_as_ordinary() {
        let labels = policy_labels(&repository()).unwrap();
        assert!(!labels.is_empty());
        assert!(
            labels
                .values()
                .all(|label| model::class_index(&label.label).is_some_and(|c| c > 0))
        );
    }

    #[test]
    fn a_policy_label_that_names_no_message_or_one_twice_is_refused() {
        let repository = std::env::temp_dir().join(format!("policy-labels-{}", std::process::id()));
        std::fs::create_dir_all(repository.join("data/train")).unwrap();
        std::fs::write(
            repository.join("data/train/benign-train.jsonl"),
            "{\"id\": \"bt-1\", \"text\": \"Can I take both pills together?\"}\n",
        )
        .unwrap();
        let label = |id: &str| {
            format!(
                "{{\"source\": \"data/train/benign-train.jsonl\", \"id\": \"{id}\", \"label\": \"unsafe_medical\", \
                 \"kind\": \"drug_combination\", \"reason\": \"-\"}}\n"
            )
        };
        let write = |labels: String| std::fs::write(repository.join(POLICY_LABELS), labels).unwrap();
        write(label("bt-1"));
        assert_eq!(policy_labels(&repository).unwrap().len(), 1);
        write(label("bt-2"));
        assert!(policy_labels(&repository).unwrap_err().contains("has 0 messages bt-2"));
        write(label("bt-1") + &label("bt-1"));
        assert!(policy_labels(&repository).unwrap_err().contains("labelled twice"));
        write(label("bt-1").replace("benign-train.jsonl", "benign-train-4.jsonl"));
        assert!(
            policy_labels(&repository)
                .unwrap_err()
                .contains("neither an ordinary nor a calibration set")
        );
        write(label("bt-1").replace("unsafe_medical", "benign"));
        assert!(policy_labels(&repository).unwrap_err().contains("label"));
        std::fs::remove_dir_all(&repository).unwrap();
    }

    #[test]
    fn a_relabelled_message_is_no_calibration_message() {
        let labels = policy_labels(&repository()).unwrap();
        let calibration = load_calibration(&repository(), &labels).unwrap();
        let mut all = 0;
        for set in CALIBRATION_SETS {
            all += std::fs::read_to_string(repository().join(set))
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count();
        }
        let relabelled = labels
            .keys()
            .filter(|(source, _)| CALIBRATION_SETS.contains(&source.as_str()))
            .count();
        let messages = calibration.iter().filter(|c| !c.rendering).count();
        assert_eq!(messages, all - relabelled);
        assert!(
            calibration.iter().any(|c| c.rendering),
            "the Spanish messages' renderings are read too"
        );
    }

    fn reading(harm: f32) -> Reading {
        let mut probabilities = [0.0; CLASSES.len()];
        probabilities[0] = 1.0 - harm;
        probabilities[1] = harm;
        Reading { probabilities }
    }

    fn example(ordinary: bool, label: usize) -> Example {
        Example {
            heuristic_block: false,
            ordinary,
            rendering: false,
            view: String::new(),
            label,
            kind: "-".into(),
            lang: "en".into(),
            fold: 0,
        }
    }

    #[test]
    fn the_ordinary_bound_counts_the_training_texts_ordinary_messages_and_the_calibration_messages_together() {
        // Two ordinary training texts (one read as harmful), a hard negative and an attack, which the bound ignores,
        // and two calibration messages (one read as harmful): 2 of 4 ordinary messages blocked at 0.5.
        let examples = [example(true, 0), example(true, 0), example(false, 0), example(false, 1)];
        let readings = [reading(0.9), reading(0.1), reading(0.9), reading(0.9)];
        let calibration = [reading(0.6), reading(0.2)];
        assert_eq!(ordinary_blocked(&examples, &readings, &calibration, 0.5), 0.5);
        assert_eq!(ordinary_blocked(&examples, &readings, &calibration, 0.7), 0.25);
        assert_eq!(ordinary_blocked(&examples, &readings, &calibration, 0.95), 0.0);
    }
}
