-- Dead letters: the router records each one seen on request.deadletter (codes only,
-- never the payload or the error text), so that the status lookup can answer
-- "failed" for a request that reached no queue. Loaded by services/router/deadletters.py.

-- name: insert_deadletters
-- A redelivered letter (same event id) inserts nothing.
INSERT INTO dead_letters (event_id, request_id, source, stage, reason, original_topic,
                          original_partition, original_offset, failed_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::integer[], $8::bigint[], $9::timestamptz[])
ON CONFLICT (event_id) DO NOTHING;

-- name: deadletter_status
-- The latest dead letter of a request (the status lookup, when no work item exists).
SELECT request_id, source, stage, reason, failed_at, recorded_at
FROM dead_letters WHERE request_id = $1
ORDER BY failed_at DESC LIMIT 1;
