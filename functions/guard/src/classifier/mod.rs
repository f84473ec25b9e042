//! The ML stage: a classifier for injection / unsafe medical / benign.
//! - [`linear`]: the embedded default, trained in this repository and shipped with the function;
//! - [`bedrock`]: Amazon Bedrock Guardrails `ApplyGuardrail` (prompt-attack filter, denied topics), with
//!   `GUARD_ML=bedrock`.

pub mod bedrock;
pub mod linear;

use navigator_platform::NavigatorError;
use navigator_platform::contracts::BlockCategory;
use navigator_resilience::{CpuPool, Deadline};
use std::sync::Arc;

use self::bedrock::BedrockGuardrail;
use self::linear::LinearModel;

/// What the ML stage concluded: the most likely harm and how sure it is, if any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlVerdict {
    pub harm: Option<(BlockCategory, f32)>,
}

/// A harm at or above this probability blocks.
pub const ML_BLOCK: f32 = 0.8;

/// The configured classifier.
pub enum Classifier {
    Local(Arc<LinearModel>),
    Bedrock(BedrockGuardrail),
}

impl Classifier {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::Bedrock(_) => "bedrock",
        }
    }

    /// Classifies `view` (the normalised text; Bedrock reads the redacted text instead, so no personal data leaves).
    pub async fn classify(
        &self,
        view: &str,
        redacted: &str,
        pool: &CpuPool,
        deadline: Deadline,
    ) -> Result<MlVerdict, NavigatorError> {
        match self {
            Self::Local(model) => {
                let model = Arc::clone(model);
                let view = view.to_string();
                let prediction = pool.run(deadline, move || model.predict(&view)).await?;
                let (category, probability) = prediction.strongest_harm();
                Ok(MlVerdict {
                    harm: (probability >= ML_BLOCK).then_some((category, probability)),
                })
            }
            Self::Bedrock(guardrail) => guardrail.assess(redacted, deadline).await,
        }
    }
}
