-- Issue 16: confirmations as human labels, and the registry of model versions.

-- A reviewer's "the model was right" is a human label like a correction.
ALTER TABLE work_items ADD COLUMN confirmed boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN work_items.confirmed IS 'a person confirmed the model''s type and urgency';

ALTER TABLE corrections ADD COLUMN kind text NOT NULL DEFAULT 'corrected';
ALTER TABLE corrections ADD CONSTRAINT corrections_kind_check
    CHECK (kind IN ('corrected', 'confirmed'));
CREATE INDEX corrections_at ON corrections (at);

ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_check CHECK (event IN (
    'routed', 'claimed', 'lease_expired', 'heartbeat', 'released', 'completed',
    'corrected', 'reassigned', 'purged', 'erased', 'letter_drafted', 'letter_edited',
    'letter_validated', 'confirmed'));

CREATE TABLE model_versions (
    version          text PRIMARY KEY,
    created_at       timestamptz NOT NULL DEFAULT now(),
    artifact         text NOT NULL,
    training_sha256  text NOT NULL,
    embedder         jsonb NOT NULL,
    metrics          jsonb NOT NULL DEFAULT '{}'::jsonb,
    report           text,
    state            text NOT NULL DEFAULT 'candidate',
    shadow           boolean NOT NULL DEFAULT false,
    promoted_by      text,
    promoted_at      timestamptz,
    forced           boolean NOT NULL DEFAULT false,
    previous_version text REFERENCES model_versions (version),
    CONSTRAINT model_versions_state_check CHECK (state IN ('candidate', 'active', 'retired'))
);

COMMENT ON TABLE model_versions IS
    'Registry of trained models: artifact folder, data fingerprint, evaluation, state';

-- At most one active version at any time.
CREATE UNIQUE INDEX model_versions_one_active ON model_versions (state) WHERE state = 'active';

CREATE TABLE model_events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    version text NOT NULL REFERENCES model_versions (version),
    event   text NOT NULL,
    actor   text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT model_events_event_check CHECK (event IN (
        'registered', 'promoted', 'promotion_refused', 'rolled_back', 'shadow_on', 'shadow_off'))
);

COMMENT ON TABLE model_events IS 'Append-only audit of model registrations, promotions, rollbacks';

CREATE TRIGGER model_events_append_only BEFORE UPDATE OR DELETE ON model_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER model_events_no_truncate BEFORE TRUNCATE ON model_events
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
