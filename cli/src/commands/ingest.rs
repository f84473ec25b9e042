//! `navigator ingest --plan <plan_id> <file>` and `navigator ingest --user <uuid> <file>`.

use navigator_platform::config::Settings;
use navigator_platform::owner::Owner;
use navigator_platform::secrets::SecretStore;
use navigator_retrieval::{document, ingest, setup};
use std::path::Path;
use std::time::Instant;

use super::progress_bar;

pub async fn run(owner: &Owner, file: &Path) -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let retriever = setup::from_config(&settings, &SecretStore::from_env())
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let path = file.to_path_buf();
    let source = tokio::task::spawn_blocking(move || document::load(&path))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let extract_time = started.elapsed();
    let bar = progress_bar("embedding");
    let report = ingest::ingest(
        retriever.embedder(),
        retriever.store(),
        owner,
        &source,
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    println!("document  {} ({})", report.document_id, report.title);
    println!("owner     {}", owner.key());
    println!("pages     {}", report.pages);
    println!("chunks    {}", report.chunks);
    println!(
        "written   {} rows{}",
        report.rows_written,
        if report.already_ready {
            " (already ingested)"
        } else {
            ""
        }
    );
    println!(
        "time      {:.1} s: extract {:.1} s, chunk {:.2} s, embed {:.1} s, store {:.2} s",
        started.elapsed().as_secs_f64(),
        extract_time.as_secs_f64(),
        report.chunk_time.as_secs_f64(),
        report.embed_time.as_secs_f64(),
        report.store_time.as_secs_f64()
    );
    Ok(())
}
