-- A document belongs to a plan (loaded once by an operator, read by every member of the plan) or to a member
-- (uploaded by them, read by nobody else): `owner` is `plan:<plan_id>` or `member:<uuid>` (navigator_platform::owner).
-- Existing documents were all members' own, so each keeps its member as owner; nothing is re-ingested.
ALTER TABLE navigator.documents ADD COLUMN owner text;
UPDATE navigator.documents SET owner = 'member:' || user_id::text;
ALTER TABLE navigator.documents ALTER COLUMN owner SET NOT NULL;
ALTER TABLE navigator.documents ADD CONSTRAINT documents_owner_source_key UNIQUE (owner, source_sha256);
-- Dropping user_id drops its unique constraint and documents_user_status_idx with it.
ALTER TABLE navigator.documents DROP COLUMN user_id;
CREATE INDEX documents_owner_status_idx ON navigator.documents (owner, status);

ALTER TABLE navigator.chunks ADD COLUMN owner text;
UPDATE navigator.chunks c SET owner = d.owner FROM navigator.documents d WHERE d.document_id = c.document_id;
ALTER TABLE navigator.chunks ALTER COLUMN owner SET NOT NULL;
-- Dropping user_id drops chunks_user_model_idx; a search reads its member's and its plan's rows through this one.
ALTER TABLE navigator.chunks DROP COLUMN user_id;
CREATE INDEX chunks_owner_model_idx ON navigator.chunks (owner, embed_model);

-- What a member sees of each document (GET /v1/documents): `pending` from the upload until ingest starts, a reason
-- they can read when it `failed`, and its size once cut. Existing rows keep their status.
ALTER TABLE navigator.documents DROP CONSTRAINT documents_status_check;
ALTER TABLE navigator.documents ADD CONSTRAINT documents_status_check
    CHECK (status IN ('pending', 'ingesting', 'ready', 'failed'));
ALTER TABLE navigator.documents
    ADD COLUMN file_name  text,
    ADD COLUMN reason     text,
    ADD COLUMN pages      integer,
    ADD COLUMN chunks     integer,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
-- A pending upload has no bytes yet, and a failed one keeps none: their hash is NULL (so the unique key above only
-- ever holds documents whose bytes were read).
ALTER TABLE navigator.documents ALTER COLUMN source_sha256 DROP NOT NULL;
