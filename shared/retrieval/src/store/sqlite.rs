//! The embedded default store: one SQLite file under the data directory, FTS5 for full text, and an exact scan
//! over the readable owners' vectors (a plan is a few thousand chunks; a dot product over 384 floats each takes ~1 ms).

use navigator_platform::NavigatorError;
use navigator_platform::section::SectionRef;
use navigator_resilience::Deadline;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use uuid::Uuid;

use navigator_platform::owner::{Owner, Readers};

use super::{
    Begin, Candidate, ChunkStore, DocumentInfo, DocumentRegistry, DocumentSize, DocumentState, DocumentStatus,
    NewDocument, Origin, SearchRequest, StoredChunk, Upload, fuse,
};
use crate::embed::dot;

/// The layout's version (`PRAGMA user_version`). 1: documents owned by a plan or a member (`owner`), with a status
/// a member can read. A file of an older layout is rebuilt empty: the embedded store only holds what was ingested
/// from files on this machine, and the sample plan is ingested again on first use.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS documents (
        document_id BLOB PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, source_sha256 TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'ingesting', 'ready', 'failed')),
        file_name TEXT, reason TEXT, pages INTEGER, chunks INTEGER,
        created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (owner, source_sha256))",
    "CREATE INDEX IF NOT EXISTS documents_owner_status ON documents (owner, status)",
    "CREATE TABLE IF NOT EXISTS chunks (
        chunk_id BLOB PRIMARY KEY, document_id BLOB NOT NULL REFERENCES documents (document_id) ON DELETE CASCADE,
        owner TEXT NOT NULL, ord INTEGER NOT NULL, page_start INTEGER NOT NULL, page_end INTEGER NOT NULL,
        section TEXT NOT NULL, text TEXT NOT NULL, tokens INTEGER NOT NULL, embed_model TEXT NOT NULL,
        embedding BLOB NOT NULL, UNIQUE (document_id, ord))",
    "CREATE INDEX IF NOT EXISTS chunks_owner_model ON chunks (owner, embed_model)",
    // Each sentence's vector, concatenated in order: scored in memory for the few chunks a search returns.
    "CREATE TABLE IF NOT EXISTS units (
        chunk_id BLOB PRIMARY KEY REFERENCES chunks (chunk_id) ON DELETE CASCADE, embeddings BLOB NOT NULL)",
    // Each sentence's word pieces in 8 bits, one sentence after another (`crate::pieces`): read only for the chunks
    // a search returns. A chunk embedded by a model without pieces has no row.
    "CREATE TABLE IF NOT EXISTS unit_pieces (
        chunk_id BLOB PRIMARY KEY REFERENCES chunks (chunk_id) ON DELETE CASCADE, pieces BLOB NOT NULL)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
        section, text, content='chunks', content_rowid='rowid', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts (rowid, section, text) VALUES (new.rowid, new.section, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, section, text) VALUES ('delete', old.rowid, old.section, old.text); END",
];

/// What an older layout's file loses when it is rebuilt.
const OLD_LAYOUT: &[&str] = &[
    "DROP TRIGGER IF EXISTS chunks_fts_insert",
    "DROP TRIGGER IF EXISTS chunks_fts_delete",
    "DROP TABLE IF EXISTS chunks_fts",
    "DROP TABLE IF EXISTS unit_pieces",
    "DROP TABLE IF EXISTS units",
    "DROP TABLE IF EXISTS chunks",
    "DROP TABLE IF EXISTS documents",
];

/// One owner's ready vectors for one model, held in memory: (rowid, chunk vector, sentence vectors).
type VectorSet = Arc<Vec<(i64, Vec<f32>, Vec<Vec<f32>>)>>;

/// The SQLite-backed store.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Loaded per owner on the first search that reads it and dropped on any write, so a scan never reads blobs
    /// from disk. A plan's set is shared by all of its members.
    vectors: Arc<Mutex<HashMap<(String, String), VectorSet>>>,
}

fn db_error(error: sqlx::Error) -> NavigatorError {
    NavigatorError::unavailable("sqlite", error)
}

impl SqliteStore {
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Opens (creating if needed) `navigator.sqlite` under `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<Self, NavigatorError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| NavigatorError::internal(format!("cannot create {}: {e}", data_dir.display())))?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join("navigator.sqlite"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await
            .map_err(db_error)?;
        let has_tables: bool = sqlx::query_scalar("SELECT count(*) > 0 FROM sqlite_master WHERE name = 'documents'")
            .fetch_one(&pool)
            .await
            .map_err(db_error)?;
        if has_tables && version < SCHEMA_VERSION {
            tracing::warn!(
                path = %data_dir.join("navigator.sqlite").display(),
                "the embedded store predates plan documents and is rebuilt empty: ingest member documents again"
            );
            for statement in OLD_LAYOUT {
                sqlx::query(*statement).execute(&pool).await.map_err(db_error)?;
            }
        }
        for statement in SCHEMA {
            sqlx::query(*statement).execute(&pool).await.map_err(db_error)?;
        }
        // Only a constant is formatted in.
        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA user_version = {SCHEMA_VERSION}")))
            .execute(&pool)
            .await
            .map_err(db_error)?;
        Ok(Self {
            pool,
            vectors: Arc::default(),
        })
    }

    /// The vectors of every owner a search may read.
    async fn vector_sets(&self, owners: &[String], embed_model: &str) -> Result<Vec<VectorSet>, NavigatorError> {
        let mut sets = Vec::with_capacity(owners.len());
        for owner in owners {
            sets.push(self.vector_set(owner, embed_model).await?);
        }
        Ok(sets)
    }

    async fn vector_set(&self, owner: &str, embed_model: &str) -> Result<VectorSet, NavigatorError> {
        let key = (owner.to_string(), embed_model.to_string());
        if let Some(set) = self.vectors.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(Arc::clone(set));
        }
        let rows = sqlx::query(
            "SELECT c.rowid, c.embedding, u.embeddings FROM chunks c JOIN documents d ON d.document_id = c.document_id
             LEFT JOIN units u ON u.chunk_id = c.chunk_id
             WHERE c.owner = ? AND c.embed_model = ? AND d.status = 'ready'",
        )
        .bind(owner)
        .bind(embed_model)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let set: VectorSet = Arc::new(
            rows.iter()
                .map(|row| {
                    let chunk = floats(row.get::<&[u8], _>(1));
                    let units = row
                        .get::<Option<&[u8]>, _>(2)
                        .map(|blob| {
                            floats(blob)
                                .chunks_exact(chunk.len().max(1))
                                .map(<[f32]>::to_vec)
                                .collect()
                        })
                        .unwrap_or_default();
                    (row.get(0), chunk, units)
                })
                .collect(),
        );
        self.vectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::clone(&set));
        Ok(set)
    }

    fn forget_vectors(&self) {
        self.vectors.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    async fn search_now(&self, request: &SearchRequest) -> Result<Vec<Candidate>, NavigatorError> {
        if let Some(section) = &request.section {
            return self.search_section(request, section).await;
        }
        let vectors = self.vector_sets(&request.owners, &request.embed_model).await?;
        // Every similarity is computed here, once; the text list's candidates reuse them.
        let similarities: HashMap<i64, f32> = vectors
            .iter()
            .flat_map(|set| set.iter())
            .map(|(rowid, vector, _)| (*rowid, dot(&request.vector, vector)))
            .collect();
        let mut scored: Vec<(i64, f32)> = similarities.iter().map(|(rowid, score)| (*rowid, *score)).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(request.depth);

        let text_ranked: Vec<i64> = if request.terms.is_empty() {
            Vec::new()
        } else {
            let expression = request
                .terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(" OR ");
            // Materialised first: joined directly, SQLite re-runs the MATCH once per chunk row (~100 ms).
            let sql = format!(
                "WITH matches AS MATERIALIZED (
                     SELECT rowid, bm25(chunks_fts, 2.0, 1.0) AS score FROM chunks_fts WHERE chunks_fts MATCH ?)
                 SELECT c.rowid FROM matches m JOIN chunks c ON c.rowid = m.rowid
                 JOIN documents d ON d.document_id = c.document_id
                 WHERE c.owner IN ({}) AND c.embed_model = ? AND d.status = 'ready'
                 ORDER BY m.score LIMIT ?",
                placeholders(request.owners.len())
            );
            // Only `?` placeholders are formatted in; every value is bound.
            let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(expression);
            for owner in &request.owners {
                query = query.bind(owner);
            }
            query
                .bind(&request.embed_model)
                .bind(request.depth as i64)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?
        };

        let mut wanted: Vec<i64> = scored.iter().map(|(rowid, _)| *rowid).collect();
        for rowid in &text_ranked {
            if !wanted.contains(rowid) {
                wanted.push(*rowid);
            }
        }
        let mut details = self.details(&wanted, &similarities).await?;
        score_units(&mut details, &vectors, &request.vector);
        let pick = |rowid: &i64| details.iter().find(|(id, _)| id == rowid).map(|(_, c)| c.clone());
        let vector_list = scored
            .iter()
            .enumerate()
            .filter_map(|(i, (rowid, _))| {
                pick(rowid).map(|c| Candidate {
                    vector_rank: Some(i as u32 + 1),
                    ..c
                })
            })
            .collect();
        let text_list = text_ranked
            .iter()
            .enumerate()
            .filter_map(|(i, rowid)| {
                pick(rowid).map(|c| Candidate {
                    text_rank: Some(i as u32 + 1),
                    ..c
                })
            })
            .collect();
        Ok(fuse(vector_list, text_list))
    }

    /// The chunks of one section, most similar first: one read of the section's rows, similarities from the
    /// member's vectors already in memory.
    async fn search_section(
        &self,
        request: &SearchRequest,
        section: &SectionRef,
    ) -> Result<Vec<Candidate>, NavigatorError> {
        let (chapter, heading) = section.like_patterns();
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM chunks c JOIN documents d ON d.document_id = c.document_id
             WHERE c.owner IN ({}) AND c.embed_model = ? AND d.status = 'ready' AND c.section LIKE ? AND c.section LIKE ?",
            placeholders(request.owners.len())
        );
        // Only the column list, a constant, and `?` placeholders are formatted in; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for owner in &request.owners {
            query = query.bind(owner);
        }
        let rows = query
            .bind(&request.embed_model)
            .bind(chapter)
            .bind(heading)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let vectors = self.vector_sets(&request.owners, &request.embed_model).await?;
        let rowids: HashSet<i64> = rows.iter().map(|row| row.get(0)).collect();
        let similarities: HashMap<i64, f32> = vectors
            .iter()
            .flat_map(|set| set.iter())
            .filter(|(rowid, _, _)| rowids.contains(rowid))
            .map(|(rowid, vector, _)| (*rowid, dot(&request.vector, vector)))
            .collect();
        let mut found: Vec<(i64, Candidate)> = rows
            .iter()
            .map(|row| candidate(row, &similarities))
            .filter(|(_, candidate)| section.holds(&candidate.section))
            .collect();
        score_units(&mut found, &vectors, &request.vector);
        found.sort_by(|a, b| b.1.similarity.total_cmp(&a.1.similarity).then(a.0.cmp(&b.0)));
        let vector_list = found
            .into_iter()
            .take(request.depth)
            .enumerate()
            .map(|(i, (_, candidate))| Candidate {
                vector_rank: Some(i as u32 + 1),
                ..candidate
            })
            .collect();
        Ok(fuse(vector_list, Vec::new()))
    }

    async fn details(
        &self,
        rowids: &[i64],
        similarities: &HashMap<i64, f32>,
    ) -> Result<Vec<(i64, Candidate)>, NavigatorError> {
        if rowids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM chunks c JOIN documents d ON d.document_id = c.document_id
             WHERE c.rowid IN ({})",
            placeholders(rowids.len())
        );
        // Only `?` placeholders and the column list are formatted in; every value is bound.
        let mut query_builder = sqlx::query(sqlx::AssertSqlSafe(sql));
        for rowid in rowids {
            query_builder = query_builder.bind(*rowid);
        }
        let rows = query_builder.fetch_all(&self.pool).await.map_err(db_error)?;
        Ok(rows.iter().map(|row| candidate(row, similarities)).collect())
    }
}

/// `count` comma-separated `?` placeholders.
fn placeholders(count: usize) -> String {
    vec!["?"; count].join(",")
}

/// Each candidate's sentence similarities, from the sentence vectors in memory.
fn score_units(candidates: &mut [(i64, Candidate)], vectors: &[VectorSet], query: &[f32]) {
    let by_rowid: HashMap<i64, &Vec<Vec<f32>>> = vectors
        .iter()
        .flat_map(|set| set.iter())
        .map(|(rowid, _, units)| (*rowid, units))
        .collect();
    for (rowid, candidate) in candidates {
        if let Some(units) = by_rowid.get(rowid) {
            candidate.units = units.iter().map(|unit| dot(query, unit)).collect();
        }
    }
}

/// The columns [`candidate`] reads, in its order.
const CANDIDATE_COLUMNS: &str = "c.rowid, c.chunk_id, c.document_id, d.title, c.page_start, c.section, c.text";

/// A row of [`CANDIDATE_COLUMNS`] as a candidate with no rank yet, and its rowid.
fn candidate(row: &SqliteRow, similarities: &HashMap<i64, f32>) -> (i64, Candidate) {
    let rowid: i64 = row.get(0);
    let candidate = Candidate {
        chunk_id: row.get(1),
        document_id: row.get(2),
        title: row.get(3),
        page: row.get::<i64, _>(4) as u32,
        section: row.get(5),
        text: row.get(6),
        similarity: similarities.get(&rowid).copied().unwrap_or_default(),
        vector_rank: None,
        text_rank: None,
        fused: 0.0,
        units: Vec::new(),
    };
    (rowid, candidate)
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl ChunkStore for SqliteStore {
    async fn begin_document(&self, document: &NewDocument) -> Result<DocumentState, NavigatorError> {
        let owner = document.owner.key();
        let mut transaction = self.pool.begin().await.map_err(db_error)?;
        if document.origin == Origin::Derived {
            // An older pipeline's copy of this file goes (its chunks cascade), so the new one can take its place.
            sqlx::query("DELETE FROM documents WHERE owner = ? AND source_sha256 = ? AND document_id <> ?")
                .bind(&owner)
                .bind(&document.sha256)
                .bind(document.document_id)
                .execute(&mut *transaction)
                .await
                .map_err(db_error)?;
        } else {
            let duplicate: Option<Uuid> = sqlx::query_scalar(
                "SELECT document_id FROM documents WHERE owner = ? AND source_sha256 = ? AND document_id <> ? LIMIT 1",
            )
            .bind(&owner)
            .bind(&document.sha256)
            .bind(document.document_id)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(db_error)?;
            if let Some(duplicate) = duplicate {
                return Ok(DocumentState::Duplicate(duplicate));
            }
        }
        let existing: Option<(String, Option<String>, String)> =
            sqlx::query_as("SELECT owner, source_sha256, status FROM documents WHERE document_id = ?")
                .bind(document.document_id)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(db_error)?;
        let begin = Begin::decide(existing, document);
        match begin {
            Begin::Insert => {
                sqlx::query(
                    "INSERT INTO documents (document_id, owner, title, source_sha256, status) VALUES (?, ?, ?, ?, 'ingesting')",
                )
                .bind(document.document_id)
                .bind(&owner)
                .bind(&document.title)
                .bind(&document.sha256)
                .execute(&mut *transaction)
                .await
                .map_err(db_error)?;
            }
            Begin::OtherOwner => return Err(NavigatorError::invalid("the document id belongs to another owner")),
            Begin::Ready => {}
            Begin::Resume | Begin::Replace => {
                // New bytes under this id replace the old ones; the same bytes pick up where an ingest stopped.
                if begin == Begin::Replace {
                    sqlx::query("DELETE FROM chunks WHERE document_id = ?")
                        .bind(document.document_id)
                        .execute(&mut *transaction)
                        .await
                        .map_err(db_error)?;
                }
                sqlx::query(
                    "UPDATE documents SET title = ?, source_sha256 = ?, status = 'ingesting', reason = NULL,
                            updated_at = CURRENT_TIMESTAMP
                     WHERE document_id = ?",
                )
                .bind(&document.title)
                .bind(&document.sha256)
                .bind(document.document_id)
                .execute(&mut *transaction)
                .await
                .map_err(db_error)?;
            }
        }
        transaction.commit().await.map_err(db_error)?;
        self.forget_vectors();
        Ok(begin.state())
    }

    async fn put_chunks(
        &self,
        document: &NewDocument,
        embed_model: &str,
        chunks: &[StoredChunk],
    ) -> Result<u64, NavigatorError> {
        let mut transaction = self.pool.begin().await.map_err(db_error)?;
        let mut written = 0;
        let owner = document.owner.key();
        for chunk in chunks {
            let result = sqlx::query(
                "INSERT INTO chunks (chunk_id, document_id, owner, ord, page_start, page_end, section, text, tokens,
                                     embed_model, embedding)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chunk_id) DO NOTHING",
            )
            .bind(chunk.chunk_id)
            .bind(document.document_id)
            .bind(&owner)
            .bind(chunk.ord as i64)
            .bind(chunk.page_start as i64)
            .bind(chunk.page_end as i64)
            .bind(&chunk.section)
            .bind(&chunk.text)
            .bind(chunk.tokens as i64)
            .bind(embed_model)
            .bind(bytes(&chunk.embedding))
            .execute(&mut *transaction)
            .await
            .map_err(db_error)?;
            written += result.rows_affected();
            let units: Vec<u8> = chunk.units.iter().flat_map(|unit| bytes(unit)).collect();
            let result = sqlx::query("INSERT INTO units (chunk_id, embeddings) VALUES (?, ?) ON CONFLICT DO NOTHING")
                .bind(chunk.chunk_id)
                .bind(units)
                .execute(&mut *transaction)
                .await
                .map_err(db_error)?;
            written += result.rows_affected();
        }
        // The pieces (about six times the rest) go after the batch's chunks and vectors, so that the pages a search
        // loads first (the vectors) lie together and a cold read is not spread over the pieces.
        for chunk in chunks.iter().filter(|c| !c.pieces.is_empty()) {
            let result = sqlx::query("INSERT INTO unit_pieces (chunk_id, pieces) VALUES (?, ?) ON CONFLICT DO NOTHING")
                .bind(chunk.chunk_id)
                .bind(chunk.pieces.concat())
                .execute(&mut *transaction)
                .await
                .map_err(db_error)?;
            written += result.rows_affected();
        }
        transaction.commit().await.map_err(db_error)?;
        self.forget_vectors();
        Ok(written)
    }

    async fn is_ready(&self, document_id: Uuid) -> Result<bool, NavigatorError> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM documents WHERE document_id = ?")
            .bind(document_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(status.as_deref() == Some("ready"))
    }

    async fn mark_ready(&self, document_id: Uuid, size: DocumentSize) -> Result<bool, NavigatorError> {
        let result = sqlx::query(
            "UPDATE documents SET status = 'ready', pages = ?, chunks = ?, reason = NULL, updated_at = CURRENT_TIMESTAMP
             WHERE document_id = ? AND status <> 'ready'",
        )
        .bind(size.pages as i64)
        .bind(size.chunks as i64)
        .bind(document_id)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        self.forget_vectors();
        Ok(result.rows_affected() > 0)
    }

    async fn documents_version(&self, owners: &[String]) -> Result<String, NavigatorError> {
        // Only `?` placeholders are formatted in; every value is bound.
        let sql = format!(
            "SELECT count(*) || ':' || coalesce(max(updated_at), '') || ':' || coalesce(sum(rowid), 0)
             || ':' || coalesce(group_concat(status), '')
             FROM documents WHERE owner IN ({})",
            placeholders(owners.len())
        );
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for owner in owners {
            query = query.bind(owner);
        }
        query.fetch_one(&self.pool).await.map_err(db_error)
    }

    async fn search(&self, request: &SearchRequest, deadline: Deadline) -> Result<Vec<Candidate>, NavigatorError> {
        deadline
            .run(self.search_now(request))
            .await
            .map_err(|_| NavigatorError::timeout("search"))?
    }

    async fn unit_pieces(
        &self,
        chunk_ids: &[Uuid],
        deadline: Deadline,
    ) -> Result<HashMap<Uuid, Vec<u8>>, NavigatorError> {
        if chunk_ids.is_empty() {
            return Ok(HashMap::new());
        }
        // Only placeholders are formatted in.
        let sql = format!(
            "SELECT chunk_id, pieces FROM unit_pieces WHERE chunk_id IN ({})",
            vec!["?"; chunk_ids.len()].join(", ")
        );
        let mut query = sqlx::query_as::<_, (Uuid, Vec<u8>)>(sqlx::AssertSqlSafe(sql));
        for id in chunk_ids {
            query = query.bind(id);
        }
        let rows = deadline
            .run(query.fetch_all(&self.pool))
            .await
            .map_err(|_| NavigatorError::timeout("word pieces"))?
            .map_err(db_error)?;
        Ok(rows.into_iter().collect())
    }
}

/// The columns [`document_info`] reads, in its order.
const DOCUMENT_COLUMNS: &str = "document_id, owner, title, file_name, status, reason, pages, chunks";

fn document_info(row: &SqliteRow) -> Result<DocumentInfo, NavigatorError> {
    Ok(DocumentInfo {
        document_id: row.get(0),
        owner: Owner::from_key(row.get(1))?,
        title: row.get(2),
        file_name: row.get(3),
        status: DocumentStatus::parse(row.get(4))?,
        reason: row.get(5),
        pages: row.get::<Option<i64>, _>(6).map(|p| p as u32),
        chunks: row.get::<Option<i64>, _>(7).map(|c| c as u32),
    })
}

impl DocumentRegistry for SqliteStore {
    async fn register_upload(&self, upload: &Upload) -> Result<bool, NavigatorError> {
        let result = sqlx::query(
            "INSERT INTO documents (document_id, owner, title, file_name, status) VALUES (?, ?, ?, ?, 'pending')
             ON CONFLICT (document_id) DO NOTHING",
        )
        .bind(upload.document_id)
        .bind(upload.owner.key())
        .bind(&upload.file_name)
        .bind(&upload.file_name)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn document(&self, document_id: Uuid) -> Result<Option<DocumentInfo>, NavigatorError> {
        // Only the column list, a constant, is formatted in.
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE document_id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(document_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(document_info).transpose()
    }

    async fn documents(&self, readers: &Readers) -> Result<Vec<DocumentInfo>, NavigatorError> {
        let owners = readers.owner_keys();
        // Only the column list and `?` placeholders are formatted in; every value is bound.
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE owner IN ({}) ORDER BY created_at DESC, rowid DESC",
            placeholders(owners.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for owner in &owners {
            query = query.bind(owner);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(db_error)?;
        rows.iter().map(document_info).collect()
    }

    async fn fail_document(
        &self,
        document_id: Uuid,
        owner: &Owner,
        file_name: &str,
        reason: &str,
    ) -> Result<(), NavigatorError> {
        let mut transaction = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "INSERT INTO documents (document_id, owner, title, file_name, status, reason) VALUES (?, ?, ?, ?, 'failed', ?)
             ON CONFLICT (document_id) DO UPDATE
                 SET status = 'failed', reason = excluded.reason, source_sha256 = NULL, pages = NULL, chunks = NULL,
                     updated_at = CURRENT_TIMESTAMP
                 WHERE documents.owner = excluded.owner",
        )
        .bind(document_id)
        .bind(owner.key())
        .bind(file_name)
        .bind(file_name)
        .bind(reason)
        .execute(&mut *transaction)
        .await
        .map_err(db_error)?;
        sqlx::query("DELETE FROM chunks WHERE document_id = ? AND owner = ?")
            .bind(document_id)
            .bind(owner.key())
            .execute(&mut *transaction)
            .await
            .map_err(db_error)?;
        transaction.commit().await.map_err(db_error)?;
        self.forget_vectors();
        Ok(())
    }

    async fn delete_document(&self, document_id: Uuid) -> Result<bool, NavigatorError> {
        // Its chunks and their sentence vectors cascade (foreign keys are on).
        let result = sqlx::query("DELETE FROM documents WHERE document_id = ?")
            .bind(document_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        self.forget_vectors();
        Ok(result.rows_affected() > 0)
    }
}
