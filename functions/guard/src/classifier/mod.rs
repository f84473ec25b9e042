//! The ML stage: a classifier for the six block categories against benign.
//! - [`model`] over [`lexical`] features and MiniLM profiles, read in [`windows`]: the embedded default,
//!   trained in this repository and shipped with the function;
//! - the learned name model ([`crate::names`]), which reads the same sentence model's word pieces;
//! - [`bedrock`]: Amazon Bedrock Guardrails `ApplyGuardrail` (prompt-attack filter, denied topics), with
//!   `GUARD_ML=bedrock`.

pub mod adam;
pub mod bedrock;
pub mod hidden;
pub mod lexical;
pub mod model;
pub(crate) mod seeded;
pub mod windows;

use navigator_embed::MiniLm;
use navigator_pii::Detection;
use navigator_platform::NavigatorError;
use navigator_platform::contracts::BlockCategory;
use navigator_resilience::{CpuPool, Deadline};
use std::sync::Arc;
use std::time::Duration;

use self::bedrock::BedrockGuardrail;
use self::model::{GuardModel, Reading};
use crate::names::{NAME_LAYER, NameModel, add_where_free, words};

/// What the ML stage concluded: the harm that crossed the block threshold and how sure it is, if any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlVerdict {
    pub harm: Option<(BlockCategory, f32)>,
}

/// The embedded classifier: the semantic model with the MiniLM sentence model, or the lexical model alone.
pub struct LocalClassifier {
    model: GuardModel,
    sentences: Option<MiniLm>,
    /// The learned name model, which reads the sentence model's word pieces: with it, not without.
    names: Option<NameModel>,
}

impl LocalClassifier {
    /// The semantic model, reading embeddings from `sentences`.
    pub fn semantic(sentences: MiniLm) -> Result<Self, NavigatorError> {
        Ok(Self {
            model: GuardModel::shipped_semantic().map_err(NavigatorError::internal)?,
            sentences: Some(sentences),
            names: Some(NameModel::shipped().map_err(NavigatorError::internal)?),
        })
    }

    /// The lexical model: no sentence model needed.
    pub fn lexical() -> Result<Self, NavigatorError> {
        Ok(Self {
            model: GuardModel::shipped_lexical().map_err(NavigatorError::internal)?,
            sentences: None,
            names: None,
        })
    }

    pub fn name(&self) -> &'static str {
        if self.sentences.is_some() {
            "local-semantic"
        } else {
            "local-lexical"
        }
    }

    /// Reads a normalised text window by window, on the calling thread (the ML pool's).
    pub fn read(&self, view: &str) -> Result<Reading, NavigatorError> {
        let windows = windows::windows(view);
        let embeddings = match &self.sentences {
            Some(sentences) => Some(
                sentences
                    .read_blocking_for_search(&windows)?
                    .iter()
                    .map(model::semantic_features)
                    .collect::<Vec<_>>(),
            ),
            None => None,
        };
        let readings: Vec<Reading> = windows
            .iter()
            .enumerate()
            .map(|(i, window)| {
                let embedding = embeddings.as_ref().and_then(|all| all.get(i)).map(Vec::as_slice);
                self.model.read(&self.model.encode(window, embedding))
            })
            .collect();
        Reading::strongest(&readings).ok_or_else(|| NavigatorError::internal("no window to read"))
    }

    /// The names in `text` (the original, whose byte ranges redaction cuts) as the learned name model finds them, on
    /// the calling thread; `rules` are `navigator_pii::find`'s detections, which it reads. `None` without the model.
    pub fn learned_names(&self, text: &str, rules: &[Detection]) -> Result<Option<Vec<Detection>>, NavigatorError> {
        let (Some(sentences), Some(model)) = (&self.sentences, &self.names) else {
            return Ok(None);
        };
        let pieces = sentences.piece_states_blocking(text, NAME_LAYER)?;
        // A long text is read only so far (`piece_states_blocking`), and a segment of many pieces per word is cut
        // short: words no piece covers were not read, and the rules' names over them stand. Only the read prefix is
        // cued, so a 64 KiB text costs no more than its first segments.
        let read_until = pieces.last().map_or(0, |piece| piece.end);
        let prefix = &text[..read_until];
        let read_rules: Vec<Detection> = rules.iter().filter(|d| d.end <= read_until).copied().collect();
        let (read, unread): (Vec<_>, Vec<_>) = words(prefix, &pieces, &read_rules)
            .into_iter()
            .partition(|word| pieces.iter().any(|p| p.start < word.end && word.start < p.end));
        let rule_names_kept = rules.iter().filter(|d| {
            d.kind == navigator_pii::Kind::Name
                && (d.end > read_until || unread.iter().any(|w| w.start < d.end && d.start < w.end))
        });
        let mut found: Vec<Detection> = rule_names_kept.copied().collect();
        add_where_free(&mut found, model.names(prefix, &read));
        Ok(Some(found))
    }

    /// The harm that crosses the model's calibrated threshold, if any.
    pub fn verdict(&self, view: &str) -> Result<MlVerdict, NavigatorError> {
        let (category, probability) = self.read(view)?.strongest_harm();
        Ok(MlVerdict {
            harm: (probability >= self.model.block_threshold).then_some((category, probability)),
        })
    }
}

/// The configured classifier.
pub enum Classifier {
    Local(Arc<LocalClassifier>),
    Bedrock(BedrockGuardrail),
}

impl Classifier {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Local(local) => local.name(),
            Self::Bedrock(_) => "bedrock",
        }
    }

    /// Classifies `view` (the normalised text; Bedrock reads the redacted text instead, so no personal data leaves)
    /// within `budget` from when the work starts, and never past `deadline`.
    pub async fn classify(
        &self,
        view: &str,
        redacted: &str,
        pool: &CpuPool,
        deadline: Deadline,
        budget: Duration,
    ) -> Result<MlVerdict, NavigatorError> {
        match self {
            Self::Local(local) => {
                let local = Arc::clone(local);
                let view = view.to_string();
                pool.run_for(deadline, Some(budget), move || local.verdict(&view))
                    .await?
            }
            Self::Bedrock(guardrail) => guardrail.assess(redacted, deadline.child(budget)).await,
        }
    }

    /// The learned name model's names in `text` (see [`LocalClassifier::learned_names`]), on `pool` within `budget`;
    /// `None` where there is no such model (the lexical model, Bedrock).
    pub async fn learned_names(
        &self,
        text: &str,
        rules: &[Detection],
        pool: &CpuPool,
        deadline: Deadline,
        budget: Duration,
    ) -> Result<Option<Vec<Detection>>, NavigatorError> {
        match self {
            Self::Local(local) if local.names.is_some() => {
                let (local, text, rules) = (Arc::clone(local), text.to_string(), rules.to_vec());
                pool.run_for(deadline, Some(budget), move || local.learned_names(&text, &rules))
                    .await?
            }
            _ => Ok(None),
        }
    }
}
