-- Named queries of the letters (services/router/letters/store.py, LetterQueries).
-- Letters are personal data: `triage erase` and `triage purge` delete them
-- (the `letters` statement of erase.sql).

-- name: letter_item
-- What a letter needs from its item; also the access check (its queue).
SELECT request_id, source, external_id, queue, status, language, received_at, due_at,
       metadata, purged_at
FROM work_items WHERE request_id = $1;

-- name: insert_letter
-- $1 request, $2 kind, $3 language, $4 subject, $5 body, $6 agent. Nothing when an open
-- draft of that kind and language exists (then `open_draft` gives it).
INSERT INTO letters (request_id, kind, language, subject, body, created_by, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (request_id, kind, language) WHERE status = 'draft' DO NOTHING
RETURNING *;

-- name: open_draft
SELECT * FROM letters
WHERE request_id = $1 AND kind = $2 AND language = $3 AND status = 'draft';

-- name: list_letters
SELECT * FROM letters WHERE request_id = $1 ORDER BY id;

-- name: get_letter
SELECT * FROM letters WHERE request_id = $1 AND id = $2;

-- name: update_letter
-- Only a draft changes; a validated letter is what was sent.
UPDATE letters SET subject = $3, body = $4, updated_by = $5, updated_at = now()
WHERE request_id = $1 AND id = $2 AND status = 'draft'
RETURNING *;

-- name: validate_letter
UPDATE letters
SET status = 'validated', validated_by = $3, validated_at = now(),
    updated_by = $3, updated_at = now()
WHERE request_id = $1 AND id = $2 AND status = 'draft'
RETURNING *;
