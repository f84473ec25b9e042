//! The model's weights, laid out for the CPU matmul.
//!
//! A linear layer computes `x · Wᵀ` with `W` stored `[out, in]` row by row. For that layout the matmul (the `gemm`
//! crate, which candle calls) copies ("packs") all of `W` into a column-major scratch buffer on every call: 2.4 MB
//! for one feed-forward matrix, 42 MB of copying per forward pass whatever the number of tokens. For a search query
//! of a dozen tokens that copy cost about as much as the arithmetic; a profile of the embedded default under load put
//! 28 % of all CPU time in it. Stored as `Wᵀ` row by row (the same `[out, in]` tensor, as a transposed view), the
//! matrix is already in the order the kernel reads, and nothing is copied. The products are the same (a test below
//! compares them).

use candle_core::safetensors::BufferedSafetensors;
use candle_core::{DType, Device, Result, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;

/// Safetensors weights, with every linear layer's matrix stored transposed (see the module's comment).
pub struct MatmulLayout {
    tensors: BufferedSafetensors,
}

impl MatmulLayout {
    pub fn new(safetensors: Vec<u8>) -> Result<Self> {
        Ok(Self {
            tensors: BufferedSafetensors::new(safetensors)?,
        })
    }
}

/// A linear layer's matrix: two dimensions, outside the embedding tables (which are looked up by row, not multiplied).
fn is_linear_matrix(name: &str, tensor: &Tensor) -> bool {
    tensor.rank() == 2 && !name.contains("embeddings.")
}

/// The same `[out, in]` tensor, its values stored column by column.
fn column_major(tensor: Tensor) -> Result<Tensor> {
    tensor.t()?.contiguous()?.t()
}

/// `tensor` as the model should hold it: column by column if it is a linear layer's matrix.
fn laid_out(name: &str, tensor: Tensor) -> Result<Tensor> {
    if is_linear_matrix(name, &tensor) {
        column_major(tensor)
    } else {
        Ok(tensor)
    }
}

impl SimpleBackend for MatmulLayout {
    fn get(&self, shape: Shape, name: &str, init: candle_nn::Init, dtype: DType, device: &Device) -> Result<Tensor> {
        laid_out(
            name,
            SimpleBackend::get(&self.tensors, shape, name, init, dtype, device)?,
        )
    }

    fn get_unchecked(&self, name: &str, dtype: DType, device: &Device) -> Result<Tensor> {
        laid_out(name, self.tensors.get_unchecked(name, dtype, device)?)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_tensor(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_major_matrix_multiplies_to_the_same_product() {
        let device = Device::Cpu;
        let weight = Tensor::arange(0f32, 24.0, &device).unwrap().reshape((4, 6)).unwrap();
        let input = Tensor::arange(0f32, 18.0, &device).unwrap().reshape((3, 6)).unwrap();
        let relaid = column_major(weight.clone()).unwrap();
        assert_eq!(relaid.dims(), weight.dims());
        assert_eq!(relaid.stride(), &[1, 4], "stored column by column");
        let expected = input.matmul(&weight.t().unwrap()).unwrap().to_vec2::<f32>().unwrap();
        let product = input.matmul(&relaid.t().unwrap()).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(product, expected);
    }

    #[test]
    fn only_linear_matrices_are_relaid() {
        let device = Device::Cpu;
        let matrix = Tensor::zeros((4, 6), DType::F32, &device).unwrap();
        let vector = Tensor::zeros(6, DType::F32, &device).unwrap();
        assert!(is_linear_matrix("encoder.layer.0.intermediate.dense.weight", &matrix));
        assert!(!is_linear_matrix("embeddings.word_embeddings.weight", &matrix));
        assert!(!is_linear_matrix("encoder.layer.0.output.LayerNorm.weight", &vector));
    }
}
