//! Retrieval over the documents a member may read: their plan's and their own (docs/DESIGN.md §4, §6).
//!
//! - [`document`]: PDF, Markdown or text in; text with page numbers out.
//! - [`chunk`]: structure-aware chunks with section and pages.
//! - [`embed`]: the embeddings port and its adapters (the `navigator-embed` crate, shared with the guard).
//! - [`store`]: the chunk-store port: PostgreSQL + pgvector, or embedded SQLite.
//! - [`db`]: the PostgreSQL pool and the schema migrations: only retrieval and the tools that manage its data
//!   compile sqlx.
//! - [`ingest`]: chunk, embed in batches, write idempotently, then mark ready.
//! - [`intake`]: one uploaded file: checked and read in a child process, then ingested or failed with a reason.
//! - [`retriever`]: cache → embed → hybrid search → rerank → word-piece matches → top-k, under stage budgets.
//! - [`pieces`]: late interaction: sentences' word-piece states stored in 8 bits, matched against a question's.
//! - [`eval`]: hit@k and MRR against a question set with verified answer facts.

pub mod adapter;
pub mod cache;
pub mod chunk;
pub mod db;
pub mod document;
pub mod eval;
pub mod ingest;
pub mod intake;
pub mod pieces;
pub mod query;
pub mod rerank;
pub mod retriever;
pub mod setup;
pub mod store;

pub use navigator_embed as embed;
