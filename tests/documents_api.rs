//! The member's documents end to end on the AWS wiring, in one process: the chat API's router (as Lambda serves it)
//! asks the ingest function through the Lambda Invoke API (a loopback server running the real ingest handler), the
//! member uploads through the presigned URL to a real S3 API (moto, `NAVIGATOR_TEST_S3_ENDPOINT`), the S3 event is
//! delivered to the ingest function, the listing turns `ready`, a question only the upload answers is answered with
//! a citation to it, and after `DELETE` the same question is `unanswered`. The database is a real PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use lambda_runtime::{Context, LambdaEvent};
use navigator_platform::config::Budgets;
use navigator_platform::contracts::ToolName;
use navigator_retrieval::db::{PoolSettings, pg_pool};
use navigator_retrieval::document::upload::UploadLimits;
use navigator_retrieval::retriever::Retriever;
use navigator_retrieval::store::PgStore;
use navigator_tests::{HashingEmbedder, TestDatabase};
use orchestrator::{AppState, InProcess, LambdaDocuments, Navigator};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// Not a test: the entry point of the upload reader children the ingest function starts here (this binary, run
/// with `--exact` on this name). Run without the reader's environment, it returns at once.
#[test]
fn upload_reader_entry() {
    navigator_retrieval::document::isolated::serve_if_asked();
}

const MEMBER: &str = "3f6c1a52-8d1e-4b7a-9c2f-0d5e6a7b8c9d";
const BUCKET: &str = "navigator-documents-api";

type IngestFunction = Arc<ingest::Ingest<HashingEmbedder, PgStore>>;

/// `POST /2015-03-31/functions/{name}/invocations`, answered by the ingest handler as Lambda answers: the payload,
/// or a function error's `{errorType, errorMessage}` flagged by `X-Amz-Function-Error`.
async fn invocations(State(function): State<IngestFunction>, Path(_): Path<String>, body: Bytes) -> Response {
    let payload: Value = serde_json::from_slice(&body).unwrap();
    let mut context = Context::default();
    context.request_id = "invoke".into();
    match ingest::lambda::handle(&function, LambdaEvent::new(payload, context)).await {
        Ok(answer) => Json(answer).into_response(),
        Err(diagnostic) => (
            [("x-amz-function-error", "Unhandled")],
            Json(json!({"errorType": diagnostic.error_type, "errorMessage": diagnostic.error_message})),
        )
            .into_response(),
    }
}

fn lambda_client(endpoint: &str) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_lambda::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .build(),
    )
}

async fn call(app: &Router, method: &str, uri: &str, body: Value) -> (u16, Value) {
    let event = json!({
        "version": "2.0", "routeKey": format!("{method} {uri}"), "rawPath": uri, "rawQueryString": "",
        "headers": {"content-type": "application/json"}, "isBase64Encoded": false,
        "body": if body.is_null() { Value::Null } else { json!(body.to_string()) },
        "requestContext": {
            "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d", "requestId": "r",
            "routeKey": format!("{method} {uri}"), "stage": "$default", "time": "t", "timeEpoch": 0,
            "http": {"method": method, "path": uri, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "authorizer": {"jwt": {"claims": {"sub": MEMBER, "custom:plan_id": "scan-classic-hmo-2025"}, "scopes": null}}
        }
    });
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let (parts, body) = request.into_parts();
    let response = app
        .clone()
        .oneshot(Request::from_parts(parts, Body::from(body.to_vec())))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_ready_cited_then_deleted_and_unanswered() {
    let s3 = navigator_tests::local_s3();
    let _ = s3.create_bucket().bucket(BUCKET).send().await;
    let database = TestDatabase::migrated().await;
    let pool = pg_pool(
        database.options.clone(),
        &PoolSettings::new(4, Duration::from_secs(2), "docs-api"),
    );
    let budgets = Budgets::from_lookup(|_| None).unwrap();
    let reader = navigator_tests::upload_reader();
    let function: IngestFunction = Arc::new(ingest::Ingest::new(
        Retriever::new(HashingEmbedder, PgStore::new(pool.clone()), budgets.retrieve.clone()),
        ingest::bucket::UploadsBucket::new(s3.clone(), BUCKET),
        reader,
        UploadLimits::default(),
    ));
    let invoke = Router::new()
        .route("/2015-03-31/functions/{function}/invocations", post(invocations))
        .with_state(Arc::clone(&function));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, invoke).await.unwrap() });

    // The orchestrator as Lambda serves it, its retrieve tool reading the same database.
    let retrieve = retrieve::Retrieve::new(Retriever::new(
        HashingEmbedder,
        PgStore::new(pool),
        budgets.retrieve.clone(),
    ));
    let tools = InProcess::new()
        .with(ToolName::Guard, guard::Guard::local(&budgets.guard).unwrap())
        .with(ToolName::Retrieve, retrieve);
    let navigator = Navigator::offline(Arc::new(tools), &budgets);
    let documents = Arc::new(LambdaDocuments::new(lambda_client(&endpoint), "navigator-ingest"));
    let app = orchestrator::lambda_service(Arc::new(AppState {
        budgets,
        navigator,
        documents,
    }));

    let rider =
        "# Dental rider\n\nSECTION 1 Crowns\n\nA porcelain dental crown has a $125 copayment under the rider.\n";
    let (status, ticket) = call(
        &app,
        "POST",
        "/v1/documents",
        json!({"file_name": "dental rider.md", "content_type": "text/markdown", "size_bytes": rider.len()}),
    )
    .await;
    assert_eq!(status, 201, "{ticket}");
    let document_id = ticket["document_id"].as_str().unwrap().to_string();
    assert!(navigator_tests::send_upload(&ticket, rider).await.is_success());

    // S3 notifies the ingest function.
    let mut event: Value = serde_json::from_str(include_str!("../events/ingest/s3-put-member.json")).unwrap();
    event["Records"][0]["s3"]["bucket"]["name"] = json!(BUCKET);
    event["Records"][0]["s3"]["object"]["key"] = json!(format!("members/{MEMBER}/{document_id}/dental%20rider.md"));
    let mut context = Context::default();
    context.request_id = "s3".into();
    let taken = ingest::lambda::handle(&function, LambdaEvent::new(event, context))
        .await
        .unwrap();
    assert_eq!(taken["records"][0]["status"], "ready", "{taken}");

    let (status, list) = call(&app, "GET", "/v1/documents", Value::Null).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["documents"][0]["status"], "ready", "{list}");

    let question = json!({"message": "What is the copayment for a porcelain dental crown?"});
    let (status, answer) = call(&app, "POST", "/v1/chat", question.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "answered", "{answer}");
    assert!(
        answer["citations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["document_id"] == document_id.as_str()),
        "{answer}"
    );

    let (status, _) = call(&app, "DELETE", &format!("/v1/documents/{document_id}"), Value::Null).await;
    assert_eq!(status, 204);
    let (_, answer) = call(&app, "POST", "/v1/chat", question).await;
    assert_eq!(answer["status"], "unanswered", "{answer}");
    let (status, body) = call(&app, "DELETE", &format!("/v1/documents/{document_id}"), Value::Null).await;
    assert_eq!(status, 404, "{body}");
}
