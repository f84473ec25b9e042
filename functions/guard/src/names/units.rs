//! The name model's hidden layer: rectified units over a word's features, between them and the name probability.
//! A logistic model weighs each feature alone; the units weigh them together (a capitalised word opening a sentence
//! is a name after "my neighbour" and a drug before "costs"), and out of fold they find more names at the same bound
//! on messages without one (functions/guard/training/NAMES.md).
//!
//! Trained by mini-batch Adam from fixed pseudo-random starting weights in a fixed order, so the same data always
//! gives the same model; the weights ship as 8-bit integers with a step per unit, and the models read out of fold are
//! quantised the same way, so the report is the shipped model's.

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::classifier::adam::Adam;
use crate::classifier::hidden::QuantizedRows;
use crate::classifier::seeded::splitmix64;

/// Rectified units over a word's features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameUnits {
    pub bias: Vec<f32>,
    /// One row per unit over the features.
    pub rows: QuantizedRows,
}

/// How the hidden layer is fitted.
#[derive(Debug, Clone, Copy)]
pub struct UnitTraining {
    pub units: usize,
    pub epochs: usize,
    /// Words a step.
    pub batch: usize,
    pub rate: f32,
    /// L2 on the weights, per step of `batch` words.
    pub l2: f32,
}

/// A trained layer and the output weights over its units.
pub struct TrainedUnits {
    pub units: NameUnits,
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl NameUnits {
    pub fn units(&self) -> usize {
        self.bias.len()
    }

    pub fn shaped(&self, features: usize) -> bool {
        self.units() > 0 && self.rows.shaped(self.units(), features)
    }

    /// The units' outputs for one word.
    pub fn activations(&self, features: &[f32]) -> Vec<f32> {
        (0..self.units())
            .map(|unit| {
                let sum = dot_quantised(self.rows.row(unit), features);
                (self.bias[unit] + sum * self.rows.steps[unit]).max(0.0)
            })
            .collect()
    }
}

/// The dot product of 8-bit weights and features, in eight lanes so that the compiler keeps it in vector registers
/// (a word is 64 such rows of 1,166; a long message reads 720 words).
fn dot_quantised(weights: &[i8], features: &[f32]) -> f32 {
    // Lanes and tails must line up: a shorter input is read as zeros past its end.
    let length = weights.len().min(features.len());
    let (weights, features) = (&weights[..length], &features[..length]);
    let mut lanes = [0.0f32; 8];
    let (weight_chunks, feature_chunks) = (weights.chunks_exact(8), features.chunks_exact(8));
    let tail: f32 = weight_chunks
        .remainder()
        .iter()
        .zip(feature_chunks.remainder())
        .map(|(w, x)| f32::from(*w) * x)
        .sum();
    for (w, x) in weight_chunks.zip(feature_chunks) {
        for lane in 0..8 {
            lanes[lane] += f32::from(w[lane]) * x[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Fits the layer and the output to words labelled as part of a name or not.
pub fn train(
    examples: &[(&[f32], bool)],
    features: usize,
    settings: UnitTraining,
) -> candle_core::Result<TrainedUnits> {
    let device = Device::Cpu;
    let (n, units) = (examples.len(), settings.units);
    let all: Vec<f32> = examples
        .iter()
        .flat_map(|(x, _)| x.iter().copied().chain(std::iter::repeat(0.0)).take(features))
        .collect();
    let all = Tensor::from_vec(all, (n, features), &device)?;
    let labels: Vec<f32> = examples.iter().map(|(_, y)| f32::from(u8::from(*y))).collect();

    // Glorot-uniform starting weights, from a fixed seed.
    let mut random = Uniform(0x6e61_6d65_5f75_6e69);
    let bound = (6.0 / (features + units) as f32).sqrt();
    let mut hidden: Vec<f32> = (0..units * features).map(|_| random.next() * bound).collect();
    let mut hidden_bias: Vec<f32> = (0..units).map(|_| random.next() * bound).collect();
    let bound = (6.0 / (units + 1) as f32).sqrt();
    let mut output: Vec<f32> = (0..units).map(|_| random.next() * bound).collect();
    let mut output_bias = random.next() * bound;

    // Slots: the hidden weights, their biases, the output weights, its bias.
    let mut adam = Adam::new(units * features + 2 * units + 1);
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..settings.epochs {
        for i in (1..n).rev() {
            let j = (random.bits() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for batch in order.chunks(settings.batch.max(1)) {
            let b = batch.len();
            let ids = Tensor::from_vec(batch.iter().map(|&i| i as u32).collect::<Vec<_>>(), b, &device)?;
            let x = all.index_select(&ids, 0)?;
            let w = Tensor::from_slice(&hidden, (units, features), &device)?;
            let pre = x
                .matmul(&w.t()?)?
                .broadcast_add(&Tensor::from_slice(&hidden_bias, units, &device)?)?;
            let activations = pre.relu()?.to_vec2::<f32>()?;
            // The output and its error per word (the mean loss's gradient).
            let mut errors = vec![0.0f32; b];
            let mut output_gradient = vec![0.0f32; units];
            let mut output_bias_gradient = 0.0f32;
            for (row, (&i, error)) in batch.iter().zip(errors.iter_mut()).enumerate() {
                let z = output_bias + activations[row].iter().zip(&output).map(|(a, w)| a * w).sum::<f32>();
                *error = (1.0 / (1.0 + (-z).exp()) - labels[i]) / b as f32;
                for (g, a) in output_gradient.iter_mut().zip(&activations[row]) {
                    *g += *error * a;
                }
                output_bias_gradient += *error;
            }
            // Back through the rectifier: a unit passes the error only where it was active.
            let back: Vec<f32> = activations
                .iter()
                .zip(&errors)
                .flat_map(|(row, error)| {
                    row.iter()
                        .zip(&output)
                        .map(|(a, w)| if *a > 0.0 { error * w } else { 0.0 })
                        .collect::<Vec<_>>()
                })
                .collect();
            let back = Tensor::from_vec(back, (b, units), &device)?;
            let hidden_gradient = back.t()?.matmul(&x)?.flatten_all()?.to_vec1::<f32>()?;
            let hidden_bias_gradient = back.sum(0)?.to_vec1::<f32>()?;
            let l2 = settings.l2 / b as f32;
            adam.begin_step();
            adam.update_all(0, &mut hidden, &hidden_gradient, settings.rate, l2);
            adam.update_all(
                units * features,
                &mut hidden_bias,
                &hidden_bias_gradient,
                settings.rate,
                0.0,
            );
            adam.update_all(
                units * features + units,
                &mut output,
                &output_gradient,
                settings.rate,
                l2,
            );
            adam.update(
                units * features + 2 * units,
                &mut output_bias,
                output_bias_gradient,
                settings.rate,
            );
        }
    }
    Ok(TrainedUnits {
        units: NameUnits {
            bias: hidden_bias,
            rows: QuantizedRows::quantise(&hidden, features),
        },
        weights: output,
        bias: output_bias,
    })
}

/// Uniform numbers in [-1, 1) from a fixed seed (SplitMix64): the starting weights and the order of the words.
struct Uniform(u64);

impl Uniform {
    fn bits(&mut self) -> u64 {
        splitmix64(&mut self.0)
    }

    fn next(&mut self) -> f32 {
        (self.bits() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lane_dot_product_is_the_plain_one() {
        let weights: Vec<i8> = (0..1166).map(|i| ((i * 37) % 255 - 127) as i8).collect();
        let features: Vec<f32> = (0..1166).map(|i| ((i % 13) as f32 - 6.0) / 7.0).collect();
        let plain: f32 = weights.iter().zip(&features).map(|(w, x)| f32::from(*w) * x).sum();
        assert!((dot_quantised(&weights, &features) - plain).abs() < 1e-2 * plain.abs().max(1.0));
        assert_eq!(
            dot_quantised(&weights[..5], &features[..5]),
            weights[..5]
                .iter()
                .zip(&features[..5])
                .map(|(w, x)| f32::from(*w) * x)
                .sum::<f32>()
        );
    }
}
