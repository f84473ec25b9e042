//! The ingest function against a real S3 API (a local moto server, `NAVIGATOR_TEST_S3_ENDPOINT`) and a real
//! PostgreSQL with pgvector: a member uploads through the presigned URL, the S3 event takes the file in, the listing
//! says `ready`, a search finds it for that member only, and a deletion removes its rows and its object.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use ingest::Ingest;
use ingest::bucket::UploadsBucket;
use lambda_runtime::{Context, LambdaEvent};
use navigator_platform::config::Budgets;
use navigator_platform::owner::{PlanId, Readers};
use navigator_resilience::Deadline;
use navigator_retrieval::db::{PoolSettings, pg_pool};
use navigator_retrieval::document::isolated;
use navigator_retrieval::document::upload::UploadLimits;
use navigator_retrieval::retriever::Retriever;
use navigator_retrieval::store::PgStore;
use navigator_tests::{HashingEmbedder, TestDatabase};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

/// Not a test: the entry point of the reader children the function starts in these tests (this binary, run with
/// `--exact` on this name). Run without the reader's environment, it returns at once.
#[test]
fn upload_reader_entry() {
    isolated::serve_if_asked();
}

const PLAN: &str = "plan-under-test";

struct Harness {
    ingest: Ingest<HashingEmbedder, PgStore>,
    search: Retriever<HashingEmbedder, PgStore>,
    s3: aws_sdk_s3::Client,
    bucket: String,
    _database: TestDatabase,
}

async fn harness(limits: UploadLimits) -> Harness {
    let s3 = navigator_tests::local_s3();
    let bucket = format!("navigator-test-{}", Uuid::new_v4());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let database = TestDatabase::migrated().await;
    let pool = pg_pool(
        database.options.clone(),
        &PoolSettings::new(2, Duration::from_secs(2), "ingest-test"),
    );
    let budgets = Budgets::from_lookup(|_| None).unwrap();
    let reader = navigator_tests::upload_reader();
    let ingest = Ingest::new(
        Retriever::new(HashingEmbedder, PgStore::new(pool.clone()), budgets.retrieve.clone()),
        UploadsBucket::new(s3.clone(), &bucket),
        reader,
        limits,
    );
    // The retrieve function's view of the same database, in another execution environment.
    let search = Retriever::new(HashingEmbedder, PgStore::new(pool), budgets.retrieve);
    Harness {
        ingest,
        search,
        s3,
        bucket,
        _database: database,
    }
}

impl Harness {
    async fn invoke(&self, payload: Value) -> Result<Value, String> {
        let mut context = Context::default();
        context.request_id = "test".into();
        ingest::lambda::handle(&self.ingest, LambdaEvent::new(payload, context))
            .await
            .map_err(|d| format!("{}: {}", d.error_type, d.error_message))
    }

    async fn documents(&self, member: Uuid, input: Value) -> Result<Value, String> {
        let envelope = json!({
            "request_id": "r", "deadline_unix_ms": Deadline::after(Duration::from_secs(30)).to_unix_ms(),
            "user_id": member, "plan_id": PLAN, "input": input
        });
        self.invoke(envelope).await.map(|answer| answer["output"].clone())
    }

    /// The S3 notification `sam local generate-event s3 put` writes, for this bucket and key.
    async fn object_created(&self, key: &str) -> Value {
        let mut event: Value = serde_json::from_str(include_str!("../../../events/ingest/s3-put-plan.json")).unwrap();
        let s3 = &mut event["Records"][0]["s3"];
        s3["bucket"]["name"] = json!(self.bucket);
        s3["object"]["key"] = json!(key.replace(' ', "%20"));
        self.invoke(event).await.unwrap()
    }

    async fn found(&self, readers: &Readers, marker: &str) -> bool {
        let output = self
            .search
            .search(
                readers,
                "dental crown copayment",
                10,
                Deadline::after(Duration::from_secs(5)),
            )
            .await
            .unwrap();
        output.chunks.iter().any(|c| c.text.contains(marker))
    }
}

fn rider(marker: &str) -> String {
    format!("# Dental rider\n\nSECTION 1 Crowns\n\nA porcelain dental crown has a $125 copayment. {marker}\n")
}

#[tokio::test]
async fn a_member_upload_is_ticketed_put_taken_in_listed_found_and_deleted() {
    let h = harness(UploadLimits::default()).await;
    let (member, neighbour) = (Uuid::new_v4(), Uuid::new_v4());
    let me = Readers::new(member, PlanId::parse(PLAN).ok());
    let body = rider("member-rider");

    let ticket = h
        .documents(
            member,
            json!({"action": "create_upload", "upload": {"file_name": "dental rider.md",
                   "content_type": "text/markdown", "size_bytes": body.len()}}),
        )
        .await
        .unwrap();
    assert_eq!(ticket["status"], "pending");
    let document_id = ticket["document_id"].as_str().unwrap().to_string();
    let url = ticket["upload"]["url"].as_str().unwrap();
    assert!(url.contains(&format!("members/{member}/{document_id}/")), "{url}");
    // Exactly the request the ticket describes.
    let sent = navigator_tests::send_upload(&ticket, body.clone()).await;
    assert!(sent.is_success(), "{sent}");

    let key = format!("members/{member}/{document_id}/dental rider.md");
    let taken = h.object_created(&key).await;
    assert_eq!(taken["records"][0]["status"], "ready", "{taken}");
    assert_eq!(taken["records"][0]["document_id"], document_id.as_str());
    // At-least-once delivery: the same event again changes nothing.
    let again = h.object_created(&key).await;
    assert_eq!(again["records"][0]["status"], "ready");

    let list = h.documents(member, json!({"action": "list"})).await.unwrap();
    let listed = &list["documents"][0];
    assert_eq!(
        (listed["status"].as_str(), listed["owner"].as_str()),
        (Some("ready"), Some("member"))
    );
    assert!(listed["chunks"].as_u64().unwrap() >= 1);
    assert!(h.found(&me, "member-rider").await);
    let neighbours = Readers::new(neighbour, PlanId::parse(PLAN).ok());
    assert!(
        !h.found(&neighbours, "member-rider").await,
        "another member of the plan never reads it"
    );
    let theirs = h.documents(neighbour, json!({"action": "list"})).await.unwrap();
    assert!(theirs["documents"].as_array().unwrap().is_empty());
    let stolen = h
        .documents(neighbour, json!({"action": "delete", "document_id": document_id}))
        .await
        .unwrap_err();
    assert!(stolen.starts_with("NotFound"), "{stolen}");

    let deleted = h
        .documents(member, json!({"action": "delete", "document_id": document_id}))
        .await
        .unwrap();
    assert_eq!(deleted["deleted"], document_id.as_str());
    assert!(!h.found(&me, "member-rider").await, "no search finds it once deleted");
    let object = h.s3.get_object().bucket(&h.bucket).key(&key).send().await;
    assert!(object.is_err(), "its object is gone too");
    let list = h.documents(member, json!({"action": "list"})).await.unwrap();
    assert!(list["documents"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_plan_file_is_read_by_the_plans_members_and_bad_files_fail_with_reasons() {
    let h = harness(UploadLimits::default()).await;
    let member = Uuid::new_v4();
    let key = format!("plans/{PLAN}/evidence of coverage.md");
    h.s3.put_object()
        .bucket(&h.bucket)
        .key(&key)
        .body(rider("plan-rider").into_bytes().into())
        .send()
        .await
        .unwrap();
    let taken = h.object_created(&key).await;
    assert_eq!(taken["records"][0]["status"], "ready", "{taken}");
    assert!(
        h.found(&Readers::new(member, PlanId::parse(PLAN).ok()), "plan-rider")
            .await
    );
    assert!(
        !h.found(&Readers::new(member, None), "plan-rider").await,
        "not a member of that plan"
    );
    let list = h.documents(member, json!({"action": "list"})).await.unwrap();
    assert_eq!(list["documents"][0]["owner"], "plan");
    let plan_document = list["documents"][0]["document_id"].clone();
    let refused = h
        .documents(member, json!({"action": "delete", "document_id": plan_document}))
        .await
        .unwrap_err();
    assert!(refused.starts_with("Forbidden"), "{refused}");

    // A program uploaded as a PDF: failed, with a reason, and nothing searchable.
    let ticket = h
        .documents(
            member,
            json!({"action": "create_upload", "upload": {"file_name": "plan.pdf",
                   "content_type": "application/pdf", "size_bytes": 9}}),
        )
        .await
        .unwrap();
    let document_id = ticket["document_id"].as_str().unwrap();
    let key = format!("members/{member}/{document_id}/plan.pdf");
    h.s3.put_object()
        .bucket(&h.bucket)
        .key(&key)
        .body(b"MZ\x90\x00 exe".to_vec().into())
        .send()
        .await
        .unwrap();
    let taken = h.object_created(&key).await;
    assert_eq!(taken["records"][0]["status"], "failed");
    let list = h.documents(member, json!({"action": "list"})).await.unwrap();
    let failed = list["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["document_id"] == document_id)
        .unwrap();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["reason"], "not a PDF, Markdown or text file");
    // Its object is tagged for the bucket's lifecycle rule to delete.
    let tags =
        h.s3.get_object_tagging()
            .bucket(&h.bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| (t.key(), t.value()) == ingest::bucket::FAILED_TAG),
        "{tags:?}"
    );

    // A key outside both prefixes is no upload.
    let ignored = h.object_created("tmp/whatever.md").await;
    assert_eq!(ignored["records"][0]["status"], "ignored");
}

#[tokio::test]
async fn a_file_over_the_cap_fails_unread() {
    let h = harness(UploadLimits {
        max_bytes: 64,
        ..UploadLimits::default()
    })
    .await;
    let member = Uuid::new_v4();
    let ticket = h
        .documents(
            member,
            json!({"action": "create_upload", "upload": {"file_name": "big.md",
                   "content_type": "text/markdown", "size_bytes": 10}}),
        )
        .await
        .unwrap();
    let document_id = ticket["document_id"].as_str().unwrap();
    let key = format!("members/{member}/{document_id}/big.md");
    h.s3.put_object()
        .bucket(&h.bucket)
        .key(&key)
        .body(rider("x".repeat(200).as_str()).into_bytes().into())
        .send()
        .await
        .unwrap();
    let taken = h.object_created(&key).await;
    assert_eq!(taken["records"][0]["status"], "failed");
    assert!(
        taken["records"][0]["reason"].as_str().unwrap().contains("limit"),
        "{taken}"
    );
}
