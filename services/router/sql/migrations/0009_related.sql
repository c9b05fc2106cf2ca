-- 0009: related cases: keyed identifier hashes, embeddings, likely duplicates,
-- items closed as duplicates.

CREATE TABLE item_identities (
    identity_hash bytea NOT NULL,
    request_id    uuid NOT NULL REFERENCES work_items (request_id),
    PRIMARY KEY (identity_hash, request_id)
);

COMMENT ON TABLE item_identities IS
    'HMAC of each identifier (national number, IBAN, e-mail, phone) in a request: '
    'finds the same person''s items; the key is the classifier''s, never stored here';

CREATE INDEX item_identities_request ON item_identities (request_id);

CREATE TABLE item_embeddings (
    request_id  uuid PRIMARY KEY REFERENCES work_items (request_id),
    embedder    text NOT NULL,
    received_at timestamptz NOT NULL,
    vector      bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE item_embeddings IS
    'Embedding (float16, unit norm) of each request''s masked text, for duplicate search';

CREATE INDEX item_embeddings_recorded ON item_embeddings (recorded_at);

CREATE TABLE item_duplicates (
    request_id   uuid NOT NULL REFERENCES work_items (request_id),
    duplicate_id uuid NOT NULL REFERENCES work_items (request_id),
    similarity   real NOT NULL,
    found_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, duplicate_id),
    CONSTRAINT item_duplicates_other_check CHECK (request_id <> duplicate_id)
);

COMMENT ON TABLE item_duplicates IS
    'Likely duplicates found when a request was routed: earlier open items nearly the same';

CREATE INDEX item_duplicates_duplicate ON item_duplicates (duplicate_id);

CREATE TABLE closed_duplicates (
    request_id   uuid PRIMARY KEY REFERENCES work_items (request_id),
    duplicate_of uuid NOT NULL REFERENCES work_items (request_id),
    closed_by    text NOT NULL,
    closed_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT closed_duplicates_other_check CHECK (request_id <> duplicate_of)
);

COMMENT ON TABLE closed_duplicates IS 'Items an agent closed as a duplicate of another';
