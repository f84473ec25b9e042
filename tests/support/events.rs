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

/// The uploads bucket the S3 events name.
pub const EVENTS_BUCKET: &str = "navigator-uploads";

/// The bucket the S3 events name, holding a small file at each key they name (a one-page PDF for the plan, a
/// Markdown rider for the member).
pub async fn put_event_objects(s3: &aws_sdk_s3::Client) {
    let _ = s3.create_bucket().bucket(EVENTS_BUCKET).send().await;
    let files: [(&str, Vec<u8>); 2] = [
        (
            "plans/scan-classic-hmo-2025/scan_classic_hmo.pdf",
            crate::pdf::with_pages(&["Ambulance one-way trip $250 copayment"]),
        ),
        (
            "members/3f6c1a52-8d1e-4b7a-9c2f-0d5e6a7b8c9d/7d1f0c3e-5b2a-4c8e-9f10-2a3b4c5d6e7f/dental rider.md",
            b"# Dental rider\n\nA porcelain crown has a $125 copayment.\n".to_vec(),
        ),
    ];
    for (key, body) in files {
        s3.put_object()
            .bucket(EVENTS_BUCKET)
            .key(key)
            .body(body.into())
            .send()
            .await
            .expect("the local S3 takes the object");
    }
}
