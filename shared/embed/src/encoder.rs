//! The BERT encoder that all-MiniLM-L6-v2 is, written out over candle's tensors: embeddings, then six layers of
//! self-attention and a feed-forward block, each closed by a residual sum and a layer norm.
//!
//! It is candle-transformers' `BertModel` with three kernels swapped, for CPU (docs/PERFORMANCE.md): the activation
//! and the attention softmax are each one vectorised loop ([`crate::kernels`]) instead of a scalar `erf` or `exp`
//! call per element, and each residual sum and layer norm is one pass on the calling thread instead of a hand-off
//! to rayon's pool. The vectors are the same to float rounding (`tests/sample_plan.rs` compares them with
//! `BertModel`'s).

use candle_core::{DType, Module, Result, Tensor, bail};
use candle_nn::{Embedding, Linear, VarBuilder, embedding, linear};

use crate::kernels::{LayerNorm, attention_weights_in_place, gelu_in_place};

/// The fields of a BERT `config.json` the encoder reads.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Config {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    type_vocab_size: usize,
    layer_norm_eps: f64,
    hidden_act: String,
}

pub(crate) struct Encoder {
    words: Embedding,
    positions: Embedding,
    /// Every token is of type 0: its row of the token-type table, added to every token.
    token_type: Tensor,
    norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

impl Encoder {
    pub(crate) fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        if config.hidden_act != "gelu" {
            bail!(
                "hidden_act {:?}: only BERT's exact GELU is implemented",
                config.hidden_act
            );
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            bail!(
                "{} heads do not divide hidden_size {}",
                config.num_attention_heads,
                config.hidden_size
            );
        }
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let (hidden, eps) = (config.hidden_size, config.layer_norm_eps);
        let embeddings = vb.pp("embeddings");
        let token_types = embedding(config.type_vocab_size, hidden, embeddings.pp("token_type_embeddings"))?;
        let layers = (0..config.num_hidden_layers)
            .map(|index| {
                let layer = vb.pp(format!("encoder.layer.{index}"));
                let attention = layer.pp("attention");
                Ok(Layer {
                    query: linear(hidden, hidden, attention.pp("self.query"))?,
                    key: linear(hidden, hidden, attention.pp("self.key"))?,
                    value: linear(hidden, hidden, attention.pp("self.value"))?,
                    attention_out: linear(hidden, hidden, attention.pp("output.dense"))?,
                    attention_norm: LayerNorm::load(hidden, eps, attention.pp("output.LayerNorm"))?,
                    intermediate: linear(hidden, config.intermediate_size, layer.pp("intermediate.dense"))?,
                    output: linear(config.intermediate_size, hidden, layer.pp("output.dense"))?,
                    output_norm: LayerNorm::load(hidden, eps, layer.pp("output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            words: embedding(config.vocab_size, hidden, embeddings.pp("word_embeddings"))?,
            positions: embedding(
                config.max_position_embeddings,
                hidden,
                embeddings.pp("position_embeddings"),
            )?,
            token_type: token_types.embeddings().get(0)?,
            norm: LayerNorm::load(hidden, eps, embeddings.pp("LayerNorm"))?,
            layers,
            heads: config.num_attention_heads,
        })
    }

    /// The last layer's state of every token and, when `tap` names a layer (counting from 1), the states after it:
    /// `ids` and `mask` are rows × tokens (the mask 1 for a real token, 0 for padding), each result rows × tokens ×
    /// hidden.
    pub(crate) fn forward(&self, ids: &Tensor, mask: &Tensor, tap: Option<usize>) -> Result<(Tensor, Option<Tensor>)> {
        self.forward_through(ids, mask, tap, self.layers.len())
    }

    /// The states after layer `layer` (counting from 1) alone: the layers above it are not run.
    pub(crate) fn states_after(&self, ids: &Tensor, mask: &Tensor, layer: usize) -> Result<Tensor> {
        Ok(self.forward_through(ids, mask, None, layer.min(self.layers.len()))?.0)
    }

    fn forward_through(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        tap: Option<usize>,
        layers: usize,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let (_, tokens) = ids.dims2()?;
        let positions = Tensor::arange(0u32, tokens as u32, ids.device())?;
        let embedded = self
            .words
            .forward(ids)?
            .broadcast_add(&self.positions.forward(&positions)?)?
            .broadcast_add(&self.token_type)?;
        let mut states = self.norm.normalise(embedded)?;
        // Padding gets no attention: the lowest float is added to its score (rows × tokens, for every head and every
        // query token), as BERT does.
        let padding = mask
            .to_dtype(DType::F32)?
            .affine(-f64::from(f32::MIN), f64::from(f32::MIN))?
            .contiguous()?;
        let mut tapped = None;
        for (index, layer) in self.layers.iter().take(layers).enumerate() {
            states = layer.forward(&states, &padding, self.heads)?;
            if tap == Some(index + 1) {
                tapped = Some(states.clone());
            }
        }
        Ok((states, tapped))
    }
}

impl Layer {
    fn forward(&self, states: &Tensor, padding: &Tensor, heads: usize) -> Result<Tensor> {
        let (rows, tokens, hidden) = states.dims3()?;
        let width = hidden / heads;
        // rows × tokens × hidden → rows × heads × tokens × width.
        let by_head = |t: Tensor| t.reshape((rows, tokens, heads, width))?.transpose(1, 2)?.contiguous();
        let query = by_head(self.query.forward(states)?)?;
        let key = by_head(self.key.forward(states)?)?;
        let value = by_head(self.value.forward(states)?)?;
        let scores = query.matmul(&key.t()?)?;
        let weights = attention_weights_in_place(scores, padding, 1.0 / (width as f32).sqrt())?;
        let context = weights
            .matmul(&value)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((rows, tokens, hidden))?;
        let attended = self
            .attention_norm
            .add_and_normalise(self.attention_out.forward(&context)?, states)?;
        let inner = gelu_in_place(self.intermediate.forward(&attended)?)?;
        self.output_norm
            .add_and_normalise(self.output.forward(&inner)?, &attended)
    }
}
