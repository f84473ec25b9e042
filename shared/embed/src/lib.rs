//! Embeddings behind one port: a local sentence model by default, an OpenAI-compatible endpoint or Amazon Bedrock
//! in production. Retrieval embeds chunks, sentences and questions with it; the guard reads a message's meaning.
//! Every adapter returns unit-length vectors, so cosine similarity is a dot product.

mod batch;
mod bedrock;
mod encoder;
mod handoff;
mod kernels;
mod minilm;
mod openai;
mod weights;

use navigator_platform::NavigatorError;
use navigator_resilience::{CpuPool, Deadline};
use std::future::Future;
use std::time::Duration;

pub use bedrock::BedrockEmbedder;
pub use minilm::{MINILM_MODEL, MiniLm, PieceState, TextReading, model_dir};

pub use openai::OpenAiEmbedder;

/// A text's sentence vector and its own word pieces' states after the model's last layer, each at unit length (none
/// from an adapter that gives only vectors).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WithPieces {
    pub vector: Vec<f32>,
    pub pieces: Vec<Vec<f32>>,
}

impl From<Vec<f32>> for WithPieces {
    /// A vector alone, from an embedder that gives no pieces.
    fn from(vector: Vec<f32>) -> Self {
        Self {
            vector,
            pieces: Vec::new(),
        }
    }
}

/// Turns texts into vectors.
pub trait Embedder: Send + Sync {
    /// The model's name, stored with every vector so that searches never mix models.
    fn model(&self) -> &str;
    fn dimensions(&self) -> usize;
    /// One vector per text, in order. Fails with `Timeout` at the deadline; never returns a partial list.
    fn embed(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Vec<Vec<f32>>, NavigatorError>> + Send;

    /// As [`Embedder::embed`], for a stage with a budget of its own: the work gets `budget` from when it starts, and
    /// never runs past `deadline`. A remote adapter starts at once; a local model may first queue for the CPU, and
    /// that wait is admission's to bound, not the stage's.
    fn embed_within(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
        budget: Duration,
    ) -> impl Future<Output = Result<Vec<Vec<f32>>, NavigatorError>> + Send {
        self.embed(texts, deadline.child(budget))
    }

    /// As [`Embedder::embed`], and from the same pass each text's own word pieces (not [CLS] and [SEP]) after the
    /// model's last layer, each at unit length: what matching a question's pieces one by one against a passage's
    /// reads (late interaction). An adapter whose endpoint gives only sentence vectors gives no pieces.
    fn embed_with_pieces(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Vec<WithPieces>, NavigatorError>> + Send {
        async move {
            let vectors = self.embed(texts, deadline).await?;
            Ok(vectors.into_iter().map(WithPieces::from).collect())
        }
    }

    /// As [`Embedder::embed_with_pieces`], for a stage with a budget of its own (see [`Embedder::embed_within`]).
    fn embed_with_pieces_within(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
        budget: Duration,
    ) -> impl Future<Output = Result<Vec<WithPieces>, NavigatorError>> + Send {
        self.embed_with_pieces(texts, deadline.child(budget))
    }

    /// Whether [`Embedder::embed_with_pieces`] gives word pieces at all (a local model does; an endpoint does not).
    fn gives_pieces(&self) -> bool {
        false
    }

    /// The CPU pool a local model runs on, for admission to watch; `None` for a remote adapter.
    fn cpu_pool(&self) -> Option<CpuPool> {
        None
    }

    /// How many calls a bulk job (an ingest) keeps in flight: a local model, one per thread of its CPU pool; a
    /// remote endpoint, as configured, so that round trips overlap. The ingest runs at least one, whatever this says.
    fn calls_in_flight(&self) -> usize;
}

/// A remote embedder's calls in flight during an ingest unless `EMBEDDINGS_CALLS_IN_FLIGHT` says otherwise
/// (`cargo bench -p navigator-tests --bench ingest` measures what more buys).
pub const DEFAULT_REMOTE_CALLS_IN_FLIGHT: usize = 2;

/// The configured embedder.
pub enum Embedders {
    Local(MiniLm),
    OpenAi(OpenAiEmbedder),
    Bedrock(BedrockEmbedder),
}

impl Embedder for Embedders {
    fn model(&self) -> &str {
        match self {
            Self::Local(e) => e.model(),
            Self::OpenAi(e) => e.model(),
            Self::Bedrock(e) => e.model(),
        }
    }

    fn dimensions(&self) -> usize {
        match self {
            Self::Local(e) => e.dimensions(),
            Self::OpenAi(e) => e.dimensions(),
            Self::Bedrock(e) => e.dimensions(),
        }
    }

    async fn embed(&self, texts: Vec<String>, deadline: Deadline) -> Result<Vec<Vec<f32>>, NavigatorError> {
        match self {
            Self::Local(e) => e.embed(texts, deadline).await,
            Self::OpenAi(e) => e.embed(texts, deadline).await,
            Self::Bedrock(e) => e.embed(texts, deadline).await,
        }
    }

    async fn embed_within(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
        budget: Duration,
    ) -> Result<Vec<Vec<f32>>, NavigatorError> {
        match self {
            Self::Local(e) => e.embed_within(texts, deadline, budget).await,
            Self::OpenAi(e) => e.embed_within(texts, deadline, budget).await,
            Self::Bedrock(e) => e.embed_within(texts, deadline, budget).await,
        }
    }

    async fn embed_with_pieces(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
    ) -> Result<Vec<WithPieces>, NavigatorError> {
        match self {
            Self::Local(e) => e.embed_with_pieces(texts, deadline).await,
            Self::OpenAi(e) => e.embed_with_pieces(texts, deadline).await,
            Self::Bedrock(e) => e.embed_with_pieces(texts, deadline).await,
        }
    }

    async fn embed_with_pieces_within(
        &self,
        texts: Vec<String>,
        deadline: Deadline,
        budget: Duration,
    ) -> Result<Vec<WithPieces>, NavigatorError> {
        match self {
            Self::Local(e) => e.embed_with_pieces_within(texts, deadline, budget).await,
            Self::OpenAi(e) => e.embed_with_pieces_within(texts, deadline, budget).await,
            Self::Bedrock(e) => e.embed_with_pieces_within(texts, deadline, budget).await,
        }
    }

    fn gives_pieces(&self) -> bool {
        matches!(self, Self::Local(_))
    }

    fn cpu_pool(&self) -> Option<CpuPool> {
        match self {
            Self::Local(e) => e.cpu_pool(),
            Self::OpenAi(_) | Self::Bedrock(_) => None,
        }
    }

    fn calls_in_flight(&self) -> usize {
        match self {
            Self::Local(e) => e.calls_in_flight(),
            Self::OpenAi(e) => e.calls_in_flight(),
            Self::Bedrock(e) => e.calls_in_flight(),
        }
    }
}

/// Scales a vector to unit length (a zero vector stays zero).
pub fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Dot product: the cosine similarity of two unit vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
