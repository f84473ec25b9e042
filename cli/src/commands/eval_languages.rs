//! `navigator eval languages <file.jsonl>` (`{lang, text}` per line, like shared/language/data/detection-set.jsonl):
//! detection accuracy per language, for short texts (under 5 words; for Chinese, under 8 characters) and longer
//! ones.

use std::collections::BTreeMap;
use std::path::Path;

#[derive(serde::Deserialize)]
struct Item {
    lang: String,
    text: String,
}

/// Whether a text counts as short.
fn short(item: &Item) -> bool {
    if item.lang == "zh" {
        item.text.chars().filter(|c| c.is_alphabetic()).count() < 8
    } else {
        item.text.split_whitespace().count() < 5
    }
}

pub fn run(file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let items: Vec<Item> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect::<Result<_, _>>()?;
    // (language, short?) → (right, total)
    let mut table: BTreeMap<(String, bool), (usize, usize)> = BTreeMap::new();
    for item in &items {
        let right = translate::detect::detect(&item.text).language == item.lang;
        for key in [(item.lang.clone(), short(item)), ("all".to_string(), short(item))] {
            let cell = table.entry(key).or_default();
            cell.0 += usize::from(right);
            cell.1 += 1;
        }
    }
    println!("{:<6} {:>16} {:>16}", "lang", "short", "5+ words");
    let mut languages: Vec<String> = table.keys().map(|(l, _)| l.clone()).collect();
    languages.dedup();
    for language in languages {
        let cell = |is_short: bool| match table.get(&(language.clone(), is_short)) {
            Some((right, total)) => format!("{:.3} ({right}/{total})", *right as f64 / *total as f64),
            None => "-".into(),
        };
        println!("{language:<6} {:>16} {:>16}", cell(true), cell(false));
    }
    Ok(())
}
