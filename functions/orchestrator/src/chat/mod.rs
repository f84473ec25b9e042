//! The chat API's request and response types: what a client sends and what it reads back. A leaf: it depends on
//! nothing else in the orchestrator.

mod request;
mod response;

pub use request::{ChatRequest, MAX_HISTORY_TURNS, Role, Turn};
pub use response::{ChatResponse, Citation, CitationKind, Degraded, Outcome, Stage, Status, Timings, ToolReport};
