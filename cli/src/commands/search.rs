//! `navigator search [--user <uuid>] [--plan <plan_id>] [--top-k 5] [--section "Chapter 3, Section 2.4"] [--json] "<question>"`.

use navigator_platform::contracts::MAX_TOP_K;
use navigator_platform::owner::Readers;
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;
use std::time::Duration;

use super::retriever_with_sample;

pub async fn run(
    readers: &Readers,
    top_k: u8,
    section: Option<&str>,
    json: bool,
    question: &str,
) -> Result<(), String> {
    if top_k == 0 || top_k > MAX_TOP_K {
        return Err(format!("--top-k must be 1 to {MAX_TOP_K}"));
    }
    let section = section
        .map(SectionRef::parse)
        .transpose()
        .map_err(|e| format!("--section: {e}"))?;
    let (_, retriever) = retriever_with_sample().await?;
    let output = retriever
        .search_within(
            readers,
            question,
            section.as_ref(),
            top_k,
            Deadline::after(Duration::from_secs(5)),
        )
        .await
        .map_err(|e| e.to_string())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&output).map_err(|e| e.to_string())?);
        return Ok(());
    }
    for (rank, chunk) in output.chunks.iter().enumerate() {
        println!(
            "#{} score {:.3}  page {}  {}",
            rank + 1,
            chunk.score,
            chunk.page,
            chunk.section
        );
        let text: String = chunk.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let preview: String = text.chars().take(300).collect();
        println!("   {preview}{}\n", if text.chars().count() > 300 { "…" } else { "" });
    }
    let t = &output.timings_ms;
    println!(
        "timings: cache {:.2} ms, embed {:.2} ms, knn {:.2} ms, rerank {:.2} ms",
        t.cache, t.embed, t.knn, t.rerank
    );
    Ok(())
}
