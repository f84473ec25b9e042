//! What every navigator function shares, free of any Lambda type.
//!
//! - [`error`]: one error type, mapped to Lambda `errorType` names and to HTTP statuses.
//! - [`envelope`] and [`contracts`]: the tool envelope, the list of tools, each tool's input and output
//!   (docs/DESIGN.md §3).
//! - [`documents`]: the member API's documents: what may be uploaded, the upload ticket, what a listing shows.
//! - [`config`]: every budget of docs/DESIGN.md §2 and every adapter choice, read and validated together.
//! - [`aws`]: the one way AWS clients are configured, with the one retry policy.
//! - [`secrets`]: Secrets Manager behind a per-environment cache, or environment variables.
//! - [`telemetry`]: JSON logs with request id, trace id, function and cold start; metrics as EMF or Prometheus.
//! - [`section`]: a numbered section of a plan document, as the documents cite one.
//! - [`owner`]: who a document belongs to (a plan or a member), and whose documents a member reads.
//! - [`text`]: the content terms of a question, shared by search and answer selection.

pub mod aws;
pub mod config;
pub mod contracts;
pub mod documents;
pub mod envelope;
pub mod error;
pub mod owner;
pub mod secrets;
pub mod section;
pub mod telemetry;
pub mod text;

pub use error::NavigatorError;
