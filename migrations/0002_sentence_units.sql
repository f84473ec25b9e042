-- Each sentence of a chunk embedded on its own (docs/DESIGN.md §6): a search scores the sentences of the chunks it
-- returns, so the answer can lead with the sentence that answers. Sentences are cut by
-- navigator_platform::text::sentences, in order (`ord`), so scores line up with the chunk's text.
CREATE TABLE navigator.units (
    chunk_id  uuid NOT NULL REFERENCES navigator.chunks (chunk_id) ON DELETE CASCADE,
    ord       integer NOT NULL,
    embedding vector NOT NULL,
    PRIMARY KEY (chunk_id, ord)
);
