-- The KPIs straight from work_items with exact percentiles: the reference the rollup
-- (services/router/sql/kpis.sql) is checked against. Too slow for a year of history
-- to serve (seconds), so it lives with the test, not in the service's registry.

-- name: kpi_periods_exact
-- $1 from, $2 to (received_at in [from, to)), $3 period, $4 breakdown, $5 one queue
-- or NULL, $6 visible queues, $7 time zone of the periods, $8 "now".
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
