//! The sample events under `events/` and what each must produce, wherever it is replayed: in-process
//! (`tests/events.rs`) and in the real Lambda runtime under `sam local invoke` (`tests/sam_local.rs`).

use std::path::{Path, PathBuf};

/// What a replayed event must produce: an HTTP status, or a tool's `output`/`errorType`.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    Http(u16),
    ToolOk,
    ToolError(&'static str),
    /// An S3 notification whose one record ends with this status.
    Upload(&'static str),
    /// A CloudFormation request answered at its `ResponseURL` with this status.
    CustomResource(&'static str),
}

pub const EXPECTATIONS: &[(&str, Expect)] = &[
    ("orchestrator/chat-apigw-v2.json", Expect::Http(200)),
    ("orchestrator/chat-apigw-v2-spanish.json", Expect::Http(200)),
    ("orchestrator/chat-apigw-v2-no-claims.json", Expect::Http(401)),
    ("orchestrator/chat-apigw-v2-malformed-json.json", Expect::Http(400)),
    ("orchestrator/chat-apigw-v2-too-long.json", Expect::Http(400)),
    ("orchestrator/health-apigw-v2.json", Expect::Http(200)),
    ("orchestrator/chat-apigw-v1.json", Expect::Http(200)),
    ("orchestrator/chat-apigw-v1-no-claims.json", Expect::Http(401)),
    ("translate/valid.json", Expect::ToolOk),
    ("translate/invalid-target.json", Expect::ToolError("InvalidInput")),
    ("guard/valid.json", Expect::ToolOk),
    ("guard/invalid-empty.json", Expect::ToolError("InvalidInput")),
    ("retrieve/valid.json", Expect::ToolOk),
    ("retrieve/invalid-top-k.json", Expect::ToolError("InvalidInput")),
    ("retrieve/section.json", Expect::ToolOk),
    ("retrieve/invalid-section.json", Expect::ToolError("InvalidInput")),
    ("retrieve/other-member.json", Expect::ToolError("InvalidInput")),
    ("retrieve/other-plan.json", Expect::ToolError("InvalidInput")),
    ("web-search/valid.json", Expect::ToolError("Rejected")),
    ("web-search/invalid-max-results.json", Expect::ToolError("InvalidInput")),
    ("ingest/s3-put-plan.json", Expect::Upload("ready")),
    ("ingest/s3-put-member.json", Expect::Upload("ready")),
    ("ingest/documents-list.json", Expect::ToolOk),
    ("ingest/documents-create-upload.json", Expect::ToolOk),
    ("ingest/documents-invalid-type.json", Expect::ToolError("InvalidInput")),
    ("migrate/create.json", Expect::CustomResource("SUCCESS")),
    ("migrate/update.json", Expect::CustomResource("SUCCESS")),
    ("migrate/delete.json", Expect::CustomResource("SUCCESS")),
];

pub fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

pub fn all_event_files() -> Vec<String> {
    let mut files = Vec::new();
    for function in std::fs::read_dir(events_dir()).unwrap() {
        let function = function.unwrap().path();
        for event in std::fs::read_dir(&function).unwrap() {
            let event = event.unwrap().path();
            let name = event.file_name().unwrap().to_string_lossy().to_string();
            files.push(format!("{}/{name}", function.file_name().unwrap().to_string_lossy()));
        }
    }
    files.sort();
    files
}
