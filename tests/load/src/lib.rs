//! The load harness (issue 9): fake dependencies that speak the real wire formats, an open-loop load generator,
//! chaos and soak runs against `navigator serve`, and the report with its plots. `scripts/load` drives it. Also the
//! cold-start measurement of the five release binaries.

pub mod arrival;
pub mod cold_start;
pub mod dashboard;
pub mod fakes;
pub mod harness;
pub mod monitor;
pub mod plot;
pub mod questions;
pub mod report;
pub mod runtime_api;
pub mod saturation;
pub mod soak;
pub mod stats;
pub mod upload;
