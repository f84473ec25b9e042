-- Retrieval data (DESIGN.md §6). One row per ingested plan document, one per chunk.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS navigator;

CREATE TABLE navigator.documents (
    document_id   uuid PRIMARY KEY,
    user_id       uuid NOT NULL,
    title         text NOT NULL,
    source_sha256 text NOT NULL,
    -- Searchable only once every chunk has its embedding.
    status        text NOT NULL CHECK (status IN ('ingesting', 'ready', 'failed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, source_sha256)
);
CREATE INDEX documents_user_status_idx ON navigator.documents (user_id, status);

CREATE TABLE navigator.chunks (
    chunk_id    uuid PRIMARY KEY,
    document_id uuid NOT NULL REFERENCES navigator.documents (document_id) ON DELETE CASCADE,
    -- Copied from the document so that the member filter sits on the row the vector index returns.
    user_id     uuid NOT NULL,
    ord         integer NOT NULL,
    page_start  integer NOT NULL,
    page_end    integer NOT NULL,
    section     text NOT NULL,
    text        text NOT NULL,
    tokens      integer NOT NULL,
    embed_model text NOT NULL,
    -- The model decides the dimension (384 for all-MiniLM-L6-v2, 1024 for Titan v2); one model per search.
    embedding   vector NOT NULL,
    tsv         tsvector GENERATED ALWAYS AS (to_tsvector('english', section || ' ' || text)) STORED,
    UNIQUE (document_id, ord)
);
CREATE INDEX chunks_document_idx ON navigator.chunks (document_id);
CREATE INDEX chunks_user_model_idx ON navigator.chunks (user_id, embed_model);
-- One HNSW index per supported dimension. A member's own search goes through chunks_user_model_idx (exact and
-- sub-millisecond at a plan's size); these serve unfiltered and weakly filtered searches.
CREATE INDEX chunks_embedding_384_hnsw ON navigator.chunks
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WITH (m = 16, ef_construction = 64)
    WHERE vector_dims(embedding) = 384;
CREATE INDEX chunks_embedding_1024_hnsw ON navigator.chunks
    USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WITH (m = 16, ef_construction = 64)
    WHERE vector_dims(embedding) = 1024;
CREATE INDEX chunks_tsv_gin ON navigator.chunks USING gin (tsv);
