-- Related cases: the same person's items (keyed identifier hashes) and likely
-- duplicates (embeddings). Loaded into services.router.related_db.RelatedQueries.

-- name: insert_identities
-- $1 request ids, $2 identifier hashes (one pair per element).
INSERT INTO item_identities (request_id, identity_hash)
SELECT * FROM unnest($1::uuid[], $2::bytea[])
ON CONFLICT DO NOTHING;

-- name: insert_embeddings
-- $1 request ids, $2 embedders, $3 received_at, $4 float16 vectors.
INSERT INTO item_embeddings (request_id, embedder, received_at, vector)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bytea[])
ON CONFLICT DO NOTHING;

-- name: open_embeddings_since
-- $1 recorded after, $2 received after: vectors of open items for the in-memory index.
SELECT e.request_id, e.embedder, e.received_at, e.vector, e.recorded_at
FROM item_embeddings e JOIN work_items w ON w.request_id = e.request_id
WHERE e.recorded_at > $1 AND e.received_at > $2 AND w.status <> 'done'
ORDER BY e.recorded_at;

-- name: open_among
-- $1 request ids: those still open (the index may hold items closed since).
SELECT request_id FROM work_items WHERE request_id = ANY ($1::uuid[]) AND status <> 'done';

-- name: insert_duplicates
-- $1 new items, $2 their likely duplicates, $3 cosine similarities.
INSERT INTO item_duplicates (request_id, duplicate_id, similarity)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::real[])
ON CONFLICT DO NOTHING;

-- name: same_person_items
-- $1 item id, $2 limit: other open items sharing an identifier hash with it.
SELECT w.request_id, w.queue, w.status, w.type, w.urgency, w.received_at,
       count(DISTINCT mine.identity_hash) AS shared
FROM item_identities mine
JOIN item_identities other
  ON other.identity_hash = mine.identity_hash AND other.request_id <> mine.request_id
JOIN work_items w ON w.request_id = other.request_id
WHERE mine.request_id = $1 AND w.status <> 'done'
GROUP BY w.request_id
ORDER BY w.received_at, w.request_id
LIMIT $2;

-- name: likely_duplicates
-- $1 item id: open items recorded as its likely duplicates, either way round.
SELECT w.request_id, w.queue, w.status, w.type, w.urgency, w.received_at,
       d.similarity
FROM item_duplicates d
JOIN work_items w
  ON w.request_id = CASE WHEN d.request_id = $1 THEN d.duplicate_id ELSE d.request_id END
WHERE (d.request_id = $1 OR d.duplicate_id = $1) AND w.status <> 'done'
ORDER BY d.similarity DESC, w.request_id;

-- name: close_duplicate
-- $1 item, $2 actor, $3 visible queues (NULL: all), $4 the item it duplicates.
-- Like complete (only the holder, one statement), plus the link and the audit.
WITH target AS (
    SELECT request_id FROM work_items WHERE request_id = $4 AND request_id <> $1
), updated AS (
    UPDATE work_items
    SET status = 'done', completed_by = $2, completed_at = now(), claimed_by = NULL,
        lease_expires_at = NULL, updated_at = now()
    WHERE request_id = $1 AND status = 'claimed' AND claimed_by = $2
      AND ($3::text[] IS NULL OR queue = ANY ($3)) AND EXISTS (SELECT 1 FROM target)
    RETURNING request_id, queue, priority, type, urgency, corrected, completed_at
), link AS (
    INSERT INTO closed_duplicates (request_id, duplicate_of, closed_by)
    SELECT request_id, $4, $2 FROM updated
), audit AS (
    INSERT INTO audit_events (request_id, event, actor, queue, details)
    SELECT request_id, 'completed', $2, queue,
           jsonb_build_object('type', type, 'urgency', urgency, 'corrected', corrected,
                              'duplicate_of', $4::text)
    FROM updated
)
SELECT request_id, queue, priority, type, urgency, corrected, completed_at,
       $4::uuid AS duplicate_of
FROM updated;

-- name: item_exists
SELECT EXISTS (SELECT 1 FROM work_items WHERE request_id = $1);

-- name: duplicate_of
SELECT duplicate_of FROM closed_duplicates WHERE request_id = $1;

-- Purge and erasure: the statements of erase.sql (one per table holding personal data).
