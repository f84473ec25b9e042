//! Late interaction: each sentence's word pieces after the sentence model's last layer, stored at ingest in 8 bits,
//! and matched one by one against a question's pieces at search time: for each question piece, its best cosine
//! among a sentence's pieces (ColBERT's MaxSim, over a model not trained for it). A sentence vector averages its
//! words away; a piece match still sees that the question's "hearing" meets the sentence's "hearing aids".
//!
//! The stored form of one sentence: its piece count and width (`u16` each, little-endian), then per piece the step of
//! its 8-bit values (`f32`) and the values (`i8`, the state divided by the step). A state is at unit length, so
//! each piece's largest value sets its step and nothing clips. A chunk's sentences are stored one after another.

use navigator_platform::NavigatorError;

const HEADER: usize = 4;
const STEP: usize = 4;

/// One sentence's pieces, as stored: read in place, never expanded to floats.
#[derive(Debug, Clone, Copy)]
pub struct StoredPieces<'b> {
    width: usize,
    records: &'b [u8],
}

/// The stored form of a sentence's piece states (each of one width, at most `u16::MAX` of them and wide).
pub fn encode(states: &[Vec<f32>]) -> Vec<u8> {
    let width = states.first().map_or(0, Vec::len).min(usize::from(u16::MAX));
    let states: Vec<&Vec<f32>> = states
        .iter()
        .filter(|s| s.len() == width)
        .take(usize::from(u16::MAX))
        .collect();
    let mut out = Vec::with_capacity(HEADER + states.len() * (STEP + width));
    out.extend_from_slice(&(states.len() as u16).to_le_bytes());
    out.extend_from_slice(&(width as u16).to_le_bytes());
    for state in states {
        let largest = state.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
        let step = if largest > 0.0 { largest / 127.0 } else { 1.0 };
        out.extend_from_slice(&step.to_le_bytes());
        out.extend(
            state
                .iter()
                .map(|v| (v / step).round().clamp(-127.0, 127.0) as i8 as u8),
        );
    }
    out
}

impl<'b> StoredPieces<'b> {
    /// Reads a stored sentence; a blob whose length does not match its header is refused.
    pub fn parse(bytes: &'b [u8]) -> Result<Self, NavigatorError> {
        let corrupt = || NavigatorError::internal("stored word pieces do not match their header");
        let header = bytes.get(..HEADER).ok_or_else(corrupt)?;
        let count = usize::from(u16::from_le_bytes([header[0], header[1]]));
        let width = usize::from(u16::from_le_bytes([header[2], header[3]]));
        let records = &bytes[HEADER..];
        if records.len() != count * (STEP + width) {
            return Err(corrupt());
        }
        Ok(Self { width, records })
    }

    /// A chunk's sentences, stored one after another.
    pub fn split(mut bytes: &'b [u8]) -> Result<Vec<Self>, NavigatorError> {
        let mut sentences = Vec::new();
        while !bytes.is_empty() {
            let header = bytes
                .get(..HEADER)
                .ok_or_else(|| NavigatorError::internal("stored word pieces end inside a header"))?;
            let count = usize::from(u16::from_le_bytes([header[0], header[1]]));
            let width = usize::from(u16::from_le_bytes([header[2], header[3]]));
            let end = HEADER + count * (STEP + width);
            let sentence = bytes
                .get(..end)
                .ok_or_else(|| NavigatorError::internal("stored word pieces end inside a sentence"))?;
            sentences.push(Self::parse(sentence)?);
            bytes = &bytes[end..];
        }
        Ok(sentences)
    }

    pub fn len(&self) -> usize {
        self.records.len().checked_div(STEP + self.width).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// For each of `question`'s pieces, its best cosine among this sentence's pieces; 0 for a sentence of no pieces
    /// or of another width (another model's).
    pub fn best_matches(&self, question: &[Vec<f32>]) -> Vec<f32> {
        let mut best = vec![0.0_f32; question.len()];
        let mut state = vec![0.0_f32; self.width];
        // Each stored piece is widened to floats once, then met by every question piece.
        for record in self.records.chunks_exact(STEP + self.width) {
            let step = f32::from_le_bytes([record[0], record[1], record[2], record[3]]);
            for (value, &stored) in state.iter_mut().zip(&record[STEP..]) {
                *value = f32::from(stored as i8) * step;
            }
            for (best, q) in best.iter_mut().zip(question) {
                if q.len() == self.width {
                    *best = best.max(dot(q, &state));
                }
            }
        }
        best
    }
}

/// A dot product in eight running sums, which the compiler can keep in one vector register (a single running sum
/// of floats must be added in order, and is not vectorised).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0_f32; 8];
    let (a_lanes, b_lanes) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_lanes
        .remainder()
        .iter()
        .zip(b_lanes.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_lanes.zip(b_lanes) {
        for ((sum, x), y) in sums.iter_mut().zip(x).zip(y) {
            *sum += x * y;
        }
    }
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(values: &[f32]) -> Vec<f32> {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        values.iter().map(|v| v / norm).collect()
    }

    #[test]
    fn a_question_piece_finds_its_best_match_among_a_sentences_pieces() {
        let sentence = [unit(&[1.0, 0.0, 0.0]), unit(&[0.0, 1.0, 1.0])];
        let stored = encode(&sentence);
        let pieces = StoredPieces::parse(&stored).unwrap();
        assert_eq!(pieces.len(), 2);
        let question = [unit(&[1.0, 0.0, 0.0]), unit(&[0.0, 0.0, 1.0]), unit(&[-1.0, 0.0, 0.0])];
        let matches = pieces.best_matches(&question);
        assert!((matches[0] - 1.0).abs() < 0.01, "{matches:?}");
        assert!(
            (matches[1] - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01,
            "{matches:?}"
        );
        // Opposite to every piece: nothing matches, and no match is below nothing.
        assert_eq!(matches[2], 0.0);
    }

    #[test]
    fn eight_bits_keep_each_cosine_within_a_hundredth() {
        let state: Vec<f32> = unit(
            &(0..384)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
                .collect::<Vec<_>>(),
        );
        let other: Vec<f32> = unit(
            &(0..384)
                .map(|i| ((i * 53 % 89) as f32 - 44.0) / 3.0)
                .collect::<Vec<_>>(),
        );
        let exact: f32 = state.iter().zip(&other).map(|(a, b)| a * b).sum();
        let stored = encode(std::slice::from_ref(&state));
        let matched = StoredPieces::parse(&stored).unwrap().best_matches(&[other, state]);
        assert!((matched[0] - exact.max(0.0)).abs() < 0.01, "{} vs {exact}", matched[0]);
        assert!((matched[1] - 1.0).abs() < 0.01, "{}", matched[1]);
    }

    #[test]
    fn a_sentence_of_no_pieces_or_another_width_matches_nothing() {
        let empty = encode(&[]);
        let pieces = StoredPieces::parse(&empty).unwrap();
        assert!(pieces.is_empty());
        assert_eq!(pieces.best_matches(&[unit(&[1.0, 0.0])]), vec![0.0]);
        let narrow = encode(&[unit(&[1.0, 0.0])]);
        let wide_question = [unit(&[1.0, 0.0, 0.0])];
        assert_eq!(
            StoredPieces::parse(&narrow).unwrap().best_matches(&wide_question),
            vec![0.0]
        );
    }

    #[test]
    fn a_chunks_sentences_are_read_back_one_after_another() {
        let first = encode(&[unit(&[1.0, 0.0]), unit(&[0.0, 1.0])]);
        let empty = encode(&[]);
        let last = encode(&[unit(&[1.0, 1.0])]);
        let chunk = [first, empty, last].concat();
        let sentences = StoredPieces::split(&chunk).unwrap();
        assert_eq!(
            sentences.iter().map(StoredPieces::len).collect::<Vec<_>>(),
            vec![2, 0, 1]
        );
        assert!(StoredPieces::split(&chunk[..chunk.len() - 2]).is_err());
        assert!(StoredPieces::split(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_cut_or_padded_blob_is_refused() {
        let stored = encode(&[unit(&[1.0, 2.0, 3.0])]);
        assert!(StoredPieces::parse(&stored[..stored.len() - 1]).is_err());
        assert!(StoredPieces::parse(&[stored.clone(), vec![0]].concat()).is_err());
        assert!(StoredPieces::parse(&[1]).is_err());
    }
}
