-- 0003: page sessions ended server-side at logout; erasure and full retention purge.

CREATE TABLE revoked_sessions (
    session_hash text PRIMARY KEY,
    expires_at   timestamptz NOT NULL
);

COMMENT ON TABLE revoked_sessions IS
    'Page sessions ended by a logout before they expire: a hash of the session nonce only';

-- Erasure of one person's data (GDPR art. 17) and retention: the audit trail and the
-- corrections stay append-only except for exactly the removal of an agent's free-text
-- reason, which is what `triage erase` and `triage purge` do (services/router/sql/erase.sql).
CREATE FUNCTION erased_details(details jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT (details - 'reason') || '{"erased": true}'::jsonb
$$;

CREATE FUNCTION audit_events_erasure_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - 'details' = to_jsonb(OLD) - 'details'
        AND NEW.details = erased_details(OLD.details) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused (only erasing a reason is allowed)',
        TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE FUNCTION corrections_erasure_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.reason IS NULL
        AND to_jsonb(NEW) - 'reason' = to_jsonb(OLD) - 'reason' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused (only erasing a reason is allowed)',
        TG_TABLE_NAME, TG_OP;
END;
$$;

DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_erasure_only();
DROP TRIGGER corrections_append_only ON corrections;
CREATE TRIGGER corrections_append_only BEFORE UPDATE OR DELETE ON corrections
    FOR EACH ROW EXECUTE FUNCTION corrections_erasure_only();

ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_check CHECK (event IN (
    'routed', 'claimed', 'lease_expired', 'heartbeat', 'released', 'completed',
    'corrected', 'reassigned', 'purged', 'erased'));

-- Items purged before this migration kept their reasons and external ids.
UPDATE corrections SET reason = NULL
WHERE reason IS NOT NULL
  AND request_id IN (SELECT request_id FROM work_items WHERE purged_at IS NOT NULL);
UPDATE audit_events SET details = erased_details(details)
WHERE details ? 'reason'
  AND request_id IN (SELECT request_id FROM work_items WHERE purged_at IS NOT NULL);
UPDATE work_items SET external_id = 'erased' WHERE purged_at IS NOT NULL;
