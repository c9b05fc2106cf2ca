-- 0002: dead letters seen by the router (the "failed" status of a request).
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
