//! `navigator eval guard <file.jsonl>` (the format of security-dev.jsonl): precision and recall per label, block
//! recall on attacks, the false-block rate on benign texts, PII value recall, and stage latencies.

use guard::Guard;
use navigator_platform::config::Settings;
use navigator_platform::contracts::Verdict;
use navigator_resilience::Deadline;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    id: String,
    text: String,
    label: String,
    #[serde(default)]
    pii: Vec<PiiValue>,
    #[serde(default)]
    lang: String,
}

#[derive(Deserialize)]
struct PiiValue {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

const LABELS: [&str; 8] = [
    "benign",
    "injection",
    "privacy",
    "pii",
    "unsafe_medical",
    "emergency",
    "harmful",
    "off_topic",
];
/// The labels that block.
const ATTACKS: [&str; 6] = [
    "injection",
    "privacy",
    "unsafe_medical",
    "emergency",
    "harmful",
    "off_topic",
];

/// A set labelled with the three older block labels (like security-dev.jsonl) is scored in them: privacy counts as
/// injection, an emergency as unsafe medical, a harmful request as off-topic.
fn coarse(category: &str) -> &str {
    match category {
        "privacy" => "injection",
        "emergency" => "unsafe_medical",
        "harmful" => "off_topic",
        other => other,
    }
}

#[derive(Default)]
struct Tally {
    /// (label, predicted) counts.
    pairs: Vec<(String, String)>,
    attacks: usize,
    attacks_blocked: usize,
    benign: usize,
    benign_blocked: usize,
    /// Per kind of personal data: (values, removed).
    pii_by_kind: BTreeMap<String, (usize, usize)>,
    /// Benign texts whose words the guard changed (a redaction where there was nothing personal).
    benign_altered: usize,
    /// Texts the guard marked degraded: its ML stage (the heuristic verdict then stood) or its name model (the
    /// rules' names then stood) did not finish in its budget or failed. On a busy machine these, not the models,
    /// explain a lower recall.
    degraded: usize,
}

pub async fn run(file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let items: Vec<Item> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect::<Result<_, _>>()?;
    let Settings { budgets, providers } = Settings::from_env().map_err(|e| e.to_string())?;
    let guard = Guard::from_config(&budgets.guard, providers.guard_ml)
        .await
        .map_err(|e| e.to_string())?;
    let fine_labels = items
        .iter()
        .any(|item| ["privacy", "emergency", "harmful"].contains(&item.label.as_str()));
    println!("guard ML stage: {}", guard.classifier_name());
    let verbose = std::env::var_os("NAVIGATOR_EVAL_VERBOSE").is_some();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut stage_ms: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for item in &items {
        let output = guard
            .check(&item.text, Deadline::after(budgets.guard.total))
            .await
            .map_err(|e| format!("{}: {e}", item.id))?;
        for (stage, ms) in &output.stages_ms {
            stage_ms
                .entry(stage.clone())
                .or_default()
                .push(ms.as_f64().unwrap_or_default());
        }
        let predicted = match (output.verdict, output.category) {
            (Verdict::Block, Some(category)) if fine_labels => category.as_str().to_string(),
            (Verdict::Block, Some(category)) => coarse(category.as_str()).to_string(),
            (Verdict::Redact, _) => "pii".to_string(),
            _ => "benign".to_string(),
        };
        // Per value: whether it is gone from the guard's text.
        let removed: Vec<bool> = item.pii.iter().map(|v| gone(v, &output.text)).collect();
        let missed: Vec<&PiiValue> = item
            .pii
            .iter()
            .zip(&removed)
            .filter(|(_, gone)| !**gone)
            .map(|(v, _)| v)
            .collect();
        if verbose && (predicted != item.label || !missed.is_empty()) {
            let missed: Vec<String> = missed.iter().map(|v| format!("{}:{}", v.kind, v.value)).collect();
            eprintln!(
                "{} {} → {predicted}; unredacted {missed:?}: {:?}",
                item.id, item.label, item.text
            );
        }
        for group in ["all".to_string(), format!("lang={}", item.lang)] {
            let tally = tallies.entry(group).or_default();
            tally.pairs.push((item.label.clone(), predicted.clone()));
            tally.degraded += usize::from(output.degraded);
            if ATTACKS.contains(&item.label.as_str()) {
                tally.attacks += 1;
                tally.attacks_blocked += usize::from(output.verdict == Verdict::Block);
            }
            if item.label == "benign" {
                tally.benign += 1;
                tally.benign_blocked += usize::from(output.verdict == Verdict::Block);
                tally.benign_altered += usize::from(output.verdict == Verdict::Redact);
            }
            for (value, gone) in item.pii.iter().zip(&removed) {
                let entry = tally.pii_by_kind.entry(value.kind.clone()).or_default();
                entry.0 += 1;
                entry.1 += usize::from(*gone);
            }
        }
    }
    for (group, tally) in &tallies {
        println!("{group}");
        println!("  {:<16} {:>4} {:>10} {:>8}", "label", "n", "precision", "recall");
        for label in LABELS {
            let n = tally.pairs.iter().filter(|(l, _)| l == label).count();
            let predicted = tally.pairs.iter().filter(|(_, p)| p == label).count();
            let correct = tally.pairs.iter().filter(|(l, p)| l == label && p == label).count();
            if n == 0 && predicted == 0 {
                continue;
            }
            println!(
                "  {label:<16} {n:>4} {:>10} {:>8}",
                share(correct, predicted),
                share(correct, n)
            );
        }
        println!(
            "  block recall on every blocking label: {} ({}/{})",
            share(tally.attacks_blocked, tally.attacks),
            tally.attacks_blocked,
            tally.attacks
        );
        println!(
            "  benign blocked: {} ({}/{})",
            share(tally.benign_blocked, tally.benign),
            tally.benign_blocked,
            tally.benign
        );
        println!(
            "  benign altered (redacted): {} ({}/{})",
            share(tally.benign_altered, tally.benign),
            tally.benign_altered,
            tally.benign
        );
        let (values, removed) = tally
            .pii_by_kind
            .values()
            .fold((0, 0), |(values, removed), (v, r)| (values + v, removed + r));
        println!("  PII value recall: {} ({removed}/{values})", share(removed, values));
        for (kind, (values, removed)) in &tally.pii_by_kind {
            println!("    {kind:<14} {} ({removed}/{values})", share(*removed, *values));
        }
        if tally.degraded > 0 {
            println!(
                "  degraded (the ML stage or the name model did not finish): {} texts; figures of a busy machine",
                tally.degraded
            );
        }
    }
    for (stage, mut samples) in stage_ms {
        samples.sort_by(f64::total_cmp);
        let at = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
        println!("stage {stage:<10} p50 {:.3} ms  p99 {:.3} ms", at(0.5), at(0.99));
    }
    Ok(())
}

/// Surname particles: a name's words, but ordinary words of the text around it too.
const PARTICLES: &[&str] = &[
    "de", "del", "la", "las", "los", "y", "van", "von", "der", "den", "da", "di", "du", "le", "al",
];

/// Whether `value` no longer shows in `text`. A name is gone only when none of its words is left: "[NAME] J.
/// Kowalski" still names him. Initials are no leak, and neither are surname particles ("de la Rosa", "MONTES DE
/// OCA"), which the rest of a Spanish text uses anyway; a name made only of such words is checked whole.
fn gone(value: &PiiValue, text: &str) -> bool {
    if value.kind != "name" {
        return !text.contains(&value.value);
    }
    let words_left: Vec<String> = text.split(|c: char| !is_name_char(c)).map(str::to_lowercase).collect();
    let words: Vec<String> = value
        .value
        .split(|c: char| !is_name_char(c))
        .filter(|word| word.chars().count() >= 2)
        .map(str::to_lowercase)
        .filter(|word| !PARTICLES.contains(&word.as_str()))
        .collect();
    if words.is_empty() {
        return !text.contains(&value.value);
    }
    words.iter().all(|word| !words_left.contains(word))
}

fn is_name_char(c: char) -> bool {
    c.is_alphabetic() || matches!(c, '-' | '\'' | '’')
}

fn share(part: usize, whole: usize) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.3}", part as f64 / whole as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(value: &str) -> PiiValue {
        PiiValue {
            kind: "name".into(),
            value: value.into(),
        }
    }

    #[test]
    fn a_name_is_gone_only_when_none_of_its_words_is_left() {
        assert!(gone(&name("Walter J. Kowalski"), "Is [NAME] still my doctor?"));
        assert!(gone(
            &name("Walter J. Kowalski"),
            "Is [NAME] J. [NAME] still my doctor?"
        ));
        assert!(!gone(
            &name("Walter J. Kowalski"),
            "Is [NAME] J. Kowalski still my doctor?"
        ));
        assert!(!gone(&name("de la Rosa, Ernesto"), "Patient: de la Rosa, [NAME]"));
        assert!(gone(&name("de la Rosa, Ernesto"), "Patient: de la [NAME], la cuenta"));
        assert!(gone(&name("MONTES DE OCA, GUADALUPE"), "[NAME] llamó de la farmacia"));
        assert!(!gone(&name("MONTES DE OCA, GUADALUPE"), "MONTES DE OCA, [NAME]"));
        assert!(!gone(&name("rita okonkwo-bell"), "is [NAME] okonkwo-bell on file?"));
    }

    #[test]
    fn other_values_are_gone_when_their_text_is() {
        let phone = PiiValue {
            kind: "phone".into(),
            value: "510-555-0129".into(),
        };
        assert!(gone(&phone, "call me at [PHONE]"));
        assert!(!gone(&phone, "call me at 510-555-0129"));
    }
}
