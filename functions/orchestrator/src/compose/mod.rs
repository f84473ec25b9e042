//! The composer: the member's answer from what the tools found, every claim cited (docs/DESIGN.md §1 step 7).
//!
//! - [`extractive`]: the offline default. It quotes the sentences that answer the question.
//! - `crate::agent`: a chat model writing from the retrieved text only.
//! - [`grounding`]: whatever wrote the answer, a dollar amount or phone number that no source holds is removed.
//! - [`passages`]: sources cut into citable sentences.

pub mod extractive;
pub mod grounding;
pub mod passages;

use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;

use crate::chat::{Citation, Status};
use crate::evidence::Evidence;

/// A composed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composition {
    pub status: Status,
    pub answer: String,
    pub citations: Vec<Citation>,
}

/// What a composer sees.
#[derive(Debug, Clone, Copy)]
pub struct ComposeContext<'a> {
    /// The member's question in English, redacted.
    pub question: &'a str,
    pub evidence: &'a Evidence,
    /// An answer a model planner already wrote from the evidence, if any.
    pub draft: Option<&'a str>,
}

pub trait Composer: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    fn compose<'a>(
        &'a self,
        cx: ComposeContext<'a>,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<Composition, NavigatorError>>;
}
