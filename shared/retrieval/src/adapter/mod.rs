//! The query adapter: a learned linear map applied to a question's vector before it is searched with.
//!
//! A sentence model places a member's question ("medical alert necklace") near the plan's passages that share its
//! words, not always near the passage that answers it ("Personal Emergency Response System"). The adapter is a
//! 384 × 384 matrix `A`, trained on questions written over a plan document (`train-query-adapter`), that moves the
//! question's vector (`A·q`, normalised) towards the chunk and sentences that answer it, and away from every passage
//! when the plan does not answer it at all. The stored vectors of the documents are untouched: the adapter changes
//! only how a question is read, so it needs no re-ingest, and turning it off restores the plain model's search (the
//! extractive composer's weights were chosen with it on).
//!
//! It learns the plan it was trained over: on the sample plan's topics that no training question was about it
//! helped no more than the plain model (docs/RETRIEVAL.md has the figures), so it is shipped for the local sentence
//! model over the sample plan and can be switched off (`RETRIEVE_QUERY_ADAPTER=off`) or replaced by one trained
//! over another plan's questions.
//!
//! Stored as `A − I`, eight bits a weight with one scale a row: 149 KB for the 384-dimension model.

mod train;

pub use train::{AdapterExample, TrainReport, TrainSettings, train};

use navigator_platform::NavigatorError;

/// The adapter shipped for the local sentence model, trained over the sample plan (`data/query-adapter.bin`).
const EMBEDDED: &[u8] = include_bytes!("../../data/query-adapter.bin");

const MAGIC: &[u8; 4] = b"NQA1";

/// A learned linear map of query vectors, for one embedding model.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryAdapter {
    /// The embedding model whose vectors it maps (`Embedder::model`): another model's vectors are not its to map.
    model: String,
    dimensions: usize,
    /// Each row's scale: row `i` of `A − I` is `scales[i] · rows[i·d..(i+1)·d]`.
    scales: Vec<f32>,
    rows: Vec<i8>,
}

impl QueryAdapter {
    /// The adapter shipped for the local sentence model.
    pub fn embedded() -> Result<Self, NavigatorError> {
        Self::from_bytes(EMBEDDED)
    }

    /// An adapter from the matrix `A` (row-major, `dimensions × dimensions`), quantised.
    pub fn from_matrix(model: &str, dimensions: usize, matrix: &[f64]) -> Result<Self, NavigatorError> {
        if model.len() > usize::from(u16::MAX) {
            return Err(NavigatorError::internal(
                "a query adapter's model name is at most 65,535 bytes",
            ));
        }
        if dimensions == 0 || dimensions > MAX_DIMENSIONS || matrix.len() != dimensions * dimensions {
            return Err(NavigatorError::internal(format!(
                "a query adapter of {dimensions} dimensions needs {} weights, not {}",
                dimensions * dimensions,
                matrix.len()
            )));
        }
        let mut scales = Vec::with_capacity(dimensions);
        let mut rows = Vec::with_capacity(dimensions * dimensions);
        for (i, row) in matrix.chunks_exact(dimensions).enumerate() {
            let delta = |j: usize| row[j] - f64::from(u8::from(i == j));
            let largest = (0..dimensions).map(|j| delta(j).abs()).fold(0.0, f64::max);
            let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
            scales.push(scale as f32);
            rows.extend((0..dimensions).map(|j| (delta(j) / scale).round().clamp(-127.0, 127.0) as i8));
        }
        Ok(Self {
            model: model.to_string(),
            dimensions,
            scales,
            rows,
        })
    }

    /// The embedding model it was trained for.
    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// `A·vector`, normalised; the vector itself when its length is not the adapter's.
    pub fn apply(&self, vector: &[f32]) -> Vec<f32> {
        let d = self.dimensions;
        if vector.len() != d {
            return vector.to_vec();
        }
        let mut adapted: Vec<f32> = self
            .rows
            .chunks_exact(d)
            .zip(&self.scales)
            .zip(vector)
            .map(|((row, scale), own)| {
                let moved: f32 = row.iter().zip(vector).map(|(w, x)| f32::from(*w) * x).sum();
                own + scale * moved
            })
            .collect();
        navigator_embed::normalize(&mut adapted);
        adapted
    }

    /// The stored form: `NQA1`, the model's name (u16 length, UTF-8), the dimensions (u32), each row's scale (f32),
    /// then the rows' weights (i8), all little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(4 + 2 + self.model.len() + 4 + 4 * self.scales.len() + self.rows.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(self.model.len() as u16).to_le_bytes());
        bytes.extend_from_slice(self.model.as_bytes());
        bytes.extend_from_slice(&(self.dimensions as u32).to_le_bytes());
        for scale in &self.scales {
            bytes.extend_from_slice(&scale.to_le_bytes());
        }
        bytes.extend(self.rows.iter().map(|w| w.to_le_bytes()[0]));
        bytes
    }

    /// Reads the stored form (see [`Self::to_bytes`]); a file of another form or length is an error, not a guess.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NavigatorError> {
        let invalid = |what: &str| NavigatorError::internal(format!("not a query adapter: {what}"));
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(|| invalid("it does not start with NQA1"))?;
        let mut reader = Reader { rest };
        let raw = reader.take(2).ok_or_else(|| invalid("it ends early"))?;
        let name_length = usize::from(u16::from_le_bytes([raw[0], raw[1]]));
        let raw = reader.take(name_length).ok_or_else(|| invalid("it ends early"))?;
        let model = std::str::from_utf8(raw)
            .map_err(|_| invalid("its model name is not UTF-8"))?
            .to_string();
        let raw = reader.take(4).ok_or_else(|| invalid("it ends early"))?;
        let dimensions = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
        if dimensions == 0 || dimensions > MAX_DIMENSIONS {
            return Err(invalid("its dimensions are out of range"));
        }
        let scales: Vec<f32> = reader
            .take(4 * dimensions)
            .ok_or_else(|| invalid("it ends early"))?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        // A NaN scale would make every similarity NaN, which no threshold compares against.
        if scales.iter().any(|scale| !scale.is_finite()) {
            return Err(invalid("a row's scale is not a finite number"));
        }
        let rows = reader
            .take(dimensions * dimensions)
            .ok_or_else(|| invalid("it ends early"))?
            .iter()
            .map(|b| i8::from_le_bytes([*b]))
            .collect();
        if !reader.rest.is_empty() {
            return Err(invalid("it has bytes after its weights"));
        }
        Ok(Self {
            model,
            dimensions,
            scales,
            rows,
        })
    }
}

/// The widest vectors an adapter may map (the widest model configured, Titan v2, has 1,024).
const MAX_DIMENSIONS: usize = 4096;

/// Reads a stored adapter front to back.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }
}

#[cfg(test)]
mod tests;
