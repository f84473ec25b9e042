//! The two kernels the encoder swaps into BERT, each one loop the compiler vectorises: GELU with the exact `erf`, and
//! the attention softmax (with its scaling and padding mask folded in).
//!
//! candle's `gelu_erf` calls a scalar `erff` per element, and its softmax a scalar `expf`; in a profile of the sample
//! plan's ingest they took 16.5 % and 9.4 % of all CPU (docs/RETRIEVAL.md, Ingest). Here `erf` is Abramowitz and Stegun's
//! 7.1.26 (absolute error ≤ 1.5e-7) and `exp` a rounding trick and a polynomial, with no branch and no call: the
//! same functions, to float rounding, at a fraction of the cost.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor, bail};

/// GELU of every element of `x` (an f32 tensor).
pub(crate) fn gelu(x: &Tensor) -> Result<Tensor> {
    x.apply_op1_no_bwd(&Gelu)
}

/// Attention weights: softmax over the last dimension of `scores · scale + padding`, in one pass. `scores` is rows ×
/// heads × queries × keys and `padding` rows × keys (0 for a real token, the lowest float for padding), both f32: the
/// scaled and masked scores are never written out, which for a 256-token passage saves two passes over 50 MB a layer.
pub(crate) fn attention_weights(scores: &Tensor, padding: &Tensor, scale: f32) -> Result<Tensor> {
    scores.apply_op2_no_bwd(padding, &Softmax { scale })
}

/// The values of a contiguous f32 tensor.
fn contiguous_f32<'s>(storage: &'s CpuStorage, layout: &Layout, op: &str) -> Result<&'s [f32]> {
    let CpuStorage::F32(values) = storage else {
        bail!("{op}: only f32 tensors")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("{op}: only contiguous tensors")
    };
    Ok(&values[start..end])
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf-vectorised"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let values = contiguous_f32(storage, layout, "gelu")?;
        let activated: Vec<f32> = values.iter().map(|&x| gelu_one(x)).collect();
        Ok((CpuStorage::F32(activated), layout.shape().clone()))
    }
}

struct Softmax {
    scale: f32,
}

impl CustomOp2 for Softmax {
    fn name(&self) -> &'static str {
        "attention-softmax-vectorised"
    }

    fn cpu_fwd(
        &self,
        scores: &CpuStorage,
        scores_layout: &Layout,
        padding: &CpuStorage,
        padding_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let values = contiguous_f32(scores, scores_layout, "attention softmax")?;
        let padding = contiguous_f32(padding, padding_layout, "attention softmax padding")?;
        let (rows, keys) = match scores_layout.shape().dims() {
            [rows, _, _, keys] => (*rows, *keys),
            dims => bail!("attention softmax: scores of shape {dims:?}, not rows × heads × queries × keys"),
        };
        if rows == 0 || keys == 0 {
            return Ok((CpuStorage::F32(Vec::new()), scores_layout.shape().clone()));
        }
        if padding.len() != rows * keys {
            bail!(
                "attention softmax: padding of {} values for {rows} rows of {keys} keys",
                padding.len()
            );
        }
        let per_row = values.len() / rows;
        let mut weights = Vec::with_capacity(values.len());
        for (row_scores, row_padding) in values.chunks_exact(per_row).zip(padding.chunks_exact(keys)) {
            for query in row_scores.chunks_exact(keys) {
                let start = weights.len();
                weights.extend(query.iter().zip(row_padding).map(|(&x, &pad)| x * self.scale + pad));
                let shifted = &mut weights[start..];
                // Shifted by the largest, every exponent is ≤ 0: nothing overflows.
                let largest = shifted.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                shifted.iter_mut().for_each(|w| *w = exp_non_positive(*w - largest));
                let scale = 1.0 / shifted.iter().sum::<f32>();
                shifted.iter_mut().for_each(|w| *w *= scale);
            }
        }
        Ok((CpuStorage::F32(weights), scores_layout.shape().clone()))
    }
}

/// `x · Φ(x)`, Φ the standard normal distribution function.
#[inline(always)]
fn gelu_one(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// Abramowitz and Stegun 7.1.26.
#[inline(always)]
fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A1: f32 = 0.254_829_6;
    const A2: f32 = -0.284_496_74;
    const A3: f32 = 1.421_413_7;
    const A4: f32 = -1.453_152_1;
    const A5: f32 = 1.061_405_4;
    let a = x.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5))));
    (1.0 - poly * exp_non_positive(-(a * a))).copysign(x)
}

/// `e^x` for `x ≤ 0`: `2^k · e^r` with `k` the nearest integer to `x / ln 2` and `|r| ≤ ln 2 / 2`, `e^r` by its
/// Taylor polynomial to the 7th power (relative error below 2e-7). Below −87 it is e^−87 (about 1.6e-38), which
/// beside a softmax row's largest weight (1) or erf's 1 is nothing.
#[inline(always)]
fn exp_non_positive(x: f32) -> f32 {
    // Adding and removing 1.5 · 2^23 rounds to the nearest integer without a call.
    const ROUNDER: f32 = 12_582_912.0;
    const LN_2_HI: f32 = 0.693_145_75;
    const LN_2_LO: f32 = 1.428_606_8e-6;
    let x = x.max(-87.0);
    let k = (x * std::f32::consts::LOG2_E + ROUNDER) - ROUNDER;
    let r = (x - k * LN_2_HI) - k * LN_2_LO;
    let poly = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // k is in −126..=0, so 2^k is a normal float: its exponent bits are k + 127.
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    poly * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// erf by its Maclaurin series in f64 (exact to ~1e-10 for |x| ≤ 4), 1 beyond.
    fn erf_reference(x: f64) -> f64 {
        if x.abs() > 4.0 {
            return x.signum();
        }
        let (mut term, mut sum) = (x, x);
        for n in 1..120 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    fn gelu_reference(x: f64) -> f64 {
        0.5 * x * (1.0 + erf_reference(x / std::f64::consts::SQRT_2))
    }

    #[test]
    fn erf_and_gelu_match_the_series_everywhere_bert_reaches() {
        let mut worst_erf: f64 = 0.0;
        let mut worst_gelu: f64 = 0.0;
        for i in -20_000..=20_000 {
            let x = i as f32 * 0.0005;
            worst_erf = worst_erf.max((f64::from(erf(x)) - erf_reference(f64::from(x))).abs());
            let expected = gelu_reference(f64::from(x));
            worst_gelu = worst_gelu.max((f64::from(gelu_one(x)) - expected).abs());
        }
        // A&S bounds the formula by 1.5e-7; f32 arithmetic adds a few ulps of 1.
        assert!(worst_erf < 1e-6, "erf off by {worst_erf}");
        assert!(worst_gelu < 5e-6, "gelu off by {worst_gelu}");
        for x in [-1e30f32, -100.0, -30.0, 30.0, 100.0, 1e30] {
            let expected = if x > 0.0 { x } else { 0.0 };
            assert!(
                (gelu_one(x) - expected).abs() <= expected.abs() * 1e-6,
                "gelu({x}) = {}",
                gelu_one(x)
            );
        }
    }

    #[test]
    fn exp_is_exact_to_float_rounding_on_its_domain() {
        for i in 0..=87_000 {
            let x = -(i as f32) * 0.001;
            let expected = f64::from(x).exp();
            let got = f64::from(exp_non_positive(x));
            assert!(
                (got - expected).abs() <= expected * 1e-6 + 1e-38,
                "exp({x}) = {got}, not {expected}"
            );
        }
    }

    #[test]
    fn attention_weights_are_a_scaled_softmax_that_gives_padding_nothing() -> Result<()> {
        // One row, two heads, one query each, four keys; the last key is padding.
        let scores =
            Tensor::new(&[2.0f32, 4.0, 6.0, 100.0, 1.0, 1.0, 1.0, 1.0], &Device::Cpu)?.reshape((1, 2, 1, 4))?;
        let padding = Tensor::new(&[0.0f32, 0.0, 0.0, f32::MIN], &Device::Cpu)?.reshape((1, 4))?;
        let weights = attention_weights(&scores, &padding, 0.5)?
            .reshape((2, 4))?
            .to_vec2::<f32>()?;
        let e = [1.0f64, 1.0f64.exp(), 2.0f64.exp()];
        let total: f64 = e.iter().sum();
        for (got, expected) in weights[0].iter().zip(e.iter().map(|x| x / total)) {
            assert!((f64::from(*got) - expected).abs() < 1e-6, "{:?}", weights[0]);
        }
        assert!(weights[0][3] < 1e-30, "a padded key's weight: {}", weights[0][3]);
        for w in &weights[1][..3] {
            assert!((f64::from(*w) - 1.0 / 3.0).abs() < 1e-6, "{:?}", weights[1]);
        }
        assert!(weights[1][3] < 1e-30);
        Ok(())
    }

    #[test]
    fn the_tensor_op_keeps_the_shape_and_reads_only_its_view() -> Result<()> {
        let x = Tensor::arange(-8f32, 8.0, &Device::Cpu)?.reshape((4, 4))?;
        let row = x.narrow(0, 2, 1)?;
        let activated = gelu(&row)?;
        assert_eq!(activated.dims(), &[1, 4]);
        let expected: Vec<f32> = [0.0f32, 1.0, 2.0, 3.0].iter().map(|&x| gelu_one(x)).collect();
        assert_eq!(activated.flatten_all()?.to_vec1::<f32>()?, expected);
        Ok(())
    }
}
