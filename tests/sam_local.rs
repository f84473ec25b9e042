//! Every sample event in the real Lambda runtime, under AWS SAM: `sam local invoke` runs each function's binary (as
//! `cargo lambda build` made it) in a container with SAM's Runtime Interface Emulator, on the functions and events
//! of template.yaml; `sam local start-lambda` serves the four tools the orchestrator invokes; `sam local start-api`
//! answers `POST /v1/chat` through SAM's HTTP API emulation.
//!
//! Nothing leaves the machine. SAM runs through `scripts/sam-local`, with its offline environment (no telemetry, no
//! version check, no image pull, no instance metadata, no credentials, a loopback endpoint as a safety net; the
//! script names each variable), and the containers reach only this machine's own services on the Docker bridge's
//! host address: PostgreSQL and the local S3 API (through forwarders this test opens there), and this test's own
//! CloudFormation response recorder.
//!
//! Needs what `./scripts/test` provides, and fails (never skips) without it: Docker with the offline base image
//! (`scripts/docker-up`), the SAM CLI (`NAVIGATOR_SAM_VENV`, default `.navigator/sam-cli`), the zips of `cargo lambda
//! build` (`NAVIGATOR_LAMBDA_DIR`, default `target/lambda`), the model, PostgreSQL and the local S3.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use navigator_resilience::CpuPool;
use navigator_retrieval::embed::{Embedders, MiniLm};
use navigator_retrieval::ingest::ingest;
use navigator_retrieval::store::{PgStore, Stores};
use navigator_tests::events::{EVENTS_BUCKET, EXPECTATIONS, Expect, events_dir, put_event_objects};
use navigator_tests::{TestDatabase, sample_plan};
use serde_json::{Value, json};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// The plan and member the sample events name.
const EVENTS_PLAN: &str = "scan-classic-hmo-2025";
const EVENTS_MEMBER: &str = "3f6c1a52-8d1e-4b7a-9c2f-0d5e6a7b8c9d";
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn path_from_env(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(default))
}

/// The template's logical id of each function, by the folder its events live in.
fn logical_id(function: &str) -> &'static str {
    match function {
        "orchestrator" => "OrchestratorFunction",
        "guard" => "GuardFunction",
        "translate" => "TranslateFunction",
        "retrieve" => "RetrieveFunction",
        "web-search" => "WebSearchFunction",
        "ingest" => "IngestFunction",
        "migrate" => "MigrateFunction",
        other => panic!("events/{other}: no such function in template.yaml"),
    }
}

/// Starts Docker and its offline base image if needed; the Docker bridge's host address.
fn docker_bridge_address() -> IpAddr {
    let output = std::process::Command::new(root().join("scripts/docker-up"))
        .output()
        .expect("scripts/docker-up runs");
    assert!(
        output.status.success(),
        "scripts/docker-up: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .trim()
        .parse()
        .expect("scripts/docker-up prints the bridge address")
}

/// Accepts on `address` and forwards each connection to `target`: how a container reaches a service that listens
/// on loopback only.
async fn forward(address: IpAddr, target: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind((address, 0)).await.unwrap();
    let bound = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    bound
}

fn socket_of(url: &reqwest::Url) -> SocketAddr {
    let host = url.host_str().unwrap();
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    SocketAddr::new(host.parse().unwrap(), url.port().unwrap())
}

/// `scripts/sam-local`, for one test: its own template and SAM settings under `dir`.
struct Sam {
    dir: PathBuf,
}

impl Sam {
    /// The script with nothing of the test's environment but what it reads (it clears SAM's own environment).
    fn command(&self) -> Command {
        let mut command = Command::new(root().join("scripts/sam-local"));
        command.env_clear().env("NAVIGATOR_SAM_DIR", &self.dir);
        for name in [
            "PATH",
            "HOME",
            "LANG",
            "DOCKER_HOST",
            "NAVIGATOR_SAM_VENV",
            "NAVIGATOR_LAMBDA_DIR",
            "NAVIGATOR_MODEL_DIR",
        ] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
    }

    /// `scripts/sam-local prepare`: code folders from the zips and the local template with `environment`.
    async fn prepare(&self, environment: &Value) {
        let env_file = self.dir.join("env.json");
        std::fs::write(&env_file, environment.to_string()).unwrap();
        let output = self
            .command()
            .arg("prepare")
            .arg("--env")
            .arg(&env_file)
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "scripts/sam-local prepare: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `sam local invoke` of one function with one event: the function's answer (its result, or Lambda's
    /// `errorType`/`errorMessage` object; a runtime that died answers nothing, reported as such with the end of its
    /// log). SAM exits 0 either way, so the answer is read from its output.
    async fn invoke(&self, function: &str, event: &Path) -> Value {
        let output = self
            .command()
            .args(["invoke", function, "--event"])
            .arg(event)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "sam local invoke {function}: {stderr}");
        stdout
            .lines()
            .rev()
            .find_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
            .unwrap_or_else(|| {
                let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
                json!({"errorType": "(no answer)", "errorMessage": tail})
            })
    }

    /// A long-running `sam local` command (`start-lambda`, `start-api`) on `address:port`, once it listens.
    async fn serve(&self, verb: &str, address: IpAddr, port: u16, log: &Path) -> Server {
        let child = self
            .command()
            .args([verb, "--warm-containers", "LAZY", "--host"])
            .arg(address.to_string())
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log.with_extension("out")).unwrap())
            .stderr(std::fs::File::create(log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let ready_by = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect((address, port)).await.is_err() {
            assert!(
                Instant::now() < ready_by,
                "sam local {verb} never listened: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Server(child)
    }
}

/// A background `sam local` server, stopped with SIGTERM (it ignores SIGINT in the background) when dropped, so it
/// removes its warm containers.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id() {
            let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
            // Give SAM the time to stop and remove its containers before the child is killed outright.
            let stop_by = Instant::now() + Duration::from_secs(20);
            while matches!(self.0.try_wait(), Ok(None)) && Instant::now() < stop_by {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Records what a custom resource's function sends to its `ResponseURL`.
async fn response_recorder(address: IpAddr) -> (SocketAddr, Arc<Mutex<Vec<Value>>>) {
    use axum::routing::put;
    let answers: Arc<Mutex<Vec<Value>>> = Arc::default();
    let recorder = Arc::clone(&answers);
    let app = axum::Router::new().route(
        "/response",
        put(move |body: axum::body::Bytes| async move {
            recorder
                .lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
        }),
    );
    let listener = TcpListener::bind((address, 0)).await.unwrap();
    let bound = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (bound, answers)
}

/// The events' plan document, embedded with the same model the containers run, in the database they read.
async fn seed_plan(database: &TestDatabase) {
    let pool = database.pool(2).await;
    navigator_retrieval::db::MIGRATOR.run(&pool).await.unwrap();
    let model_dir = path_from_env("NAVIGATOR_MODEL_DIR", ".navigator/models/all-MiniLM-L6-v2");
    let embedder = Embedders::Local(MiniLm::load(&model_dir, CpuPool::new("embed", 2, 8)).unwrap());
    let plan = navigator_platform::owner::PlanId::parse(EVENTS_PLAN).unwrap();
    ingest(
        &embedder,
        &Stores::Postgres(PgStore::new(pool)),
        &navigator_platform::owner::Owner::Plan(plan),
        &sample_plan("sam"),
        |_, _| {},
    )
    .await
    .unwrap();
}

/// An unsigned JWT with the claims API Gateway's authorizer would pass on: what `sam local start-api` reads.
fn local_token() -> String {
    use base64::Engine;
    let part = |value: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}.unsigned",
        part(json!({"alg": "none", "typ": "JWT"})),
        part(json!({"sub": EVENTS_MEMBER, "custom:plan_id": EVENTS_PLAN}))
    )
}

/// Checks one function's answer to one event against its expectation; the failure message, if any.
fn check(file: &str, expect: Expect, answer: &Value, recorded: Option<&Value>) -> Result<(), String> {
    let error_type = answer.get("errorType").and_then(Value::as_str);
    let ok = match expect {
        Expect::Http(status) => answer["statusCode"].as_u64() == Some(u64::from(status)),
        Expect::ToolOk => error_type.is_none() && answer.get("output").is_some(),
        Expect::ToolError(expected) => error_type == Some(expected),
        Expect::Upload(status) => answer["records"][0]["status"] == status,
        Expect::CustomResource(status) => recorded.is_some_and(|sent| sent["Status"] == status),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "events/{file}: expected {expect:?}, got {answer} (recorded {recorded:?})"
        ))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_passes_under_sam_local_invoke_and_chat_answers_under_start_api() {
    let bridge = docker_bridge_address();
    let work = std::env::temp_dir().join(format!("navigator-sam-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).unwrap();
    let sam = Sam { dir: work.clone() };

    // This machine's services, where the containers can reach them.
    let database = TestDatabase::empty().await;
    seed_plan(&database).await;
    let mut database_url = reqwest::Url::parse(&navigator_tests::admin_url()).unwrap();
    let postgres = forward(bridge, socket_of(&database_url)).await;
    database_url.set_ip_host(postgres.ip()).unwrap();
    database_url.set_port(Some(postgres.port())).unwrap();
    database_url.set_path(&database.name);
    let s3_endpoint = reqwest::Url::parse(&std::env::var("NAVIGATOR_TEST_S3_ENDPOINT").unwrap()).unwrap();
    let s3 = forward(bridge, socket_of(&s3_endpoint)).await;
    put_event_objects(&navigator_tests::local_s3()).await;
    let (recorder, recorded) = response_recorder(bridge).await;
    let start_lambda_port = TcpListener::bind((bridge, 0))
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    // The rest of each function's local environment is scripts/sam-local-template's defaults.
    //
    // Every function: no instance metadata, warnings only, and budgets for a shared runner. Here every container
    // shares the runner's two cores with Docker and SAM's own Python processes, where on Lambda each function has its
    // own. Under the audit's budgets a turn here failed closed now and then (the guard's 600 ms ran out: 504), which
    // says nothing about the contract this test checks. So the stages get room, within the functions' Lambda timeouts
    // (tools 3 s, orchestrator 5 s); the budgets themselves are held by their unit tests on a paused clock, and the
    // figures measured by the cold-start and load steps.
    let every_function = json!({
        "AWS_EC2_METADATA_DISABLED": "true",
        "RUST_LOG": "warn",
        "NAVIGATOR_GUARD_HEURISTIC_MS": "200",
        "NAVIGATOR_GUARD_ML_MS": "1500",
        "NAVIGATOR_GUARD_TOTAL_MS": "2000",
        "NAVIGATOR_TRANSLATE_TIMEOUT_MS": "1500",
        "NAVIGATOR_RETRIEVE_EMBED_MS": "1000",
        "NAVIGATOR_RETRIEVE_KNN_MS": "1000",
        "NAVIGATOR_RETRIEVE_RERANK_MS": "500",
        "NAVIGATOR_RETRIEVE_TOTAL_MS": "2000",
        "NAVIGATOR_ORCHESTRATOR_CPU_QUEUE_MS": "1000",
        "NAVIGATOR_ORCHESTRATOR_WAVE_MS": "2000",
        "NAVIGATOR_ORCHESTRATOR_TOTAL_MS": "4500",
    });
    let environment = json!({
        "*": every_function,
        "OrchestratorFunction": {"AWS_ENDPOINT_URL_LAMBDA": format!("http://{bridge}:{start_lambda_port}")},
        "RetrieveFunction": {"DATABASE_URL": database_url.as_str()},
        "IngestFunction": {
            "DATABASE_URL": database_url.as_str(),
            "UPLOADS_BUCKET": EVENTS_BUCKET,
            "AWS_ENDPOINT_URL_S3": format!("http://{s3}"),
        },
        "MigrateFunction": {"DATABASE_URL": database_url.as_str()},
    });
    sam.prepare(&environment).await;

    // The tools the orchestrator invokes, in `start-lambda`, warmed so that a turn's first call meets its budget.
    let _tools = sam
        .serve(
            "start-lambda",
            bridge,
            start_lambda_port,
            &work.join("start-lambda.log"),
        )
        .await;
    let invoke_url =
        |function: &str| format!("http://{bridge}:{start_lambda_port}/2015-03-31/functions/{function}/invocations");
    let http = reqwest::Client::new();
    let read_event = |file: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(events_dir().join(file)).unwrap()).unwrap()
    };
    let mut warm_ups: Vec<(&str, Value)> = ["guard", "retrieve", "translate"]
        .into_iter()
        .map(|tool| (tool, read_event(&format!("{tool}/valid.json"))))
        .collect();
    // In a container that has just started, the guard's first pass over a kind of text can take most of its
    // heuristic stage's 20 ms (measured: 1-16 ms, against under 2 ms on the host), so it reads each chat event's
    // question before the turns do.
    for chat in [
        "orchestrator/chat-apigw-v2.json",
        "orchestrator/chat-apigw-v2-spanish.json",
    ] {
        let body: Value = serde_json::from_str(read_event(chat)["body"].as_str().unwrap()).unwrap();
        let mut guard = read_event("guard/valid.json");
        guard["input"]["text"] = body["message"].clone();
        warm_ups.push(("guard", guard));
    }
    for (tool, event) in warm_ups {
        // A warm-up may itself run past a stage's budget in a container that just started (its first touch of
        // code and data pages): it is repeated until it answers.
        let mut answer = Value::Null;
        for _ in 0..3 {
            answer = http
                .post(invoke_url(logical_id(tool)))
                .json(&event)
                .timeout(Duration::from_secs(120))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if answer.get("output").is_some() {
                break;
            }
        }
        assert!(answer.get("output").is_some(), "start-lambda {tool}: {answer}");
    }

    let mut failures = Vec::new();
    let mut answers = std::collections::HashMap::new();
    let started = Instant::now();
    for (file, expect) in EXPECTATIONS {
        let function = file.split('/').next().unwrap();
        let mut event: Value =
            serde_json::from_str(&std::fs::read_to_string(events_dir().join(file)).unwrap()).unwrap();
        if matches!(expect, Expect::CustomResource(_)) {
            event["ResponseURL"] = json!(format!("http://{recorder}/response"));
        }
        let event_file = work.join(file.replace('/', "-"));
        std::fs::write(&event_file, event.to_string()).unwrap();
        let before = recorded.lock().unwrap().len();
        let answer = sam.invoke(logical_id(function), &event_file).await;
        let sent = recorded.lock().unwrap().get(before).cloned();
        if let Err(failure) = check(file, *expect, &answer, sent.as_ref()) {
            failures.push(failure);
        }
        answers.insert(*file, answer);
    }
    println!(
        "sam local invoke: {} events in {:.1} s",
        EXPECTATIONS.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for file in ["orchestrator/chat-apigw-v2.json", "orchestrator/chat-apigw-v1.json"] {
        let body: Value = serde_json::from_str(answers[file]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["status"], "answered", "{file}: {body}");
        assert!(body["citations"][0]["page"].as_u64().is_some(), "{file}: {body}");
    }

    // The chat API through SAM's HTTP API emulation, with the local identity of an unsigned token.
    let api_port = TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let loopback: IpAddr = [127, 0, 0, 1].into();
    let _api = sam
        .serve("start-api", loopback, api_port, &work.join("start-api.log"))
        .await;
    let chat = format!("http://127.0.0.1:{api_port}/v1/chat");
    let question = json!({"message": "How much is a visit to a specialist?"});
    // The first turn starts the orchestrator's container and runs its first touch of code and data pages inside the
    // turn's 3 s deadline; on a loaded runner that can run out (504, the navigator's own answer to a deadline gone).
    // A 504 is asked again, as a client would; any other status fails at once.
    let mut status = reqwest::StatusCode::GATEWAY_TIMEOUT;
    let mut body = Value::Null;
    for _ in 0..3 {
        let response = http
            .post(&chat)
            .bearer_auth(local_token())
            .json(&question)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .unwrap();
        status = response.status();
        body = response.json().await.unwrap_or(Value::Null);
        if status != reqwest::StatusCode::GATEWAY_TIMEOUT {
            break;
        }
        println!("start-api: 504 on a turn, asked again: {body}");
    }
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "answered", "{body}");
    assert!(body["citations"][0]["page"].as_u64().is_some(), "{body}");
    let anonymous = http.post(&chat).json(&question).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "no token, no member");
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    let _ = std::fs::remove_dir_all(&work);
}
