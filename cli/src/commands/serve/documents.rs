//! The member's documents on one developer's machine: the same API as on AWS, with the data directory standing in
//! for the uploads bucket. `POST /v1/documents` answers with a `PUT` to this server (where AWS answers with a
//! presigned S3 URL); the bytes land in `<data dir>/uploads/members/<member>/<document>/<file>`, and are taken in
//! (checked, read in a child process, embedded) one file at a time in the background, as the ingest function would.

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use futures_util::future::BoxFuture;
use navigator_platform::NavigatorError;
use navigator_platform::documents::{
    CreateUpload, DocumentInfo, DocumentStatus, MAX_UPLOAD_BYTES, UPLOAD_EXPIRES_SECS, UploadRequest, UploadTicket,
    may_delete,
};
use navigator_platform::owner::{Owner, Readers};
use navigator_retrieval::document::isolated::ReaderProgram;
use navigator_retrieval::document::upload::UploadLimits;
use navigator_retrieval::intake::{Destination, Intake, take_in};
use navigator_retrieval::setup::ConfiguredRetriever;
use navigator_retrieval::store::{DocumentRegistry, Upload};
use orchestrator::{Documents, Identity};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;
use uuid::Uuid;

/// Documents in the local store, uploads under the data directory.
pub struct LocalDocuments {
    retriever: Arc<ConfiguredRetriever>,
    uploads: PathBuf,
    base_url: String,
    reader: ReaderProgram,
    limits: UploadLimits,
    /// One file taken in at a time, as one ingest function environment would.
    intake: Semaphore,
}

impl LocalDocuments {
    pub fn new(
        retriever: Arc<ConfiguredRetriever>,
        data_dir: PathBuf,
        base_url: String,
        reader: ReaderProgram,
    ) -> Self {
        Self {
            retriever,
            uploads: data_dir.join("uploads"),
            base_url,
            reader,
            limits: UploadLimits::default(),
            intake: Semaphore::new(1),
        }
    }

    fn folder(&self, member: Uuid, document_id: Uuid) -> PathBuf {
        self.uploads
            .join("members")
            .join(member.to_string())
            .join(document_id.to_string())
    }

    /// The route that stands in for the presigned S3 URL.
    pub fn upload_route(self: Arc<Self>) -> Router {
        Router::new()
            .route("/v1/documents/{document_id}/content", put(receive))
            .with_state(self)
    }

    /// Takes in one received file and logs what became of it.
    async fn take_in(&self, destination: Destination, bytes: axum::body::Bytes) {
        let _turn = self.intake.acquire().await;
        let outcome = take_in(&self.retriever, &self.reader, &destination, &bytes, &self.limits).await;
        match outcome {
            Ok(Intake::Ready(report)) => {
                tracing::info!(document_id = %report.document_id, chunks = report.chunks, "upload ready")
            }
            Ok(Intake::Failed { document_id, reason }) => tracing::info!(%document_id, reason, "upload failed"),
            Err(error) => {
                tracing::error!(%error, "upload could not be taken in");
                if let Some(id) = destination.document_id {
                    let reason = "the file could not be processed; upload it again";
                    let _ = self
                        .retriever
                        .store()
                        .fail_document(id, &destination.owner, &destination.file_name, reason)
                        .await;
                }
            }
        }
    }
}

impl Documents for LocalDocuments {
    fn create_upload<'a>(
        &'a self,
        readers: &'a Readers,
        request: CreateUpload,
    ) -> BoxFuture<'a, Result<UploadTicket, NavigatorError>> {
        Box::pin(async move {
            let document_id = Uuid::new_v4();
            let upload = Upload {
                document_id,
                owner: Owner::Member(readers.member),
                file_name: request.file_name.clone(),
            };
            self.retriever.store().register_upload(&upload).await?;
            let headers = [
                (header::CONTENT_TYPE.to_string(), request.content_type),
                (header::CONTENT_LENGTH.to_string(), request.size_bytes.to_string()),
            ]
            .into_iter()
            .collect();
            Ok(UploadTicket {
                document_id,
                status: DocumentStatus::Pending,
                upload: UploadRequest {
                    method: "PUT".into(),
                    url: format!("{}/v1/documents/{document_id}/content", self.base_url),
                    headers,
                    expires_in_secs: UPLOAD_EXPIRES_SECS,
                },
            })
        })
    }

    fn list<'a>(&'a self, readers: &'a Readers) -> BoxFuture<'a, Result<Vec<DocumentInfo>, NavigatorError>> {
        Box::pin(async move { self.retriever.store().documents(readers).await })
    }

    fn delete<'a>(&'a self, readers: &'a Readers, document_id: Uuid) -> BoxFuture<'a, Result<(), NavigatorError>> {
        Box::pin(async move {
            let store = self.retriever.store();
            let document = store.document(document_id).await?;
            may_delete(readers, document.as_ref(), document_id)?;
            store.delete_document(document_id).await?;
            self.retriever.invalidate_owner(&Owner::Member(readers.member));
            let folder = self.folder(readers.member, document_id);
            if let Err(e) = tokio::fs::remove_dir_all(&folder).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(NavigatorError::internal(format!("{}: {e}", folder.display())));
            }
            Ok(())
        })
    }
}

/// `PUT /v1/documents/{id}/content`: the bytes of an upload the member was given, exactly as announced.
async fn receive(
    State(documents): State<Arc<LocalDocuments>>,
    identity: Option<Extension<Identity>>,
    Path(document_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive_file(&documents, identity, &document_id, &headers, body).await {
        Ok(accepted) => (StatusCode::ACCEPTED, axum::Json(accepted)).into_response(),
        Err(error) => {
            let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(error.body(None))).into_response()
        }
    }
}

async fn receive_file(
    documents: &Arc<LocalDocuments>,
    identity: Option<Extension<Identity>>,
    document_id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<serde_json::Value, NavigatorError> {
    let Some(Extension(identity)) = identity else {
        return Err(NavigatorError::Unauthorized);
    };
    let not_found = || NavigatorError::NotFound(format!("no upload {document_id}"));
    let document_id = Uuid::parse_str(document_id).map_err(|_| not_found())?;
    let owner = Owner::Member(identity.user_id);
    let document = documents.retriever.store().document(document_id).await?;
    // Only the member's own upload, and only while it waits for its bytes (or after a failure, to try again).
    let Some(document) = document.filter(|d| d.owner == owner) else {
        return Err(not_found());
    };
    if !matches!(document.status, DocumentStatus::Pending | DocumentStatus::Failed) {
        return Err(NavigatorError::invalid(format!(
            "document {document_id} is {}: upload a new document instead",
            document.status.as_str()
        )));
    }
    let file_name = document.file_name.unwrap_or(document.title);
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if Some(declared) != navigator_platform::documents::content_type_for(&file_name) {
        return Err(NavigatorError::invalid(
            "the content-type must be the one the upload was given",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_UPLOAD_BYTES as usize)
        .await
        .map_err(|_| NavigatorError::PayloadTooLarge {
            limit_bytes: MAX_UPLOAD_BYTES as usize,
        })?;
    let folder = documents.folder(identity.user_id, document_id);
    let path = folder.join(&file_name);
    let write = async {
        tokio::fs::create_dir_all(&folder).await?;
        tokio::fs::write(&path, &bytes).await
    };
    write
        .await
        .map_err(|e| NavigatorError::internal(format!("{}: {e}", path.display())))?;
    let destination = Destination {
        owner,
        document_id: Some(document_id),
        file_name,
    };
    let taker = Arc::clone(documents);
    let length = bytes.len();
    // The file on disk stands in for the S3 object (a delete removes it); the bytes in hand are what is read.
    tokio::spawn(async move { taker.take_in(destination, bytes).await });
    Ok(serde_json::json!({"document_id": document_id, "status": "pending", "bytes": length}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use navigator_platform::config::Budgets;
    use navigator_platform::contracts::ToolName;
    use navigator_platform::owner::PlanId;
    use navigator_resilience::{CpuLoad, CpuPool};
    use navigator_retrieval::embed::{Embedders, MiniLm};
    use navigator_retrieval::retriever::Retriever;
    use navigator_retrieval::store::{SqliteStore, Stores};
    use orchestrator::{InProcess, Navigator};
    use serde_json::{Value, json};
    use std::time::Duration;
    use tower::ServiceExt;

    /// Not a test: the entry point of the reader children these tests start (this binary, run with `--exact` on
    /// this name). Run without the reader's environment, it returns at once.
    #[test]
    fn upload_reader_entry() {
        navigator_retrieval::document::isolated::serve_if_asked();
    }

    const PLAN_TEXT: &str = "# Chapter 4: Medical benefits\n\nSECTION 2 Ambulance\n\nAmbulance services cost a $250 \
        copayment for each one-way trip.\n";
    const RIDER_TEXT: &str = "# Dental rider\n\nSECTION 1 Crowns\n\nThe dental rider pays 80 percent of the cost of \
        each porcelain crown, up to $1,234 per tooth each year.\n";

    async fn app(dir: &std::path::Path) -> (Router, Arc<ConfiguredRetriever>) {
        let budgets = Budgets::from_lookup(|_| None).unwrap();
        let model_dir = std::env::var("NAVIGATOR_MODEL_DIR").expect("NAVIGATOR_MODEL_DIR names the local model");
        let model = MiniLm::load(std::path::Path::new(&model_dir), CpuPool::new("embed", 2, 16)).unwrap();
        let store = Stores::Sqlite(SqliteStore::open(dir).await.unwrap());
        let retriever = Arc::new(Retriever::new(Embedders::Local(model), store, budgets.retrieve.clone()));
        let plan = Owner::Plan(PlanId::parse("plan-7").unwrap());
        let source = navigator_retrieval::document::from_bytes(
            "plan",
            navigator_retrieval::document::DocumentKind::Markdown,
            PLAN_TEXT.as_bytes(),
        )
        .unwrap();
        navigator_retrieval::ingest::ingest(retriever.embedder(), retriever.store(), &plan, &source, |_, _| {})
            .await
            .unwrap();
        let tools = InProcess::new()
            .with(ToolName::Guard, guard::Guard::local(&budgets.guard).unwrap())
            .with(ToolName::Retrieve, retrieve::Retrieve::shared(Arc::clone(&retriever)));
        let navigator = Navigator::offline(Arc::new(tools), &budgets);
        let reader = ReaderProgram {
            program: std::env::current_exe().unwrap(),
            args: [
                "--exact",
                "commands::serve::documents::tests::upload_reader_entry",
                "--nocapture",
            ]
            .map(String::from)
            .to_vec(),
        };
        let documents = Arc::new(LocalDocuments::new(
            Arc::clone(&retriever),
            dir.to_path_buf(),
            "http://127.0.0.1:1".into(),
            reader,
        ));
        let readers = Readers::new(Uuid::from_u128(7), PlanId::parse("plan-7").ok());
        let app = super::super::local_app(budgets, navigator, CpuLoad::default(), readers, Some(documents));
        (app, retriever)
    }

    async fn call(app: &Router, method: &str, uri: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn upload(app: &Router, file_name: &str, content_type: &str, bytes: &[u8]) -> String {
        let ask = json!({"file_name": file_name, "content_type": content_type, "size_bytes": bytes.len()});
        let (status, ticket) = call(
            app,
            "POST",
            "/v1/documents",
            "application/json",
            ask.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        assert_eq!(ticket["status"], "pending");
        assert_eq!(ticket["upload"]["method"], "PUT");
        let url = ticket["upload"]["url"].as_str().unwrap();
        let path = &url[url.find("/v1/").unwrap()..];
        let (status, body) = call(app, "PUT", path, content_type, bytes.to_vec()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ticket["document_id"].as_str().unwrap().to_string()
    }

    /// Polls the listing until the document leaves `pending` and `ingesting` (the intake runs in the background).
    async fn settled(app: &Router, document_id: &str) -> Value {
        for _ in 0..600 {
            let (status, list) = call(app, "GET", "/v1/documents", "", Vec::new()).await;
            assert_eq!(status, StatusCode::OK);
            let document = list["documents"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["document_id"] == document_id)
                .cloned()
                .unwrap();
            if document["status"] != "pending" && document["status"] != "ingesting" {
                return document;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{document_id} never settled");
    }

    async fn ask(app: &Router, question: &str) -> Value {
        let body = json!({ "message": question }).to_string().into_bytes();
        let (status, answer) = call(app, "POST", "/v1/chat", "application/json", body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    fn cites(answer: &Value, document_id: &str) -> bool {
        answer["citations"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["document_id"] == document_id))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn upload_ready_cited_deleted_then_never_cited_again() {
        let dir = std::env::temp_dir().join(format!("navigator-serve-docs-{}", Uuid::new_v4()));
        let (app, _retriever) = app(&dir).await;
        let question = "How much does the dental rider pay for a porcelain crown?";

        let id = upload(&app, "dental-rider.md", "text/markdown", RIDER_TEXT.as_bytes()).await;
        let document = settled(&app, &id).await;
        assert_eq!(document["status"], "ready", "{document}");
        assert_eq!(document["owner"], "member");
        assert!(document["chunks"].as_u64().unwrap() >= 1);
        let answer = ask(&app, question).await;
        assert_eq!(answer["status"], "answered", "{answer}");
        assert!(cites(&answer, &id), "{answer}");
        assert!(answer["answer"].as_str().unwrap().contains("$1,234"), "{answer}");

        let (status, _) = call(&app, "DELETE", &format!("/v1/documents/{id}"), "", Vec::new()).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, list) = call(&app, "GET", "/v1/documents", "", Vec::new()).await;
        assert!(
            list["documents"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["document_id"] != id.as_str())
        );
        assert!(
            !dir.join("uploads/members")
                .join(Uuid::from_u128(7).to_string())
                .join(&id)
                .exists()
        );
        let answer = ask(&app, question).await;
        assert!(!cites(&answer, &id), "a deleted document is never cited: {answer}");
        assert_ne!(
            answer["status"], "answered",
            "only the deleted rider answered it: {answer}"
        );

        // The plan's document is listed and cannot be deleted by a member; nothing else can be found.
        let plan_document = list["documents"][0]["document_id"].as_str().unwrap().to_string();
        assert_eq!(list["documents"][0]["owner"], "plan");
        let (status, body) = call(
            &app,
            "DELETE",
            &format!("/v1/documents/{plan_document}"),
            "",
            Vec::new(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, _) = call(
            &app,
            "DELETE",
            &format!("/v1/documents/{}", Uuid::new_v4()),
            "",
            Vec::new(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_upload_ends_failed_with_a_reason_and_is_never_searchable() {
        let dir = std::env::temp_dir().join(format!("navigator-serve-docs-{}", Uuid::new_v4()));
        let (app, _retriever) = app(&dir).await;
        let id = upload(
            &app,
            "plan.pdf",
            "application/pdf",
            b"MZ\x90\x00 this is a program, not a PDF",
        )
        .await;
        let document = settled(&app, &id).await;
        assert_eq!(document["status"], "failed");
        assert_eq!(document["reason"], "not a PDF, Markdown or text file");
        // Bad requests are refused before anything is stored.
        let bad = json!({"file_name": "../../etc/passwd.txt", "content_type": "text/plain", "size_bytes": 10});
        let (status, body) = call(
            &app,
            "POST",
            "/v1/documents",
            "application/json",
            bad.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let zero = json!({"file_name": "a.txt", "content_type": "text/plain", "size_bytes": 0});
        let (status, _) = call(
            &app,
            "POST",
            "/v1/documents",
            "application/json",
            zero.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
