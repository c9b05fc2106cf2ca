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
    confirmed        boolean NOT NULL DEFAULT false,
    first_claimed_at timestamptz,
    key_points       jsonb,
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
COMMENT ON COLUMN work_items.confirmed IS 'a person confirmed the model''s type and urgency';
COMMENT ON COLUMN work_items.classification IS
    'the classifier''s output: confidences, review reasons, explanation';
COMMENT ON COLUMN work_items.first_claimed_at IS
    'when an agent first claimed the item: the end of its waiting time (KPIs)';
COMMENT ON COLUMN work_items.key_points IS
    'key points of a long request: [{text, source, page}] in text order, masked; null once purged';

-- Claim and listing walk the open items in serving order. Waiting and claimed items
-- have separate indexes so that a claimed item leaves the index that claimers scan.
CREATE INDEX work_items_waiting ON work_items (queue, priority, due_at, request_id)
    WHERE status = 'waiting';
CREATE INDEX work_items_claimed ON work_items (queue, priority, due_at, request_id)
    WHERE status = 'claimed';
-- Export and purge select completed items by completion time.
CREATE INDEX work_items_completed ON work_items (completed_at) WHERE status = 'done';
-- The KPI rollup's refresh reads one day of items at a time (migration 0010).
CREATE INDEX work_items_received ON work_items (received_at);
-- The live part of the KPIs (open items past their due date) reads only open items.
CREATE INDEX work_items_open ON work_items (received_at) WHERE status <> 'done';

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
        'corrected', 'reassigned', 'purged', 'erased', 'letter_drafted', 'letter_edited',
        'letter_validated', 'confirmed'))
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
    reason         text,
    kind           text NOT NULL DEFAULT 'corrected',
    CONSTRAINT corrections_kind_check CHECK (kind IN ('corrected', 'confirmed'))
);

COMMENT ON TABLE corrections IS 'Human corrections of type/urgency: training data';

CREATE INDEX corrections_request ON corrections (request_id);
CREATE INDEX corrections_at ON corrections (at);

CREATE TABLE received_requests (
    request_id  uuid PRIMARY KEY,
    source      text NOT NULL,
    received_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE received_requests IS
    'Requests seen on request.received, for the status lookup before routing';

CREATE TABLE revoked_sessions (
    session_hash text PRIMARY KEY,
    expires_at   timestamptz NOT NULL
);

COMMENT ON TABLE revoked_sessions IS
    'Page sessions ended by a logout before they expire: a hash of the session nonce only';

CREATE TABLE letters (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id   uuid NOT NULL REFERENCES work_items (request_id),
    kind         text NOT NULL,
    language     text NOT NULL,
    subject      text NOT NULL,
    body         text NOT NULL,
    status       text NOT NULL DEFAULT 'draft',
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    validated_by text,
    validated_at timestamptz,
    CONSTRAINT letters_status_check CHECK (status IN ('draft', 'validated')),
    CONSTRAINT letters_validated_check
        CHECK ((status = 'validated') = (validated_by IS NOT NULL AND validated_at IS NOT NULL))
);

COMMENT ON TABLE letters IS
    'Letters to the requester, drafted from templates, edited and validated by an agent';

CREATE INDEX letters_request ON letters (request_id, id);
-- One open draft per kind and language: a retried "draft" returns it, never a second one.
CREATE UNIQUE INDEX letters_one_draft ON letters (request_id, kind, language)
    WHERE status = 'draft';

CREATE FUNCTION forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;

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

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_erasure_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
CREATE TRIGGER corrections_append_only BEFORE UPDATE OR DELETE ON corrections
    FOR EACH ROW EXECUTE FUNCTION corrections_erasure_only();
CREATE TRIGGER corrections_no_truncate BEFORE TRUNCATE ON corrections
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();

CREATE TABLE dead_letters (
    event_id           uuid PRIMARY KEY,
    request_id         uuid,
    source             text,
    stage              text NOT NULL,
    reason             text NOT NULL,
    original_topic     text NOT NULL,
    original_partition integer,
    original_offset    bigint,
    failed_at          timestamptz NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX dead_letters_request ON dead_letters (request_id);

COMMENT ON TABLE dead_letters IS
    'Dead letters seen on request.deadletter, for the failed status: codes only, no text';

CREATE TABLE intake_requests (
    request_id     uuid PRIMARY KEY,
    source         text NOT NULL,
    external_id    text NOT NULL,
    content_sha256 text NOT NULL,
    accepted_at    timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE intake_requests IS
    'Every accepted (source, external_id) with the hash of its content: a retry is recognised, a reuse refused';

CREATE TABLE documents (
    document_id  uuid PRIMARY KEY,
    request_id   uuid NOT NULL,
    position     smallint NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL,
    size         integer NOT NULL,
    sha256       text NOT NULL,
    content      bytea NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'pending',
    problem      text,
    pages        integer,
    CONSTRAINT documents_position_unique UNIQUE (request_id, position),
    CONSTRAINT documents_status_check CHECK (status IN ('pending', 'extracted', 'unreadable'))
);

COMMENT ON TABLE documents IS
    'Original files of requests (claim-check): events carry only their references';
COMMENT ON COLUMN documents.problem IS 'why an unreadable document could not be read (a code)';

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

-- Daily KPI rollup (migration 0010, services/router/kpi_store.py refresh_rollup).
-- A duration's histogram bucket: 0 for under one second, else k >= 1 covering
-- [2^((k-1)/8), 2^(k/8)) seconds. Mirrored by services/router/kpi_rollup.py.
CREATE FUNCTION kpi_bucket(duration interval) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN date_part('epoch', duration) < 1 THEN 0
                 ELSE 1 + floor(8 * ln(date_part('epoch', duration)) / ln(float8 '2'))
            END)::smallint
$$;

CREATE TABLE kpi_rollup (
    grain             text NOT NULL,
    dim               text NOT NULL,
    day               date NOT NULL,
    queue             text NOT NULL,
    key               text NOT NULL,
    received          integer NOT NULL,
    completed         integer NOT NULL,
    on_time           integer NOT NULL,
    completed_late    integer NOT NULL,
    via_review        integer NOT NULL,
    type_corrected    integer NOT NULL,
    urgency_corrected integer NOT NULL,
    handling_b        smallint[] NOT NULL,
    handling_n        integer[] NOT NULL,
    waiting_b         smallint[] NOT NULL,
    waiting_n         integer[] NOT NULL,
    -- the KPI queries read one grain and breakdown over a range of days: this order
    PRIMARY KEY (grain, dim, day, queue, key),
    CONSTRAINT kpi_rollup_grain_check CHECK (grain IN ('day', 'week', 'month')),
    CONSTRAINT kpi_rollup_dim_check
        CHECK (dim IN ('all', 'queue', 'type', 'language', 'urgency', 'model_version'))
);

COMMENT ON TABLE kpi_rollup IS
    'KPI rollup: per local day, ISO week or month of reception (day = its first day), '
    'queue (or * for all) and breakdown key, counts and histograms (non-empty buckets b, '
    'counts n) of handling and waiting time; no personal data';

-- Reception times (15-minute slots: every time zone's days are unions of them) whose
-- items changed since the last rollup refresh. Append-only between refreshes, no
-- unique key: writers never wait on each other or on the refresh.
CREATE TABLE kpi_dirty (
    slot timestamptz NOT NULL
);

-- The time zone the rollup's days are in (one row): the refresh rebuilds every day
-- when the router's zone setting differs.
CREATE TABLE kpi_rollup_state (
    id   boolean PRIMARY KEY DEFAULT true,
    zone text,
    CONSTRAINT kpi_rollup_state_one_row CHECK (id)
);

INSERT INTO kpi_rollup_state (zone) VALUES (NULL);

CREATE FUNCTION kpi_slot(at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_bin('15 minutes', at, timestamptz '2000-01-01 00:00+00')
$$;

-- Inserts: one statement-level trigger (a bulk load writes one slot per 15 minutes,
-- not one row per item).
CREATE FUNCTION kpi_mark_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_dirty (slot) SELECT DISTINCT kpi_slot(received_at) FROM new_items;
    RETURN NULL;
END;
$$;

-- Updates: per row, and only when a column the KPIs read changed (the WHEN clause is
-- evaluated without calling the function: lease renewals and re-claims cost nothing).
CREATE FUNCTION kpi_mark_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_dirty (slot) VALUES (kpi_slot(NEW.received_at));
    IF kpi_slot(OLD.received_at) <> kpi_slot(NEW.received_at) THEN
        INSERT INTO kpi_dirty (slot) VALUES (kpi_slot(OLD.received_at));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER work_items_kpi_inserted AFTER INSERT ON work_items
    REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_inserted();
CREATE TRIGGER work_items_kpi_updated AFTER UPDATE ON work_items
    FOR EACH ROW
    WHEN ((OLD.received_at, OLD.queue, OLD.type, OLD.model_type, OLD.urgency,
           OLD.model_urgency, OLD.language, OLD.model_version, OLD.needs_review, OLD.due_at,
           OLD.completed_at, OLD.first_claimed_at)
          IS DISTINCT FROM
          (NEW.received_at, NEW.queue, NEW.type, NEW.model_type, NEW.urgency,
           NEW.model_urgency, NEW.language, NEW.model_version, NEW.needs_review, NEW.due_at,
           NEW.completed_at, NEW.first_claimed_at))
    EXECUTE FUNCTION kpi_mark_updated();
