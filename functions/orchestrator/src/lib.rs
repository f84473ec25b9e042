//! The chat API (DESIGN.md §3): `POST /v1/chat` and `GET /v1/health`.
//!
//! One axum router serves both Lambda (through `lambda_http`) and the local server; only the identity layer differs.
//! On Lambda the member is the JWT authorizer's `sub` claim ([`identity`]); there is no other way in.

pub mod admission;
pub mod api;
pub mod identity;
pub mod lambda;

/// The function's name in logs and metrics.
pub const FUNCTION: &str = "orchestrator";
