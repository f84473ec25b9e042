//! Open-loop load at a constant arrival rate. Request `i` is due at `start + i / rate` and is sent then whether or
//! not earlier requests have answered; its latency is measured from when it was *due*, not from when it left, so a
//! stalled client or server cannot hide its own queueing (coordinated omission corrected).

use crate::questions::{Path, Question};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long the client waits for any answer: well past the 3 s turn, so a hang shows as a timeout here.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// One request's result.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Seconds since the run started, when the request was due.
    pub due_s: f64,
    pub path: Path,
    /// HTTP status; 0 when no answer came within [`CLIENT_TIMEOUT`] or the connection failed.
    pub status: u16,
    /// From due time to the whole body read.
    pub latency_ms: f64,
    /// The answer named a degraded tool.
    pub degraded: bool,
}

impl Sample {
    pub fn answered(&self) -> bool {
        self.status == 200
    }
}

/// Sends `rate` requests a second for `duration`, cycling through `questions`, and returns every sample.
pub async fn run(
    client: &reqwest::Client,
    chat_url: &str,
    questions: &[Question],
    rate: f64,
    duration: Duration,
) -> Vec<Sample> {
    let total = (rate * duration.as_secs_f64()).round() as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let questions: Arc<[Question]> = questions.into();
    let chat_url: Arc<str> = chat_url.into();
    let start = Instant::now();
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due).await;
        let question = questions[i % questions.len()].clone();
        let client = client.clone();
        let sender = sender.clone();
        let chat_url = chat_url.clone();
        tokio::spawn(async move {
            let (status, degraded) = send(&client, &chat_url, &question.text).await;
            let _ = sender.send(Sample {
                due_s: (due - start).as_secs_f64(),
                path: question.path,
                status,
                latency_ms: due.elapsed().as_secs_f64() * 1000.0,
                degraded,
            });
        });
    }
    drop(sender);
    let mut samples = Vec::with_capacity(total);
    while let Some(sample) = receiver.recv().await {
        samples.push(sample);
    }
    samples.sort_by(|a, b| a.due_s.total_cmp(&b.due_s));
    samples
}

/// Posts one question to the chat API, as every load client does.
pub async fn post_question(
    client: &reqwest::Client,
    chat_url: &str,
    message: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    client
        .post(chat_url)
        .json(&json!({"message": message, "language": "auto"}))
        .timeout(CLIENT_TIMEOUT)
        .send()
        .await
}

/// One chat request: its status and whether the answer said it was degraded.
pub async fn send(client: &reqwest::Client, chat_url: &str, message: &str) -> (u16, bool) {
    let Ok(response) = post_question(client, chat_url, message).await else {
        return (0, false);
    };
    let status = response.status().as_u16();
    match response.json::<serde_json::Value>().await {
        Ok(body) => (status, body["degraded"].as_array().is_some_and(|d| !d.is_empty())),
        Err(_) => (0, false),
    }
}
