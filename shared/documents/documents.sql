-- Named queries of the document store and the intake ledger (shared.documents.store).
-- Tables: services/router/sql/migrations/0002_documents.sql (one migration set).

-- name: record_intake
-- The content hash recorded for this request id: the one given when the id is new,
-- else the one of the first acceptance (a retry matches it, a reuse does not).
WITH inserted AS (
    INSERT INTO intake_requests (request_id, source, external_id, content_sha256)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (request_id) DO NOTHING
    RETURNING content_sha256
)
SELECT content_sha256 FROM inserted
UNION ALL
SELECT content_sha256 FROM intake_requests WHERE request_id = $1
LIMIT 1;

-- name: insert_documents
-- A retry stores nothing twice: the document id is derived from request and position.
INSERT INTO documents (document_id, request_id, position, name, content_type, size, sha256, content)
SELECT * FROM unnest(
    $1::uuid[], $2::uuid[], $3::smallint[], $4::text[], $5::text[], $6::integer[], $7::text[],
    $8::bytea[])
ON CONFLICT (document_id) DO NOTHING;

-- name: request_documents
SELECT document_id, position, name, content_type, size, sha256, content
FROM documents WHERE request_id = $1 ORDER BY position;

-- name: list_documents
-- What the item page lists: everything but the bytes.
SELECT document_id, name, content_type, size, sha256, status, problem, pages
FROM documents WHERE request_id = $1 ORDER BY position;

-- name: mark_documents
-- The extraction stage's outcome per document (a replay writes the same).
UPDATE documents d
SET status = m.status, problem = m.problem, pages = m.pages
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::integer[]) AS m (document_id, status, problem, pages)
WHERE d.document_id = m.document_id;

-- name: get_document
SELECT document_id, name, content_type, size, sha256, content
FROM documents WHERE request_id = $1 AND document_id = $2;
