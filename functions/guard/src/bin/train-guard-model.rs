//! Trains the guard's embedded classifier and prints its weights as JSON:
//!
//! ```sh
//! cargo run --release -p guard --bin train-guard-model -- functions/guard/training/train.jsonl \
//!     > functions/guard/model/linear.json
//! ```
//!
//! The same data always gives the same weights (full-batch gradient descent from zero).

use guard::classifier::linear::{CLASSES, LinearModel};
use guard::normalize::view;
use serde::Deserialize;
use std::process::ExitCode;

#[derive(Deserialize)]
struct Example {
    text: String,
    label: String,
}

const EPOCHS: usize = 400;
const RATE: f32 = 2.0;
const L2: f32 = 0.0005;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: train-guard-model <train.jsonl>");
        return ExitCode::FAILURE;
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut examples = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let example: Example = match serde_json::from_str(line) {
            Ok(example) => example,
            Err(e) => {
                eprintln!("{path}:{}: {e}", number + 1);
                return ExitCode::FAILURE;
            }
        };
        let Some(label) = CLASSES.iter().position(|c| *c == example.label) else {
            eprintln!("{path}:{}: unknown label {:?}", number + 1, example.label);
            return ExitCode::FAILURE;
        };
        examples.push((view(&example.text), label));
    }
    let model = LinearModel::train(&examples, EPOCHS, RATE, L2).rounded();
    let correct = examples
        .iter()
        .filter(|(text, label)| {
            let p = model.predict(text);
            let scores = [p.benign, p.injection, p.unsafe_medical];
            let best = (0..3).max_by(|a, b| scores[*a].total_cmp(&scores[*b])).unwrap_or(0);
            best == *label
        })
        .count();
    eprintln!(
        "trained on {} examples; training accuracy {correct}/{}",
        examples.len(),
        examples.len()
    );
    match serde_json::to_string(&model) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
