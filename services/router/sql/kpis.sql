-- KPI and forecast queries (issue 17), loaded by services.router.kpi_store.
-- The API and the page read the rollup kpi_rollup (migration 0010), refreshed
-- from work_items by refresh_rollup; only "open and past due", which changes with
-- the clock, is read live from the open items. Parameters are positional; a NULL
-- filter means "any", a NULL array of visible queues means every queue.

-- name: kpi_periods
-- $1 first day, $2 last day (local days, inclusive), $3 period: 'day', 'week' or 'month'
-- (ISO weeks, starting Monday), $4 breakdown: 'queue', 'type', 'language', 'urgency',
-- 'model_version' or 'all', $5 one queue or NULL, $6 visible queues.
-- Each row is one rollup row: the cohort of requests RECEIVED in a day, week or
-- month, with its counts and histograms (non-empty buckets b, counts n) of handling
-- and waiting time; kpi_rollup.assemble sums the rows of each period and key and
-- reads the median and p90 from the merged histograms (in Python: PostgreSQL has
-- no element-wise array sum, and unnest-and-regroup was the slowest step here).
-- Whole periods come from their own week or month rows, [F, L) below; the days of
-- the periods the range cuts, from the day rows. Without a queue filter, the rows
-- summed over every queue ('*'; the queue breakdown has none: its keys are queues).
SELECT date_trunc($3, r.day::timestamp)::date AS period, r.key,
       r.received, r.completed, r.on_time, r.completed_late, r.via_review,
       r.type_corrected, r.urgency_corrected,
       r.handling_b, r.handling_n, r.waiting_b, r.waiting_n
FROM kpi_rollup r
WHERE r.dim = $4
  AND CASE WHEN $5::text IS NULL AND $6::text[] IS NULL AND $4 <> 'queue'
           THEN r.queue = '*'
           ELSE r.queue <> '*' AND ($5 IS NULL OR r.queue = $5)
                AND ($6 IS NULL OR r.queue = ANY ($6)) END
  -- F: the first period starting on or after $1; L: the period containing $2 + 1
  AND ((r.grain = $3
        AND r.day >= date_trunc($3, $1::date + ('1 ' || $3)::interval - interval '1 day')::date
        AND r.day < date_trunc($3, $2::date + 1)::date)
       OR (r.grain = 'day' AND r.day >= $1::date AND r.day <= $2::date
           AND r.day < date_trunc($3, $1::date + ('1 ' || $3)::interval - interval '1 day')::date)
       OR (r.grain = 'day' AND r.day >= $1::date AND r.day <= $2::date
           AND r.day >= date_trunc($3, $2::date + 1)::date));

-- name: kpi_open_past_due
-- The live part: items still open and past their due date at $8, per period and key
-- ($1-$8 as kpi_periods' reference, tests/integration/router/kpi_exact.sql). Reads the
-- open items only (work_items_open).
SELECT date_trunc($3, (received_at AT TIME ZONE $7)::date::timestamp)::date AS period,
       CASE $4
           WHEN 'queue' THEN queue
           WHEN 'type' THEN type
           WHEN 'language' THEN language
           WHEN 'urgency' THEN urgency
           WHEN 'model_version' THEN model_version
           ELSE 'all'
       END AS key,
       count(*) AS open_past_due
FROM work_items
WHERE status <> 'done' AND due_at < $8
  AND received_at >= $1 AND received_at < $2
  AND ($5::text IS NULL OR queue = $5)
  AND ($6::text[] IS NULL OR queue = ANY ($6))
GROUP BY 1, 2;

-- name: kpi_rollup_zone
-- The time zone the rollup's days are in (NULL before the first refresh).
SELECT zone FROM kpi_rollup_state FOR UPDATE;

-- name: kpi_rollup_rezone
-- A new zone (or the first refresh): every day is recomputed. $1 zone.
WITH cleared AS (DELETE FROM kpi_rollup),
     marked AS (INSERT INTO kpi_dirty (slot)
                SELECT DISTINCT kpi_slot(received_at) FROM work_items)
UPDATE kpi_rollup_state SET zone = $1;

-- name: kpi_dirty_days
-- The oldest $2 local days (zone $1) with changed items.
SELECT DISTINCT (slot AT TIME ZONE $1)::date AS day FROM kpi_dirty ORDER BY 1 LIMIT $2;

-- name: kpi_dirty_take
-- Forget the marks of days $2 (zone $1) that are committed now: the recomputation that
-- follows, a later statement, sees every change they marked. Marks committed later stay
-- for the next refresh.
DELETE FROM kpi_dirty WHERE (slot AT TIME ZONE $1)::date = ANY ($2::date[]);

-- name: kpi_rollup_clear
-- $1 days about to be recomputed, with their weeks and months (same transaction as
-- kpi_rollup_fill and kpi_rollup_fill_periods).
DELETE FROM kpi_rollup r
USING (SELECT DISTINCT g.grain, date_trunc(g.grain, d::timestamp)::date AS day
       FROM unnest($1::date[]) AS d, (VALUES ('day'), ('week'), ('month')) AS g (grain)) AS p
WHERE r.grain = p.grain AND r.day = p.day;

-- name: kpi_rollup_fill
-- Recompute the day rows of local days (zone $3) from work_items: $1, $2 the days'
-- [start, end) instants (after kpi_rollup_clear). Every item counts once per breakdown.
WITH items AS (
    -- one index range scan per day (LATERAL, and OFFSET 0 keeps it from being flattened
    -- into a join the planner could answer with a scan of the whole table)
    SELECT (w.received_at AT TIME ZONE $3)::date AS day, w.queue, w.type, w.language,
           w.urgency, w.model_version, w.needs_review, w.completed_at, w.due_at,
           w.type <> w.model_type AS type_corrected,
           w.urgency <> w.model_urgency AS urgency_corrected,
           kpi_bucket(w.completed_at - w.received_at) AS hb,
           kpi_bucket(w.first_claimed_at - w.received_at) AS wb
    FROM unnest($1::timestamptz[], $2::timestamptz[]) AS d (s, e)
    CROSS JOIN LATERAL (SELECT * FROM work_items x
                        WHERE x.received_at >= d.s AND x.received_at < d.e OFFSET 0) AS w
), keyed AS (
    SELECT i.*, k.dim, k.key
    FROM items i
    CROSS JOIN LATERAL (VALUES ('all', 'all'), ('queue', i.queue), ('type', i.type),
                               ('language', i.language), ('urgency', i.urgency),
                               ('model_version', i.model_version)) AS k (dim, key)
), cells AS (
    -- each row also counted in the sums over every queue ('*'), read by the users who
    -- see every queue: a year by week is then 52 rows per key, not 52 x the queues
    SELECT k.day, q.queue, k.dim, k.key, k.needs_review, k.completed_at, k.due_at,
           k.type_corrected, k.urgency_corrected, k.hb, k.wb
    FROM keyed k
    CROSS JOIN LATERAL (VALUES (k.queue), ('*')) AS q (queue)
    WHERE q.queue <> '*' OR k.dim <> 'queue'
), counts AS (
    SELECT dim, day, queue, key, count(*) AS received, count(completed_at) AS completed,
           count(*) FILTER (WHERE completed_at <= due_at) AS on_time,
           count(*) FILTER (WHERE completed_at > due_at) AS completed_late,
           count(*) FILTER (WHERE needs_review) AS via_review,
           count(*) FILTER (WHERE type_corrected) AS type_corrected,
           count(*) FILTER (WHERE urgency_corrected) AS urgency_corrected
    FROM cells GROUP BY 1, 2, 3, 4
), handling AS (
    SELECT dim, day, queue, key, array_agg(hb ORDER BY hb) AS b, array_agg(n ORDER BY hb) AS n
    FROM (SELECT dim, day, queue, key, hb, count(*)::integer AS n
          FROM cells WHERE hb IS NOT NULL GROUP BY 1, 2, 3, 4, 5) AS h
    GROUP BY 1, 2, 3, 4
), waiting AS (
    SELECT dim, day, queue, key, array_agg(wb ORDER BY wb) AS b, array_agg(n ORDER BY wb) AS n
    FROM (SELECT dim, day, queue, key, wb, count(*)::integer AS n
          FROM cells WHERE wb IS NOT NULL GROUP BY 1, 2, 3, 4, 5) AS w
    GROUP BY 1, 2, 3, 4
)
INSERT INTO kpi_rollup (grain, dim, day, queue, key, received, completed, on_time,
                        completed_late, via_review, type_corrected, urgency_corrected,
                        handling_b, handling_n, waiting_b, waiting_n)
SELECT 'day', c.dim, c.day, c.queue, c.key, c.received, c.completed, c.on_time, c.completed_late,
       c.via_review, c.type_corrected, c.urgency_corrected,
       coalesce(h.b, '{}'), coalesce(h.n, '{}'), coalesce(w.b, '{}'), coalesce(w.n, '{}')
FROM counts c
LEFT JOIN handling h USING (dim, day, queue, key)
LEFT JOIN waiting w USING (dim, day, queue, key);

-- name: kpi_rollup_fill_periods
-- Rewrite the week and month rows containing days $1 as sums of their day rows
-- (after kpi_rollup_fill): counts added, histograms merged bucket by bucket.
WITH periods AS (
    -- one per breakdown too: each reads its day rows by the primary key's prefix
    SELECT DISTINCT g.grain, k.dim, date_trunc(g.grain, d::timestamp)::date AS day
    FROM unnest($1::date[]) AS d, (VALUES ('week'), ('month')) AS g (grain),
         (VALUES ('all'), ('queue'), ('type'), ('language'), ('urgency'),
                 ('model_version')) AS k (dim)
), cells AS (
    SELECT p.grain, p.day AS period, r.dim, r.queue, r.key, r.received, r.completed,
           r.on_time, r.completed_late, r.via_review, r.type_corrected, r.urgency_corrected,
           r.handling_b, r.handling_n, r.waiting_b, r.waiting_n
    FROM periods p
    JOIN kpi_rollup r ON r.grain = 'day' AND r.dim = p.dim AND r.day >= p.day
                     AND r.day < (p.day + ('1 ' || p.grain)::interval)::date
), counts AS (
    SELECT c.grain, c.dim, c.period, c.queue, c.key,
           sum(c.received) AS received, sum(c.completed) AS completed,
           sum(c.on_time) AS on_time, sum(c.completed_late) AS completed_late,
           sum(c.via_review) AS via_review, sum(c.type_corrected) AS type_corrected,
           sum(c.urgency_corrected) AS urgency_corrected
    FROM cells c GROUP BY 1, 2, 3, 4, 5
), handling AS (
    SELECT grain, dim, period, queue, key, array_agg(b ORDER BY b) AS b,
           array_agg(n ORDER BY b) AS n
    FROM (SELECT c.grain, c.dim, c.period, c.queue, c.key, u.b, sum(u.n)::integer AS n
          FROM cells c, unnest(c.handling_b, c.handling_n) AS u (b, n)
          GROUP BY 1, 2, 3, 4, 5, 6) AS h
    GROUP BY 1, 2, 3, 4, 5
), waiting AS (
    SELECT grain, dim, period, queue, key, array_agg(b ORDER BY b) AS b,
           array_agg(n ORDER BY b) AS n
    FROM (SELECT c.grain, c.dim, c.period, c.queue, c.key, u.b, sum(u.n)::integer AS n
          FROM cells c, unnest(c.waiting_b, c.waiting_n) AS u (b, n)
          GROUP BY 1, 2, 3, 4, 5, 6) AS w
    GROUP BY 1, 2, 3, 4, 5
)
INSERT INTO kpi_rollup (grain, dim, day, queue, key, received, completed, on_time,
                        completed_late, via_review, type_corrected, urgency_corrected,
                        handling_b, handling_n, waiting_b, waiting_n)
SELECT c.grain, c.dim, c.period, c.queue, c.key, c.received, c.completed, c.on_time,
       c.completed_late, c.via_review, c.type_corrected, c.urgency_corrected,
       coalesce(h.b, '{}'), coalesce(h.n, '{}'), coalesce(w.b, '{}'), coalesce(w.n, '{}')
FROM counts c
LEFT JOIN handling h USING (grain, dim, period, queue, key)
LEFT JOIN waiting w USING (grain, dim, period, queue, key);

-- name: daily_arrivals
-- $1 first day, $2 last day (local, inclusive), $3 one queue or NULL, $4 visible queues.
-- Requests received per local calendar day and (current) queue: the forecast's input.
SELECT queue, day, received AS arrivals
FROM kpi_rollup
WHERE grain = 'day' AND dim = 'queue' AND day BETWEEN $1 AND $2
  AND ($3::text IS NULL OR queue = $3)
  AND ($4::text[] IS NULL OR queue = ANY ($4))
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
