//! The chat API (DESIGN.md §3): `POST /v1/chat` and `GET /v1/health`, and the turn behind it.
//!
//! One axum router serves both Lambda (through `lambda_http`) and the local server; only the identity layer differs.
//! On Lambda the member is the JWT authorizer's `sub` claim ([`identity`]); there is no other way in.
//!
//! - [`api`]: the HTTP contract. [`admission`]: the local server's bulkhead. [`lambda`]: the Lambda edge.
//! - [`turn`]: one chat turn, stage by stage, under one deadline.
//! - [`plan`]: which tools to call, in which wave. [`compose`]: the answer from what the tools found.
//! - [`tools`]: the `ToolInvoker` port and its in-process and Lambda adapters. [`llm`]: chat models with tool calling.

pub mod admission;
pub mod api;
pub mod compose;
pub mod evidence;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod identity;
pub mod lambda;
pub mod llm;
pub mod plan;
pub mod setup;
pub mod tools;
pub mod turn;

/// The function's name in logs and metrics.
pub const FUNCTION: &str = "orchestrator";
