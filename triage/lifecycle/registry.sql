-- Named queries of the model registry (triage/lifecycle/registry.py).
-- Every change of state writes its model_events row in the same transaction.

-- name: lock_registry
-- Promotions, rollbacks and registrations are serialised (one at a time).
SELECT pg_advisory_xact_lock(7526357470918148865);

-- name: insert_version
-- $1 version, $2 artifact, $3 training sha256, $4 embedder, $5 metrics, $6 report
INSERT INTO model_versions (version, artifact, training_sha256, embedder, metrics, report)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (version) DO NOTHING
RETURNING version;

-- name: update_evaluation
-- $1 version, $2 metrics, $3 report: a new held-out evaluation of a candidate.
UPDATE model_versions SET metrics = $2, report = $3 WHERE version = $1;

-- name: get_version
SELECT * FROM model_versions WHERE version = $1;

-- name: active_version
SELECT * FROM model_versions WHERE state = 'active';

-- name: list_versions
SELECT version, created_at, state, shadow, promoted_by, promoted_at, forced,
       previous_version, training_sha256, embedder ->> 'name' AS embedder, metrics, report
FROM model_versions ORDER BY created_at DESC, version LIMIT $1;

-- name: retire_active
UPDATE model_versions SET state = 'retired', shadow = false
WHERE state = 'active' RETURNING version;

-- name: activate
-- $1 version, $2 actor, $3 forced, $4 previous version (NULL: keep the recorded one)
UPDATE model_versions
SET state = 'active', shadow = false, promoted_by = $2, promoted_at = now(), forced = $3,
    previous_version = COALESCE($4, previous_version)
WHERE version = $1
RETURNING *;

-- name: set_shadow
-- $1 version, $2 on/off: only a candidate scores traffic in the shadow of the active model.
UPDATE model_versions SET shadow = $2
WHERE version = $1 AND state = 'candidate'
RETURNING version;

-- name: shadow_versions
SELECT version FROM model_versions WHERE shadow AND state = 'candidate' ORDER BY version;

-- name: insert_event
-- $1 version, $2 event, $3 actor, $4 details
INSERT INTO model_events (version, event, actor, details) VALUES ($1, $2, $3, $4);

-- name: version_events
SELECT at, version, event, actor, details FROM model_events ORDER BY id DESC LIMIT $1;

-- name: human_labels
-- $1 labelled since: every item a person corrected or confirmed, with its final labels
-- and the time of its last label (oldest first: the most recent ones are held out).
SELECT w.request_id, w.subject, w.body, w.attachments, w.language, w.type, w.urgency,
       w.model_version, l.labelled_at
FROM work_items w
JOIN (SELECT request_id, max(at) AS labelled_at FROM corrections
      WHERE at >= $1 GROUP BY request_id) l USING (request_id)
WHERE (w.corrected OR w.confirmed) AND w.purged_at IS NULL
ORDER BY l.labelled_at, w.request_id;
