//! Reading a question: what the planner and the composer both need to know about it.
//!
//! - [`parts`]: the parts of a multi-part question;
//! - [`follow_up`]: a short follow-up read with the previous question;
//! - [`outside`]: cues of a question about facts outside the plan;
//! - [`cross_refs`]: the section references ("see Section 2.4 in this chapter") in the passages found for it.

mod cross_refs;
mod follow_up;
mod outside;
mod parts;

pub use cross_refs::worth_following;
pub use follow_up::with_context;
pub use outside::needs_outside_facts;
pub use parts::question_parts;
