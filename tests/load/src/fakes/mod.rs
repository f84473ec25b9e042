//! Fake dependencies for load runs: one local HTTP server speaking the real wire formats of Tavily
//! (`POST /search`), an OpenAI-compatible API (`POST /v1/chat/completions`, `POST /v1/embeddings`) and DeepL
//! (`POST /v2/translate`), each behind its [`faults::Fault`]. They do simple real work (the chat model plans tool
//! calls and answers from the passages it is given) so that the navigator's checks pass as they would in production.
//!
//! Admin: `GET /admin/faults`, `PUT /admin/faults/{service}` with a `Fault`, `GET /admin/stats`.

pub mod chat;
pub mod faults;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

pub use faults::{Fault, FaultBoard};

/// The fake dependencies' routes over one fault board.
pub fn router(board: FaultBoard) -> Router {
    Router::new()
        .route("/search", post(tavily_search))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v2/translate", post(deepl_translate))
        .route("/admin/faults", get(all_faults))
        .route("/admin/faults/{service}", put(set_fault))
        .route("/admin/stats", get(stats))
        .with_state(board)
}

/// Applies the service's fault: a ticket for the request to answer, or the injected failure, already answered.
async fn admit(board: &FaultBoard, service: &'static str) -> Result<faults::Ticket, Response> {
    let (ticket, fail) = board.apply(service).await;
    match fail {
        Some(status) => {
            ticket.finish();
            Err(failure(status, service))
        }
        None => Ok(ticket),
    }
}

fn failure(status: u16, service: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(json!({"error": {"message": format!("injected {service} failure")}})),
    )
        .into_response()
}

async fn tavily_search(State(board): State<FaultBoard>, Json(request): Json<Value>) -> Response {
    let ticket = match admit(&board, "tavily").await {
        Ok(ticket) => ticket,
        Err(injected) => return injected,
    };
    let query = request["query"].as_str().unwrap_or_default();
    let max = request["max_results"].as_u64().unwrap_or(5).clamp(1, 10) as usize;
    let results: Vec<Value> = (0..max.min(3))
        .map(|i| {
            json!({
                "title": format!("Medicare facts: {query}"),
                "url": format!("https://www.medicare.gov/basics/costs/result-{i}"),
                "content": format!("Medicare.gov explains {query}. The standard figures change each year and are published every autumn."),
                "score": 0.9 - i as f64 * 0.1,
            })
        })
        .collect();
    ticket.finish();
    Json(json!({"query": query, "answer": null, "results": results, "response_time": 0.4})).into_response()
}

async fn chat_completions(State(board): State<FaultBoard>, Json(request): Json<Value>) -> Response {
    let ticket = match admit(&board, "llm").await {
        Ok(ticket) => ticket,
        Err(injected) => return injected,
    };
    let reply = chat::reply(&request);
    ticket.finish();
    Json(reply).into_response()
}

async fn embeddings(State(board): State<FaultBoard>, Json(request): Json<Value>) -> Response {
    let ticket = match admit(&board, "embeddings").await {
        Ok(ticket) => ticket,
        Err(injected) => return injected,
    };
    let dimensions = request["dimensions"].as_u64().unwrap_or(384).clamp(1, 4096) as usize;
    let inputs: Vec<String> = match &request["input"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": chat::hashed_embedding(text, dimensions)}))
        .collect();
    ticket.finish();
    Json(json!({"object": "list", "data": data, "model": request["model"], "usage": {"prompt_tokens": 0, "total_tokens": 0}}))
        .into_response()
}

async fn deepl_translate(State(board): State<FaultBoard>, Json(request): Json<Value>) -> Response {
    let ticket = match admit(&board, "deepl").await {
        Ok(ticket) => ticket,
        Err(injected) => return injected,
    };
    // Tags and protected spans come back untouched, as DeepL's tag handling keeps them.
    let translations: Vec<Value> = request["text"]
        .as_array()
        .map(|texts| {
            texts
                .iter()
                .map(|t| json!({"detected_source_language": "ES", "text": t.as_str().unwrap_or_default()}))
                .collect()
        })
        .unwrap_or_default();
    ticket.finish();
    Json(json!({"translations": translations})).into_response()
}

async fn all_faults(State(board): State<FaultBoard>) -> Json<Value> {
    Json(json!(board.all()))
}

async fn set_fault(State(board): State<FaultBoard>, Path(service): Path<String>, Json(fault): Json<Fault>) -> Response {
    match board.set(&service, fault) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response(),
    }
}

async fn stats(State(board): State<FaultBoard>) -> Json<Value> {
    Json(json!(board.stats()))
}
