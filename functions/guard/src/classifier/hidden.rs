//! The semantic model's hidden layer: rectified units over a text's lexical features and MiniLM profile, between
//! them and the classes. A softmax regression weighs each feature alone; the units weigh them together ("ignore"
//! next to "instructions", a persona next to a request), and out of fold they block more of the harmful texts at
//! the same bounds on benign ones (functions/guard/training/REPORT.md).
//!
//! Trained with the output layer by full-batch Adam from fixed pseudo-random starting weights, so the same data
//! always gives the same model; its weights ship as 8-bit integers with a step per unit and part, and the models read
//! out of fold are quantised the same way, so the report is the shipped model's.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::adam::Adam;
use super::lexical::BUCKETS;
use super::model::{Encoded, K, Training};

/// Rectified units over the features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenLayer {
    pub bias: Vec<f32>,
    /// One row per unit over the lexical buckets.
    pub lexical: QuantizedRows,
    /// One row per unit over the profile.
    pub embedding: QuantizedRows,
}

/// A matrix of weights as 8-bit integers, each row with its own step: weight = step × value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedRows {
    pub columns: usize,
    pub steps: Vec<f32>,
    /// The rows one after the other, as base64.
    #[serde(serialize_with = "to_base64", deserialize_with = "from_base64")]
    pub values: Vec<i8>,
}

impl QuantizedRows {
    /// Quantises `rows` rows of `columns` weights each, given row after row.
    pub(crate) fn quantise(weights: &[f32], columns: usize) -> Self {
        let mut steps = Vec::with_capacity(weights.len() / columns.max(1));
        let mut values = Vec::with_capacity(weights.len());
        for row in weights.chunks(columns.max(1)) {
            let peak = row.iter().fold(0.0f32, |peak, w| peak.max(w.abs()));
            let step = if peak > 0.0 { peak / 127.0 } else { 1.0 };
            steps.push(step);
            values.extend(row.iter().map(|w| (w / step).round().clamp(-127.0, 127.0) as i8));
        }
        Self { columns, steps, values }
    }

    pub(crate) fn rows(&self) -> usize {
        self.steps.len()
    }

    pub(crate) fn shaped(&self, rows: usize, columns: usize) -> bool {
        self.columns == columns && self.rows() == rows && self.values.len() == rows * columns
    }

    pub(crate) fn row(&self, row: usize) -> &[i8] {
        &self.values[row * self.columns..(row + 1) * self.columns]
    }
}

fn to_base64<S: Serializer>(values: &[i8], serializer: S) -> Result<S::Ok, S::Error> {
    let bytes: Vec<u8> = values.iter().map(|v| v.to_le_bytes()[0]).collect();
    serializer.serialize_str(&STANDARD.encode(bytes))
}

fn from_base64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
    Ok(bytes.into_iter().map(|b| i8::from_le_bytes([b])).collect())
}

impl HiddenLayer {
    pub fn units(&self) -> usize {
        self.bias.len()
    }

    /// Whether its shape fits `embedding_dimensions` profile features.
    pub fn shaped(&self, embedding_dimensions: usize) -> bool {
        let units = self.units();
        units > 0 && self.lexical.shaped(units, BUCKETS) && self.embedding.shaped(units, embedding_dimensions)
    }

    /// The units' outputs for one text.
    pub fn activations(&self, text: &Encoded) -> Vec<f32> {
        (0..self.units())
            .map(|unit| {
                let lexical = self.lexical.row(unit);
                let sparse: f32 = text.sparse.iter().map(|(i, v)| f32::from(lexical[*i]) * v).sum();
                let embedding = self.embedding.row(unit);
                let dense: f32 = embedding.iter().zip(&text.dense).map(|(q, x)| f32::from(*q) * x).sum();
                (self.bias[unit] + sparse * self.lexical.steps[unit] + dense * self.embedding.steps[unit]).max(0.0)
            })
            .collect()
    }
}

/// A trained two-layer model: the hidden layer, and per class the output bias and weights over the units.
pub struct Trained {
    pub hidden: HiddenLayer,
    pub bias: Vec<f32>,
    pub weights: Vec<Vec<f32>>,
}

/// Fits a hidden layer of `settings.hidden_units` units and the output layer to encoded texts with class labels,
/// each text weighing `class_weight[label] / total` in the loss.
pub fn train(
    examples: &[(Encoded, usize)],
    embedding_dimensions: usize,
    settings: Training,
    class_weight: &[f32],
    total: f32,
) -> candle_core::Result<Trained> {
    let (n, units, dims) = (examples.len(), settings.hidden_units, embedding_dimensions);
    let device = Device::Cpu;
    // The profiles, n × dims, and their transpose for the gradient; the lexical features stay sparse.
    let profiles: Vec<f32> = examples
        .iter()
        .flat_map(|(text, _)| {
            let mut row = text.dense.clone();
            row.resize(dims, 0.0);
            row
        })
        .collect();
    let profiles = Tensor::from_vec(profiles, (n, dims), &device)?;
    let profiles_transposed = profiles.t()?.contiguous()?;

    // Weights stored input-major (a feature's weights to every unit side by side), He-initialised.
    let mut random = Normal::new(0x6775_6172_645f_6d6c);
    let spread = (2.0 / (BUCKETS + dims) as f32).sqrt();
    let mut lexical: Vec<f32> = (0..BUCKETS * units).map(|_| random.next() * spread).collect();
    let mut embedding: Vec<f32> = (0..dims * units).map(|_| random.next() * spread).collect();
    let mut hidden_bias = vec![0.0f32; units];
    let spread = (1.0 / units.max(1) as f32).sqrt();
    let mut output: Vec<f32> = (0..K * units).map(|_| random.next() * spread).collect();
    let mut output_bias = vec![0.0f32; K];

    let mut adam = Adam::new(lexical.len() + embedding.len() + units + output.len() + K);
    let mut pre = vec![0.0f32; n * units];
    let mut active = vec![0.0f32; n * units];
    let mut error = vec![0.0f32; n * K];
    let mut error_hidden = vec![0.0f32; n * units];
    for _ in 0..settings.epochs {
        // Forward: the profile part as one matrix product, the lexical part row by row.
        let weights = Tensor::from_slice(&embedding, (dims, units), &device)?;
        pre.copy_from_slice(&profiles.matmul(&weights)?.flatten_all()?.to_vec1::<f32>()?);
        for (i, (text, label)) in examples.iter().enumerate() {
            let row = &mut pre[i * units..(i + 1) * units];
            for (bucket, value) in &text.sparse {
                add_scaled(row, &lexical[bucket * units..(bucket + 1) * units], *value);
            }
            add_scaled(row, &hidden_bias, 1.0);
            let out = &mut active[i * units..(i + 1) * units];
            for (a, p) in out.iter_mut().zip(row.iter()) {
                *a = p.max(0.0);
            }
            let mut logits = [0.0f32; K];
            for (class, logit) in logits.iter_mut().enumerate() {
                *logit = output_bias[class] + dot(&output[class * units..(class + 1) * units], out);
            }
            let probabilities = softmax(&logits);
            let weight = class_weight[*label] / total;
            for class in 0..K {
                let target = if class == *label { 1.0 } else { 0.0 };
                error[i * K + class] = weight * (probabilities[class] - target);
            }
        }
        // Backward.
        let mut gradient_output = vec![0.0f32; K * units];
        let mut gradient_output_bias = vec![0.0f32; K];
        let mut gradient_hidden_bias = vec![0.0f32; units];
        let mut gradient_lexical = vec![0.0f32; BUCKETS * units];
        for (i, (text, _)) in examples.iter().enumerate() {
            let out = &active[i * units..(i + 1) * units];
            let back = &mut error_hidden[i * units..(i + 1) * units];
            back.iter_mut().for_each(|b| *b = 0.0);
            for class in 0..K {
                let e = error[i * K + class];
                gradient_output_bias[class] += e;
                add_scaled(&mut gradient_output[class * units..(class + 1) * units], out, e);
                add_scaled(back, &output[class * units..(class + 1) * units], e);
            }
            for (b, p) in back.iter_mut().zip(&pre[i * units..(i + 1) * units]) {
                if *p <= 0.0 {
                    *b = 0.0;
                }
            }
            add_scaled(&mut gradient_hidden_bias, back, 1.0);
            for (bucket, value) in &text.sparse {
                add_scaled(
                    &mut gradient_lexical[bucket * units..(bucket + 1) * units],
                    back,
                    *value,
                );
            }
        }
        let back = Tensor::from_slice(&error_hidden, (n, units), &device)?;
        let gradient_embedding = profiles_transposed.matmul(&back)?.flatten_all()?.to_vec1::<f32>()?;

        adam.begin_step();
        let rate = settings.rate;
        let mut slot = 0;
        adam.update_all(slot, &mut lexical, &gradient_lexical, rate, settings.l2);
        slot += lexical.len();
        adam.update_all(slot, &mut embedding, &gradient_embedding, rate, settings.l2);
        slot += embedding.len();
        adam.update_all(slot, &mut hidden_bias, &gradient_hidden_bias, rate, 0.0);
        slot += units;
        adam.update_all(slot, &mut output, &gradient_output, rate, settings.l2);
        slot += output.len();
        adam.update_all(slot, &mut output_bias, &gradient_output_bias, rate, 0.0);
    }
    Ok(Trained {
        hidden: HiddenLayer {
            bias: hidden_bias,
            lexical: QuantizedRows::quantise(&unit_major(&lexical, units), BUCKETS),
            embedding: QuantizedRows::quantise(&unit_major(&embedding, units), dims),
        },
        bias: output_bias,
        weights: output.chunks(units.max(1)).map(<[f32]>::to_vec).collect(),
    })
}

/// Input-major weights (inputs × units) as one row per unit.
fn unit_major(weights: &[f32], units: usize) -> Vec<f32> {
    let inputs = weights.len() / units.max(1);
    let mut rows = vec![0.0f32; weights.len()];
    for input in 0..inputs {
        for unit in 0..units {
            rows[unit * inputs + input] = weights[input * units + unit];
        }
    }
    rows
}

fn add_scaled(into: &mut [f32], from: &[f32], scale: f32) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += scale * b;
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn softmax(logits: &[f32; K]) -> [f32; K] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp = logits.map(|l| (l - max).exp());
    let sum: f32 = exp.iter().sum();
    exp.map(|e| e / sum)
}

/// Standard normal numbers from a fixed seed (SplitMix64 and Box–Muller): the starting weights, the same every run.
struct Normal {
    state: u64,
    spare: Option<f32>,
}

impl Normal {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        let z = super::seeded::splitmix64(&mut self.state);
        // 53 bits in (0, 1]: never 0, whose logarithm Box–Muller takes.
        ((z >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f32 {
        if let Some(spare) = self.spare.take() {
            return spare;
        }
        let (u, v) = (self.uniform(), self.uniform());
        let radius = (-2.0 * u.ln()).sqrt();
        let angle = std::f64::consts::TAU * v;
        self.spare = Some((radius * angle.sin()) as f32);
        (radius * angle.cos()) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantised_rows_keep_each_weight_within_half_a_step_and_survive_json() {
        let weights = [0.5f32, -0.25, 0.0, 0.01, 0.0, 0.0, 0.0, 0.0, -3.0, 1.5, 0.75, 0.0];
        let rows = QuantizedRows::quantise(&weights, 4);
        assert!(rows.shaped(3, 4));
        for (i, w) in weights.iter().enumerate() {
            let (row, column) = (i / 4, i % 4);
            let back = f32::from(rows.row(row)[column]) * rows.steps[row];
            assert!(
                (back - w).abs() <= rows.steps[row] / 2.0 + 1e-7,
                "{w} came back as {back}"
            );
        }
        // An all-zero row keeps zeros.
        assert!(rows.row(1).iter().all(|v| *v == 0));
        let json = serde_json::to_string(&rows).unwrap();
        assert_eq!(serde_json::from_str::<QuantizedRows>(&json).unwrap(), rows);
        assert!(
            serde_json::from_str::<QuantizedRows>(r#"{"columns":4,"steps":[1.0],"values":"not base64!"}"#).is_err()
        );
    }

    #[test]
    fn unit_major_transposes() {
        // Three inputs, two units: input-major [[1, 2], [3, 4], [5, 6]].
        assert_eq!(
            unit_major(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2),
            vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]
        );
    }

    #[test]
    fn the_starting_weights_are_standard_normal_and_fixed() {
        let draw = |seed| {
            let mut random = Normal::new(seed);
            (0..20_000).map(|_| random.next()).collect::<Vec<f32>>()
        };
        let numbers = draw(7);
        assert_eq!(numbers, draw(7));
        assert_ne!(numbers, draw(8));
        let mean = numbers.iter().sum::<f32>() / numbers.len() as f32;
        let variance = numbers.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / numbers.len() as f32;
        assert!(
            mean.abs() < 0.03 && (variance - 1.0).abs() < 0.05,
            "mean {mean}, variance {variance}"
        );
    }
}
