-- Issue 14 (documents) and issue 13 item 6 (reused external ids): ingest's tables.
-- One migration set for the one database: ingest writes these, the classifier's
-- extraction stage and the router read documents.

CREATE TABLE intake_requests (
    request_id     uuid PRIMARY KEY,
    source         text NOT NULL,
    external_id    text NOT NULL,
    content_sha256 text NOT NULL,
    accepted_at    timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE intake_requests IS
    'Every accepted (source, external_id) with the hash of its content: a retry is recognised, a reuse refused';

CREATE TABLE documents (
    document_id  uuid PRIMARY KEY,
    request_id   uuid NOT NULL,
    position     smallint NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL,
    size         integer NOT NULL,
    sha256       text NOT NULL,
    content      bytea NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'pending',
    problem      text,
    pages        integer,
    CONSTRAINT documents_position_unique UNIQUE (request_id, position),
    CONSTRAINT documents_status_check CHECK (status IN ('pending', 'extracted', 'unreadable'))
);

COMMENT ON TABLE documents IS
    'Original files of requests (claim-check): events carry only their references';
COMMENT ON COLUMN documents.problem IS 'why an unreadable document could not be read (a code)';
