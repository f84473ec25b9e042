//! The chat API (docs/DESIGN.md §3): `POST /v1/chat`, `GET /v1/health`, the member's documents (`/v1/documents`),
//! and the turn behind the chat.
//!
//! One axum router serves both Lambda (through `lambda_http`) and the local server; only the identity layer differs.
//! On Lambda the member is the JWT authorizer's `sub` claim; there is no other way in.
//!
//! The modules read bottom-up (docs/ARCHITECTURE.md has the map; `tests/module_layers.rs` holds them to it):
//! - leaves: `chat` (request and response types), `tools` (the `ToolInvoker` port and its adapters), `llm` (the
//!   chat-model port and its adapters), `documents` (the member API's port to where documents live);
//! - `evidence` (a turn's tool calls and what they found) and `question` (reading a question);
//! - `plan` (which tools, in which wave), `compose` (the answer from what they found), `agent` (a chat model as
//!   planner and composer);
//! - `turn`: one chat turn, stage by stage, under one deadline;
//! - the edges: `api` (the router and its OpenAPI document), `openapi` (what the document's operations share),
//!   `http_metrics`, `admission` (the local server's bulkhead), `identity`, `lambda`, `setup`.
//!
//! What callers use is re-exported here.

mod admission;
mod agent;
mod api;
mod chat;
mod compose;
mod documents;
mod evidence;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
mod http_metrics;
mod identity;
mod lambda;
mod llm;
mod openapi;
mod plan;
mod question;
mod setup;
mod tools;
#[cfg(feature = "tuning")]
pub mod tuning;
mod turn;

pub use admission::{Admission, admit, admitted_router};
pub use api::{ApiDoc, AppState, MAX_BODY_BYTES, document as openapi_document, router};
pub use chat::{
    ChatRequest, ChatResponse, Citation, CitationKind, Degraded, MAX_HISTORY_TURNS, Outcome, Role, Stage, Status,
    Timings, ToolReport, Turn,
};
pub use compose::extractive::ExtractiveSettings;
pub use documents::{DOCUMENTS_FUNCTION, Documents, LambdaDocuments, NoDocuments};
pub use http_metrics::http_metrics;
pub use identity::Identity;
pub use lambda::{concurrent_service as lambda_concurrent_service, service as lambda_service};
pub use question::needs_outside_facts;
pub use setup::{lambda_navigator, navigator};
pub use tools::{InProcess, LambdaInvoke, ToolInvoker, WireRequest};
pub use turn::{Navigator, TurnRequest};

/// The function's name in logs and metrics.
pub const FUNCTION: &str = "orchestrator";
