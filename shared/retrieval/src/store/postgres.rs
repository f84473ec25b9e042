//! The production store: PostgreSQL with pgvector. One query answers a hybrid search: the nearest vectors (HNSW,
//! with pgvector 0.8's iterative scan so the member filter cannot starve the result) and the best full-text
//! matches, both restricted to the ready documents of the owners the member may read (their own and their plan's)
//! and one embedding model.

use crate::db::map_db_error;
use navigator_platform::NavigatorError;
use navigator_resilience::Deadline;
use pgvector::Vector;
use sqlx::Row;
use sqlx::postgres::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

use navigator_platform::owner::{Owner, Readers};

use super::{
    Begin, Candidate, ChunkStore, DocumentInfo, DocumentRegistry, DocumentSize, DocumentState, DocumentStatus,
    NewDocument, Origin, SearchRequest, StoredChunk, Upload, fuse,
};

/// How many graph neighbours HNSW explores per query: recall ≥ 0.95 on a plan-sized filter at ~1 ms.
const EF_SEARCH: u32 = 100;

const HYBRID_SEARCH: &str = "
WITH knn AS (
    SELECT c.chunk_id, row_number() OVER (ORDER BY c.embedding <=> $1) AS rank
    FROM (
        SELECT chunk_id, embedding FROM navigator.chunks c
        WHERE c.owner = ANY($2) AND c.embed_model = $3
          AND EXISTS (SELECT 1 FROM navigator.documents d WHERE d.document_id = c.document_id AND d.status = 'ready')
        ORDER BY c.embedding <=> $1
        LIMIT $5
    ) c
), fts AS (
    SELECT c.chunk_id, row_number() OVER (ORDER BY ts_rank_cd(c.tsv, query) DESC) AS rank
    FROM navigator.chunks c, to_tsquery('english', $4) AS query
    WHERE c.tsv @@ query AND c.owner = ANY($2) AND c.embed_model = $3
      AND EXISTS (SELECT 1 FROM navigator.documents d WHERE d.document_id = c.document_id AND d.status = 'ready')
    ORDER BY ts_rank_cd(c.tsv, query) DESC
    LIMIT $5
)
SELECT c.chunk_id, c.document_id, d.title, c.page_start, c.section, c.text,
       (1 - (c.embedding <=> $1))::real AS similarity, k.rank AS vector_rank, f.rank AS text_rank,
       ARRAY(SELECT (1 - (u.embedding <=> $1))::real FROM navigator.units u
             WHERE u.chunk_id = c.chunk_id ORDER BY u.ord) AS units
FROM (SELECT chunk_id FROM knn UNION SELECT chunk_id FROM fts) ids
JOIN navigator.chunks c USING (chunk_id)
JOIN navigator.documents d USING (document_id)
LEFT JOIN knn k USING (chunk_id)
LEFT JOIN fts f USING (chunk_id)";

/// One section's chunks, most similar first. Exact distances over the readable rows of that section: the filter
/// leaves a handful, so the vector index would only get in the way.
const SECTION_SEARCH: &str = "
SELECT c.chunk_id, c.document_id, d.title, c.page_start, c.section, c.text,
       (1 - (c.embedding <=> $1))::real AS similarity,
       row_number() OVER (ORDER BY c.embedding <=> $1) AS vector_rank, NULL::bigint AS text_rank,
       ARRAY(SELECT (1 - (u.embedding <=> $1))::real FROM navigator.units u
             WHERE u.chunk_id = c.chunk_id ORDER BY u.ord) AS units
FROM navigator.chunks c
JOIN navigator.documents d USING (document_id)
WHERE c.owner = ANY($2) AND c.embed_model = $3 AND d.status = 'ready'
  AND c.section ILIKE $4 AND c.section ILIKE $5
ORDER BY vector_rank
LIMIT $6";

/// The PostgreSQL-backed store. The pool is built once per execution environment.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn search_within(
        &self,
        request: &SearchRequest,
        deadline: Deadline,
    ) -> Result<Vec<Candidate>, NavigatorError> {
        // No connection within the budget means the database is down or its connections are exhausted: that is
        // `DependencyUnavailable`, not a slow query, so the turn answers 503 rather than 504.
        let mut transaction = match deadline.run(self.pool.begin()).await {
            Ok(begun) => begun.map_err(map_db_error)?,
            Err(_) => {
                return Err(NavigatorError::unavailable(
                    "postgres",
                    "no database connection within the search budget",
                ));
            }
        };
        // The database stops the statement no later than the request's deadline.
        let timeout_ms = deadline.remaining().as_millis().max(1);
        let settings = format!(
            "SET LOCAL statement_timeout = {timeout_ms}; SET LOCAL hnsw.ef_search = {EF_SEARCH}; \
             SET LOCAL hnsw.iterative_scan = relaxed_order"
        );
        // Only integers computed here are formatted into the statement.
        sqlx::raw_sql(sqlx::AssertSqlSafe(settings))
            .execute(&mut *transaction)
            .await
            .map_err(map_db_error)?;
        let query = match &request.section {
            Some(section) => {
                let (chapter, heading) = section.like_patterns();
                sqlx::query(SECTION_SEARCH)
                    .bind(Vector::from(request.vector.clone()))
                    .bind(&request.owners)
                    .bind(&request.embed_model)
                    .bind(chapter)
                    .bind(heading)
            }
            None => sqlx::query(HYBRID_SEARCH)
                .bind(Vector::from(request.vector.clone()))
                .bind(&request.owners)
                .bind(&request.embed_model)
                .bind(request.terms.join(" | ")),
        };
        let rows = query
            .bind(request.depth as i64)
            .fetch_all(&mut *transaction)
            .await
            .map_err(map_db_error)?;
        transaction.commit().await.map_err(map_db_error)?;

        let mut vector_list = Vec::new();
        let mut text_list = Vec::new();
        for row in rows {
            let candidate = Candidate {
                chunk_id: row.get(0),
                document_id: row.get(1),
                title: row.get(2),
                page: row.get::<i32, _>(3) as u32,
                section: row.get(4),
                text: row.get(5),
                similarity: row.get(6),
                vector_rank: row.get::<Option<i64>, _>(7).map(|r| r as u32),
                text_rank: row.get::<Option<i64>, _>(8).map(|r| r as u32),
                fused: 0.0,
                units: row.get(9),
            };
            // The LIKE patterns narrow; the section's own rule decides (a deeper path could match them too).
            if request.section.as_ref().is_some_and(|s| !s.holds(&candidate.section)) {
                continue;
            }
            if candidate.vector_rank.is_some() {
                vector_list.push(candidate);
            } else {
                text_list.push(candidate);
            }
        }
        vector_list.sort_by_key(|c| c.vector_rank);
        Ok(fuse(vector_list, text_list))
    }
}

impl ChunkStore for PgStore {
    async fn begin_document(&self, document: &NewDocument) -> Result<DocumentState, NavigatorError> {
        let owner = document.owner.key();
        let mut transaction = self.pool.begin().await.map_err(map_db_error)?;
        if document.origin == Origin::Derived {
            // An older pipeline's copy of this file goes (its chunks cascade), so the new one can take its place.
            sqlx::query(
                "DELETE FROM navigator.documents WHERE owner = $1 AND source_sha256 = $2 AND document_id <> $3",
            )
            .bind(&owner)
            .bind(&document.sha256)
            .bind(document.document_id)
            .execute(&mut *transaction)
            .await
            .map_err(map_db_error)?;
        } else {
            let duplicate: Option<Uuid> = sqlx::query_scalar(
                "SELECT document_id FROM navigator.documents
                 WHERE owner = $1 AND source_sha256 = $2 AND document_id <> $3 LIMIT 1",
            )
            .bind(&owner)
            .bind(&document.sha256)
            .bind(document.document_id)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(map_db_error)?;
            if let Some(duplicate) = duplicate {
                return Ok(DocumentState::Duplicate(duplicate));
            }
        }
        let existing: Option<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT owner, source_sha256, status FROM navigator.documents WHERE document_id = $1 FOR UPDATE",
        )
        .bind(document.document_id)
        .fetch_optional(&mut *transaction)
        .await
        .map_err(map_db_error)?;
        let begin = Begin::decide(existing, document);
        match begin {
            Begin::Insert => {
                sqlx::query(
                    "INSERT INTO navigator.documents (document_id, owner, title, source_sha256, status)
                     VALUES ($1, $2, $3, $4, 'ingesting')",
                )
                .bind(document.document_id)
                .bind(&owner)
                .bind(&document.title)
                .bind(&document.sha256)
                .execute(&mut *transaction)
                .await
                .map_err(map_db_error)?;
            }
            Begin::OtherOwner => return Err(NavigatorError::invalid("the document id belongs to another owner")),
            Begin::Ready => {}
            Begin::Resume | Begin::Replace => {
                // New bytes under this id replace the old ones; the same bytes pick up where an ingest stopped.
                if begin == Begin::Replace {
                    sqlx::query("DELETE FROM navigator.chunks WHERE document_id = $1")
                        .bind(document.document_id)
                        .execute(&mut *transaction)
                        .await
                        .map_err(map_db_error)?;
                }
                sqlx::query(
                    "UPDATE navigator.documents SET title = $2, source_sha256 = $3, status = 'ingesting', reason = NULL,
                            updated_at = now()
                     WHERE document_id = $1",
                )
                .bind(document.document_id)
                .bind(&document.title)
                .bind(&document.sha256)
                .execute(&mut *transaction)
                .await
                .map_err(map_db_error)?;
            }
        }
        transaction.commit().await.map_err(map_db_error)?;
        Ok(begin.state())
    }

    async fn put_chunks(
        &self,
        document: &NewDocument,
        embed_model: &str,
        chunks: &[StoredChunk],
    ) -> Result<u64, NavigatorError> {
        let mut transaction = self.pool.begin().await.map_err(map_db_error)?;
        let mut written = 0;
        let owner = document.owner.key();
        for chunk in chunks {
            let result = sqlx::query(
                "INSERT INTO navigator.chunks (chunk_id, document_id, owner, ord, page_start, page_end, section, text,
                                               tokens, embed_model, embedding)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (chunk_id) DO NOTHING",
            )
            .bind(chunk.chunk_id)
            .bind(document.document_id)
            .bind(&owner)
            .bind(chunk.ord as i32)
            .bind(chunk.page_start as i32)
            .bind(chunk.page_end as i32)
            .bind(&chunk.section)
            .bind(&chunk.text)
            .bind(chunk.tokens as i32)
            .bind(embed_model)
            .bind(Vector::from(chunk.embedding.clone()))
            .execute(&mut *transaction)
            .await
            .map_err(map_db_error)?;
            written += result.rows_affected();
            for (ord, unit) in chunk.units.iter().enumerate() {
                let result = sqlx::query(
                    "INSERT INTO navigator.units (chunk_id, ord, embedding, pieces) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .bind(chunk.chunk_id)
                .bind(ord as i32)
                .bind(Vector::from(unit.clone()))
                .bind(chunk.pieces.get(ord))
                .execute(&mut *transaction)
                .await
                .map_err(map_db_error)?;
                written += result.rows_affected();
            }
        }
        transaction.commit().await.map_err(map_db_error)?;
        Ok(written)
    }

    async fn is_ready(&self, document_id: Uuid) -> Result<bool, NavigatorError> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM navigator.documents WHERE document_id = $1")
                .bind(document_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_db_error)?;
        Ok(status.as_deref() == Some("ready"))
    }

    async fn mark_ready(&self, document_id: Uuid, size: DocumentSize) -> Result<bool, NavigatorError> {
        let result = sqlx::query(
            "UPDATE navigator.documents SET status = 'ready', pages = $2, chunks = $3, reason = NULL, updated_at = now()
             WHERE document_id = $1 AND status <> 'ready'",
        )
        .bind(document_id)
        .bind(size.pages as i32)
        .bind(size.chunks as i32)
        .execute(&self.pool)
        .await
        .map_err(map_db_error)?;
        Ok(result.rows_affected() > 0)
    }

    async fn documents_version(&self, owners: &[String]) -> Result<String, NavigatorError> {
        sqlx::query_scalar(
            "SELECT count(*)::text || ':' || coalesce(max(updated_at)::text, '') || ':' || coalesce(max(status), '')
             FROM navigator.documents WHERE owner = ANY($1)",
        )
        .bind(owners)
        .fetch_one(&self.pool)
        .await
        .map_err(map_db_error)
    }

    async fn search(&self, request: &SearchRequest, deadline: Deadline) -> Result<Vec<Candidate>, NavigatorError> {
        if deadline.is_expired() {
            return Err(NavigatorError::timeout("search"));
        }
        deadline
            .run(self.search_within(request, deadline))
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
        // A chunk with any sentence stored without pieces has none that line up: it is left out.
        let rows = sqlx::query_as::<_, (Uuid, Vec<u8>)>(
            "SELECT chunk_id, string_agg(pieces, ''::bytea ORDER BY ord) FROM navigator.units
             WHERE chunk_id = ANY($1) GROUP BY chunk_id HAVING bool_and(pieces IS NOT NULL)",
        )
        .bind(chunk_ids)
        .fetch_all(&self.pool);
        let rows = deadline
            .run(rows)
            .await
            .map_err(|_| NavigatorError::timeout("word pieces"))?
            .map_err(map_db_error)?;
        Ok(rows.into_iter().collect())
    }
}

/// The columns [`document_info`] reads, in its order.
const DOCUMENT_COLUMNS: &str = "document_id, owner, title, file_name, status, reason, pages, chunks";

fn document_info(row: &sqlx::postgres::PgRow) -> Result<DocumentInfo, NavigatorError> {
    Ok(DocumentInfo {
        document_id: row.get(0),
        owner: Owner::from_key(row.get(1))?,
        title: row.get(2),
        file_name: row.get(3),
        status: DocumentStatus::parse(row.get(4))?,
        reason: row.get(5),
        pages: row.get::<Option<i32>, _>(6).map(|p| p as u32),
        chunks: row.get::<Option<i32>, _>(7).map(|c| c as u32),
    })
}

impl DocumentRegistry for PgStore {
    async fn register_upload(&self, upload: &Upload) -> Result<bool, NavigatorError> {
        let result = sqlx::query(
            "INSERT INTO navigator.documents (document_id, owner, title, file_name, status)
             VALUES ($1, $2, $3, $3, 'pending') ON CONFLICT (document_id) DO NOTHING",
        )
        .bind(upload.document_id)
        .bind(upload.owner.key())
        .bind(&upload.file_name)
        .execute(&self.pool)
        .await
        .map_err(map_db_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn document(&self, document_id: Uuid) -> Result<Option<DocumentInfo>, NavigatorError> {
        // Only the column list, a constant, is formatted in.
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM navigator.documents WHERE document_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(document_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_db_error)?;
        row.as_ref().map(document_info).transpose()
    }

    async fn documents(&self, readers: &Readers) -> Result<Vec<DocumentInfo>, NavigatorError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM navigator.documents WHERE owner = ANY($1)
             ORDER BY created_at DESC, document_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(readers.owner_keys())
            .fetch_all(&self.pool)
            .await
            .map_err(map_db_error)?;
        rows.iter().map(document_info).collect()
    }

    async fn fail_document(
        &self,
        document_id: Uuid,
        owner: &Owner,
        file_name: &str,
        reason: &str,
    ) -> Result<(), NavigatorError> {
        let mut transaction = self.pool.begin().await.map_err(map_db_error)?;
        sqlx::query(
            "INSERT INTO navigator.documents (document_id, owner, title, file_name, status, reason)
             VALUES ($1, $2, $3, $3, 'failed', $4)
             ON CONFLICT (document_id) DO UPDATE
                 SET status = 'failed', reason = $4, source_sha256 = NULL, pages = NULL, chunks = NULL, updated_at = now()
                 WHERE navigator.documents.owner = $2",
        )
        .bind(document_id)
        .bind(owner.key())
        .bind(file_name)
        .bind(reason)
        .execute(&mut *transaction)
        .await
        .map_err(map_db_error)?;
        sqlx::query("DELETE FROM navigator.chunks WHERE document_id = $1 AND owner = $2")
            .bind(document_id)
            .bind(owner.key())
            .execute(&mut *transaction)
            .await
            .map_err(map_db_error)?;
        transaction.commit().await.map_err(map_db_error)
    }

    async fn delete_document(&self, document_id: Uuid) -> Result<bool, NavigatorError> {
        // Its chunks and their sentence vectors cascade.
        let result = sqlx::query("DELETE FROM navigator.documents WHERE document_id = $1")
            .bind(document_id)
            .execute(&self.pool)
            .await
            .map_err(map_db_error)?;
        Ok(result.rows_affected() > 0)
    }
}
