//! Upload to `ready`, as a member sees it: `POST /v1/documents`, the `PUT` of the file to the upload URL it returns,
//! then `GET /v1/documents` until the document is `ready` (or `failed`), timed from the first request. Each run
//! appends a comment line after the PDF's end (readers ignore what follows `%%EOF`), so every upload is new bytes and
//! a full ingest, not a duplicate; the document is deleted after it is timed.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::stats::percentile;

/// One timed upload.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Upload {
    pub document_id: String,
    pub status: String,
    pub seconds: f64,
    pub pages: Option<u64>,
    pub chunks: Option<u64>,
}

/// How often the list is read while waiting.
const POLL: Duration = Duration::from_millis(250);

/// Uploads `file` (a PDF) `runs` times to `server` and times each to `ready`, giving up on one after `limit`.
pub async fn time_uploads(
    client: &reqwest::Client,
    server: &str,
    file: &[u8],
    runs: usize,
    limit: Duration,
) -> Result<Vec<Upload>, String> {
    let mut uploads = Vec::with_capacity(runs);
    for run in 0..runs {
        let mut bytes = file.to_vec();
        bytes.extend_from_slice(format!("\n% upload-to-ready run {run} {}\n", std::process::id()).as_bytes());
        let upload = time_one(client, server, &bytes, limit).await?;
        eprintln!(
            "upload {}/{runs}: {} in {:.1} s",
            run + 1,
            upload.status,
            upload.seconds
        );
        delete(client, server, &upload.document_id).await?;
        uploads.push(upload);
    }
    Ok(uploads)
}

async fn time_one(client: &reqwest::Client, server: &str, bytes: &[u8], limit: Duration) -> Result<Upload, String> {
    let started = Instant::now();
    let created: Value = answer(
        client
            .post(format!("{server}/v1/documents"))
            .json(&json!({"file_name": "plan.pdf", "content_type": "application/pdf", "size_bytes": bytes.len()})),
    )
    .await?;
    let document_id = created["document_id"]
        .as_str()
        .ok_or_else(|| format!("POST /v1/documents gave no document_id: {created}"))?
        .to_string();
    let url = created["upload"]["url"]
        .as_str()
        .ok_or_else(|| format!("POST /v1/documents gave no upload URL: {created}"))?;
    let mut put = client.put(url).body(bytes.to_vec());
    if let Some(headers) = created["upload"]["headers"].as_object() {
        for (name, value) in headers {
            put = put.header(name, value.as_str().unwrap_or_default());
        }
    }
    succeeded(put, &format!("PUT {url}")).await?;
    loop {
        let listed: Value = answer(client.get(format!("{server}/v1/documents"))).await?;
        let document = listed["documents"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["document_id"] == document_id.as_str());
        let status = document.and_then(|d| d["status"].as_str()).unwrap_or("missing");
        let settled = matches!(status, "ready" | "failed");
        if settled || started.elapsed() > limit {
            return Ok(Upload {
                status: if settled {
                    status.to_string()
                } else {
                    format!("still {status} at the limit")
                },
                seconds: started.elapsed().as_secs_f64(),
                pages: document.and_then(|d| d["pages"].as_u64()),
                chunks: document.and_then(|d| d["chunks"].as_u64()),
                document_id,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn delete(client: &reqwest::Client, server: &str, document_id: &str) -> Result<(), String> {
    let url = format!("{server}/v1/documents/{document_id}");
    succeeded(client.delete(&url), &format!("DELETE {url}")).await.map(drop)
}

/// The JSON body of a successful answer.
async fn answer(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = succeeded(request, "request").await?;
    response.json().await.map_err(|e| e.to_string())
}

/// The response, if its status is a success; otherwise what went wrong, named `what`.
async fn succeeded(request: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, String> {
    let response = request.send().await.map_err(|e| format!("{what}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(response)
    } else {
        Err(format!(
            "{what}: {status}: {}",
            response.text().await.unwrap_or_default()
        ))
    }
}

/// P50, P95 and the slowest, in seconds, of the uploads that became ready.
pub fn summary(uploads: &[Upload]) -> String {
    let ready: Vec<f64> = uploads
        .iter()
        .filter(|u| u.status == "ready")
        .map(|u| u.seconds)
        .collect();
    let slowest = ready.iter().copied().fold(0.0, f64::max);
    format!(
        "{} of {} uploads ready: upload to ready P50 {:.1} s, P95 {:.1} s, slowest {:.1} s",
        ready.len(),
        uploads.len(),
        percentile(&ready, 0.5),
        percentile(&ready, 0.95),
        slowest
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(status: &str, seconds: f64) -> Upload {
        Upload {
            document_id: String::new(),
            status: status.into(),
            seconds,
            pages: None,
            chunks: None,
        }
    }

    #[test]
    fn only_uploads_that_became_ready_are_timed() {
        let uploads = [
            upload("ready", 70.0),
            upload("ready", 74.0),
            upload("failed", 1.0),
            upload("still ingesting at the limit", 600.0),
        ];
        assert_eq!(
            summary(&uploads),
            "2 of 4 uploads ready: upload to ready P50 70.0 s, P95 74.0 s, slowest 74.0 s"
        );
    }
}
