//! The kernels the encoder swaps into BERT, each one loop the compiler vectorises: GELU with the exact `erf`, the
//! attention softmax (with its scaling and padding mask folded in), and the residual sum with its layer norm.
//!
//! candle's `gelu_erf` calls a scalar `erff` per element, and its softmax a scalar `expf`; in a profile of the sample
//! plan's ingest they took 16.5 % and 9.4 % of all CPU (docs/RETRIEVAL.md, Ingest). Here `erf` is Abramowitz and Stegun's
//! 7.1.26 (absolute error ≤ 1.5e-7) and `exp` a rounding trick and a polynomial, with no branch and no call: the
//! same functions, to float rounding, at a fraction of the cost.
//!
//! Each loop runs under [`pulp::Arch::dispatch`], which compiles it once more for each wider vector unit (AVX2, and
//! AVX-512 with the workspace's `x86-v4` feature) and picks the widest the CPU has at run time, as `gemm` does for
//! the matrix products. The release build targets the x86-64 baseline, whose SSE2 takes four floats a step; AVX2
//! takes eight, AVX-512 sixteen. Sums and maxima run in eight lanes, so that they vectorise too (a float sum in one
//! accumulator cannot be reordered).
//!
//! Both write over their input, which in the encoder is a fresh product no other tensor reads: a 256-token batch's
//! attention scores are 50 MB a layer, and a new buffer for them costs the kernel's time again in page faults and
//! zeroing.
//!
//! A third, [`LayerNorm::add_and_normalise`], is each layer's residual sum and layer norm in one pass over the rows,
//! also in place. candle's layer norm splits its rows over rayon's pool, whose one worker thread (one thread a pass,
//! docs/PERFORMANCE.md) the concurrent passes would queue for, at the async workers' priority; here a pass's norms
//! run on the thread that runs the pass, niced with it.

use candle_core::{CpuStorage, InplaceOp1, InplaceOp2, Layout, Result, Tensor, bail};
use candle_nn::VarBuilder;
use pulp::{Simd, WithSimd};

/// GELU of every element of `x` (an f32 tensor), written over `x`'s storage. Every tensor that shares that storage
/// sees the change, so `x` must be a fresh result (a linear layer's output).
pub(crate) fn gelu_in_place(x: Tensor) -> Result<Tensor> {
    x.inplace_op1(&Gelu)?;
    Ok(x)
}

/// Attention weights: softmax over the last dimension of `scores · scale + padding`, in one pass, written over
/// `scores`' storage (which must be fresh, as for [`gelu_in_place`]). `scores` is rows × heads × queries × keys and
/// `padding` rows × keys (0 for a real token, the lowest float for padding), both f32.
pub(crate) fn attention_weights_in_place(scores: Tensor, padding: &Tensor, scale: f32) -> Result<Tensor> {
    scores.inplace_op2(padding, &Softmax { scale })?;
    Ok(scores)
}

/// A layer norm's learned scale and shift over the hidden size.
pub(crate) struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    /// `weight` and `bias` of `size` values under `vb`.
    pub(crate) fn load(size: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get(size, "weight")?.to_vec1()?,
            bias: vb.get(size, "bias")?.to_vec1()?,
            eps: eps as f32,
        })
    }

    /// The norm of every row (last dimension) of `x`, written over `x`'s storage (fresh, as for [`gelu_in_place`]).
    pub(crate) fn normalise(&self, x: Tensor) -> Result<Tensor> {
        x.inplace_op1(&AddNorm { norm: self })?;
        Ok(x)
    }

    /// The norm of every row of `x + residual`, written over `x`'s storage (fresh, as for [`gelu_in_place`]).
    pub(crate) fn add_and_normalise(&self, x: Tensor, residual: &Tensor) -> Result<Tensor> {
        x.inplace_op2(residual, &AddNorm { norm: self })?;
        Ok(x)
    }
}

struct AddNorm<'a> {
    norm: &'a LayerNorm,
}

impl AddNorm<'_> {
    fn run(&self, values: &mut [f32], residual: Option<&[f32]>) -> Result<()> {
        let hidden = self.norm.weight.len();
        if hidden == 0 || !values.len().is_multiple_of(hidden) || residual.is_some_and(|r| r.len() != values.len()) {
            bail!(
                "layer norm: {} values (residual {:?}) in rows of {hidden}",
                values.len(),
                residual.map(<[f32]>::len)
            );
        }
        pulp::Arch::new().dispatch(NormRows {
            values,
            residual,
            norm: self.norm,
        });
        Ok(())
    }
}

impl InplaceOp1 for AddNorm<'_> {
    fn name(&self) -> &'static str {
        "layer-norm-vectorised"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        self.run(contiguous_f32_mut(storage, layout, "layer norm")?, None)
    }
}

impl InplaceOp2 for AddNorm<'_> {
    fn name(&self) -> &'static str {
        "residual-layer-norm-vectorised"
    }

    fn cpu_fwd(
        &self,
        x: &mut CpuStorage,
        x_layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> Result<()> {
        let residual = contiguous_f32(residual, residual_layout, "layer norm residual")?;
        self.run(contiguous_f32_mut(x, x_layout, "layer norm")?, Some(residual))
    }
}

/// The layer-norm loop, as a [`WithSimd`] (see [`GeluLoop`]).
struct NormRows<'a> {
    values: &'a mut [f32],
    residual: Option<&'a [f32]>,
    norm: &'a LayerNorm,
}

impl WithSimd for NormRows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Self { values, residual, norm } = self;
        let hidden = norm.weight.len();
        if let Some(residual) = residual {
            for (x, &r) in values.iter_mut().zip(residual) {
                *x += r;
            }
        }
        let scale = 1.0 / hidden as f32;
        for row in values.chunks_exact_mut(hidden) {
            let mean = sum(row) * scale;
            // The variance from the deviations (two passes), which loses nothing to cancellation.
            let variance = sum_of(row, |x| (x - mean) * (x - mean)) * scale;
            let inverse = 1.0 / (variance + norm.eps).sqrt();
            for ((x, &w), &b) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
                *x = (*x - mean) * inverse * w + b;
            }
        }
    }
}

/// Where a contiguous tensor's values sit in its storage.
fn contiguous_range(layout: &Layout, op: &str) -> Result<std::ops::Range<usize>> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(start..end),
        None => bail!("{op}: only contiguous tensors"),
    }
}

/// The values of a contiguous f32 tensor.
fn contiguous_f32<'s>(storage: &'s CpuStorage, layout: &Layout, op: &str) -> Result<&'s [f32]> {
    let CpuStorage::F32(values) = storage else {
        bail!("{op}: only f32 tensors")
    };
    Ok(&values[contiguous_range(layout, op)?])
}

/// As [`contiguous_f32`], to write.
fn contiguous_f32_mut<'s>(storage: &'s mut CpuStorage, layout: &Layout, op: &str) -> Result<&'s mut [f32]> {
    let CpuStorage::F32(values) = storage else {
        bail!("{op}: only f32 tensors")
    };
    Ok(&mut values[contiguous_range(layout, op)?])
}

struct Gelu;

impl InplaceOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf-vectorised"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let values = contiguous_f32_mut(storage, layout, "gelu")?;
        pulp::Arch::new().dispatch(GeluLoop { values });
        Ok(())
    }
}

/// The GELU loop, as a [`WithSimd`] so that `dispatch` inlines it into its wide copies (a closure this size is not).
struct GeluLoop<'a> {
    values: &'a mut [f32],
}

impl WithSimd for GeluLoop<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        for x in self.values.iter_mut() {
            *x = gelu_one(*x);
        }
    }
}

struct Softmax {
    scale: f32,
}

impl InplaceOp2 for Softmax {
    fn name(&self) -> &'static str {
        "attention-softmax-vectorised"
    }

    fn cpu_fwd(
        &self,
        scores: &mut CpuStorage,
        scores_layout: &Layout,
        padding: &CpuStorage,
        padding_layout: &Layout,
    ) -> Result<()> {
        let (rows, keys) = match scores_layout.shape().dims() {
            [rows, _, _, keys] => (*rows, *keys),
            dims => bail!("attention softmax: scores of shape {dims:?}, not rows × heads × queries × keys"),
        };
        let values = contiguous_f32_mut(scores, scores_layout, "attention softmax")?;
        let padding = contiguous_f32(padding, padding_layout, "attention softmax padding")?;
        if rows == 0 || keys == 0 {
            return Ok(());
        }
        if padding.len() != rows * keys {
            bail!(
                "attention softmax: padding of {} values for {rows} rows of {keys} keys",
                padding.len()
            );
        }
        pulp::Arch::new().dispatch(SoftmaxLoop {
            per_row: values.len() / rows,
            values,
            padding,
            keys,
            scale: self.scale,
        });
        Ok(())
    }
}

/// The softmax loop, as a [`WithSimd`] (see [`GeluLoop`]).
struct SoftmaxLoop<'a> {
    values: &'a mut [f32],
    padding: &'a [f32],
    per_row: usize,
    keys: usize,
    scale: f32,
}

impl WithSimd for SoftmaxLoop<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Self {
            values,
            padding,
            per_row,
            keys,
            scale,
        } = self;
        for (row, row_padding) in values.chunks_exact_mut(per_row).zip(padding.chunks_exact(keys)) {
            for query in row.chunks_exact_mut(keys) {
                for (w, &pad) in query.iter_mut().zip(row_padding) {
                    *w = *w * scale + pad;
                }
                // Shifted by the largest, every exponent is ≤ 0: nothing overflows.
                let largest = largest(query);
                for w in query.iter_mut() {
                    *w = exp_non_positive(*w - largest);
                }
                let normaliser = 1.0 / sum(query);
                for w in query.iter_mut() {
                    *w *= normaliser;
                }
            }
        }
    }
}

/// Lanes a sum or a maximum is split into: one AVX2 register of floats (half an AVX-512 one).
const LANES: usize = 8;

/// The sum of `values`, in [`LANES`] partial sums.
#[inline(always)]
fn sum(values: &[f32]) -> f32 {
    sum_of(values, |x| x)
}

/// The sum of `term` over `values`, in [`LANES`] partial sums.
#[inline(always)]
fn sum_of(values: &[f32], term: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let mut steps = values.chunks_exact(LANES);
    for step in &mut steps {
        for (lane, &x) in lanes.iter_mut().zip(step) {
            *lane += term(x);
        }
    }
    lanes.iter().sum::<f32>() + steps.remainder().iter().map(|&x| term(x)).sum::<f32>()
}

/// The largest of `values` (−∞ for none), in [`LANES`] partial maxima.
#[inline(always)]
fn largest(values: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut steps = values.chunks_exact(LANES);
    for step in &mut steps {
        for (lane, &x) in lanes.iter_mut().zip(step) {
            *lane = lane.max(x);
        }
    }
    let rest = steps.remainder().iter().copied().fold(f32::NEG_INFINITY, f32::max);
    lanes.iter().copied().fold(rest, f32::max)
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
    fn lane_sums_and_maxima_cover_every_value_and_the_remainder() {
        for len in [0usize, 1, 7, 8, 9, 16, 31, 256, 257] {
            let values: Vec<f32> = (0..len).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
            let expected_sum: f32 = values.iter().sum();
            assert_eq!(sum(&values), expected_sum, "sum of {len}");
            let expected_max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(largest(&values), expected_max, "largest of {len}");
        }
    }

    #[test]
    fn attention_weights_are_a_scaled_softmax_that_gives_padding_nothing() -> Result<()> {
        // One row, two heads, one query each, four keys; the last key is padding.
        let scores =
            Tensor::new(&[2.0f32, 4.0, 6.0, 100.0, 1.0, 1.0, 1.0, 1.0], &Device::Cpu)?.reshape((1, 2, 1, 4))?;
        let padding = Tensor::new(&[0.0f32, 0.0, 0.0, f32::MIN], &Device::Cpu)?.reshape((1, 4))?;
        let weights = attention_weights_in_place(scores, &padding, 0.5)?
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
    fn the_layer_norm_adds_the_residual_and_matches_the_textbook_formula() -> Result<()> {
        let hidden = 11;
        let norm = LayerNorm {
            weight: (0..hidden).map(|i| 0.5 + i as f32 * 0.1).collect(),
            bias: (0..hidden).map(|i| i as f32 * 0.01 - 0.05).collect(),
            eps: 1e-12,
        };
        let x: Vec<f32> = (0..3 * hidden).map(|i| ((i * 7) % 13) as f32 * 0.7 - 3.0).collect();
        let residual: Vec<f32> = (0..3 * hidden).map(|i| ((i * 5) % 9) as f32 * 0.2).collect();
        let normed = norm
            .add_and_normalise(
                Tensor::from_vec(x.clone(), (3, hidden), &Device::Cpu)?,
                &Tensor::from_vec(residual.clone(), (3, hidden), &Device::Cpu)?,
            )?
            .to_vec2::<f32>()?;
        for (row, got) in normed.iter().enumerate() {
            let summed: Vec<f64> = (0..hidden)
                .map(|i| f64::from(x[row * hidden + i]) + f64::from(residual[row * hidden + i]))
                .collect();
            let mean = summed.iter().sum::<f64>() / hidden as f64;
            let variance = summed.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / hidden as f64;
            for i in 0..hidden {
                let expected = (summed[i] - mean) / (variance + 1e-12).sqrt() * f64::from(norm.weight[i])
                    + f64::from(norm.bias[i]);
                assert!(
                    (f64::from(got[i]) - expected).abs() < 1e-5,
                    "row {row}, {i}: {} vs {expected}",
                    got[i]
                );
            }
        }
        let plain = norm.normalise(Tensor::from_vec(x.clone(), (3, hidden), &Device::Cpu)?)?;
        let with_zero = norm.add_and_normalise(
            Tensor::from_vec(x, (3, hidden), &Device::Cpu)?,
            &Tensor::zeros((3, hidden), candle_core::DType::F32, &Device::Cpu)?,
        )?;
        assert_eq!(plain.to_vec2::<f32>()?, with_zero.to_vec2::<f32>()?);
        Ok(())
    }

    #[test]
    fn the_tensor_op_keeps_the_shape_and_writes_only_its_view() -> Result<()> {
        let x = Tensor::arange(-8f32, 8.0, &Device::Cpu)?.reshape((4, 4))?;
        let row = x.narrow(0, 2, 1)?;
        let activated = gelu_in_place(row)?;
        assert_eq!(activated.dims(), &[1, 4]);
        let expected: Vec<f32> = [0.0f32, 1.0, 2.0, 3.0].iter().map(|&x| gelu_one(x)).collect();
        assert_eq!(activated.flatten_all()?.to_vec1::<f32>()?, expected);
        let all = x.to_vec2::<f32>()?;
        assert_eq!(
            all[1],
            [-4.0, -3.0, -2.0, -1.0],
            "the rows around the view are as they were"
        );
        assert_eq!(all[3], [4.0, 5.0, 6.0, 7.0]);
        Ok(())
    }
}
