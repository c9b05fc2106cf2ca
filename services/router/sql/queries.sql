-- Named queries of the router, loaded by services.router.db.load_queries.
-- Parameters are positional; a NULL filter parameter means "any". A NULL
-- "visible queues" array means the caller may see every queue.
-- Every state change writes its audit event in the same statement.

-- name: insert_routed
-- One consumed batch: new work items (duplicates ignored) and a 'routed' event each.
WITH batch AS (
    SELECT *
    FROM unnest(
        $1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
        $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
        $13::text[], $14::boolean[], $15::text[], $16::text[], $17::timestamptz[],
        $18::text[], $19::smallint[], $20::timestamptz[], $21::text[]
    ) AS b (request_id, source, external_id, channel, received_at, accepted_at,
            subject, body, attachments, metadata, language, type,
            urgency, needs_review, model_version, classification, classified_at,
            queue, priority, due_at, details)
), inserted AS (
    INSERT INTO work_items (
        request_id, source, external_id, channel, received_at, accepted_at,
        subject, body, attachments, metadata, language, type, urgency, needs_review,
        model_type, model_urgency, model_version, classification, classified_at,
        queue, priority, due_at)
    SELECT request_id, source, external_id, channel, received_at, accepted_at,
           subject, body, attachments::jsonb, metadata::jsonb, language, type, urgency,
           needs_review, type, urgency, model_version, classification::jsonb, classified_at,
           queue, priority, due_at
    FROM batch
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_id, queue, priority, received_at, queued_at
), audit AS (
    INSERT INTO audit_events (request_id, event, actor, queue, details)
    SELECT i.request_id, 'routed', 'router', i.queue, b.details::jsonb
    FROM inserted i JOIN batch b USING (request_id)
)
SELECT request_id, queue, priority, received_at, queued_at FROM inserted;

-- name: insert_received
INSERT INTO received_requests (request_id, source, received_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])
ON CONFLICT (request_id) DO NOTHING;

-- name: claim_next
-- $1 queue, $2 actor, $3 lease seconds. The most urgent, nearest-due open item that
-- is waiting or whose lease expired; SKIP LOCKED so concurrent claimers never wait
-- for (or get) the same row.
WITH waiting AS (
    SELECT request_id, priority, due_at, status, claimed_by, lease_expires_at
    FROM work_items
    WHERE queue = $1 AND status = 'waiting'
    ORDER BY priority, due_at, request_id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), expired AS (
    SELECT request_id, priority, due_at, status, claimed_by, lease_expires_at
    FROM work_items
    WHERE queue = $1 AND status = 'claimed' AND lease_expires_at < now()
    ORDER BY priority, due_at, request_id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), next AS (
    SELECT request_id, status AS previous_status, claimed_by AS previous_holder,
           lease_expires_at AS previous_lease
    FROM (SELECT * FROM waiting UNION ALL SELECT * FROM expired) AS candidates
    ORDER BY priority, due_at, request_id
    LIMIT 1
), claimed AS (
    UPDATE work_items w
    SET status = 'claimed', claimed_by = $2, claimed_at = now(),
        first_claimed_at = coalesce(w.first_claimed_at, now()),
        lease_expires_at = now() + make_interval(secs => $3), updated_at = now()
    FROM next n
    WHERE w.request_id = n.request_id
    RETURNING w.*, n.previous_status, n.previous_holder, n.previous_lease
), audit AS (
    INSERT INTO audit_events (request_id, event, actor, queue, details)
    SELECT c.request_id, e.event, e.actor, c.queue, e.details
    FROM claimed c
    CROSS JOIN LATERAL (VALUES
        (1, 'lease_expired', 'router',
         jsonb_build_object('holder', c.previous_holder, 'lease_expired_at', c.previous_lease)),
        (2, 'claimed', $2, jsonb_build_object('lease_expires_at', c.lease_expires_at))
    ) AS e (ord, event, actor, details)
    WHERE e.ord = 2 OR c.previous_status = 'claimed'
    ORDER BY e.ord
)
SELECT * FROM claimed;

-- name: heartbeat
-- $1 id, $2 actor, $3 lease seconds, $4 visible queues
WITH updated AS (
    UPDATE work_items
    SET lease_expires_at = now() + make_interval(secs => $3), updated_at = now()
    WHERE request_id = $1 AND status = 'claimed' AND claimed_by = $2
      AND ($4::text[] IS NULL OR queue = ANY ($4))
    RETURNING request_id, queue, lease_expires_at
), audit AS (
    INSERT INTO audit_events (request_id, event, actor, queue, details)
    SELECT request_id, 'heartbeat', $2, queue,
           jsonb_build_object('lease_expires_at', lease_expires_at)
    FROM updated
)
SELECT request_id, queue, lease_expires_at FROM updated;

-- name: complete
-- $1 id, $2 actor, $3 visible queues. Only the holder completes (even after its
-- lease ran out, as long as nobody else claimed the item meanwhile).
WITH updated AS (
    UPDATE work_items
    SET status = 'done', completed_by = $2, completed_at = now(), claimed_by = NULL,
        lease_expires_at = NULL, updated_at = now()
    WHERE request_id = $1 AND status = 'claimed' AND claimed_by = $2
      AND ($3::text[] IS NULL OR queue = ANY ($3))
    RETURNING request_id, queue, priority, type, urgency, corrected, completed_at,
              received_at, due_at
), audit AS (
    INSERT INTO audit_events (request_id, event, actor, queue, details)
    SELECT request_id, 'completed', $2, queue,
           jsonb_build_object('type', type, 'urgency', urgency, 'corrected', corrected)
    FROM updated
)
SELECT request_id, queue, priority, type, urgency, corrected, completed_at, received_at, due_at
FROM updated;

-- name: release
-- $1 id, $2 actor, $3 caller is a lead (may release anybody's claim), $4 visible queues
WITH previous AS (
    SELECT request_id, claimed_by FROM work_items WHERE request_id = $1 FOR UPDATE
), updated AS (
    UPDATE work_items w
    SET status = 'waiting', claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL,
        updated_at = now()
    FROM previous p
    WHERE w.request_id = p.request_id AND w.status = 'claimed'
      AND (w.claimed_by = $2 OR $3::boolean)
      AND ($4::text[] IS NULL OR w.queue = ANY ($4))
    RETURNING w.request_id, w.queue, p.claimed_by AS holder
), audit AS (
    INSERT INTO audit_events (request_id, event, actor, queue, details)
    SELECT request_id, 'released', $2, queue, jsonb_build_object('holder', holder)
    FROM updated
)
SELECT request_id, queue, holder FROM updated;

-- name: reassign
-- $1 id, $2 actor, $3 caller is a lead, $4 visible queues, $5 target queue, $6 reason
WITH previous AS (
    SELECT request_id, queue FROM work_items WHERE request_id = $1 FOR UPDATE
), updated AS (
    UPDATE work_items w
    SET queue = $5, status = 'waiting', claimed_by = NULL, claimed_at = NULL,
        lease_expires_at = NULL, updated_at = now()
    FROM previous p
    WHERE w.request_id = p.request_id AND w.status <> 'done' AND w.queue <> $5
      AND (w.claimed_by = $2 OR $3::boolean)
      AND ($4::text[] IS NULL OR w.queue = ANY ($4))
    RETURNING w.request_id, p.queue AS from_queue, w.queue
), audit AS (
    INSERT INTO audit_events (request_id, event, actor, queue, details)
    SELECT request_id, 'reassigned', $2, queue,
           jsonb_build_object('from', from_queue, 'to', queue, 'reason', $6::text)
    FROM updated
)
SELECT request_id, from_queue, queue FROM updated;

-- name: item_state
-- Why did a conditional update not match? The current state answers it.
SELECT request_id, queue, status, claimed_by, lease_expires_at
FROM work_items WHERE request_id = $1;

-- name: lock_item
SELECT * FROM work_items WHERE request_id = $1 FOR UPDATE;

-- name: apply_correction
-- $1 id, $2 type, $3 urgency, $4 queue, $5 priority, $6 due_at, $7 keep the claim,
-- $8 the human label: 'corrected' (new type/urgency) or 'confirmed' (the model's kept)
UPDATE work_items
SET type = $2, urgency = $3, queue = $4, priority = $5, due_at = $6,
    needs_review = false, updated_at = now(),
    corrected = corrected OR $8::text = 'corrected',
    confirmed = confirmed OR $8::text = 'confirmed',
    status = CASE WHEN $7::boolean THEN status ELSE 'waiting' END,
    claimed_by = CASE WHEN $7::boolean THEN claimed_by END,
    claimed_at = CASE WHEN $7::boolean THEN claimed_at END,
    lease_expires_at = CASE WHEN $7::boolean THEN lease_expires_at END
WHERE request_id = $1
RETURNING *;

-- name: insert_correction
INSERT INTO corrections (request_id, actor, model_version, before_type, after_type,
                         before_urgency, after_urgency, before_queue, after_queue, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: insert_audit
INSERT INTO audit_events (request_id, event, actor, queue, details)
VALUES ($1, $2, $3, $4, $5);

-- name: get_item
SELECT * FROM work_items WHERE request_id = $1;

-- name: item_history
SELECT id, at, event, actor, queue, details
FROM audit_events WHERE request_id = $1 ORDER BY id;

-- name: item_corrections
SELECT at, actor, model_version, before_type, after_type, before_urgency, after_urgency,
       before_queue, after_queue, reason, kind
FROM corrections WHERE request_id = $1 ORDER BY id;

-- name: list_items
-- $1 queue, $2 status, $3 urgency, $4 language, $5 needs_review,
-- $6/$7/$8 keyset (priority, due_at, request_id) of the last row seen, $9 limit
SELECT request_id, queue, status, priority, urgency, type, language, needs_review,
       channel, source, received_at, queued_at, due_at, claimed_by, lease_expires_at,
       corrected
FROM work_items
WHERE queue = $1 AND status <> 'done'
  AND ($2::text IS NULL OR status = $2)
  AND ($3::text IS NULL OR urgency = $3)
  AND ($4::text IS NULL OR language = $4)
  AND ($5::boolean IS NULL OR needs_review = $5)
  AND ($6::smallint IS NULL OR (priority, due_at, request_id) > ($6, $7::timestamptz, $8::uuid))
ORDER BY priority, due_at, request_id
LIMIT $9;

-- name: queue_has_open_items
SELECT EXISTS (SELECT 1 FROM work_items WHERE queue = $1 AND status <> 'done');

-- name: queue_stats
-- Open items only (the partial index): cheap enough to run every few seconds.
SELECT queue, status, priority, count(*) AS items,
       min(received_at) FILTER (WHERE status = 'waiting') AS oldest_received_at,
       count(*) FILTER (WHERE due_at < now()) AS past_due
FROM work_items
WHERE status <> 'done'
GROUP BY queue, status, priority
ORDER BY queue, status, priority;

-- name: request_status
SELECT request_id, source, status, queue, priority, due_at, received_at, queued_at,
       claimed_at, lease_expires_at, completed_at, updated_at
FROM work_items WHERE request_id = $1;

-- name: received_status
SELECT request_id, source, received_at, recorded_at
FROM received_requests WHERE request_id = $1;

-- name: export_completed
-- $1 completed since. Final labels: the human-confirmed or corrected type/urgency.
SELECT request_id, subject, body, attachments, language, type, urgency, corrected,
       confirmed, model_version, completed_at
FROM work_items
WHERE status = 'done' AND purged_at IS NULL AND completed_at >= $1
ORDER BY completed_at, request_id;

-- name: purge_received
DELETE FROM received_requests WHERE recorded_at < $1;

-- name: notify_queues
-- $1 channel, $2 queue names: one notification per queue (sent outside work transactions).
SELECT pg_notify($1, queue) FROM unnest($2::text[]) AS queue;

-- name: count_purgeable
-- $1 cutoff: the same items as purgeable_batch, then the requests of unrouted_batch.
SELECT (SELECT count(*) FROM work_items
        WHERE purged_at IS NULL
          AND ((status = 'done' AND completed_at < $1) OR (status <> 'done' AND queued_at < $1))),
       (SELECT count(*) FROM intake_requests i
        WHERE i.accepted_at < $1
          AND NOT EXISTS (SELECT 1 FROM work_items w WHERE w.request_id = i.request_id));

-- Page sessions ended server-side at logout (issue 13) -----------------------------

-- name: revoke_session
-- $1 session hash, $2 when the cookie expires anyway (the row is useless after it).
WITH expired AS (DELETE FROM revoked_sessions WHERE expires_at < now())
INSERT INTO revoked_sessions (session_hash, expires_at) VALUES ($1, $2)
ON CONFLICT (session_hash) DO NOTHING;

-- name: session_revoked
SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE session_hash = $1);

-- Erasure and retention (issue 13): the per-table statements are in erase.sql ------

-- name: purgeable_batch
-- $1 cutoff, $2 batch size: items completed before the cutoff, and items still open
-- since before it (abandoned: their text must not be kept for ever either).
(SELECT request_id FROM work_items
 WHERE status = 'done' AND completed_at < $1 AND purged_at IS NULL
 ORDER BY completed_at LIMIT $2)
UNION ALL
(SELECT request_id FROM work_items
 WHERE status <> 'done' AND queued_at < $1 AND purged_at IS NULL
 ORDER BY queued_at LIMIT $2)
LIMIT $2;

-- name: unrouted_batch
-- $1 cutoff, $2 batch size: requests ingest accepted before the cutoff that never
-- became a work item (dead-lettered and never replayed): their ledger row and stored
-- files hold personal data too. Each purged batch leaves the ledger, so the loop ends.
SELECT i.request_id FROM intake_requests i
WHERE i.accepted_at < $1
  AND NOT EXISTS (SELECT 1 FROM work_items w WHERE w.request_id = i.request_id)
ORDER BY i.accepted_at LIMIT $2;

-- name: erasure_audit
-- $1 request ids, $2 event ('erased' or 'purged'), $3 actor, $4 details (no personal data)
INSERT INTO audit_events (request_id, event, actor, queue, details)
SELECT request_id, $2, $3, queue, $4::jsonb
FROM work_items WHERE request_id = ANY($1::uuid[]);

-- name: find_mentions
-- $1 a regular expression of one identifier, any separators: candidates for erasure,
-- each confirmed by the PII detector before anything is erased.
SELECT request_id,
       concat_ws(E'\n', external_id, subject, body, attachments::text, metadata::text) AS text
FROM work_items
WHERE concat_ws(E'\n', external_id, subject, body, attachments::text, metadata::text) ~* $1;

-- Issue 16: a reviewer confirms the model's prediction (a human label, like a correction).

-- name: insert_confirmation
-- $1 id, $2 actor, $3 model version, $4 type, $5 urgency, $6 before queue, $7 after queue,
-- $8 reason
INSERT INTO corrections (request_id, actor, model_version, before_type, after_type,
                         before_urgency, after_urgency, before_queue, after_queue, reason, kind)
VALUES ($1, $2, $3, $4, $4, $5, $5, $6, $7, $8, 'confirmed');

-- name: model_agreement
-- $1 labelled since. Accuracy over time: per model version that decided, ISO week of the
-- human label and final type, how many items people labelled (corrected or confirmed)
-- and how many of them the model had right.
SELECT w.model_version, date_trunc('week', l.labelled_at) AS week, w.type,
       count(*) AS labelled,
       count(*) FILTER (WHERE w.model_type = w.type) AS type_agreed,
       count(*) FILTER (WHERE w.model_urgency = w.urgency) AS urgency_agreed
FROM work_items w
JOIN (SELECT request_id, max(at) AS labelled_at FROM corrections
      WHERE at >= $1 GROUP BY request_id) l USING (request_id)
WHERE w.corrected OR w.confirmed
GROUP BY w.model_version, week, w.type
ORDER BY week DESC, w.model_version, w.type;

-- Key points (issue 14) -------------------------------------------------------


-- name: set_key_points
-- $1 request ids, $2 their key points (JSON arrays). Run in insert_routed's
-- transaction for the items it has just created only: a redelivered event never
-- rewrites an item, and a purged item never gets its key points back.
UPDATE work_items w
SET key_points = b.key_points::jsonb
FROM unnest($1::uuid[], $2::text[]) AS b (request_id, key_points)
WHERE w.request_id = b.request_id AND w.key_points IS NULL AND w.purged_at IS NULL;
