//! Shared test support: a fresh, migrated PostgreSQL database per test.
//!
//! `./scripts/test` starts a throwaway PostgreSQL with pgvector and exports `NAVIGATOR_TEST_DATABASE_URL`; these
//! tests fail (never skip) without it, so a missing install step fails CI.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

pub mod events;
pub mod pdf;

/// The upload reader as a test binary runs it: this very binary, started on its `upload_reader_entry` test (which
/// calls `navigator_retrieval::document::isolated::serve_if_asked`). Every test binary that takes uploads in has one.
pub fn upload_reader() -> navigator_retrieval::document::isolated::ReaderProgram {
    navigator_retrieval::document::isolated::ReaderProgram {
        program: std::env::current_exe().expect("the test binary's path"),
        args: ["--exact", "upload_reader_entry", "--nocapture", "--test-threads=1"]
            .map(String::from)
            .to_vec(),
    }
}

/// Sends `body` exactly as an upload ticket (`POST /v1/documents`'s answer) says: its method, URL and headers.
/// Returns the status the storage answered.
pub async fn send_upload(ticket: &serde_json::Value, body: impl Into<reqwest::Body>) -> reqwest::StatusCode {
    let upload = &ticket["upload"];
    let method =
        reqwest::Method::from_bytes(upload["method"].as_str().expect("a method").as_bytes()).expect("an HTTP method");
    let mut request = reqwest::Client::new()
        .request(method, upload["url"].as_str().expect("a URL"))
        .body(body);
    for (name, value) in upload["headers"].as_object().expect("headers") {
        request = request.header(name.as_str(), value.as_str().expect("a header value"));
    }
    request.send().await.expect("the upload is sent").status()
}

/// A client of the local S3 API the test command starts (moto's server, `NAVIGATOR_TEST_S3_ENDPOINT`), with the
/// dummy credentials and path-style addressing it takes. Tests that need it fail, never skip, without it.
pub fn local_s3() -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let endpoint = std::env::var("NAVIGATOR_TEST_S3_ENDPOINT")
        .expect("NAVIGATOR_TEST_S3_ENDPOINT is unset: run ./scripts/test, which starts a local S3 (moto)");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;

/// The admin URL of the test server.
pub fn admin_url() -> String {
    std::env::var("NAVIGATOR_TEST_DATABASE_URL")
        .expect("NAVIGATOR_TEST_DATABASE_URL is unset: run ./scripts/test, which starts PostgreSQL with pgvector")
}

fn admin_options() -> PgConnectOptions {
    PgConnectOptions::from_str(&admin_url()).expect("a valid NAVIGATOR_TEST_DATABASE_URL")
}

/// A database of its own for one test, so tests never see each other's rows.
pub struct TestDatabase {
    pub name: String,
    pub options: PgConnectOptions,
}

impl TestDatabase {
    /// Creates an empty database.
    pub async fn empty() -> Self {
        let admin = admin_options();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin.clone())
            .await
            .expect("the test server is up");
        // The name is generated above from a UUID, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .expect("CREATE DATABASE");
        pool.close().await;
        Self {
            options: admin.database(&name),
            name,
        }
    }

    /// Creates a database with every migration applied.
    pub async fn migrated() -> Self {
        let database = Self::empty().await;
        let pool = database.pool(2).await;
        navigator_retrieval::db::MIGRATOR
            .run(&pool)
            .await
            .expect("migrations apply");
        pool.close().await;
        database
    }

    /// A pool on the server's admin database, for statements that may not run inside this one.
    pub async fn admin_pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin_options())
            .await
            .expect("connect")
    }

    /// A plain pool on this database.
    pub async fn pool(&self, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(self.options.clone())
            .await
            .expect("connect")
    }
}

/// A deterministic stand-in for a sentence model in store tests: each word is hashed to one of the vector's
/// dimensions, so texts sharing words are near each other. The stores, not the model, are what such tests test.
pub struct HashingEmbedder;

impl navigator_retrieval::embed::Embedder for HashingEmbedder {
    fn model(&self) -> &str {
        "test/hashing-384"
    }

    fn dimensions(&self) -> usize {
        384
    }

    async fn embed(
        &self,
        texts: Vec<String>,
        _deadline: navigator_resilience::Deadline,
    ) -> Result<Vec<Vec<f32>>, navigator_platform::NavigatorError> {
        Ok(texts.iter().map(|text| hashed(text)).collect())
    }

    fn calls_in_flight(&self) -> usize {
        2
    }
}

/// [`HashingEmbedder`] that also gives word pieces: each word of three letters or more, hashed alone. A question's
/// word then matches a sentence holding the same word at a cosine of 1.
pub struct PieceHashingEmbedder;

impl navigator_retrieval::embed::Embedder for PieceHashingEmbedder {
    fn model(&self) -> &str {
        HashingEmbedder.model()
    }

    fn dimensions(&self) -> usize {
        HashingEmbedder.dimensions()
    }

    async fn embed(
        &self,
        texts: Vec<String>,
        deadline: navigator_resilience::Deadline,
    ) -> Result<Vec<Vec<f32>>, navigator_platform::NavigatorError> {
        HashingEmbedder.embed(texts, deadline).await
    }

    async fn embed_with_pieces(
        &self,
        texts: Vec<String>,
        _deadline: navigator_resilience::Deadline,
    ) -> Result<Vec<navigator_retrieval::embed::WithPieces>, navigator_platform::NavigatorError> {
        Ok(texts
            .iter()
            .map(|text| navigator_retrieval::embed::WithPieces {
                vector: hashed(text),
                pieces: hashed_words(text).map(hashed).collect(),
            })
            .collect())
    }

    fn gives_pieces(&self) -> bool {
        true
    }

    fn calls_in_flight(&self) -> usize {
        2
    }
}

/// The words [`hashed`] reads.
pub fn hashed_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2)
}

fn hashed(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0_f32; 384];
    for word in hashed_words(text) {
        let hash = word
            .to_lowercase()
            .bytes()
            .fold(2166136261_u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
        vector[hash as usize % 384] += 1.0;
    }
    navigator_retrieval::embed::normalize(&mut vector);
    vector
}

/// A small plan document: two pages, three facts.
pub fn sample_plan(marker: &str) -> navigator_retrieval::document::SourceDocument {
    let text = format!(
        "CHAPTER 4: Medical Benefits Chart\n\nSection 2.1 Your medical benefits\n\n\
         Ambulance services\nYou pay a $180 copayment for each one-way trip. {marker}\n\n\
         Emergency care\nYou pay a $90 copayment for each emergency room visit.\n\n\
         Specialist visit\nYou pay a $20 copayment for each specialist office visit.\u{c}\
         SECTION 3 Hearing aids\n\nHearing aids cost a $550 copayment per aid. {marker}"
    );
    navigator_retrieval::document::from_bytes(
        "plan",
        navigator_retrieval::document::DocumentKind::Text,
        text.as_bytes(),
    )
    .expect("a valid sample")
}

/// Prints a benchmark row: the label, the sample count, and P50/P95/P99 and the maximum in milliseconds.
pub fn print_percentiles(label: &str, mut samples: Vec<std::time::Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<62} n={:<5} p50 {:>8.3} ms  p95 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        samples.len(),
        ms(at(0.50)),
        ms(at(0.95)),
        ms(at(0.99)),
        ms(samples[samples.len() - 1])
    );
}
