//! The ingest binary itself reads an upload in its child process: under the reader's memory limit, the sample plan
//! is read whole. (A runtime started before the reader took its threads' stacks out of that limit, and every PDF
//! then failed as "needed more memory" in the deployed function, never in tests that used a test binary as reader.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failed test

use navigator_retrieval::document::isolated::{ReaderProgram, read};
use navigator_retrieval::document::upload::UploadLimits;
use std::path::{Path, PathBuf};

#[tokio::test]
async fn the_ingest_binary_reads_the_sample_plan_under_the_upload_limits() {
    let reader = ReaderProgram {
        program: PathBuf::from(env!("CARGO_BIN_EXE_ingest")),
        args: Vec::new(),
    };
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/scan_classic_hmo.pdf");
    let bytes = std::fs::read(sample).unwrap();
    let document = read(&reader, "scan_classic_hmo.pdf", &bytes, &UploadLimits::default())
        .await
        .unwrap()
        .unwrap_or_else(|rejection| panic!("the sample plan was refused: {rejection:?}"));
    assert_eq!(document.pages.len(), 232);
}
