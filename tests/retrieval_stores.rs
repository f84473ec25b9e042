//! Both chunk stores, the production one against a real PostgreSQL with pgvector, prove the same promises: members
//! never see each other's chunks, a plan's document is read by its members and by nobody else, a re-ingest writes
//! nothing, a file cut by an older pipeline is replaced, a half-ingested document is invisible, a section read stays
//! in its section, every found sentence is scored by vector and matched piece by piece, and failures are typed
//! errors, never empty results.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use navigator_platform::NavigatorError;
use navigator_platform::config::Budgets;
use navigator_platform::owner::{Owner, PlanId, Readers};
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;
use navigator_retrieval::adapter::QueryAdapter;
use navigator_retrieval::db::{PoolSettings, pg_pool};
use navigator_retrieval::embed::Embedder;
use navigator_retrieval::ingest::ingest_upload;
use navigator_retrieval::ingest::{chunk_id, document_id, ingest};
use navigator_retrieval::retriever::Retriever;
use navigator_retrieval::store::{
    ChunkStore, DocumentRegistry, DocumentSize, DocumentStatus, NewDocument, Origin, PgStore, SqliteStore, StoredChunk,
    Upload,
};
use navigator_tests::{HashingEmbedder, PieceHashingEmbedder, TestDatabase, hashed_words, sample_plan};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

fn budgets() -> Budgets {
    Budgets::from_lookup(|_| None).unwrap()
}

/// A member's own document.
fn own(member: Uuid) -> Owner {
    Owner::Member(member)
}

/// A member with no plan: reads only their own documents.
fn alone(member: Uuid) -> Readers {
    Readers::new(member, None)
}

fn plan(id: &str) -> PlanId {
    PlanId::parse(id).unwrap()
}

fn soon() -> Deadline {
    Deadline::after(Duration::from_secs(5))
}

async fn pg_store() -> (PgStore, TestDatabase) {
    let database = TestDatabase::migrated().await;
    let pool = pg_pool(
        database.options.clone(),
        &PoolSettings::new(2, Duration::from_secs(2), "retrieval-test"),
    );
    (PgStore::new(pool), database)
}

async fn sqlite_store() -> (SqliteStore, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    (SqliteStore::open(&dir.path).await.unwrap(), dir)
}

/// A throwaway directory, removed on drop.
mod tempdir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("navigator-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Self { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

async fn member_b_never_sees_member_a<S: ChunkStore + 'static>(store: S) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    ingest(&HashingEmbedder, &store, &own(a), &sample_plan("alpha-only"), |_, _| {})
        .await
        .unwrap();
    ingest(&HashingEmbedder, &store, &own(b), &sample_plan("bravo-only"), |_, _| {})
        .await
        .unwrap();
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    for (member, own, other) in [(a, "alpha-only", "bravo-only"), (b, "bravo-only", "alpha-only")] {
        let found = retriever
            .search(&alone(member), "ambulance trip copayment", 10, soon())
            .await
            .unwrap();
        assert!(!found.chunks.is_empty());
        assert!(found.chunks.iter().any(|c| c.text.contains(own)));
        assert!(
            found.chunks.iter().all(|c| !c.text.contains(other)),
            "{member} saw another member's chunk"
        );
    }
    let stranger = retriever
        .search(&alone(Uuid::new_v4()), "ambulance trip copayment", 10, soon())
        .await
        .unwrap();
    assert!(stranger.chunks.is_empty(), "a member with no documents finds nothing");
}

async fn a_plans_members_read_its_documents_and_nobody_elses<S: ChunkStore + 'static>(store: S) {
    let (plan_a, plan_b) = (
        plan(&format!("a-{}", Uuid::new_v4())),
        plan(&format!("b-{}", Uuid::new_v4())),
    );
    let (a1, a2, b1) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (owner, marker) in [
        (Owner::Plan(plan_a.clone()), "alpha-plan"),
        (Owner::Plan(plan_b.clone()), "bravo-plan"),
        (own(a1), "a1-upload"),
    ] {
        ingest(&HashingEmbedder, &store, &owner, &sample_plan(marker), |_, _| {})
            .await
            .unwrap();
    }
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    let seen = |readers: Readers| {
        let retriever = &retriever;
        async move {
            let found = retriever
                .search(&readers, "ambulance trip copayment", 20, soon())
                .await
                .unwrap();
            ["alpha-plan", "bravo-plan", "a1-upload"]
                .into_iter()
                .filter(|marker| found.chunks.iter().any(|c| c.text.contains(marker)))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        seen(Readers::new(a1, Some(plan_a.clone()))).await,
        ["alpha-plan", "a1-upload"],
        "a member reads their plan's document and their own upload"
    );
    assert_eq!(
        seen(Readers::new(a2, Some(plan_a.clone()))).await,
        ["alpha-plan"],
        "another member of the same plan never reads a1's upload"
    );
    assert_eq!(seen(Readers::new(b1, Some(plan_b.clone()))).await, ["bravo-plan"]);
    assert_eq!(
        seen(Readers::new(Uuid::new_v4(), None)).await,
        Vec::<&str>::new(),
        "a member with no plan and no uploads reads nothing"
    );
    // Claiming a1's id as a plan name reads nothing of a1's: the kinds never mix.
    assert_eq!(
        seen(Readers::new(Uuid::new_v4(), Some(plan(&a1.to_string())))).await,
        Vec::<&str>::new()
    );
    // The same file loaded for two plans is two documents; a plan's copy is not a member's.
    let shared = sample_plan("shared-file");
    let first = ingest(
        &HashingEmbedder,
        retriever.store(),
        &Owner::Plan(plan_a.clone()),
        &shared,
        |_, _| {},
    )
    .await
    .unwrap();
    let second = ingest(
        &HashingEmbedder,
        retriever.store(),
        &Owner::Plan(plan_b.clone()),
        &shared,
        |_, _| {},
    )
    .await
    .unwrap();
    assert_ne!(first.document_id, second.document_id);
    assert!(!second.already_ready);
}

/// Which marked sample documents a search by `readers` finds.
async fn seen_by<S: ChunkStore>(retriever: &Retriever<HashingEmbedder, S>, readers: &Readers) -> Vec<&'static str> {
    retriever.invalidate_owner(&own(readers.member));
    let chunks = retriever
        .search(readers, "ambulance trip copayment", 20, soon())
        .await
        .unwrap()
        .chunks;
    ["plan-doc", "my-upload", "new-bytes"]
        .into_iter()
        .filter(|marker| chunks.iter().any(|c| c.text.contains(marker)))
        .collect()
}

async fn an_upload_goes_pending_ready_failed_deleted_and_is_searchable_only_when_ready<
    S: ChunkStore + DocumentRegistry + 'static,
>(
    store: S,
) {
    let plan_a = plan(&format!("a-{}", Uuid::new_v4()));
    let (member, neighbour) = (Uuid::new_v4(), Uuid::new_v4());
    let me = Readers::new(member, Some(plan_a.clone()));
    ingest(
        &HashingEmbedder,
        &store,
        &Owner::Plan(plan_a.clone()),
        &sample_plan("plan-doc"),
        |_, _| {},
    )
    .await
    .unwrap();
    let upload = Upload {
        document_id: Uuid::new_v4(),
        owner: own(member),
        file_name: "my-plan.md".into(),
    };
    assert!(store.register_upload(&upload).await.unwrap());
    assert!(!store.register_upload(&upload).await.unwrap(), "an id is issued once");
    let listed = store.documents(&me).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].status, DocumentStatus::Pending);
    assert_eq!(listed[0].file_name.as_deref(), Some("my-plan.md"));
    assert!(
        listed
            .iter()
            .any(|d| d.owner == Owner::Plan(plan_a.clone()) && d.status == DocumentStatus::Ready)
    );
    let neighbours = store
        .documents(&Readers::new(neighbour, Some(plan_a.clone())))
        .await
        .unwrap();
    assert_eq!(
        neighbours.len(),
        1,
        "another member of the plan sees the plan's document only"
    );

    // Ingested: ready, with its size, and searchable.
    let bytes = sample_plan("my-upload");
    let report = ingest_upload(
        &HashingEmbedder,
        &store,
        &own(member),
        upload.document_id,
        &bytes,
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.document_id, upload.document_id);
    let info = store.document(upload.document_id).await.unwrap().unwrap();
    assert_eq!(info.status, DocumentStatus::Ready);
    assert_eq!(
        (info.pages, info.chunks),
        (Some(report.pages as u32), Some(report.chunks as u32))
    );
    // S3 delivers at least once: the same event again writes nothing.
    let again = ingest_upload(
        &HashingEmbedder,
        &store,
        &own(member),
        upload.document_id,
        &bytes,
        |_, _| {},
    )
    .await
    .unwrap();
    assert!(again.already_ready && again.rows_written == 0);
    // The same bytes under a new upload id are a duplicate of the first, and nothing is written.
    let second = Uuid::new_v4();
    let duplicate = ingest_upload(&HashingEmbedder, &store, &own(member), second, &bytes, |_, _| {})
        .await
        .unwrap();
    assert_eq!(duplicate.duplicate_of, Some(upload.document_id));
    assert_eq!(duplicate.rows_written, 0);

    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    assert_eq!(seen_by(&retriever, &me).await, ["plan-doc", "my-upload"]);

    // New bytes under the same id replace the old ones.
    ingest_upload(
        &HashingEmbedder,
        retriever.store(),
        &own(member),
        upload.document_id,
        &sample_plan("new-bytes"),
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(seen_by(&retriever, &me).await, ["plan-doc", "new-bytes"]);

    // Failed: the reason is kept and nothing of it is searchable.
    retriever
        .store()
        .fail_document(
            upload.document_id,
            &own(member),
            "my-plan.md",
            "not a PDF, Markdown or text file",
        )
        .await
        .unwrap();
    let info = retriever.store().document(upload.document_id).await.unwrap().unwrap();
    assert_eq!(info.status, DocumentStatus::Failed);
    assert_eq!(info.reason.as_deref(), Some("not a PDF, Markdown or text file"));
    assert_eq!(seen_by(&retriever, &me).await, ["plan-doc"]);
    // A document failed before it was ever registered is recorded too.
    let stray = Uuid::new_v4();
    retriever
        .store()
        .fail_document(stray, &own(member), "x.exe", "not a PDF, Markdown or text file")
        .await
        .unwrap();
    assert_eq!(
        retriever.store().document(stray).await.unwrap().unwrap().status,
        DocumentStatus::Failed
    );

    // Deleted: gone from the listing and from every search.
    assert!(retriever.store().delete_document(upload.document_id).await.unwrap());
    assert!(!retriever.store().delete_document(upload.document_id).await.unwrap());
    assert!(retriever.store().document(upload.document_id).await.unwrap().is_none());
    assert_eq!(seen_by(&retriever, &me).await, ["plan-doc"]);
}

async fn a_reingest_writes_zero_rows<S: ChunkStore>(store: S) {
    let member = Uuid::new_v4();
    let first = ingest(&HashingEmbedder, &store, &own(member), &sample_plan("x"), |_, _| {})
        .await
        .unwrap();
    assert!(first.rows_written > 0);
    let again = ingest(&HashingEmbedder, &store, &own(member), &sample_plan("x"), |_, _| {})
        .await
        .unwrap();
    assert_eq!(again.rows_written, 0);
    assert!(again.already_ready);
    assert_eq!(again.document_id, first.document_id);
}

async fn a_file_cut_by_an_older_pipeline_is_replaced<S: ChunkStore + 'static>(store: S) {
    let member = Uuid::new_v4();
    let source = sample_plan("versioned");
    // The same file as an older pipeline version stored it: another document id, one stale chunk, ready.
    let old = NewDocument {
        document_id: Uuid::new_v4(),
        owner: own(member),
        title: source.title.clone(),
        sha256: source.sha256.clone(),
        origin: Origin::Derived,
    };
    store.begin_document(&old).await.unwrap();
    let vector = HashingEmbedder
        .embed(vec!["stale ambulance chunk".into()], soon())
        .await
        .unwrap()
        .remove(0);
    let stale = StoredChunk {
        chunk_id: chunk_id(old.document_id, 0),
        ord: 0,
        page_start: 1,
        page_end: 1,
        section: "Ambulance".into(),
        text: "stale ambulance chunk from an older chunker".into(),
        tokens: 6,
        units: vec![vector.clone()],
        pieces: Vec::new(),
        embedding: vector,
    };
    store.put_chunks(&old, HashingEmbedder.model(), &[stale]).await.unwrap();
    store
        .mark_ready(old.document_id, DocumentSize { pages: 1, chunks: 1 })
        .await
        .unwrap();

    let report = ingest(&HashingEmbedder, &store, &own(member), &source, |_, _| {})
        .await
        .unwrap();
    assert!(!report.already_ready, "a new pipeline version ingests again");
    assert_eq!(report.document_id, document_id(&own(member), &source.sha256));
    assert!(!store.is_ready(old.document_id).await.unwrap(), "the old copy is gone");
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    let found = retriever
        .search(&alone(member), "ambulance trip", 10, soon())
        .await
        .unwrap();
    assert!(!found.chunks.is_empty());
    assert!(
        found.chunks.iter().all(|c| c.document_id == report.document_id),
        "only the new copy is searched"
    );
    assert!(found.chunks.iter().all(|c| !c.text.contains("stale")));
}

async fn a_half_embedded_document_is_invisible<S: ChunkStore + 'static>(store: S) {
    let member = Uuid::new_v4();
    let source = sample_plan("half");
    let document = NewDocument {
        document_id: document_id(&own(member), &source.sha256),
        owner: own(member),
        title: source.title.clone(),
        sha256: source.sha256.clone(),
        origin: Origin::Derived,
    };
    store.begin_document(&document).await.unwrap();
    let vector = HashingEmbedder
        .embed(vec!["Ambulance one-way trip".into()], soon())
        .await
        .unwrap()
        .remove(0);
    let chunk = StoredChunk {
        chunk_id: chunk_id(document.document_id, 0),
        ord: 0,
        page_start: 1,
        page_end: 1,
        section: "Ambulance".into(),
        text: "Ambulance one-way trip $180".into(),
        tokens: 5,
        units: vec![vector.clone()],
        pieces: Vec::new(),
        embedding: vector,
    };
    store
        .put_chunks(&document, HashingEmbedder.model(), &[chunk])
        .await
        .unwrap();
    assert!(!store.is_ready(document.document_id).await.unwrap());
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    let found = retriever
        .search(&alone(member), "ambulance trip", 5, soon())
        .await
        .unwrap();
    assert!(
        found.chunks.is_empty(),
        "chunks of a document still ingesting must not be searchable"
    );

    // Finishing the ingest (same file again) completes the document and makes it searchable.
    let finished = ingest(&HashingEmbedder, retriever.store(), &own(member), &source, |_, _| {})
        .await
        .unwrap();
    assert!(!finished.already_ready && finished.rows_written > 0);
    retriever.invalidate_owner(&own(member));
    assert!(
        !retriever
            .search(&alone(member), "ambulance trip", 5, soon())
            .await
            .unwrap()
            .chunks
            .is_empty()
    );
}

async fn every_sentence_of_a_found_chunk_is_scored_in_order<S: ChunkStore + 'static>(store: S) {
    let member = Uuid::new_v4();
    ingest(&HashingEmbedder, &store, &own(member), &sample_plan("units"), |_, _| {})
        .await
        .unwrap();
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    let query = "ambulance trip";
    let found = retriever.search(&alone(member), query, 5, soon()).await.unwrap();
    assert!(!found.chunks.is_empty());
    let query_vector = HashingEmbedder
        .embed(vec![query.into()], soon())
        .await
        .unwrap()
        .remove(0);
    for chunk in &found.chunks {
        let sentences = navigator_platform::text::sentences(&chunk.text);
        assert_eq!(
            chunk.units.len(),
            sentences.len(),
            "one score a sentence: {}",
            chunk.text
        );
        assert!(
            chunk.piece_matches.is_empty(),
            "an embedder without pieces matches none"
        );
        // Each score is that sentence's own vector against the query's.
        let vectors = HashingEmbedder.embed(sentences.clone(), soon()).await.unwrap();
        for (score, vector) in chunk.units.iter().zip(&vectors) {
            let expected: f32 = vector.iter().zip(&query_vector).map(|(a, b)| a * b).sum();
            assert!((score - expected).abs() < 1e-3, "{score} vs {expected}");
        }
    }
}

/// The adapter's vector is what the store searches with: under `−I` every similarity is the negative of the one under
/// `I`. Without an adapter the hits carry no similarity, since the composer's decline threshold is calibrated on the
/// adapted scale only.
async fn a_query_adapter_reads_the_query_the_store_searches_with<S: ChunkStore + Clone + 'static>(store: S) {
    let member = Uuid::new_v4();
    ingest(
        &HashingEmbedder,
        &store,
        &own(member),
        &sample_plan("adapted"),
        |_, _| {},
    )
    .await
    .unwrap();
    let query = "ambulance trip";
    let plain = Retriever::new(HashingEmbedder, store.clone(), budgets().retrieve);
    let found = plain.search(&alone(member), query, 5, soon()).await.unwrap();
    assert!(!found.chunks.is_empty());
    assert!(found.chunks.iter().all(|chunk| chunk.similarity.is_none()));
    assert_eq!(found.best_similarity, None);

    let diagonal =
        |value: f64| -> Vec<f64> { (0..384 * 384).map(|k| if k % 385 == 0 { value } else { 0.0 }).collect() };
    let adapter = |value: f64| QueryAdapter::from_matrix(HashingEmbedder.model(), 384, &diagonal(value)).unwrap();
    let similarities = |chunks: &[navigator_platform::contracts::ChunkHit]| -> HashMap<Uuid, f32> {
        chunks
            .iter()
            .map(|chunk| (chunk.chunk_id, chunk.similarity.expect("an adapted search reports it")))
            .collect()
    };
    let other_model = QueryAdapter::from_matrix("another/model", 384, &diagonal(1.0)).unwrap();
    let refused = Retriever::new(HashingEmbedder, store.clone(), budgets().retrieve).with_adapter(other_model);
    assert!(
        refused.is_err(),
        "another model's adapter means nothing for these vectors"
    );
    let same = Retriever::new(HashingEmbedder, store.clone(), budgets().retrieve)
        .with_adapter(adapter(1.0))
        .unwrap();
    let turned = Retriever::new(HashingEmbedder, store, budgets().retrieve)
        .with_adapter(adapter(-1.0))
        .unwrap();
    let as_is_found = same.search(&alone(member), query, 5, soon()).await.unwrap();
    let negated_found = turned.search(&alone(member), query, 5, soon()).await.unwrap();
    let as_is = similarities(&as_is_found.chunks);
    let negated = similarities(&negated_found.chunks);
    // The best of every candidate weighed, the returned ones among them.
    for (found, chunks) in [(&as_is_found, &as_is), (&negated_found, &negated)] {
        let best = found
            .best_similarity
            .expect("an adapted search reports how close the documents came");
        assert!(chunks.values().all(|s| *s <= best + 1e-6), "{best} against {chunks:?}");
    }
    let both: Vec<&Uuid> = as_is.keys().filter(|id| negated.contains_key(id)).collect();
    assert!(!both.is_empty(), "the full-text list finds the same chunks either way");
    for id in both {
        assert!(
            (as_is[id] + negated[id]).abs() < 1e-3,
            "{} against {}",
            as_is[id],
            negated[id]
        );
    }
    assert!(
        as_is.values().any(|s| *s > 0.1),
        "the query's own chunk is close: {as_is:?}"
    );
}

#[tokio::test]
async fn postgres_a_query_adapter_reads_the_query_the_store_searches_with() {
    let (store, _database) = pg_store().await;
    a_query_adapter_reads_the_query_the_store_searches_with(store).await;
}

#[tokio::test]
async fn sqlite_a_query_adapter_reads_the_query_the_store_searches_with() {
    let (store, _dir) = sqlite_store().await;
    a_query_adapter_reads_the_query_the_store_searches_with(store).await;
}

async fn every_sentence_of_a_found_chunk_is_matched_piece_by_piece<S: ChunkStore + 'static>(store: S) {
    let member = Uuid::new_v4();
    ingest(
        &PieceHashingEmbedder,
        &store,
        &own(member),
        &sample_plan("pieces"),
        |_, _| {},
    )
    .await
    .unwrap();
    let retriever = Retriever::new(PieceHashingEmbedder, store, budgets().retrieve);
    let query = "ambulance trip";
    let question: Vec<String> = hashed_words(query).map(str::to_lowercase).collect();
    let found = retriever.search(&alone(member), query, 5, soon()).await.unwrap();
    assert!(!found.chunks.is_empty());
    let mut unmatched = 0;
    for chunk in &found.chunks {
        let sentences = navigator_platform::text::sentences(&chunk.text);
        assert_eq!(
            chunk.piece_matches.len(),
            sentences.len(),
            "one row a sentence: {}",
            chunk.text
        );
        for (matches, sentence) in chunk.piece_matches.iter().zip(&sentences) {
            assert_eq!(matches.len(), question.len(), "one match a question piece");
            let words: Vec<String> = hashed_words(sentence).map(str::to_lowercase).collect();
            for (found, word) in matches.iter().zip(&question) {
                if words.contains(word) {
                    assert!(*found > 0.99, "{word:?} in {sentence:?} matched at {found}");
                } else if *found < 0.5 {
                    unmatched += 1;
                }
            }
        }
    }
    assert!(unmatched > 0, "a sentence without a question word does not match it");
}

async fn chunks_stored_without_pieces_are_found_without_matches<S: ChunkStore + 'static>(store: S) {
    let member = Uuid::new_v4();
    // Embedded by a model of the same name that gave no pieces (or stored before pieces were).
    ingest(
        &HashingEmbedder,
        &store,
        &own(member),
        &sample_plan("no pieces"),
        |_, _| {},
    )
    .await
    .unwrap();
    let retriever = Retriever::new(PieceHashingEmbedder, store, budgets().retrieve);
    let found = retriever
        .search(&alone(member), "ambulance trip", 5, soon())
        .await
        .unwrap();
    assert!(!found.chunks.is_empty());
    for chunk in &found.chunks {
        assert!(!chunk.units.is_empty(), "sentences are still scored by vector");
        assert!(chunk.piece_matches.is_empty(), "{:?}", chunk.piece_matches);
    }
}

/// Counts every text it is asked to embed.
#[derive(Default)]
struct CountingEmbedder {
    seen: std::sync::Mutex<Vec<String>>,
}

impl Embedder for CountingEmbedder {
    fn model(&self) -> &str {
        HashingEmbedder.model()
    }

    fn dimensions(&self) -> usize {
        HashingEmbedder.dimensions()
    }

    async fn embed(&self, texts: Vec<String>, deadline: Deadline) -> Result<Vec<Vec<f32>>, NavigatorError> {
        self.seen.lock().unwrap().extend(texts.iter().cloned());
        HashingEmbedder.embed(texts, deadline).await
    }

    fn calls_in_flight(&self) -> usize {
        HashingEmbedder.calls_in_flight()
    }
}

async fn a_sentence_repeated_in_a_document_is_embedded_once_and_scored_everywhere<S: ChunkStore + 'static>(store: S) {
    let member = Uuid::new_v4();
    let boilerplate = "Call Member Services at 1-800-555-0100 if you have questions about this benefit.";
    // Eight pages, each long enough to be chunks of its own, each ending in the same sentence.
    let pages: Vec<String> = (0..8)
        .map(|page| {
            let body: Vec<String> = (0..30)
                .map(|n| format!("Benefit {page} rule {n} covers service number {page}{n} in full."))
                .collect();
            format!("{} {boilerplate}", body.join(" "))
        })
        .collect();
    let source = navigator_retrieval::document::from_bytes(
        "repeated",
        navigator_retrieval::document::DocumentKind::Text,
        pages.join("\u{c}").as_bytes(),
    )
    .unwrap();
    let embedder = CountingEmbedder::default();
    let report = ingest(&embedder, &store, &own(member), &source, |_, _| {})
        .await
        .unwrap();
    assert!(report.chunks >= 8, "{} chunks", report.chunks);
    let seen = embedder.seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().filter(|text| *text == boilerplate).count(),
        1,
        "embedded once"
    );

    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    let query = "questions about Member Services";
    let query_vector = HashingEmbedder
        .embed(vec![query.into()], soon())
        .await
        .unwrap()
        .remove(0);
    let expected: f32 = HashingEmbedder.embed(vec![boilerplate.into()], soon()).await.unwrap()[0]
        .iter()
        .zip(&query_vector)
        .map(|(a, b)| a * b)
        .sum();
    let found = retriever.search(&alone(member), query, 8, soon()).await.unwrap();
    let holding: Vec<_> = found.chunks.iter().filter(|c| c.text.contains(boilerplate)).collect();
    assert!(holding.len() >= 2, "several chunks hold it: {}", holding.len());
    for chunk in holding {
        let sentences = navigator_platform::text::sentences(&chunk.text);
        assert_eq!(chunk.units.len(), sentences.len(), "one score a sentence");
        let at = sentences.iter().position(|s| s == boilerplate).unwrap();
        assert!(
            (chunk.units[at] - expected).abs() < 1e-3,
            "{} vs {expected}",
            chunk.units[at]
        );
    }
}

async fn a_section_read_returns_that_section_only<S: ChunkStore + 'static>(store: S) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for (member, marker) in [(a, "alpha-only"), (b, "bravo-only")] {
        ingest(&HashingEmbedder, &store, &own(member), &sample_plan(marker), |_, _| {})
            .await
            .unwrap();
    }
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    let read = |member: Uuid, section: &str| {
        let section = SectionRef::parse(section).unwrap();
        let retriever = &retriever;
        async move {
            retriever
                .search_within(&alone(member), "ambulance copayment", Some(&section), 5, soon())
                .await
                .unwrap()
                .chunks
        }
    };
    // The query is about ambulances, but the section asked for is the hearing-aid one.
    let hearing = read(a, "Chapter 4, Section 3").await;
    assert!(!hearing.is_empty());
    for chunk in &hearing {
        assert!(chunk.section.contains("SECTION 3 Hearing aids"), "{chunk:?}");
        assert!(chunk.text.contains("alpha-only") && !chunk.text.contains("bravo-only"));
    }
    let benefits = read(a, "Section 2.1").await;
    assert!(
        benefits.iter().any(|c| c.text.contains("$180 copayment")),
        "{benefits:?}"
    );
    assert!(benefits.iter().all(|c| c.section.contains("Section 2.1")));
    assert!(read(a, "Chapter 5, Section 3").await.is_empty(), "another chapter");
    assert!(
        read(a, "Chapter 4, Section 2").await.is_empty(),
        "Section 2.1 is not Section 2"
    );
    let other = read(b, "Chapter 4, Section 3").await;
    assert!(!other.is_empty() && other.iter().all(|c| c.text.contains("bravo-only")));
    // A plain search of the same words is cached apart from the section read.
    let plain = retriever
        .search(&alone(a), "ambulance copayment", 5, soon())
        .await
        .unwrap()
        .chunks;
    assert!(plain[0].text.contains("$180"), "{plain:?}");
}

#[tokio::test]
async fn postgres_every_sentence_of_a_found_chunk_is_matched_piece_by_piece() {
    let (store, _database) = pg_store().await;
    every_sentence_of_a_found_chunk_is_matched_piece_by_piece(store).await;
}

#[tokio::test]
async fn sqlite_every_sentence_of_a_found_chunk_is_matched_piece_by_piece() {
    let (store, _dir) = sqlite_store().await;
    every_sentence_of_a_found_chunk_is_matched_piece_by_piece(store).await;
}

#[tokio::test]
async fn postgres_chunks_stored_without_pieces_are_found_without_matches() {
    let (store, _database) = pg_store().await;
    chunks_stored_without_pieces_are_found_without_matches(store).await;
}

#[tokio::test]
async fn sqlite_chunks_stored_without_pieces_are_found_without_matches() {
    let (store, _dir) = sqlite_store().await;
    chunks_stored_without_pieces_are_found_without_matches(store).await;
}

#[tokio::test]
async fn postgres_every_sentence_of_a_found_chunk_is_scored_in_order() {
    let (store, _database) = pg_store().await;
    every_sentence_of_a_found_chunk_is_scored_in_order(store).await;
}

#[tokio::test]
async fn sqlite_every_sentence_of_a_found_chunk_is_scored_in_order() {
    let (store, _dir) = sqlite_store().await;
    every_sentence_of_a_found_chunk_is_scored_in_order(store).await;
}

/// Counts the calls in flight at once, each held over a few polls so that calls started together overlap.
struct OverlapEmbedder {
    calls_in_flight: usize,
    in_flight: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl Embedder for OverlapEmbedder {
    fn model(&self) -> &str {
        HashingEmbedder.model()
    }

    fn dimensions(&self) -> usize {
        HashingEmbedder.dimensions()
    }

    async fn embed(&self, texts: Vec<String>, deadline: Deadline) -> Result<Vec<Vec<f32>>, NavigatorError> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, SeqCst);
        HashingEmbedder.embed(texts, deadline).await
    }

    fn calls_in_flight(&self) -> usize {
        self.calls_in_flight
    }
}

#[tokio::test]
async fn an_ingest_keeps_as_many_embedding_calls_in_flight_as_the_embedder_takes() {
    // Enough pages for more batches of chunks than calls in flight.
    let pages: Vec<String> = (0..64)
        .map(|page| {
            (0..30)
                .map(|n| format!("Benefit {page} rule {n} covers service number {page}{n} in full."))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let source = navigator_retrieval::document::from_bytes(
        "long",
        navigator_retrieval::document::DocumentKind::Text,
        pages.join("\u{c}").as_bytes(),
    )
    .unwrap();
    for calls in [1, 3] {
        let (store, _dir) = sqlite_store().await;
        let embedder = OverlapEmbedder {
            calls_in_flight: calls,
            in_flight: Default::default(),
            most: Default::default(),
        };
        let report = ingest(&embedder, &store, &own(Uuid::new_v4()), &source, |_, _| {})
            .await
            .unwrap();
        assert!(
            report.chunks > 3 * navigator_retrieval::ingest::EMBED_BATCH,
            "{} chunks",
            report.chunks
        );
        assert_eq!(
            embedder.most.into_inner(),
            calls,
            "calls in flight at most, and at least"
        );
    }
}

#[tokio::test]
async fn postgres_a_sentence_repeated_in_a_document_is_embedded_once_and_scored_everywhere() {
    let (store, _database) = pg_store().await;
    a_sentence_repeated_in_a_document_is_embedded_once_and_scored_everywhere(store).await;
}

#[tokio::test]
async fn sqlite_a_sentence_repeated_in_a_document_is_embedded_once_and_scored_everywhere() {
    let (store, _dir) = sqlite_store().await;
    a_sentence_repeated_in_a_document_is_embedded_once_and_scored_everywhere(store).await;
}

#[tokio::test]
async fn postgres_section_read_returns_that_section_only() {
    a_section_read_returns_that_section_only(pg_store().await.0).await;
}

#[tokio::test]
async fn sqlite_section_read_returns_that_section_only() {
    let (store, _dir) = sqlite_store().await;
    a_section_read_returns_that_section_only(store).await;
}

#[tokio::test]
async fn postgres_member_b_never_sees_member_a() {
    member_b_never_sees_member_a(pg_store().await.0).await;
}

#[tokio::test]
async fn sqlite_member_b_never_sees_member_a() {
    let (store, _dir) = sqlite_store().await;
    member_b_never_sees_member_a(store).await;
}

#[tokio::test]
async fn postgres_plan_members_read_its_documents_and_nobody_elses() {
    a_plans_members_read_its_documents_and_nobody_elses(pg_store().await.0).await;
}

#[tokio::test]
async fn sqlite_plan_members_read_its_documents_and_nobody_elses() {
    let (store, _dir) = sqlite_store().await;
    a_plans_members_read_its_documents_and_nobody_elses(store).await;
}

#[tokio::test]
async fn postgres_upload_lifecycle() {
    an_upload_goes_pending_ready_failed_deleted_and_is_searchable_only_when_ready(pg_store().await.0).await;
}

#[tokio::test]
async fn sqlite_upload_lifecycle() {
    let (store, _dir) = sqlite_store().await;
    an_upload_goes_pending_ready_failed_deleted_and_is_searchable_only_when_ready(store).await;
}

#[tokio::test]
async fn postgres_reingest_writes_zero_rows() {
    a_reingest_writes_zero_rows(pg_store().await.0).await;
}

#[tokio::test]
async fn sqlite_reingest_writes_zero_rows() {
    let (store, _dir) = sqlite_store().await;
    a_reingest_writes_zero_rows(store).await;
}

#[tokio::test]
async fn postgres_file_cut_by_an_older_pipeline_is_replaced() {
    let (store, _db) = pg_store().await;
    a_file_cut_by_an_older_pipeline_is_replaced(store).await;
}

#[tokio::test]
async fn sqlite_file_cut_by_an_older_pipeline_is_replaced() {
    let (store, _dir) = sqlite_store().await;
    a_file_cut_by_an_older_pipeline_is_replaced(store).await;
}

#[tokio::test]
async fn postgres_half_embedded_document_is_invisible() {
    a_half_embedded_document_is_invisible(pg_store().await.0).await;
}

#[tokio::test]
async fn sqlite_half_embedded_document_is_invisible() {
    let (store, _dir) = sqlite_store().await;
    a_half_embedded_document_is_invisible(store).await;
}

#[tokio::test]
async fn postgres_search_finds_the_answer_with_its_page_and_section() {
    let (store, _database) = pg_store().await;
    let member = Uuid::new_v4();
    ingest(&HashingEmbedder, &store, &own(member), &sample_plan("m"), |_, _| {})
        .await
        .unwrap();
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    let found = retriever
        .search(&alone(member), "hearing aids copayment per aid", 3, soon())
        .await
        .unwrap();
    let best = &found.chunks[0];
    assert!(best.text.contains("$550 copayment per aid"), "{best:?}");
    assert_eq!(best.page, 2);
    assert!(best.section.contains("SECTION 3 Hearing aids"));
}

#[tokio::test]
async fn a_stopped_database_is_dependency_unavailable() {
    let (store, database) = pg_store().await;
    let member = Uuid::new_v4();
    ingest(&HashingEmbedder, &store, &own(member), &sample_plan("m"), |_, _| {})
        .await
        .unwrap();
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    retriever.search(&alone(member), "ambulance", 3, soon()).await.unwrap();

    // The database goes away under a warm pool: live connections are killed and new ones are refused.
    let admin = database.admin_pool().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS false",
        database.name
    )))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&database.name)
    .execute(&admin)
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let error = retriever
        .search(&alone(member), "hearing aids", 3, soon())
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "DependencyUnavailable", "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "failed slowly: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_deadline_in_the_past_is_a_timeout_without_touching_the_database() {
    // Port 1 has no server: any attempt to use the database would fail as DependencyUnavailable instead.
    let options = TestDatabase::empty().await.options.port(1);
    let pool = pg_pool(options, &PoolSettings::new(1, Duration::from_secs(2), "never-used"));
    let retriever = Retriever::new(HashingEmbedder, PgStore::new(pool.clone()), budgets().retrieve);
    let expired = Deadline::after(Duration::ZERO);
    let error = retriever
        .search(&alone(Uuid::new_v4()), "ambulance", 3, expired)
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "Timeout");
    assert_eq!(pool.size(), 0, "no connection was attempted");
}

#[tokio::test]
async fn sqlite_a_file_of_the_layout_before_plans_is_rebuilt_and_works() {
    let dir = tempdir::Dir::new();
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path.join("navigator.sqlite"))
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::query(
            "CREATE TABLE documents (document_id BLOB PRIMARY KEY, user_id BLOB NOT NULL, title TEXT NOT NULL,
             source_sha256 TEXT NOT NULL, status TEXT NOT NULL, UNIQUE (user_id, source_sha256))",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let store = SqliteStore::open(&dir.path).await.unwrap();
    let member = Uuid::new_v4();
    ingest(
        &HashingEmbedder,
        &store,
        &own(member),
        &sample_plan("rebuilt"),
        |_, _| {},
    )
    .await
    .unwrap();
    let retriever = Retriever::new(HashingEmbedder, store, budgets().retrieve);
    let found = retriever
        .search(&alone(member), "ambulance trip", 5, soon())
        .await
        .unwrap();
    assert!(found.chunks.iter().any(|c| c.text.contains("rebuilt")));
    // Opening it again keeps what is there.
    drop(retriever);
    let again = SqliteStore::open(&dir.path).await.unwrap();
    let retriever = Retriever::new(HashingEmbedder, again, budgets().retrieve);
    let found = retriever
        .search(&alone(member), "ambulance trip", 5, soon())
        .await
        .unwrap();
    assert!(!found.chunks.is_empty(), "a current file is not rebuilt");
}

async fn a_cached_result_never_outlives_a_document_deleted_elsewhere<S: ChunkStore + DocumentRegistry + 'static>(
    searching: S,
    deleting: S,
) {
    let member = Uuid::new_v4();
    let report = ingest(
        &HashingEmbedder,
        &searching,
        &own(member),
        &sample_plan("my-upload"),
        |_, _| {},
    )
    .await
    .unwrap();
    let retriever = Retriever::new(HashingEmbedder, searching, budgets().retrieve);
    let readers = alone(member);
    let search = || retriever.search(&readers, "ambulance trip copayment", 5, soon());
    assert!(!search().await.unwrap().chunks.is_empty());
    assert!(!search().await.unwrap().chunks.is_empty(), "served from the cache");
    // Another execution environment (the ingest function) deletes it; this one's cache is not told.
    assert!(deleting.delete_document(report.document_id).await.unwrap());
    assert!(
        search().await.unwrap().chunks.is_empty(),
        "a deleted document is never cited again"
    );
}

#[tokio::test]
async fn postgres_a_cached_result_never_outlives_a_document_deleted_elsewhere() {
    let (store, _database) = pg_store().await;
    let other = store.clone();
    a_cached_result_never_outlives_a_document_deleted_elsewhere(store, other).await;
}

#[tokio::test]
async fn sqlite_a_cached_result_never_outlives_a_document_deleted_elsewhere() {
    let (store, dir) = sqlite_store().await;
    let other = SqliteStore::open(&dir.path).await.unwrap();
    a_cached_result_never_outlives_a_document_deleted_elsewhere(store, other).await;
}
