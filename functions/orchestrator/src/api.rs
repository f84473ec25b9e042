//! The HTTP contract: request validation, status codes and JSON error bodies. Written once, served on Lambda and
//! locally.

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Json, Router};
use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use navigator_platform::documents::{CreateUpload, DocumentList, UploadTicket};
use navigator_platform::error::ErrorBody;
use navigator_resilience::Deadline;
use std::sync::{Arc, OnceLock};
use utoipa::OpenApi;

use crate::chat::ChatRequest;
use crate::documents::{Documents, NoDocuments};
use crate::identity::Identity;
use crate::openapi::{MemberJwt, SharedErrors};
use crate::turn::{Navigator, TurnRequest};

/// The largest request body accepted (docs/DESIGN.md §3).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the router needs for every request. Built once per execution environment.
pub struct AppState {
    pub budgets: Budgets,
    pub navigator: Navigator,
    /// Where the member's documents live (`NoDocuments` where nothing is configured).
    pub documents: Arc<dyn Documents>,
}

impl AppState {
    /// A chat-only state: the documents routes answer that no document store is configured.
    pub fn chat_only(budgets: Budgets, navigator: Navigator) -> Self {
        Self {
            budgets,
            navigator,
            documents: Arc::new(NoDocuments),
        }
    }
}

/// The request's absolute deadline when the platform sets one (the Lambda edge does, from the invocation's own
/// deadline). Without it, the turn gets its full budget.
#[derive(Debug, Clone, Copy)]
pub struct RequestDeadline(pub Deadline);

/// An error answered as JSON `{error: {code, message}, request_id}`, with the request id also in a header.
#[derive(Debug)]
pub struct ApiError {
    pub error: NavigatorError,
    pub request_id: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = self.error.code(), detail = %self.error, "chat request failed");
        } else {
            tracing::info!(code = self.error.code(), "chat request refused");
        }
        let mut response = (status, Json(self.error.body(Some(&self.request_id)))).into_response();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&self.request_id) {
            headers.insert("x-request-id", value);
        }
        if let Some(seconds) = self.error.retry_after_secs() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The chat API's routes.
pub fn router(state: Arc<AppState>) -> Router {
    routes(state, post(chat))
}

/// The chat API's routes, with `chat_route` serving `POST /v1/chat` (admission wraps it: `admission::admitted_router`).
pub(crate) fn routes(state: Arc<AppState>, chat_route: MethodRouter<Arc<AppState>>) -> Router {
    Router::new()
        .route("/v1/chat", chat_route)
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi_document))
        .route("/v1/documents", post(create_upload).get(list_documents))
        .route("/v1/documents/{document_id}", delete(delete_document))
        .fallback(not_found)
        .with_state(state)
}

/// One chat turn: the member's question answered from their plan documents, with citations.
#[utoipa::path(
    post,
    path = "/v1/chat",
    tag = "chat",
    request_body = ChatRequest,
    responses(
        (status = 200, description = "The turn's answer (answered, unanswered or refused), with its citations.",
            body = crate::chat::ChatResponse, headers(("x-request-id" = String, description = "The request's id"))),
        (status = 400, description = "The body is not a valid chat request; the message says what is wrong.",
            body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB.", body = ErrorBody),
    )
)]
pub(crate) async fn chat(
    State(state): State<Arc<AppState>>,
    identity: Option<Extension<Identity>>,
    platform_deadline: Option<Extension<RequestDeadline>>,
    request: Request,
) -> Result<Response, ApiError> {
    let budget = Deadline::after(state.navigator.budgets().total);
    let deadline = match platform_deadline {
        Some(Extension(RequestDeadline(platform))) => budget.min(platform),
        None => budget,
    };
    let caller = Caller::of(identity)?;
    let body = read_body(request.into_body()).await.map_err(|e| caller.fail(e))?;
    let chat = ChatRequest::parse(&body).map_err(|e| caller.fail(e))?;
    let turn = TurnRequest {
        request_id: caller.request_id.clone(),
        readers: caller.identity.readers(),
        chat,
        deadline,
    };
    // However the stages behave, the navigator answers or times out (504) by the deadline.
    let answer = state.navigator.answer(turn).await.map_err(|e| caller.fail(e))?;
    let mut response = Json(answer).into_response();
    if let Ok(value) = HeaderValue::from_str(&caller.request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

/// One request's id (in its error bodies, its `x-request-id` and its log lines) and the member making it.
struct Caller {
    request_id: String,
    identity: Identity,
}

impl Caller {
    /// Mints the request's id and finds its member, or answers 401.
    fn of(identity: Option<Extension<Identity>>) -> Result<Self, ApiError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        tracing::Span::current().record("request_id", request_id.as_str());
        match identity {
            Some(Extension(identity)) => Ok(Self { request_id, identity }),
            None => Err(ApiError {
                error: NavigatorError::Unauthorized,
                request_id,
            }),
        }
    }

    fn fail(&self, error: NavigatorError) -> ApiError {
        ApiError {
            error,
            request_id: self.request_id.clone(),
        }
    }
}

/// A ticket to upload one of the member's own documents: where to `PUT` its bytes, and its id.
#[utoipa::path(
    post,
    path = "/v1/documents",
    tag = "documents",
    request_body = CreateUpload,
    responses(
        (status = 201, description = "The document is pending; send its bytes as `upload` says.", body = UploadTicket),
        (status = 400, description = "The file's name, type or size is refused; the message says why.",
            body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB.", body = ErrorBody),
    )
)]
pub(crate) async fn create_upload(
    State(state): State<Arc<AppState>>,
    identity: Option<Extension<Identity>>,
    request: Request,
) -> Result<Response, ApiError> {
    let caller = Caller::of(identity)?;
    let body = read_body(request.into_body()).await.map_err(|e| caller.fail(e))?;
    let upload = CreateUpload::parse(&body).map_err(|e| caller.fail(e))?;
    let ticket = state
        .documents
        .create_upload(&caller.identity.readers(), upload)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(ticket)).into_response())
}

/// The documents the member reads: their plan's and their own, with each one's status.
#[utoipa::path(
    get,
    path = "/v1/documents",
    tag = "documents",
    responses((status = 200, description = "The member's and their plan's documents.", body = DocumentList))
)]
pub(crate) async fn list_documents(
    State(state): State<Arc<AppState>>,
    identity: Option<Extension<Identity>>,
) -> Result<Response, ApiError> {
    let caller = Caller::of(identity)?;
    let documents = state
        .documents
        .list(&caller.identity.readers())
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(DocumentList { documents }).into_response())
}

/// Deletes one of the member's own documents, its text and its file.
#[utoipa::path(
    delete,
    path = "/v1/documents/{document_id}",
    tag = "documents",
    params(("document_id" = uuid::Uuid, Path, description = "The document's id, from its upload ticket or the listing.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 403, description = "The document is the plan's; only the plan can remove it.", body = ErrorBody),
        (status = 404, description = "No such document among the member's own.", body = ErrorBody),
    )
)]
pub(crate) async fn delete_document(
    State(state): State<Arc<AppState>>,
    identity: Option<Extension<Identity>>,
    Path(document_id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = Caller::of(identity)?;
    let document_id = uuid::Uuid::parse_str(&document_id)
        .map_err(|_| caller.fail(NavigatorError::invalid("the document id must be a UUID")))?;
    state
        .documents
        .delete(&caller.identity.readers(), document_id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn read_body(body: Body) -> Result<Bytes, NavigatorError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| NavigatorError::PayloadTooLarge {
            limit_bytes: MAX_BODY_BYTES,
        })
}

/// `200` to `GET /v1/health`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always "ok": the function answers.
    status: &'static str,
    /// The navigator's version.
    version: &'static str,
}

/// Liveness for uptime probes: no token needed, no dependency called.
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "operations",
    security(()),
    responses((status = 200, description = "The API is up.", body = Health))
)]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// This API's OpenAPI 3.1 document, generated from the types the router serves.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "operations",
    security(()),
    responses((status = 200, description = "The OpenAPI document.", content_type = "application/json",
        body = Object))
)]
pub(crate) async fn openapi_document() -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        document(),
    )
        .into_response()
}

async fn not_found(method: Method) -> Response {
    let (status, code, message) = match method {
        Method::GET | Method::POST | Method::DELETE => {
            (StatusCode::NOT_FOUND, "not_found", "no such route; try POST /v1/chat")
        }
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "use POST /v1/chat, GET /v1/health, GET /v1/openapi.json, or POST, GET /v1/documents and DELETE /v1/documents/{id}",
        ),
    };
    (
        status,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// The chat API's OpenAPI 3.1 document, generated from the handlers' annotations above and the types they read and
/// write, so it cannot drift from the code. Served at `GET /v1/openapi.json`; `navigator openapi` prints it.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "patient-navigator",
        description = "A health-plan member's questions answered from their own plan documents, with citations. \
            Every error is `{error: {code, message}, request_id}`; a 429 or 503 carries `Retry-After`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        chat,
        create_upload,
        list_documents,
        delete_document,
        health,
        openapi_document
    ),
    components(schemas(navigator_platform::error::ErrorBody)),
    modifiers(&MemberJwt, &SharedErrors),
    security(("member_jwt" = [])),
    tags(
        (name = "chat", description = "Questions and answers"),
        (name = "documents", description = "The member's own plan documents"),
        (name = "operations", description = "Health and this document")
    )
)]
pub struct ApiDoc;

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!(r#"{{"error": "the OpenAPI document did not serialise: {e}"}}"#))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakeTools;
    use navigator_platform::contracts::ToolName;
    use serde_json::{Value, json};
    use std::time::Duration;
    use tower::ServiceExt;
    use uuid::Uuid;

    fn app() -> Router {
        app_with(FakeTools::answering(Duration::from_millis(20)))
    }

    /// The chat API over `tools`, its CPU pools not lowered: a lowered pool runs on threads of its own, which tokio's
    /// paused clock cannot see, so it would skip ahead while they work.
    fn app_with(tools: FakeTools) -> Router {
        let budgets = Budgets::from_lookup(|name| (name == "NAVIGATOR_CPU_NICENESS").then(|| "0".to_string())).unwrap();
        let navigator = Navigator::offline(Arc::new(tools), &budgets);
        router(Arc::new(AppState::chat_only(budgets, navigator)))
    }

    async fn send(body: impl Into<Body>, signed_in: bool) -> (StatusCode, Option<String>, Value) {
        let mut request = Request::post("/v1/chat")
            .header("content-type", "application/json")
            .body(body.into())
            .unwrap();
        if signed_in {
            request.extensions_mut().insert(Identity {
                user_id: Uuid::from_u128(1),
                plan_id: None,
            });
        }
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, request_id, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn no_identity_is_401() {
        let (status, request_id, body) = send(json!({"message": "copay?"}).to_string(), false).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "unauthorized");
        assert_eq!(body["request_id"].as_str(), request_id.as_deref());
    }

    #[tokio::test]
    async fn bad_bodies_are_400_saying_what_is_wrong() {
        let cases = [
            ("{not json".to_string(), "not valid JSON"),
            (json!({"message": 42}).to_string(), "message"),
            (json!({"message": ""}).to_string(), "message must be 1 to 4000"),
            (
                json!({"message": "é".repeat(4001)}).to_string(),
                "message must be 1 to 4000",
            ),
            (
                json!({"message": "hi", "user_id": "someone-else"}).to_string(),
                "unknown field `user_id`",
            ),
            (json!({"message": "hi", "language": "Spanish"}).to_string(), "language"),
            (
                json!({"message": "hi", "history": [{"role": "system", "content": "x"}]}).to_string(),
                "history[0].role",
            ),
            (
                json!({"message": "hi", "history": vec![json!({"role": "user", "content": "x"}); 11]}).to_string(),
                "at most 10 turns",
            ),
            (json!({"message": "hi"}).to_string() + "{}", "more than one JSON value"),
        ];
        for (body, mentions) in cases {
            let (status, _, reply) = send(body.clone(), true).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(reply["error"]["code"], "invalid_input");
            let message = reply["error"]["message"].as_str().unwrap();
            assert!(message.contains(mentions), "{message:?} should mention {mentions:?}");
        }
    }

    #[tokio::test]
    async fn a_body_over_64_kib_is_413() {
        let body = json!({"message": "x".repeat(MAX_BODY_BYTES)}).to_string();
        let (status, _, reply) = send(body, true).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply["error"]["code"], "payload_too_large");
    }

    #[tokio::test]
    async fn a_valid_request_is_answered_with_citations() {
        let body = json!({"message": "What does a specialist visit cost?", "language": "en",
                          "history": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]});
        let (status, request_id, reply) = send(body.to_string(), true).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        assert_eq!(reply["status"], "answered");
        assert!(reply["answer"].as_str().unwrap().contains("$20 copayment"), "{reply}");
        assert_eq!(
            reply["citations"][0],
            json!({"kind": "document", "title": "Sample Plan Evidence of Coverage", "page": 92,
                   "document_id": Uuid::from_u128(1000).to_string()})
        );
        assert_eq!(reply["tools"][0]["name"], "retrieve");
        assert_eq!(reply["tools"][0]["outcome"], "ok");
        assert_eq!(reply["request_id"].as_str(), request_id.as_deref());
        for field in ["language", "degraded", "timings_ms"] {
            assert!(reply.get(field).is_some(), "{field} missing from {reply}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_source_is_503_and_a_deadline_gone_is_504() {
        let down = FakeTools::answering(Duration::ZERO).failing(
            ToolName::Retrieve,
            Duration::from_millis(5),
            NavigatorError::unavailable("postgres", "refused"),
        );
        let request = || {
            let mut request = Request::post("/v1/chat")
                .body(Body::from(
                    json!({"message": "What does a specialist visit cost?"}).to_string(),
                ))
                .unwrap();
            request.extensions_mut().insert(Identity {
                user_id: Uuid::from_u128(1),
                plan_id: None,
            });
            request
        };
        let response = app_with(down).oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let hung = FakeTools::answering(Duration::from_secs(60));
        let response = app_with(hung).oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    }

    #[tokio::test]
    async fn health_is_200_and_unknown_routes_are_json_404() {
        let response = app()
            .oneshot(Request::get("/v1/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let response = app()
            .oneshot(Request::get("/v2/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn retry_after_accompanies_a_429() {
        let response = ApiError {
            error: NavigatorError::rejected("full", None),
            request_id: "r".into(),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
