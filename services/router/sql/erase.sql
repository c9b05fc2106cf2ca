-- Erasure of the personal data of requests: ONE statement per table that can hold it.
--
-- `triage erase` (one person, GDPR art. 17) and `triage purge` (retention) run every
-- statement of this file, in file order, in one transaction per batch, each with
-- $1 = the request ids (uuid[]). A table or column added later that holds personal
-- data is covered by adding its statement here (or extending its table's), nothing
-- else: tests/integration/router/test_erasure.py scans every text and jsonb column of
-- every table after an erasure, so a forgotten one fails the test.
-- The audit trail keeps its rows as tombstones: who did what when, without free text.

-- name: work_items
-- The request text, the intake system's reference and the explanation's snippets go;
-- routing, workflow and statistics columns stay.
UPDATE work_items w
SET subject = NULL, body = NULL, attachments = NULL, metadata = NULL, key_points = NULL,
    external_id = 'erased',
    classification = jsonb_set(
        w.classification, '{explanation,cues}',
        COALESCE((SELECT jsonb_agg(c - 'snippet')
                  FROM jsonb_array_elements(w.classification #> '{explanation,cues}') c),
                 '[]'::jsonb)),
    purged_at = COALESCE(w.purged_at, now()), updated_at = now()
WHERE w.request_id = ANY($1::uuid[]);

-- name: letters
-- Letters quote the requester (name, address): drafts and validated ones go.
DELETE FROM letters WHERE request_id = ANY($1::uuid[]);

-- name: documents
-- The stored originals of the request's files (claim-check, written by ingest).
DELETE FROM documents WHERE request_id = ANY($1::uuid[]);

-- name: intake_requests
-- Ingest's ledger of accepted external ids (the source's reference can name a person).
DELETE FROM intake_requests WHERE request_id = ANY($1::uuid[]);

-- name: item_identities
-- Keyed hashes of the person's identifiers (related cases).
DELETE FROM item_identities WHERE request_id = ANY($1::uuid[]);

-- name: item_embeddings
-- The text's embedding (a vector of the request's text).
DELETE FROM item_embeddings WHERE request_id = ANY($1::uuid[]);

-- name: item_duplicates
-- Likely-duplicate links, either way (closed_duplicates keeps only ids, for duplicate_of).
DELETE FROM item_duplicates
WHERE request_id = ANY($1::uuid[]) OR duplicate_id = ANY($1::uuid[]);

-- name: audit_events
-- Agents' reasons (masked, but a name is no identifier the masking knows).
UPDATE audit_events SET details = erased_details(details)
WHERE request_id = ANY($1::uuid[]) AND details ? 'reason';

-- name: corrections
UPDATE corrections SET reason = NULL
WHERE request_id = ANY($1::uuid[]) AND reason IS NOT NULL;
