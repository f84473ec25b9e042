//! The whole system across real Lambda runtime boundaries, without containers: `cargo lambda watch` emulates the
//! Runtime and Invoke APIs and runs all five functions; the orchestrator reaches the four tools through the AWS SDK's
//! Lambda `Invoke` (pointed at the emulator by `AWS_ENDPOINT_URL_LAMBDA`), and retrieve reaches a real PostgreSQL
//! holding the sample plan. Then the database is stopped, and the answer must degrade in its typed way: 503 with a
//! JSON error, within the turn's deadline.
//!
//! Tavily is the load harness's fake, a local server speaking its API.
//! Needs `cargo-lambda` on PATH (`pip install cargo-lambda`) and the local model (`scripts/fetch-model`); it starts
//! its own PostgreSQL with `scripts/pg`, because it stops it. `./scripts/test` runs it as its own step.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use navigator_load::fakes::FaultBoard;
use navigator_resilience::CpuPool;
use navigator_retrieval::document;
use navigator_retrieval::embed::{Embedders, MiniLm};
use navigator_retrieval::ingest::ingest;
use navigator_retrieval::store::{PgStore, Stores};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The plan of the member the sample events name (their `custom:plan_id` claim in
/// `events/orchestrator/chat-apigw-v2.json`, the `plan_id` of the tools' `valid.json`).
const EVENTS_PLAN: &str = "scan-classic-hmo-2025";
const FUNCTIONS: [&str; 5] = ["orchestrator", "guard", "translate", "retrieve", "web-search"];
/// The uploads bucket in the local S3 API.
const UPLOADS_BUCKET: &str = "navigator-e2e-uploads";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A PostgreSQL cluster of this test's own (started and stopped by `scripts/pg`).
struct Postgres {
    dir: PathBuf,
    url: String,
}

impl Postgres {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("navigator-e2e-pg-{}", uuid::Uuid::new_v4().simple()));
        let output = std::process::Command::new(root().join("scripts/pg"))
            .args(["up", dir.to_str().unwrap(), &free_port().to_string()])
            .output()
            .expect("scripts/pg runs");
        assert!(
            output.status.success(),
            "scripts/pg up: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let url = String::from_utf8(output.stdout).unwrap().trim().to_string();
        Self { dir, url }
    }

    fn stop(&self) {
        let status = std::process::Command::new(root().join("scripts/pg"))
            .args(["down", self.dir.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success(), "scripts/pg down");
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The pages of the sample plan this test's questions need: the Medical Benefits Chart, where the specialist visit's
/// cost is (pages 60-104). Embedding all 232 pages in a test build took most of this test's time; ingest over the
/// whole plan is measured by `navigator ingest` and the load harness.
const BENEFITS_CHART_PAGES: std::ops::RangeInclusive<u32> = 56..=110;

/// Migrates the database and loads the sample plan's benefits chart as the events' member's plan document, as
/// `navigator ingest --plan` would.
async fn ingest_sample_plan(url: &str, model_dir: &Path) {
    let pool = PgPoolOptions::new().max_connections(2).connect(url).await.unwrap();
    navigator_retrieval::db::MIGRATOR.run(&pool).await.unwrap();
    let embedder = Embedders::Local(MiniLm::load(model_dir, CpuPool::new("embed", 2, 8)).unwrap());
    let store = Stores::Postgres(PgStore::new(pool));
    let plan = navigator_platform::owner::PlanId::parse(EVENTS_PLAN).unwrap();
    let mut sample = document::load(&root().join("data/sample/scan_classic_hmo.pdf")).unwrap();
    sample.pages.retain(|page| BENEFITS_CHART_PAGES.contains(&page.number));
    assert_eq!(sample.pages.len(), BENEFITS_CHART_PAGES.count());
    let report = ingest(
        &embedder,
        &store,
        &navigator_platform::owner::Owner::Plan(plan),
        &sample,
        |_, _| {},
    )
    .await
    .unwrap();
    assert!(report.chunks > 0, "the benefits chart is stored: {report:?}");
}

/// `cargo lambda watch` on loopback serving every function of the workspace; killed when dropped.
struct Emulator {
    child: Child,
    port: u16,
    _env_file: PathBuf,
}

impl Emulator {
    async fn start(database_url: &str, model_dir: &Path, tavily_url: &str, s3_url: &str) -> Self {
        let port = free_port();
        let env_file = std::env::temp_dir().join(format!("navigator-e2e-{port}.env"));
        let env = [
            ("AWS_ACCESS_KEY_ID", "e2e".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "e2e".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            ("AWS_ENDPOINT_URL_LAMBDA", format!("http://127.0.0.1:{port}")),
            ("TOOL_INVOKER", "lambda".to_string()),
            ("TRANSLATE_FUNCTION", "translate".to_string()),
            ("GUARD_FUNCTION", "guard".to_string()),
            ("RETRIEVE_FUNCTION", "retrieve".to_string()),
            ("WEB_SEARCH_FUNCTION", "web-search".to_string()),
            ("DATABASE_URL", database_url.to_string()),
            ("EMBEDDINGS_PROVIDER", "local".to_string()),
            ("NAVIGATOR_MODEL_DIR", model_dir.display().to_string()),
            ("GUARD_ML", "local".to_string()),
            ("TAVILY_API_KEY", "tvly-e2e".to_string()),
            ("TAVILY_BASE_URL", tavily_url.to_string()),
            ("RUST_LOG", "warn".to_string()),
            // The documents actions and the uploads bucket: the ingest function over the local S3 API.
            ("DOCUMENTS_FUNCTION", "ingest".to_string()),
            ("UPLOADS_BUCKET", UPLOADS_BUCKET.to_string()),
            ("AWS_ENDPOINT_URL_S3", s3_url.to_string()),
        ];
        let text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&env_file, text).unwrap();
        let child = Command::new("cargo")
            .current_dir(root())
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .arg("--env-file")
            .arg(&env_file)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("cargo-lambda is installed (pip install cargo-lambda)");
        let emulator = Self {
            child,
            port,
            _env_file: env_file,
        };
        let ready_by = Instant::now() + Duration::from_secs(120);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < ready_by, "cargo lambda watch never listened on {port}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        emulator
    }

    /// One Lambda `Invoke` (the REST API the AWS SDK speaks). A function error is the body's `errorType`: Lambda
    /// answers it as a 200 with `X-Amz-Function-Error`, the emulator as a 500; both are read here.
    async fn invoke(&self, function: &str, payload: &Value) -> Invoked {
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations",
            self.port
        );
        // The first call of a function waits for its build.
        let response = reqwest::Client::new()
            .post(url)
            .json(payload)
            .timeout(Duration::from_secs(900))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let flagged = response.headers().contains_key("x-amz-function-error");
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        let error_type =
            (flagged || status != 200).then(|| body["errorType"].as_str().unwrap_or("(no errorType)").to_string());
        Invoked { error_type, body }
    }

    /// Invokes until the answer is not a `Timeout`: the emulator starts a first invoke's clock before it builds the
    /// function, so that invoke may time out before the function even runs.
    async fn warm(&self, function: &str, payload: &Value) -> Invoked {
        let first = self.invoke(function, payload).await;
        if first.error_type.as_deref() == Some("Timeout") {
            return self.invoke(function, payload).await;
        }
        first
    }
}

struct Invoked {
    error_type: Option<String>,
    body: Value,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn event(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join("events").join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// An API Gateway proxy response's status and JSON body.
fn http_response(payload: &Value) -> (u64, Value) {
    let status = payload["statusCode"].as_u64().expect("an API Gateway response");
    // A 204 has an empty body.
    let body = payload["body"]
        .as_str()
        .filter(|b| !b.is_empty())
        .map(|b| serde_json::from_str(b).unwrap())
        .unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_event_crosses_real_lambda_boundaries_and_degrades_when_the_database_stops() {
    let model_dir = PathBuf::from(
        std::env::var_os("NAVIGATOR_MODEL_DIR").expect("NAVIGATOR_MODEL_DIR is unset: run scripts/fetch-model"),
    );
    let postgres = Postgres::start();
    ingest_sample_plan(&postgres.url, &model_dir).await;
    // Tavily: a local server speaking its API (the load harness's fake).
    let tavily = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tavily_url = format!("http://{}", tavily.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(tavily, navigator_load::fakes::router(FaultBoard::realistic())).await });
    let s3_url = std::env::var("NAVIGATOR_TEST_S3_ENDPOINT")
        .expect("NAVIGATOR_TEST_S3_ENDPOINT is unset: run ./scripts/test, which starts a local S3 (moto)");
    let _ = navigator_tests::local_s3()
        .create_bucket()
        .bucket(UPLOADS_BUCKET)
        .send()
        .await;
    let emulator = Emulator::start(&postgres.url, &model_dir, &tavily_url, &s3_url).await;

    // Each tool through the runtime with its sample event.
    for function in FUNCTIONS.iter().filter(|f| **f != "orchestrator") {
        let answer = emulator.warm(function, &event(&format!("{function}/valid.json"))).await;
        assert_eq!(answer.error_type, None, "{function}: {}", answer.body);
        assert!(
            answer.body.get("output").is_some(),
            "{function} answers with an output envelope: {}",
            answer.body
        );
    }
    let retrieved = emulator.invoke("retrieve", &event("retrieve/valid.json")).await;
    assert!(
        retrieved.body["output"]["chunks"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "retrieve finds the member's plan in PostgreSQL: {}",
        retrieved.body
    );
    // A bad envelope is a typed function error across the boundary too.
    let invalid = emulator.invoke("retrieve", &event("retrieve/invalid-top-k.json")).await;
    assert_eq!(invalid.error_type.as_deref(), Some("InvalidInput"), "{}", invalid.body);

    // The chat turn: API Gateway v2 event → orchestrator → Invoke → guard, translate, retrieve.
    let health = emulator
        .warm("orchestrator", &event("orchestrator/health-apigw-v2.json"))
        .await;
    assert_eq!(http_response(&health.body).0, 200, "{}", health.body);
    let chat = emulator
        .invoke("orchestrator", &event("orchestrator/chat-apigw-v2.json"))
        .await;
    assert_eq!(chat.error_type, None, "{}", chat.body);
    let (status, answer) = http_response(&chat.body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "answered", "{answer}");
    let citations = answer["citations"].as_array().expect("citations");
    assert!(
        citations.iter().any(|c| c["page"].as_u64().is_some_and(|p| p > 0)),
        "the answer cites plan pages: {answer}"
    );
    assert!(answer["answer"].as_str().is_some_and(|a| a.contains('$')), "{answer}");

    upload_ready_cited_deleted_unanswered(&emulator).await;

    // The database goes away. A question retrieval has cached still answers; a new one fails typed and fast, and
    // the turn says so instead of answering empty.
    postgres.stop();
    let cached = emulator.invoke("retrieve", &event("retrieve/valid.json")).await;
    assert_eq!(cached.error_type, None, "the cached query answers: {}", cached.body);
    let mut uncached = event("retrieve/valid.json");
    uncached["input"]["query"] = "hearing aid allowance every two years".into();
    // The pool keeps retrying a refused connection until the KNN stage's budget ends it: a typed Timeout (or, when
    // the refusal comes first, DependencyUnavailable), within the retrieve budget, never an empty result.
    let asked = Instant::now();
    let failed = emulator.invoke("retrieve", &uncached).await;
    assert!(
        matches!(failed.error_type.as_deref(), Some("Timeout" | "DependencyUnavailable")),
        "{}",
        failed.body
    );
    assert!(asked.elapsed() < Duration::from_secs(1), "{:?}", asked.elapsed());
    let mut new_question = event("orchestrator/chat-apigw-v2.json");
    new_question["body"] = serde_json::json!({"message": "What do I pay for a hearing aid?"})
        .to_string()
        .into();
    let started = Instant::now();
    let chat = emulator.invoke("orchestrator", &new_question).await;
    let (status, body) = http_response(&chat.body);
    assert_eq!(status, 503, "no source at all is 503: {body}");
    assert_eq!(
        body["error"]["code"], "dependency_unavailable",
        "a JSON error body that says what is wrong: {body}"
    );
    assert!(started.elapsed() < Duration::from_secs(3), "within the turn's deadline");
}

/// The chat event's member and identity, on another route of the same API.
fn api_event(method: &str, path: &str, body: Option<Value>) -> Value {
    let mut request = event("orchestrator/chat-apigw-v2.json");
    request["routeKey"] = format!("{method} {path}").into();
    request["rawPath"] = path.into();
    request["requestContext"]["routeKey"] = format!("{method} {path}").into();
    request["requestContext"]["http"]["method"] = method.into();
    request["requestContext"]["http"]["path"] = path.into();
    request["body"] = body.map_or(Value::Null, |b| b.to_string().into());
    request
}

/// A member's upload across the real boundaries: the orchestrator asks the ingest function for a ticket, the file
/// goes to S3 through the presigned URL, S3's event is delivered to the ingest function, the listing says `ready`,
/// a question only the upload answers cites it, and once it is deleted no answer does.
async fn upload_ready_cited_deleted_unanswered(emulator: &Emulator) {
    // The first invoke of the ingest function waits for its build.
    let listed = emulator.warm("ingest", &event("ingest/documents-list.json")).await;
    assert_eq!(listed.error_type, None, "{}", listed.body);
    let rider = "# Zephyr wellness rider\n\nSECTION 1 Snorkel fittings\n\nThe Zephyr wellness rider pays $77 for each \
                 snorkel fitting at a network dive shop.\n";
    let ask = serde_json::json!({"file_name": "zephyr rider.md", "content_type": "text/markdown",
                                 "size_bytes": rider.len()});
    let created = emulator
        .invoke("orchestrator", &api_event("POST", "/v1/documents", Some(ask)))
        .await;
    let (status, ticket) = http_response(&created.body);
    assert_eq!(status, 201, "{ticket}");
    let document_id = ticket["document_id"].as_str().unwrap().to_string();
    let sent = navigator_tests::send_upload(&ticket, rider).await;
    assert!(sent.is_success(), "the presigned PUT: {sent}");

    // S3's notification, as `sam local generate-event s3 put` writes it, for this bucket and key.
    let mut notification = event("ingest/s3-put-member.json");
    let member = "3f6c1a52-8d1e-4b7a-9c2f-0d5e6a7b8c9d";
    notification["Records"][0]["s3"]["bucket"]["name"] = UPLOADS_BUCKET.into();
    notification["Records"][0]["s3"]["object"]["key"] =
        format!("members/{member}/{document_id}/zephyr%20rider.md").into();
    let taken = emulator.invoke("ingest", &notification).await;
    assert_eq!(taken.error_type, None, "{}", taken.body);
    assert_eq!(taken.body["records"][0]["status"], "ready", "{}", taken.body);

    let listing = emulator
        .invoke("orchestrator", &api_event("GET", "/v1/documents", None))
        .await;
    let (status, list) = http_response(&listing.body);
    assert_eq!(status, 200, "{list}");
    let mine = list["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["document_id"] == document_id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the upload is listed: {list}"));
    assert_eq!(
        (mine["status"].as_str(), mine["owner"].as_str()),
        (Some("ready"), Some("member"))
    );
    assert!(
        list["documents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["owner"] == "plan"),
        "the member's plan document is listed beside it: {list}"
    );

    let question = serde_json::json!({"message": "How much does the Zephyr wellness rider pay for a snorkel fitting?"});
    let asked = emulator
        .invoke("orchestrator", &api_event("POST", "/v1/chat", Some(question.clone())))
        .await;
    let (status, answer) = http_response(&asked.body);
    assert_eq!(status, 200, "{answer}");
    let cites = |answer: &Value| {
        answer["citations"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["document_id"] == document_id.as_str()))
    };
    assert_eq!(answer["status"], "answered", "{answer}");
    assert!(
        cites(&answer) && answer["answer"].as_str().unwrap().contains("$77"),
        "{answer}"
    );

    let deleted = emulator
        .invoke(
            "orchestrator",
            &api_event("DELETE", &format!("/v1/documents/{document_id}"), None),
        )
        .await;
    assert_eq!(http_response(&deleted.body).0, 204, "{}", deleted.body);
    let asked = emulator
        .invoke("orchestrator", &api_event("POST", "/v1/chat", Some(question)))
        .await;
    let (status, answer) = http_response(&asked.body);
    assert_eq!(status, 200, "{answer}");
    assert!(
        !cites(&answer) && !answer["answer"].as_str().unwrap().contains("$77"),
        "{answer}"
    );
    assert_eq!(
        answer["status"], "unanswered",
        "only the deleted rider answered it: {answer}"
    );
}
