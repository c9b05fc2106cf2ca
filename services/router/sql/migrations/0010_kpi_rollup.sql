-- 0010: daily KPI rollup (issue 17: each KPI query p95 < 500 ms on a year of history).
--
-- kpi_rollup holds, per local day of reception x queue x breakdown key, the counts
-- and log-bucketed histograms of the items received that day, and the same summed
-- per ISO week and per month (a year's query then reads ~60 periods, not 365 days):
-- counts only, no id, no text (nothing for erasure to remove). It is never updated
-- in place: the router recomputes the rows of a whole day from work_items, then its
-- week and month from the day rows (kpi_store.refresh_rollup), which is exact
-- whatever happened to the items (replayed events, re-claims, corrections, erasure).
-- Which days to recompute comes from kpi_dirty, written by triggers in the same
-- transaction as the change.

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

-- The covering index of 0007 served the KPI queries on work_items; they now read
-- kpi_rollup. The refresh reads one day of items at a time: a plain index on the
-- reception time is enough (docs/benchmarks.md, "KPI queries on a year of history").
DROP INDEX work_items_kpi;
CREATE INDEX work_items_received ON work_items (received_at);
-- The live part of the KPIs (open items past their due date) reads only open items.
CREATE INDEX work_items_open ON work_items (received_at) WHERE status <> 'done';

-- Existing history: the first refresh (router task or `triage kpi-rollup`) finds no
-- zone in kpi_rollup_state and rolls up every day.
