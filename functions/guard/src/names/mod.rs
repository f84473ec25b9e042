//! Learned name detection: a model over each word of a message (a hidden layer of rectified units, [`units`]), reading the word's MiniLM state after layer
//! [`NAME_LAYER`] (the mean of its word pieces', read with the words around it), the states of the words right before
//! and after it (a name's neighbours: "my neighbour ___ drives me", "___ is on the formulary"), and its cues from `navigator-pii`
//! (how it is written, where it sits, the gazetteer's lists, a salutation or title before it, and whether the rules
//! found it inside a name). Its names replace the rules' own: the rules' verdict is one of its inputs, weighed with
//! the rest. Trained in this repository by `train-name-model`, which also chose its threshold out of fold
//! (functions/guard/training/NAMES.md).

pub mod units;

use navigator_embed::PieceState;
use navigator_pii::detect::person::{
    WORD_CUES, after_a_place_and_particle, is_calendar_word, is_naming_particle, word_cues,
};
use navigator_pii::{Detection, Kind, Taken};
use serde::{Deserialize, Serialize};

/// The layer whose states the model reads: a middle layer still holds much of each word piece's own identity
/// (capitalised or not, common or rare), which the last has blended with its neighbours'.
pub const NAME_LAYER: usize = 3;
const DIMENSIONS: usize = 384;
/// What the model reads for each word: its state, the previous word's, the next word's (zeros at either end), then its
/// cues.
pub const NAME_FEATURES: usize = 3 * DIMENSIONS + WORD_CUES;

const SHIPPED: &str = include_str!("../../model/names.json");

/// The trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameModel {
    /// The output's weights: over the units when there are units, else over the features.
    pub weights: Vec<f32>,
    pub bias: f32,
    /// A word is part of a name at this probability or above.
    pub threshold: f32,
    /// A word joined to a name's word ("Ana M. Ruiz": only spaces, line breaks or full stops between) is part of the
    /// name at this probability or above: a surname the model is less sure of beside a given name it is sure of.
    /// Chosen out of fold with the threshold (functions/guard/training/NAMES.md); none: the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend_threshold: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<units::NameUnits>,
}

/// One word of a message, and what the model reads of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub features: Vec<f32>,
}

/// How the trainer fits the model: full-batch Adam from zero weights, so two runs give the same model.
#[derive(Debug, Clone, Copy)]
pub struct NameTraining {
    pub epochs: usize,
    pub rate: f32,
    pub l2: f32,
}

/// Every word of `text` with its features; `pieces` are the text's word pieces after [`NAME_LAYER`], `rules` the
/// detections of `navigator_pii::find` on the same text.
pub fn words(text: &str, pieces: &[PieceState], rules: &[Detection]) -> Vec<Word> {
    let cues = word_cues(text, rules);
    let states: Vec<Vec<f32>> = cues
        .iter()
        .map(|word| {
            let mut state = vec![0.0f32; DIMENSIONS];
            for piece in pieces.iter().filter(|p| p.start < word.end && word.start < p.end) {
                for (sum, value) in state.iter_mut().zip(&piece.state) {
                    *sum += value;
                }
            }
            let norm = state.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                state.iter_mut().for_each(|v| *v /= norm);
            }
            state
        })
        .collect();
    let none = vec![0.0f32; DIMENSIONS];
    cues.iter()
        .enumerate()
        .map(|(i, word)| {
            let mut features = states[i].clone();
            features.extend_from_slice(i.checked_sub(1).map_or(&none, |p| &states[p]));
            features.extend_from_slice(states.get(i + 1).unwrap_or(&none));
            features.extend_from_slice(&word.cues);
            Word {
                start: word.start,
                end: word.end,
                features,
            }
        })
        .collect()
}

impl NameModel {
    /// The model shipped with the function.
    pub fn shipped() -> Result<Self, String> {
        let model: Self = serde_json::from_str(SHIPPED).map_err(|e| format!("guard name model: {e}"))?;
        let inputs = match &model.units {
            Some(units) if !units.shaped(NAME_FEATURES) => {
                return Err(format!(
                    "guard name model: units not shaped for {NAME_FEATURES} features"
                ));
            }
            Some(units) => units.units(),
            None => NAME_FEATURES,
        };
        if model.weights.len() != inputs {
            return Err(format!(
                "guard name model: {} weights, expected {inputs}",
                model.weights.len()
            ));
        }
        Ok(model)
    }

    /// The probability that a word is part of a name.
    pub fn probability(&self, features: &[f32]) -> f32 {
        debug_assert_eq!(features.len(), NAME_FEATURES, "a word's features");
        let weighed = |inputs: &[f32]| self.bias + self.weights.iter().zip(inputs).map(|(w, x)| w * x).sum::<f32>();
        let z = match &self.units {
            Some(units) => weighed(&units.activations(features)),
            None => weighed(features),
        };
        1.0 / (1.0 + (-z).exp())
    }

    /// The names among `words` of `text`: runs of name words with at most three spaces, line breaks or full stops
    /// between them ("Ana M. Ruiz"), so that a name's parts are redacted as one; a word joined to a run is a name word
    /// at [`Self::extend_threshold`] ([`marked`]). A run right after a place or an institution and a particle names
    /// the place ("Hospital de Stanford"), whatever the model says of it.
    pub fn names(&self, text: &str, words: &[Word]) -> Vec<Detection> {
        let mut found: Vec<Detection> = Vec::new();
        let mut previous_end = None;
        // The end of the last word of a run that names a place: the words joined to it name it too ("Hospital de
        // Santa Rosa").
        let mut place_end = None;
        let joins = |end: Option<usize>, start: usize| end.is_some_and(|end: usize| joined(text, end, start));
        let probabilities: Vec<f32> = words.iter().map(|word| self.probability(&word.features)).collect();
        let low = self.extend_threshold.unwrap_or(self.threshold);
        let marked = name_words(text, words, &probabilities, self.threshold, low);
        for ((word, probability), marked) in words.iter().zip(probabilities).zip(marked) {
            if !marked {
                previous_end = None;
                place_end = None;
                continue;
            }
            let continues = joins(previous_end, word.start);
            if joins(place_end, word.start) || (!continues && after_a_place_and_particle(text, word.start)) {
                previous_end = None;
                place_end = Some(word.end);
                continue;
            }
            match found.last_mut() {
                Some(last) if continues => {
                    last.end = word.end;
                    last.score = last.score.max(probability);
                }
                _ => found.push(Detection {
                    kind: Kind::Name,
                    start: word.start,
                    end: word.end,
                    score: probability,
                }),
            }
            previous_end = Some(word.end);
        }
        found
    }

    /// This model, extending names to joined words at `extend_threshold`.
    pub fn extending_at(mut self, extend_threshold: Option<f32>) -> Self {
        self.extend_threshold = extend_threshold;
        self
    }

    /// Fits the model to words labelled as part of a name or not, with `threshold` as its decision threshold.
    pub fn train(examples: &[(&[f32], bool)], settings: NameTraining, threshold: f32) -> Self {
        let n = examples.len().max(1) as f32;
        let (mut weights, mut bias) = (vec![0.0f32; NAME_FEATURES], 0.0f32);
        // Adam's moment estimates, the bias last.
        let (mut first, mut second) = (vec![0.0f32; NAME_FEATURES + 1], vec![0.0f32; NAME_FEATURES + 1]);
        let mut gradient = vec![0.0f32; NAME_FEATURES + 1];
        for epoch in 1..=settings.epochs {
            gradient.iter_mut().for_each(|g| *g = 0.0);
            for (features, is_name) in examples {
                let z: f32 = bias + weights.iter().zip(features.iter()).map(|(w, x)| w * x).sum::<f32>();
                let error = 1.0 / (1.0 + (-z).exp()) - f32::from(u8::from(*is_name));
                for (g, x) in gradient.iter_mut().zip(features.iter()) {
                    *g += error * x;
                }
                gradient[NAME_FEATURES] += error;
            }
            let (correct_first, correct_second) = (1.0 - 0.9f32.powi(epoch as i32), 1.0 - 0.999f32.powi(epoch as i32));
            for (i, g) in gradient.iter().enumerate() {
                let parameter = if i < NAME_FEATURES { weights[i] } else { bias };
                let g = g / n
                    + if i < NAME_FEATURES {
                        settings.l2 * parameter
                    } else {
                        0.0
                    };
                first[i] = 0.9 * first[i] + 0.1 * g;
                second[i] = 0.999 * second[i] + 0.001 * g * g;
                let step = settings.rate * (first[i] / correct_first) / ((second[i] / correct_second).sqrt() + 1e-8);
                if i < NAME_FEATURES {
                    weights[i] -= step;
                } else {
                    bias -= step;
                }
            }
        }
        Self {
            weights,
            bias,
            threshold,
            extend_threshold: None,
            units: None,
        }
    }

    /// Fits a hidden layer of rectified units and the output over them (see [`units`]).
    pub fn train_with_units(
        examples: &[(&[f32], bool)],
        settings: units::UnitTraining,
        threshold: f32,
    ) -> Result<Self, String> {
        let trained = units::train(examples, NAME_FEATURES, settings).map_err(|e| format!("name units: {e}"))?;
        Ok(Self {
            weights: trained.weights,
            bias: trained.bias,
            threshold,
            extend_threshold: None,
            units: Some(trained.units),
        })
    }

    /// Weights rounded to 6 decimals, so that the shipped file is small and diffs are readable.
    pub fn rounded(mut self) -> Self {
        let round = |v: f32| (v * 1e6).round() / 1e6;
        self.weights.iter_mut().for_each(|w| *w = round(*w));
        self.bias = round(self.bias);
        self.threshold = round(self.threshold);
        self.extend_threshold = self.extend_threshold.map(round);
        if let Some(units) = &mut self.units {
            units.bias.iter_mut().for_each(|b| *b = round(*b));
            units.rows.steps.iter_mut().for_each(|s| *s = (*s * 1e9).round() / 1e9);
        }
        self
    }
}

/// Which of `words` of `text` are name words at `probabilities`: those at `threshold` or above, and those at
/// `extend_threshold` or above joined to them ([`marked`]), particles aside ([`extendable`]).
pub fn name_words(
    text: &str,
    words: &[Word],
    probabilities: &[f32],
    threshold: f32,
    extend_threshold: f32,
) -> Vec<bool> {
    let links: Vec<bool> = words
        .iter()
        .enumerate()
        .map(|(i, word)| i.checked_sub(1).is_some_and(|p| joined(text, words[p].end, word.start)))
        .collect();
    let particles: Vec<bool> = words
        .iter()
        .map(|w| is_naming_particle(&text[w.start..w.end]))
        .collect();
    marked(
        &extendable(probabilities, &particles, threshold),
        &links,
        threshold,
        extend_threshold,
    )
}

/// Whether the text between two words (from `end` to `start`) joins them into one name: at most three spaces, line
/// breaks or full stops ("Ana M. Ruiz").
fn joined(text: &str, end: usize, start: usize) -> bool {
    text.get(end..start)
        .is_some_and(|between| between.len() <= 3 && between.chars().all(|c| matches!(c, ' ' | '\n' | '.')))
}

/// The probabilities a name extends over: a particle below the threshold is no name word by extension, or "Hospital de
/// Stanford" would start a name at "de", where the institution's name cannot be seen before it.
fn extendable(probabilities: &[f32], particles: &[bool], threshold: f32) -> Vec<f32> {
    probabilities
        .iter()
        .zip(particles)
        .map(|(&p, &particle)| if particle && p < threshold { 0.0 } else { p })
        .collect()
}

/// Which words are part of a name: those at `high` or above, and those at `low` or above joined (`links[i]`: word `i`
/// to word `i - 1`) through such words to one at `high`.
fn marked(probabilities: &[f32], links: &[bool], high: f32, low: f32) -> Vec<bool> {
    debug_assert_eq!(probabilities.len(), links.len(), "a link per word");
    let mut marked: Vec<bool> = probabilities.iter().map(|&p| p >= high).collect();
    // One pass each way carries a sure word's mark along its run.
    for i in 1..marked.len() {
        if marked[i - 1] && links[i] && probabilities[i] >= low {
            marked[i] = true;
        }
    }
    for i in (1..marked.len()).rev() {
        if marked[i] && links[i] && probabilities[i - 1] >= low {
            marked[i - 1] = true;
        }
    }
    marked
}

/// Every other mention, capitalised, of a word of a name already found: a message that names "Clarence Merriweather"
/// in its header and "Clarence" in its last line names one person twice, and the second mention is as personal as the
/// first, however little context it has. Only words of three letters or more that are not calendar words (a daughter
/// named April leaves "April 3" alone), and only where nothing was found. `found` must be sorted by start, as
/// [`add_where_free`] leaves it.
pub fn other_mentions(text: &str, found: &[Detection]) -> Vec<Detection> {
    let mut named: Vec<String> = found
        .iter()
        .filter(|d| d.kind == Kind::Name)
        .flat_map(|d| alphabetic_runs(&text[d.start..d.end]))
        .map(|(_, word)| word.to_lowercase())
        .filter(|word| word.chars().count() >= 3 && !is_calendar_word(word))
        .collect();
    named.sort();
    named.dedup();
    if named.is_empty() {
        return Vec::new();
    }
    let mut mentions = Vec::new();
    // The detections that end after the word: one pointer over `found`, as words come in order.
    let mut next = 0;
    for (from, word) in alphabetic_runs(text) {
        let at = from + word.len();
        while found.get(next).is_some_and(|d| d.end <= from) {
            next += 1;
        }
        let covered = found.get(next).is_some_and(|d| d.start < at);
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        if capitalised && !covered && named.binary_search(&word.to_lowercase()).is_ok() {
            mentions.push(Detection {
                kind: Kind::Name,
                start: from,
                end: at,
                score: 0.5,
            });
        }
    }
    mentions
}

/// The runs of letters in `text`, with where each starts: "García-López" is two, "O'Brien" is "O" and "Brien".
fn alphabetic_runs(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|word| !word.is_empty())
        .map(move |word| (word.as_ptr() as usize - text.as_ptr() as usize, word))
}

/// The rules' findings with their names replaced by the model's: every other kind stands, and a learned name that
/// overlaps one of them (a name inside an address) gives way to it.
pub fn with_learned_names(rules: &[Detection], learned: Vec<Detection>) -> Vec<Detection> {
    let mut out: Vec<Detection> = rules.iter().filter(|d| d.kind != Kind::Name).copied().collect();
    add_where_free(&mut out, learned);
    out
}

/// Adds each of `more` that overlaps nothing in `out` (nor an earlier one of `more`), and sorts `out` by start. `out`
/// must hold no two overlapping detections, as every caller's does; so that thousands of names in a long message cost
/// a lookup each, the spans taken are kept ordered by start.
pub(crate) fn add_where_free(out: &mut Vec<Detection>, more: impl IntoIterator<Item = Detection>) {
    let mut taken = Taken::of(out.iter());
    for detection in more {
        if !taken.overlaps(&detection) {
            taken.insert(&detection);
            out.push(detection);
        }
    }
    out.sort_by_key(|d| d.start);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(start: usize, end: usize, value: f32) -> Word {
        let mut features = vec![0.0; NAME_FEATURES];
        features[0] = value;
        Word { start, end, features }
    }

    #[test]
    fn a_found_names_other_mentions_are_names_too() {
        let text = "Patient: MERRIWEATHER, CLARENCE\nDOB 03/04/1948\nClarence's pharmacy says Merriweather owes $40. Will \
                    the clarence plan pay?";
        let header = text.find("MERRIWEATHER, CLARENCE").unwrap_or(0);
        let found = vec![Detection {
            kind: Kind::Name,
            start: header,
            end: header + "MERRIWEATHER, CLARENCE".len(),
            score: 0.9,
        }];
        let mentions: Vec<&str> = super::other_mentions(text, &found)
            .iter()
            .map(|d| &text[d.start..d.end])
            .collect();
        assert_eq!(mentions, vec!["Clarence", "Merriweather"]);
        let text = "My daughter April Nguyen will call. Her appointment is April 3 with Dr. Nguyen-Park.";
        let found = vec![Detection {
            kind: Kind::Name,
            start: 12,
            end: 24,
            score: 0.9,
        }];
        let mentions: Vec<&str> = super::other_mentions(text, &found)
            .iter()
            .map(|d| &text[d.start..d.end])
            .collect();
        assert_eq!(mentions, vec!["Nguyen"]);
        assert!(super::other_mentions("Will the plan pay? Ask Will.", &[]).is_empty());
    }

    /// A model that reads one feature: a word is a name when its first feature is positive.
    fn first_feature() -> NameModel {
        let mut weights = vec![0.0; NAME_FEATURES];
        weights[0] = 10.0;
        NameModel {
            weights,
            bias: 0.0,
            threshold: 0.5,
            extend_threshold: None,
            units: None,
        }
    }

    #[test]
    fn a_less_sure_word_joins_a_sure_names_run_and_stands_alone_nowhere() {
        // Probabilities 1, 0.35 and 0.35 (a feature of 1.0 is sure, one of -0.0619 about 0.35).
        let text = "Ana Ruiz asked. Quintero";
        let words = [word(0, 3, 1.0), word(4, 8, -0.0619), word(16, 24, -0.0619)];
        let names = |extend| -> Vec<String> {
            first_feature()
                .extending_at(extend)
                .names(text, &words)
                .iter()
                .map(|d| text[d.start..d.end].to_string())
                .collect()
        };
        assert_eq!(names(None), ["Ana"]);
        assert_eq!(names(Some(0.3)), ["Ana Ruiz"]);
        assert_eq!(names(Some(0.4)), ["Ana"]);
    }

    #[test]
    fn no_name_extends_over_a_particle_into_an_institutions_name() {
        let text = "¿El Hospital de Stanford me cubre?";
        let at = |word: &str| text.find(word).unwrap_or(0);
        let words = [
            word(at("Hospital"), at("Hospital") + 8, -0.0619),
            word(at("de "), at("de ") + 2, -0.0619),
            word(at("Stanford"), at("Stanford") + 8, 1.0),
        ];
        let found = first_feature().extending_at(Some(0.3)).names(text, &words);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn taken_spans_keep_their_place_and_later_ones_fill_the_gaps() {
        let span = |start, end| Detection {
            kind: Kind::Name,
            start,
            end,
            score: 0.5,
        };
        let mut out = vec![span(10, 20), span(0, 5)];
        add_where_free(
            &mut out,
            [span(4, 6), span(5, 10), span(19, 25), span(20, 30), span(22, 24)],
        );
        let spans: Vec<(usize, usize)> = out.iter().map(|d| (d.start, d.end)).collect();
        assert_eq!(spans, [(0, 5), (5, 10), (10, 20), (20, 30)]);
    }

    #[test]
    fn marks_carry_both_ways_along_joined_words_only() {
        let probabilities = [0.4, 0.9, 0.4, 0.4, 0.4];
        let links = [false, false, true, false, true];
        assert_eq!(
            marked(&probabilities, &links, 0.8, 0.3),
            [false, true, true, false, false]
        );
        assert_eq!(
            marked(&[0.4, 0.4, 0.9], &[false, true, true], 0.8, 0.3),
            [true, true, true]
        );
    }

    #[test]
    fn adjacent_name_words_join_and_a_word_between_them_splits_them() {
        let text = "Ana M. Ruiz and Bo Li";
        let words = [
            word(0, 3, 1.0),
            word(4, 5, 1.0),
            word(7, 11, 1.0),
            word(12, 15, -1.0),
            word(16, 18, 1.0),
            word(19, 21, 1.0),
        ];
        let found: Vec<&str> = first_feature()
            .names(text, &words)
            .iter()
            .map(|d| &text[d.start..d.end])
            .collect();
        assert_eq!(found, ["Ana M. Ruiz", "Bo Li"]);
    }

    #[test]
    fn a_run_after_a_place_and_a_particle_is_no_name() {
        let text = "Hospital de Santa Rosa o Ana Ruiz";
        let words = [
            word(0, 8, -1.0),
            word(9, 11, -1.0),
            word(12, 17, 1.0),
            word(18, 22, 1.0),
            word(23, 24, -1.0),
            word(25, 28, 1.0),
            word(29, 33, 1.0),
        ];
        let found: Vec<&str> = first_feature()
            .names(text, &words)
            .iter()
            .map(|d| &text[d.start..d.end])
            .collect();
        assert_eq!(found, ["Ana Ruiz"]);
    }

    #[test]
    fn learned_names_replace_the_rules_names_and_give_way_to_other_kinds() {
        let detection = |kind, start, end| Detection {
            kind,
            start,
            end,
            score: 0.9,
        };
        let rules = [detection(Kind::Name, 0, 4), detection(Kind::Address, 10, 30)];
        let learned = vec![detection(Kind::Name, 5, 9), detection(Kind::Name, 12, 16)];
        let merged = with_learned_names(&rules, learned);
        assert_eq!(merged, [detection(Kind::Name, 5, 9), detection(Kind::Address, 10, 30)]);
    }

    #[test]
    fn training_separates_what_the_features_separate_and_is_deterministic() {
        let mut rows = Vec::new();
        for i in 0..40 {
            let mut features = vec![0.0f32; NAME_FEATURES];
            features[1] = if i % 2 == 0 { 1.0 } else { -1.0 };
            features[2] = (i % 7) as f32 / 7.0;
            rows.push((features, i % 2 == 0));
        }
        let examples: Vec<(&[f32], bool)> = rows.iter().map(|(f, y)| (f.as_slice(), *y)).collect();
        let settings = NameTraining {
            epochs: 200,
            rate: 0.05,
            l2: 0.0001,
        };
        let model = NameModel::train(&examples, settings, 0.5);
        assert!(rows.iter().all(|(f, y)| (model.probability(f) >= 0.5) == *y));
        assert_eq!(model, NameModel::train(&examples, settings, 0.5));
    }

    #[test]
    fn units_learn_what_only_features_together_tell_and_training_is_deterministic() {
        // A name when exactly one of two cues is set: no weighing of each cue alone separates that.
        let mut rows = Vec::new();
        for i in 0..200 {
            let (a, b) = (i % 2 == 0, (i / 2) % 2 == 0);
            let mut features = vec![0.0f32; NAME_FEATURES];
            features[NAME_FEATURES - 1] = f32::from(u8::from(a));
            features[NAME_FEATURES - 2] = f32::from(u8::from(b));
            features[3] = (i % 5) as f32 / 5.0;
            rows.push((features, a != b));
        }
        let examples: Vec<(&[f32], bool)> = rows.iter().map(|(f, y)| (f.as_slice(), *y)).collect();
        let settings = units::UnitTraining {
            units: 8,
            epochs: 300,
            batch: 20,
            rate: 0.01,
            l2: 0.0,
        };
        let model = NameModel::train_with_units(&examples, settings, 0.5).unwrap().rounded();
        assert!(rows.iter().all(|(f, y)| (model.probability(f) >= 0.5) == *y));
        let logistic = NameModel::train(
            &examples,
            NameTraining {
                epochs: 300,
                rate: 0.05,
                l2: 0.0,
            },
            0.5,
        );
        assert!(rows.iter().any(|(f, y)| (logistic.probability(f) >= 0.5) != *y));
        let again = NameModel::train_with_units(&examples, settings, 0.5).unwrap().rounded();
        assert_eq!(model, again);
        // It survives the shipped file's JSON.
        let json = serde_json::to_string(&model).unwrap();
        assert_eq!(serde_json::from_str::<NameModel>(&json).unwrap(), model);
    }

    #[test]
    fn the_shipped_model_loads_with_its_units_and_one_output_weight_per_unit() {
        let model = NameModel::shipped().unwrap();
        let units = model.units.as_ref().expect("the shipped model has units");
        assert!(units.shaped(NAME_FEATURES));
        assert_eq!(model.weights.len(), units.units());
        assert!(model.threshold > 0.0 && model.threshold < 1.0);
    }
}
