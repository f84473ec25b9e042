//! The tool and its router against local servers speaking Amazon Translate's AWS JSON protocol and DeepL's API,
//! with faults injected; breakers on a manual clock.

use super::*;
use aws_sdk_translate::config::retry::RetryConfig;
use aws_sdk_translate::config::{BehaviorVersion, Credentials, Region};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router as Http};
use navigator_platform::config::Budgets;
use navigator_platform::secrets::SecretString;
use navigator_resilience::ManualClock;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Hang,
    ServerError,
    Throttled,
    /// Answers, but translates the protected amount too.
    Mangles,
}

#[derive(Clone)]
struct Fake {
    mode: Arc<std::sync::Mutex<Mode>>,
    requests: Arc<AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<(HeaderMap, Value)>>>,
}

impl Fake {
    fn new() -> Self {
        Self {
            mode: Arc::new(std::sync::Mutex::new(Mode::Ok)),
            requests: Arc::default(),
            seen: Arc::default(),
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Records the request and returns what to do.
    async fn receive(&self, headers: HeaderMap, body: Value) -> Mode {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push((headers, body));
        let mode = *self.mode.lock().unwrap();
        if mode == Mode::Hang {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        mode
    }
}

/// A "translation" a test can recognise: the text, tagged.
fn fake_translation(html: &str, target: &str, mode: Mode) -> String {
    let text = format!("({target}) {html}");
    if mode == Mode::Mangles {
        text.replace("$20", "20 $")
    } else {
        text
    }
}

/// Amazon Translate, AWS JSON 1.1: `POST /` with `X-Amz-Target: AWSShineFrontendService_20170701.TranslateText`.
async fn aws_translate(State(fake): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(target, "AWSShineFrontendService_20170701.TranslateText");
    let body: Value = serde_json::from_slice(&body).unwrap();
    let mode = fake.receive(headers, body.clone()).await;
    let json11 = [("content-type", "application/x-amz-json-1.1")];
    match mode {
        Mode::ServerError => (
            StatusCode::SERVICE_UNAVAILABLE,
            json11,
            Json(json!({"__type": "ServiceUnavailableException", "message": "down"})),
        )
            .into_response(),
        Mode::Throttled => (
            StatusCode::BAD_REQUEST,
            json11,
            Json(json!({"__type": "TooManyRequestsException", "message": "slow down"})),
        )
            .into_response(),
        _ => {
            let target = body["TargetLanguageCode"].as_str().unwrap();
            let text = fake_translation(body["Text"].as_str().unwrap(), target, mode);
            (
                json11,
                Json(json!({"TranslatedText": text, "SourceLanguageCode": body["SourceLanguageCode"], "TargetLanguageCode": target})),
            )
                .into_response()
        }
    }
}

/// DeepL: `POST /v2/translate`.
async fn deepl_translate(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let mode = fake.receive(headers, body.clone()).await;
    match mode {
        Mode::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response(),
        Mode::Throttled => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "2")], "slow down").into_response(),
        _ => {
            let target = body["target_lang"].as_str().unwrap().to_lowercase();
            let text = fake_translation(body["text"][0].as_str().unwrap(), &target, mode);
            Json(json!({"translations": [{"detected_source_language": body["source_lang"], "text": text}]}))
                .into_response()
        }
    }
}

async fn listen(app: Http) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

struct Setup {
    tool: Translate,
    aws: Fake,
    deepl: Fake,
    clock: ManualClock,
}

async fn setup() -> Setup {
    let (aws, deepl) = (Fake::new(), Fake::new());
    let aws_url = listen(Http::new().route("/", post(aws_translate)).with_state(aws.clone())).await;
    let deepl_url = listen(
        Http::new()
            .route("/v2/translate", post(deepl_translate))
            .with_state(deepl.clone()),
    )
    .await;
    let config = aws_sdk_translate::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(aws_url)
        .retry_config(RetryConfig::disabled())
        .build();
    let providers: Vec<Arc<dyn Provider>> = vec![
        Arc::new(AwsTranslate::new(
            aws_sdk_translate::Client::from_conf(config),
            vec!["insurance-terms".into()],
        )),
        Arc::new(DeepL::new(
            reqwest::Client::new(),
            &deepl_url,
            SecretString::new("dl-key"),
            Some("gl-1".into()),
        )),
    ];
    let clock = ManualClock::new();
    let budgets = Budgets::from_lookup(|_| None).unwrap().translate;
    Setup {
        tool: Translate::new(providers, &budgets, Arc::new(clock.clone())),
        aws,
        deepl,
        clock,
    }
}

fn to_spanish(text: &str) -> TranslateInput {
    TranslateInput {
        text: text.into(),
        source_lang: "en".into(),
        target_lang: "es".into(),
    }
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_millis(800))
}

const ANSWER: &str = "Your SCAN Classic copay is $20 [SSN]. Call (510) 555-0147 or see https://www.medicare.gov.";

#[tokio::test]
async fn amazon_translate_speaks_aws_json_with_terminology_and_keeps_protected_spans() {
    let s = setup().await;
    let output = s.tool.translate(&to_spanish(ANSWER), deadline()).await.unwrap();
    assert!(output.translated);
    assert_eq!(output.provider, "aws");
    assert_eq!(output.text, format!("(es) {ANSWER}"), "markup removed, spans intact");
    let (_, body) = s.aws.seen.lock().unwrap()[0].clone();
    assert_eq!(body["SourceLanguageCode"], "en");
    assert_eq!(body["TerminologyNames"], json!(["insurance-terms"]));
    let sent = body["Text"].as_str().unwrap();
    for span in [
        "$20",
        "[SSN]",
        "SCAN Classic",
        "(510) 555-0147",
        "https://www.medicare.gov.",
    ] {
        let span = span.trim_end_matches('.');
        assert!(
            sent.contains(&format!("<span translate=\"no\">{span}</span>")),
            "{span} in {sent}"
        );
    }
}

#[tokio::test]
async fn deepl_speaks_its_api_with_a_glossary() {
    let s = setup().await;
    s.aws.set(Mode::ServerError);
    let output = s
        .tool
        .translate(&to_spanish("Is my MRI covered?"), deadline())
        .await
        .unwrap();
    assert_eq!(output.provider, "deepl");
    let (headers, body) = s.deepl.seen.lock().unwrap()[0].clone();
    assert_eq!(headers["authorization"], "DeepL-Auth-Key dl-key");
    assert_eq!(body["source_lang"], "EN");
    assert_eq!(body["target_lang"], "ES");
    assert_eq!(body["tag_handling"], "html");
    assert_eq!(body["glossary_id"], "gl-1");
}

#[tokio::test]
async fn throttling_and_5xx_fail_over_to_the_next_provider() {
    for mode in [Mode::Throttled, Mode::ServerError] {
        let s = setup().await;
        s.aws.set(mode);
        let output = s.tool.translate(&to_spanish(ANSWER), deadline()).await.unwrap();
        assert_eq!(output.provider, "deepl", "{mode:?}");
        assert_eq!(s.aws.requests(), 1);
    }
}

#[tokio::test]
async fn a_hanging_primary_leaves_the_secondary_time_to_answer_within_800_ms() {
    let s = setup().await;
    s.aws.set(Mode::Hang);
    let started = std::time::Instant::now();
    let output = s.tool.translate(&to_spanish(ANSWER), deadline()).await.unwrap();
    assert_eq!(output.provider, "deepl");
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_mangled_protected_span_fails_over() {
    let s = setup().await;
    s.aws.set(Mode::Mangles);
    let output = s.tool.translate(&to_spanish(ANSWER), deadline()).await.unwrap();
    assert_eq!(output.provider, "deepl");
    assert!(output.text.contains("$20"));
}

#[tokio::test]
async fn five_failures_open_a_providers_breaker_it_is_skipped_and_it_recovers_after_30_s() {
    let s = setup().await;
    s.aws.set(Mode::ServerError);
    for i in 0..5 {
        let text = format!("question {i}");
        assert_eq!(
            s.tool.translate(&to_spanish(&text), deadline()).await.unwrap().provider,
            "deepl"
        );
    }
    for i in 5..10 {
        let text = format!("question {i}");
        assert_eq!(
            s.tool.translate(&to_spanish(&text), deadline()).await.unwrap().provider,
            "deepl"
        );
    }
    assert_eq!(s.aws.requests(), 5, "skipped while open");
    s.aws.set(Mode::Ok);
    s.clock.advance(Duration::from_secs(30));
    for i in 10..13 {
        let text = format!("question {i}");
        assert_eq!(
            s.tool.translate(&to_spanish(&text), deadline()).await.unwrap().provider,
            "aws"
        );
    }
    assert_eq!(s.aws.requests(), 8, "three probes, then closed");
    assert_eq!(
        s.tool
            .translate(&to_spanish("one more"), deadline())
            .await
            .unwrap()
            .provider,
        "aws"
    );
}

#[tokio::test]
async fn when_every_provider_hangs_the_deadline_holds() {
    let s = setup().await;
    s.aws.set(Mode::Hang);
    s.deepl.set(Mode::Hang);
    let started = std::time::Instant::now();
    let error = s.tool.translate(&to_spanish(ANSWER), deadline()).await.unwrap_err();
    assert_eq!(error.error_type(), "Timeout", "{error:?}");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_repeated_text_comes_from_the_cache() {
    let s = setup().await;
    let first = s.tool.translate(&to_spanish(ANSWER), deadline()).await.unwrap();
    let second = s.tool.translate(&to_spanish(ANSWER), deadline()).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(s.aws.requests(), 1);
}

#[tokio::test]
async fn detection_only_reports_the_language_and_translates_nothing() {
    let budgets = Budgets::from_lookup(|_| None).unwrap().translate;
    let tool = Translate::detect_only(&budgets);
    let input = TranslateInput {
        text: "¿Cuánto cuesta una visita al especialista?".into(),
        source_lang: "auto".into(),
        target_lang: "en".into(),
    };
    let output = tool.translate(&input, deadline()).await.unwrap();
    assert_eq!(output.source_lang, "es");
    assert!(!output.translated);
    assert_eq!(output.text, input.text);
    let english = TranslateInput {
        text: "What does a specialist cost?".into(),
        ..input
    };
    let output = tool.translate(&english, deadline()).await.unwrap();
    assert_eq!((output.source_lang.as_str(), output.translated), ("en", false));
}

#[tokio::test]
async fn an_explicit_language_wins_over_detection() {
    let budgets = Budgets::from_lookup(|_| None).unwrap().translate;
    let input = TranslateInput {
        text: "Hola".into(),
        source_lang: "tl".into(),
        target_lang: "en".into(),
    };
    let output = Translate::detect_only(&budgets)
        .translate(&input, deadline())
        .await
        .unwrap();
    assert_eq!((output.source_lang.as_str(), output.detected_confidence), ("tl", 1.0));
}

#[tokio::test]
async fn a_text_clearly_in_english_is_not_rendered_from_the_language_the_request_named() {
    let budgets = Budgets::from_lookup(|_| None).unwrap().translate;
    let tool = Translate::offline(&budgets);
    let english = TranslateInput {
        text: "What does a specialist visit cost me?".into(),
        source_lang: "es".into(),
        target_lang: "en".into(),
    };
    let output = tool.translate(&english, deadline()).await.unwrap();
    assert_eq!((output.source_lang.as_str(), output.translated), ("en", false));
    assert_eq!(output.text, english.text);
    let spanish = TranslateInput {
        text: "copago urgencias".into(),
        ..english
    };
    let output = tool.translate(&spanish, deadline()).await.unwrap();
    assert_eq!(
        (output.source_lang.as_str(), output.translated),
        ("es", true),
        "a text with no English function words is taken in the language named"
    );
}

#[tokio::test]
async fn the_offline_default_brings_spanish_questions_into_english_and_nothing_into_spanish() {
    let budgets = Budgets::from_lookup(|_| None).unwrap().translate;
    let tool = Translate::offline(&budgets);
    let question = TranslateInput {
        text: "¿Cuánto pago por una visita al especialista? Mi número es (510) 555-0147.".into(),
        source_lang: "auto".into(),
        target_lang: "en".into(),
    };
    let output = tool.translate(&question, deadline()).await.unwrap();
    assert_eq!(
        (output.source_lang.as_str(), output.provider.as_str(), output.translated),
        ("es", "glossary", true)
    );
    assert_eq!(
        output.text,
        "How much do I pay for a visit to the specialist? My number is (510) 555-0147."
    );
    let answer = TranslateInput {
        text: "Specialist visit: $0 copayment.".into(),
        source_lang: "en".into(),
        target_lang: "es".into(),
    };
    let output = tool.translate(&answer, deadline()).await.unwrap();
    assert!(!output.translated, "the glossary translates nothing into Spanish");
    assert_eq!(output.text, answer.text);
}
