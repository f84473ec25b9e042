//! Turning a member's question into full-text search terms.

pub use navigator_platform::text::terms;

/// A query's cache key: case and spacing do not make a different question.
pub fn cache_key(query: &str) -> String {
    query.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}
