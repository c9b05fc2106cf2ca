-- Letters drafted by agents from the standard templates (personal data: deleted by
-- `triage purge` with the item's text, and by erasure), and their audit events.

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

ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_check CHECK (event IN (
    'routed', 'claimed', 'lease_expired', 'heartbeat', 'released', 'completed',
    'corrected', 'reassigned', 'purged', 'erased', 'letter_drafted', 'letter_edited',
    'letter_validated'));
