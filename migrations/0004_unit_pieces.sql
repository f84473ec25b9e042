-- Each sentence's word pieces after the sentence model's last layer, in 8 bits (shared/retrieval/src/pieces.rs): a
-- search matches a question's pieces one by one against the sentences of the chunks it returns. NULL for a sentence
-- embedded by a model that gives no pieces (a remote endpoint), or stored before this column.
ALTER TABLE navigator.units ADD COLUMN pieces bytea;
