-- KPI and forecast queries (issue 17), loaded by services.router.kpi_store.
-- Every query selects items by reception time through the covering index
-- work_items_kpi (migration 0002): an index-only scan, never the wide heap rows.
-- Parameters are positional; a NULL filter means "any", a NULL array of visible
-- queues means the caller may see every queue.

-- name: kpi_periods
-- $1 from, $2 to (received_at in [from, to)), $3 period: 'day', 'week' or 'month'
-- (ISO weeks, starting Monday), $4 breakdown: 'queue', 'type', 'language', 'urgency',
-- 'model_version' or 'all', $5 one queue or NULL, $6 visible queues, $7 time zone
-- of the periods, $8 "now" (items open and past due at that time are SLA breaches).
-- Each row is the cohort of requests RECEIVED in the period: how many of them are
-- completed, how long they waited and took, whether they met their due date.
SELECT date_trunc($3, received_at AT TIME ZONE $7)::date AS period,
       CASE $4
           WHEN 'queue' THEN queue
           WHEN 'type' THEN type
           WHEN 'language' THEN language
           WHEN 'urgency' THEN urgency
           WHEN 'model_version' THEN model_version
           ELSE 'all'
       END AS key,
       count(*) AS received,
       count(*) FILTER (WHERE status = 'done') AS completed,
       -- one sort per duration for both quantiles; date_part gives a double
       -- (extract gives numeric since PostgreSQL 14: several times slower to sort)
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
           ORDER BY date_part('epoch', completed_at - received_at)) AS handling_s,
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
           ORDER BY date_part('epoch', first_claimed_at - received_at)) AS waiting_s,
       count(*) FILTER (WHERE completed_at <= due_at) AS on_time,
       count(*) FILTER (WHERE completed_at > due_at) AS completed_late,
       count(*) FILTER (WHERE status <> 'done' AND due_at < $8) AS open_past_due,
       count(*) FILTER (WHERE needs_review) AS via_review,
       count(*) FILTER (WHERE type <> model_type) AS type_corrected,
       count(*) FILTER (WHERE urgency <> model_urgency) AS urgency_corrected
FROM work_items
WHERE received_at >= $1 AND received_at < $2
  AND ($5::text IS NULL OR queue = $5)
  AND ($6::text[] IS NULL OR queue = ANY ($6))
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: daily_arrivals
-- $1 from, $2 to, $3 time zone of the days, $4 one queue or NULL, $5 visible queues.
-- Requests received per local calendar day and (current) queue: the forecast's input.
SELECT queue, (received_at AT TIME ZONE $3)::date AS day, count(*) AS arrivals
FROM work_items
WHERE received_at >= $1 AND received_at < $2
  AND ($4::text IS NULL OR queue = $4)
  AND ($5::text[] IS NULL OR queue = ANY ($5))
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: insert_history
-- Items with a past (`triage demo-history`, tests): $1 source, $2 model version, then
-- one array per column. Status follows the times: completed_at -> done, else
-- first_claimed_at -> claimed (by the source, lease ended), else waiting. Idempotent.
INSERT INTO work_items (
    request_id, source, external_id, channel, received_at, accepted_at, subject, body,
    attachments, metadata, language, type, urgency, needs_review, model_type, model_urgency,
    model_version, classification, classified_at, queue, priority, due_at, status,
    claimed_by, claimed_at, lease_expires_at, first_claimed_at, completed_by, completed_at,
    corrected, queued_at, updated_at)
SELECT h.request_id, $1, h.request_id::text, 'web', h.received_at, h.received_at,
       'Synthetic request', 'Synthetic request: generated history, no real person.',
       '[]'::jsonb, '{"synthetic": true}'::jsonb, h.language, h.type, h.urgency,
       h.needs_review, h.model_type, h.model_urgency, $2, '{"synthetic": true}'::jsonb,
       h.received_at, h.queue, h.priority, h.due_at,
       CASE WHEN h.completed_at IS NOT NULL THEN 'done'
            WHEN h.first_claimed_at IS NOT NULL THEN 'claimed' ELSE 'waiting' END,
       CASE WHEN h.completed_at IS NULL AND h.first_claimed_at IS NOT NULL THEN $1 END,
       h.first_claimed_at,
       CASE WHEN h.completed_at IS NULL AND h.first_claimed_at IS NOT NULL
            THEN h.first_claimed_at + interval '30 minutes' END,
       h.first_claimed_at,
       CASE WHEN h.completed_at IS NOT NULL THEN $1 END,
       h.completed_at,
       h.type <> h.model_type OR h.urgency <> h.model_urgency,
       h.received_at, coalesce(h.completed_at, h.first_claimed_at, h.received_at)
FROM unnest($3::uuid[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::text[], $10::boolean[], $11::text[], $12::smallint[], $13::timestamptz[],
            $14::timestamptz[], $15::timestamptz[])
     AS h (request_id, received_at, language, type, model_type, urgency, model_urgency,
           needs_review, queue, priority, due_at, first_claimed_at, completed_at)
ON CONFLICT (request_id) DO NOTHING;

-- name: count_real_items
-- Items that `triage demo-history` did not write: it refuses to mix with them.
SELECT count(*) FROM work_items WHERE source <> $1;
