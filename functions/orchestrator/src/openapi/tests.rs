//! The document is valid OpenAPI 3.1 in the ways a client generator relies on, it documents exactly the routes the
//! router serves, and its examples, replayed against the router, get answers the document describes.

use super::MEMBER_JWT;
use crate::api::{AppState, document, router};
use crate::documents::Documents;
use crate::fakes::FakeTools;
use crate::identity::Identity;
use crate::turn::Navigator;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use navigator_platform::documents::{
    CreateUpload, DocumentInfo, DocumentStatus, UploadRequest, UploadTicket, may_delete,
};
use navigator_platform::owner::{Owner, PlanId, Readers};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;
use uuid::Uuid;

fn doc() -> Value {
    serde_json::from_str(document()).unwrap()
}

/// Every `$ref` in the document.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push(target.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// (path, method, operation) for every operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((path.clone(), method.to_uppercase(), operation.clone()));
        }
    }
    out
}

#[test]
fn the_document_is_openapi_3_1_with_every_reference_resolved() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["license"]["identifier"], "Apache-2.0");
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 10, "{found:?}");
    for reference in &found {
        assert!(resolve(&doc, reference).is_some(), "{reference} resolves to nothing");
    }
    let scheme = &doc["components"]["securitySchemes"][MEMBER_JWT];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    assert_eq!(doc["security"], json!([{MEMBER_JWT: []}]));
}

#[test]
fn every_error_an_operation_can_give_is_documented_with_its_body_and_headers() {
    let doc = doc();
    for (path, method, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().unwrap();
        let public = operation["security"] == json!([{}]);
        assert_eq!(
            public,
            path == "/v1/health" || path == "/v1/openapi.json",
            "{method} {path}"
        );
        if public {
            continue;
        }
        for status in ["401", "429", "500", "503", "504"] {
            let response = &responses
                .get(status)
                .unwrap_or_else(|| panic!("{method} {path} lacks {status}"));
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
            let retry_after = response["headers"].get("Retry-After").is_some();
            assert_eq!(
                retry_after,
                status == "429" || status == "503",
                "{method} {path} {status}"
            );
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    response["content"]["application/json"].is_object(),
                    "{method} {path} {status}"
                );
            }
        }
    }
}

/// A small validator for the JSON Schema subset utoipa writes: `$ref`, `type` (one or several), `enum`, `oneOf`,
/// `allOf`, `properties`, `required`, `additionalProperties`, `items`, string lengths, `minimum`.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let target = resolve(doc, reference).ok_or_else(|| format!("{at}: {reference} unresolved"))?;
        return check(doc, target, value, at);
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let passing = options
            .iter()
            .filter(|option| check(doc, option, value, at).is_ok())
            .count();
        return if passing >= 1 {
            Ok(())
        } else {
            Err(format!("{at}: {value} matches no option"))
        };
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(doc, part, value, at)?;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(several) => several.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let allowed = types.is_empty() || types.contains(&kind) || (kind == "integer" && types.contains(&"number"));
    if !allowed {
        return Err(format!("{at}: {kind} where the schema says {types:?}"));
    }
    match value {
        Value::Object(map) => {
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap_or_default();
                if !map.contains_key(name) {
                    return Err(format!("{at}: `{name}` is required"));
                }
            }
            let properties = schema["properties"].as_object();
            for (name, field) in map {
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => check(doc, property, field, &format!("{at}.{name}"))?,
                    None => match &schema["additionalProperties"] {
                        Value::Bool(false) => return Err(format!("{at}: `{name}` is not in the schema")),
                        extra @ Value::Object(_) => check(doc, extra, field, &format!("{at}.{name}"))?,
                        _ if properties.is_some() => return Err(format!("{at}: `{name}` is not in the schema")),
                        _ => {}
                    },
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check(doc, &schema["items"], item, &format!("{at}[{i}]"))?;
            }
        }
        Value::String(text) => {
            let chars = text.chars().count() as u64;
            if schema["minLength"].as_u64().is_some_and(|min| chars < min)
                || schema["maxLength"].as_u64().is_some_and(|max| chars > max)
            {
                return Err(format!("{at}: length {chars} outside the schema's"));
            }
        }
        Value::Number(n) => {
            if let (Some(min), Some(x)) = (schema["minimum"].as_f64(), n.as_f64())
                && x < min
            {
                return Err(format!("{at}: {x} below {min}"));
            }
        }
        _ => {}
    }
    Ok(())
}

#[test]
fn the_validator_refuses_what_the_schema_does_not_allow() {
    let doc = doc();
    let body = json!({"$ref": "#/components/schemas/ErrorBody"});
    assert!(check(&doc, &body, &json!({"error": {"code": "x", "message": "y"}}), "$").is_ok());
    assert!(check(&doc, &body, &json!({"error": {"code": "x"}}), "$").is_err());
    assert!(check(&doc, &body, &json!({"error": {"code": 1, "message": "y"}}), "$").is_err());
    assert!(
        check(
            &doc,
            &body,
            &json!({"error": {"code": "x", "message": "y"}, "extra": 1}),
            "$"
        )
        .is_err()
    );
    let request = json!({"$ref": "#/components/schemas/ChatRequest"});
    assert!(
        check(&doc, &request, &json!({"message": ""}), "$").is_err(),
        "minLength"
    );
    let status = json!({"$ref": "#/components/schemas/Status"});
    assert!(check(&doc, &status, &json!("maybe"), "$").is_err());
}

/// An in-memory document store: one plan document and the member's uploads.
#[derive(Default)]
struct MemoryDocuments {
    uploads: Mutex<Vec<DocumentInfo>>,
}

fn plan_document() -> DocumentInfo {
    DocumentInfo {
        document_id: Uuid::from_u128(9),
        owner: Owner::Plan(PlanId::parse("plan-7").unwrap()),
        title: "2025 Evidence of Coverage".into(),
        file_name: None,
        status: DocumentStatus::Ready,
        reason: None,
        pages: Some(232),
        chunks: Some(657),
    }
}

impl Documents for MemoryDocuments {
    fn create_upload<'a>(
        &'a self,
        readers: &'a Readers,
        request: CreateUpload,
    ) -> BoxFuture<'a, Result<UploadTicket, NavigatorError>> {
        Box::pin(async move {
            let document_id = Uuid::new_v4();
            self.uploads.lock().unwrap().push(DocumentInfo {
                document_id,
                owner: Owner::Member(readers.member),
                title: request.file_name.clone(),
                file_name: Some(request.file_name),
                status: DocumentStatus::Pending,
                reason: None,
                pages: None,
                chunks: None,
            });
            Ok(UploadTicket {
                document_id,
                status: DocumentStatus::Pending,
                upload: UploadRequest {
                    method: "PUT".into(),
                    url: format!("https://uploads.example/{document_id}"),
                    headers: [("content-type".to_string(), request.content_type)].into(),
                    expires_in_secs: 900,
                },
            })
        })
    }

    fn list<'a>(&'a self, _: &'a Readers) -> BoxFuture<'a, Result<Vec<DocumentInfo>, NavigatorError>> {
        Box::pin(async move {
            let mut all = vec![plan_document()];
            all.extend(self.uploads.lock().unwrap().iter().cloned());
            Ok(all)
        })
    }

    fn delete<'a>(&'a self, readers: &'a Readers, document_id: Uuid) -> BoxFuture<'a, Result<(), NavigatorError>> {
        Box::pin(async move {
            let mut uploads = self.uploads.lock().unwrap();
            let plan = plan_document();
            let found = uploads
                .iter()
                .find(|d| d.document_id == document_id)
                .cloned()
                .or((document_id == plan.document_id).then_some(plan));
            may_delete(readers, found.as_ref(), document_id)?;
            uploads.retain(|d| d.document_id != document_id);
            Ok(())
        })
    }
}

fn app() -> Router {
    let budgets = Budgets::from_lookup(|_| None).unwrap();
    let navigator = Navigator::offline(Arc::new(FakeTools::answering(Duration::from_millis(5))), &budgets);
    router(Arc::new(AppState {
        budgets,
        navigator,
        documents: Arc::new(MemoryDocuments::default()),
    }))
}

/// Sends one request as the member of plan-7 (or as nobody) and reads the answer.
async fn send(app: &Router, method: &str, path: &str, body: Option<&Value>, signed_in: bool) -> (u16, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    if signed_in {
        request.extensions_mut().insert(Identity {
            user_id: Uuid::from_u128(7),
            plan_id: PlanId::parse("plan-7").ok(),
        });
    }
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

/// The answer is one the operation documents, and its body fits the documented schema.
fn conforms(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let operation = &doc["paths"][path][method.to_lowercase()];
    let response = operation["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {path} answered {status}, which it does not document: {body}"));
    match response["content"]["application/json"].get("schema") {
        Some(schema) => {
            if let Err(e) = check(doc, schema, body, "$") {
                panic!("{method} {path} {status}: {e}\n{body}");
            }
        }
        None => assert_eq!(*body, Value::Null, "{method} {path} {status} documents no body"),
    }
}

/// A documented path with its parameters filled in.
fn concrete(path: &str, document_id: Uuid) -> String {
    path.replace("{document_id}", &document_id.to_string())
}

#[tokio::test]
async fn examples_replayed_against_the_router_get_documented_answers() {
    let doc = doc();
    let app = app();
    let mut replayed = 0;
    let mut uploaded = Uuid::nil();
    // POST first, so the DELETE that follows removes what the example created.
    let mut ordered = operations(&doc);
    ordered.sort_by_key(|(_, method, _)| method != "POST");
    for (path, method, operation) in ordered {
        let example = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .and_then(|reference| resolve(&doc, reference))
            .and_then(|schema| schema.get("example"))
            .cloned();
        let target = concrete(&path, uploaded);
        let (status, body) = send(&app, &method, &target, example.as_ref(), true).await;
        conforms(&doc, &path, &method, status, &body);
        assert!(status < 300, "{method} {path} with its example: {status} {body}");
        if let Some(id) = body["document_id"].as_str() {
            uploaded = Uuid::parse_str(id).unwrap();
        }
        let public = operation["security"] == json!([{}]);
        if !public {
            let (status, body) = send(&app, &method, &target, example.as_ref(), false).await;
            assert_eq!(status, 401, "{method} {path} without a token");
            conforms(&doc, &path, &method, status, &body);
        }
        replayed += 1;
    }
    assert_eq!(replayed, 6, "every operation replayed");
}

#[tokio::test]
async fn documented_errors_are_the_ones_the_router_gives() {
    let doc = doc();
    let app = app();
    let cases: [(&str, &str, &str, Option<Value>, u16); 6] = [
        ("/v1/chat", "POST", "/v1/chat", Some(json!({"message": ""})), 400),
        (
            "/v1/chat",
            "POST",
            "/v1/chat",
            Some(json!({"message": "x".repeat(70_000)})),
            413,
        ),
        (
            "/v1/documents",
            "POST",
            "/v1/documents",
            Some(json!({"file_name": "a.exe", "content_type": "x", "size_bytes": 1})),
            400,
        ),
        (
            "/v1/documents/{document_id}",
            "DELETE",
            "/v1/documents/not-a-uuid",
            None,
            400,
        ),
        (
            "/v1/documents/{document_id}",
            "DELETE",
            &concrete("/v1/documents/{document_id}", Uuid::from_u128(9)),
            None,
            403,
        ),
        (
            "/v1/documents/{document_id}",
            "DELETE",
            &concrete("/v1/documents/{document_id}", Uuid::from_u128(5)),
            None,
            404,
        ),
    ];
    for (path, method, target, body, expected) in cases {
        let (status, answer) = send(&app, method, target, body.as_ref(), true).await;
        assert_eq!(status, expected, "{method} {target}: {answer}");
        conforms(&doc, path, method, status, &answer);
    }
}

#[tokio::test]
async fn the_router_serves_the_document_and_nothing_undocumented() {
    let (status, served) = send(&app(), "GET", "/v1/openapi.json", None, false).await;
    assert_eq!(status, 200);
    assert_eq!(served, doc());
    let documented: Vec<(String, String)> = operations(&doc()).into_iter().map(|(p, m, _)| (p, m)).collect();
    assert_eq!(documented.len(), 6);
    for (path, method) in [("/v1/chat", "GET"), ("/v1/documents", "DELETE"), ("/v1/health", "POST")] {
        assert!(!documented.contains(&(path.to_string(), method.to_string())));
        let (status, _) = send(&app(), method, path, None, true).await;
        assert!(
            status == 404 || status == 405,
            "{method} {path} is served but not documented: {status}"
        );
    }
}
