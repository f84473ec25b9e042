//! The custom resource answers CloudFormation on every path, against a local server standing in for the presigned
//! `ResponseURL` and a real PostgreSQL with pgvector.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::put;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;
use navigator_tests::TestDatabase;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Answers = Arc<Mutex<Vec<(String, Value)>>>;

/// A loopback server that records every PUT: its content type and JSON body.
async fn response_url() -> (String, Answers) {
    let answers: Answers = Arc::default();
    let app = Router::new()
        .route(
            "/cfn-response",
            put(
                |State(answers): State<Answers>, headers: HeaderMap, body: Bytes| async move {
                    let content_type = headers
                        .get("content-type")
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default();
                    answers
                        .lock()
                        .unwrap()
                        .push((content_type, serde_json::from_slice(&body).unwrap()));
                },
            ),
        )
        .with_state(Arc::clone(&answers));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/cfn-response"), answers)
}

fn request(kind: &str, url: &str) -> Value {
    let mut request = json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:migrate",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/navigator/1",
        "RequestId": "req-1",
        "ResourceType": "Custom::NavigatorMigrations",
        "LogicalResourceId": "Migrations",
        "ResourceProperties": {"ServiceToken": "arn", "SchemaVersion": "3"}
    });
    if kind != "Create" {
        request["PhysicalResourceId"] = json!("navigator-migrations");
        request["OldResourceProperties"] = json!({"ServiceToken": "arn", "SchemaVersion": "2"});
    }
    request
}

fn soon() -> Deadline {
    Deadline::after(Duration::from_secs(60))
}

#[tokio::test]
async fn create_and_update_apply_the_migrations_and_answer_success() {
    let (url, answers) = response_url().await;
    let database = TestDatabase::empty().await;
    let pool = database.pool(2).await;
    let http = reqwest::Client::new();
    for kind in ["Create", "Update"] {
        let migrate = || async {
            navigator_retrieval::db::MIGRATOR
                .run(&pool)
                .await
                .map_err(|e| NavigatorError::unavailable("postgres", e))?;
            Ok("3".to_string())
        };
        migrate::handle(&http, request(kind, &url), soon(), migrate)
            .await
            .unwrap();
    }
    let answers = answers.lock().unwrap().clone();
    assert_eq!(answers.len(), 2);
    for (content_type, answer) in &answers {
        assert_eq!(content_type, "", "the URL is signed for an empty content type");
        assert_eq!(answer["Status"], "SUCCESS", "{answer}");
        assert_eq!(answer["PhysicalResourceId"], "navigator-migrations");
        assert_eq!(answer["RequestId"], "req-1");
        assert_eq!(answer["LogicalResourceId"], "Migrations");
        assert_eq!(answer["Data"]["Applied"], "3");
    }
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'navigator'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(tables >= 3, "the schema is there");
}

#[tokio::test]
async fn a_failed_migration_answers_failed_with_the_reason() {
    let (url, answers) = response_url().await;
    let http = reqwest::Client::new();
    let failing = || async { Err(NavigatorError::unavailable("postgres", "connection refused")) };
    migrate::handle(&http, request("Update", &url), soon(), failing)
        .await
        .unwrap();
    let (_, answer) = answers.lock().unwrap()[0].clone();
    assert_eq!(answer["Status"], "FAILED");
    assert!(
        answer["Reason"].as_str().unwrap().contains("connection refused"),
        "{answer}"
    );
}

#[tokio::test]
async fn delete_keeps_the_database_and_answers_success() {
    let (url, answers) = response_url().await;
    let http = reqwest::Client::new();
    let never = || async { panic!("a delete must not touch the database") };
    migrate::handle(&http, request("Delete", &url), soon(), never)
        .await
        .unwrap();
    let (_, answer) = answers.lock().unwrap()[0].clone();
    assert_eq!(answer["Status"], "SUCCESS");
    assert_eq!(answer["PhysicalResourceId"], "navigator-migrations");
}

#[tokio::test]
async fn a_migration_that_would_outlive_the_function_is_answered_failed_in_time() {
    let (url, answers) = response_url().await;
    let http = reqwest::Client::new();
    let slow = || async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok("never".to_string())
    };
    // 5.5 s left: 5 s are kept to answer, so the migration gets half a second.
    let deadline = Deadline::after(Duration::from_millis(5_500));
    migrate::handle(&http, request("Create", &url), deadline, slow)
        .await
        .unwrap();
    assert!(!deadline.is_expired(), "answered before the deadline");
    let (_, answer) = answers.lock().unwrap()[0].clone();
    assert_eq!(answer["Status"], "FAILED");
    assert!(answer["Reason"].as_str().unwrap().contains("deadline"));
}

#[tokio::test]
async fn a_malformed_request_with_a_url_is_still_answered() {
    let (url, answers) = response_url().await;
    let http = reqwest::Client::new();
    let mut malformed = request("Create", &url);
    malformed["RequestType"] = json!("Rename");
    let never = || async { panic!("not for a malformed request") };
    migrate::handle(&http, malformed, soon(), never).await.unwrap();
    let (_, answer) = answers.lock().unwrap()[0].clone();
    assert_eq!(answer["Status"], "FAILED");
    assert_eq!(
        answer["StackId"],
        "arn:aws:cloudformation:us-east-1:123456789012:stack/navigator/1"
    );
    // With no URL there is no one to tell: an error, never a hang.
    let nowhere = json!({"RequestType": "Create"});
    assert!(migrate::handle(&http, nowhere, soon(), never).await.is_err());
}
