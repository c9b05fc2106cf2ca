-- Reference schema: what `triage migrate` builds on an empty database.
-- Not applied by anything; a test checks that the migrations give exactly this.
-- Update it together with every new migration.

CREATE TABLE schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE work_items (
    request_id       uuid PRIMARY KEY,
    source           text NOT NULL,
    external_id      text NOT NULL,
    channel          text NOT NULL,
    received_at      timestamptz NOT NULL,
    accepted_at      timestamptz,
    subject          text,
    body             text,
    attachments      jsonb,
    metadata         jsonb,
    language         text NOT NULL,
    type             text NOT NULL,
    urgency          text NOT NULL,
    needs_review     boolean NOT NULL,
    model_type       text NOT NULL,
    model_urgency    text NOT NULL,
    model_version    text NOT NULL,
    classification   jsonb NOT NULL,
    classified_at    timestamptz NOT NULL,
    queue            text NOT NULL,
    priority         smallint NOT NULL,
    due_at           timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'waiting',
    claimed_by       text,
    claimed_at       timestamptz,
    lease_expires_at timestamptz,
    completed_by     text,
    completed_at     timestamptz,
    corrected        boolean NOT NULL DEFAULT false,
    queued_at        timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    purged_at        timestamptz,
    CONSTRAINT work_items_status_check CHECK (status IN ('waiting', 'claimed', 'done')),
    CONSTRAINT work_items_urgency_check
        CHECK (urgency IN ('critical', 'high', 'normal', 'low')),
    CONSTRAINT work_items_claim_check
        CHECK ((status = 'claimed') = (claimed_by IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT work_items_done_check CHECK ((status = 'done') = (completed_at IS NOT NULL))
);

COMMENT ON TABLE work_items IS
    'One item per request: request content, classification, routing and workflow state';
COMMENT ON COLUMN work_items.type IS 'current type: the model''s, or a human correction';
COMMENT ON COLUMN work_items.classification IS
    'the classifier''s output: confidences, review reasons, explanation';

-- Claim and listing walk the open items in serving order. Waiting and claimed items
-- have separate indexes so that a claimed item leaves the index that claimers scan.
CREATE INDEX work_items_waiting ON work_items (queue, priority, due_at, request_id)
    WHERE status = 'waiting';
CREATE INDEX work_items_claimed ON work_items (queue, priority, due_at, request_id)
    WHERE status = 'claimed';
-- Export and purge select completed items by completion time.
CREATE INDEX work_items_completed ON work_items (completed_at) WHERE status = 'done';

CREATE TABLE audit_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES work_items (request_id),
    at         timestamptz NOT NULL DEFAULT now(),
    event      text NOT NULL,
    actor      text NOT NULL,
    queue      text NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT audit_events_event_check CHECK (event IN (
        'routed', 'claimed', 'lease_expired', 'heartbeat', 'released', 'completed',
        'corrected', 'reassigned', 'purged'))
);

COMMENT ON TABLE audit_events IS 'Append-only history of every event on a work item';

CREATE INDEX audit_events_request ON audit_events (request_id, id);

CREATE TABLE corrections (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id     uuid NOT NULL REFERENCES work_items (request_id),
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    model_version  text NOT NULL,
    before_type    text NOT NULL,
    after_type     text NOT NULL,
    before_urgency text NOT NULL,
    after_urgency  text NOT NULL,
    before_queue   text NOT NULL,
    after_queue    text NOT NULL,
    reason         text
);

COMMENT ON TABLE corrections IS 'Human corrections of type/urgency: training data';

CREATE INDEX corrections_request ON corrections (request_id);

CREATE TABLE received_requests (
    request_id  uuid PRIMARY KEY,
    source      text NOT NULL,
    received_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE received_requests IS
    'Requests seen on request.received, for the status lookup before routing';

CREATE FUNCTION forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
CREATE TRIGGER corrections_append_only BEFORE UPDATE OR DELETE ON corrections
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER corrections_no_truncate BEFORE TRUNCATE ON corrections
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();

-- Related cases (migration 0002_related).

CREATE TABLE item_identities (
    identity_hash bytea NOT NULL,
    request_id    uuid NOT NULL REFERENCES work_items (request_id),
    PRIMARY KEY (identity_hash, request_id)
);

COMMENT ON TABLE item_identities IS
    'HMAC of each identifier (national number, IBAN, e-mail, phone) in a request: '
    'finds the same person''s items; the key is the classifier''s, never stored here';

CREATE INDEX item_identities_request ON item_identities (request_id);

CREATE TABLE item_embeddings (
    request_id  uuid PRIMARY KEY REFERENCES work_items (request_id),
    embedder    text NOT NULL,
    received_at timestamptz NOT NULL,
    vector      bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE item_embeddings IS
    'Embedding (float16, unit norm) of each request''s masked text, for duplicate search';

CREATE INDEX item_embeddings_recorded ON item_embeddings (recorded_at);

CREATE TABLE item_duplicates (
    request_id   uuid NOT NULL REFERENCES work_items (request_id),
    duplicate_id uuid NOT NULL REFERENCES work_items (request_id),
    similarity   real NOT NULL,
    found_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, duplicate_id),
    CONSTRAINT item_duplicates_other_check CHECK (request_id <> duplicate_id)
);

COMMENT ON TABLE item_duplicates IS
    'Likely duplicates found when a request was routed: earlier open items nearly the same';

CREATE INDEX item_duplicates_duplicate ON item_duplicates (duplicate_id);

CREATE TABLE closed_duplicates (
    request_id   uuid PRIMARY KEY REFERENCES work_items (request_id),
    duplicate_of uuid NOT NULL REFERENCES work_items (request_id),
    closed_by    text NOT NULL,
    closed_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT closed_duplicates_other_check CHECK (request_id <> duplicate_of)
);

COMMENT ON TABLE closed_duplicates IS 'Items an agent closed as a duplicate of another';
