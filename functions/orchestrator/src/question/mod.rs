//! Reading a question: what the planner and the composer both need to know about it.
//!
//! - [`parts`]: the parts of a multi-part question;
//! - [`coverage`]: whether a message also asks what the plan covers or costs;
//! - [`follow_up`]: a short follow-up read with the previous question;
//! - [`outside`]: cues of a question about facts outside the plan;
//! - [`cross_refs`]: the section references ("see Section 2.4 in this chapter") in the passages found for it.

mod coverage;
mod cross_refs;
mod follow_up;
mod outside;
mod parts;

pub use coverage::asks_about_coverage;
pub use cross_refs::worth_following;
pub use follow_up::with_context;
pub use outside::needs_outside_facts;
pub use parts::{later_part_searches, question_parts};
