-- 0007: processing-time KPIs and demand forecasts (issue 17).

-- Waiting time is reception -> FIRST claim; claimed_at is overwritten by every
-- later claim (after a release or an expired lease), so the first one is kept here.
ALTER TABLE work_items ADD COLUMN first_claimed_at timestamptz;

COMMENT ON COLUMN work_items.first_claimed_at IS
    'when an agent first claimed the item: the end of its waiting time (KPIs)';

-- Every KPI query (kpis.sql) selects items by reception time and reads only these
-- columns: an index-only scan of this narrow index instead of the wide heap rows
-- (request text, classification JSON) once autovacuum has set the visibility map.
-- Measured in docs/benchmarks.md ("KPI queries on a year of history").
CREATE INDEX work_items_kpi ON work_items (received_at)
    INCLUDE (queue, type, model_type, urgency, model_urgency, language, model_version,
             needs_review, status, due_at, completed_at, first_claimed_at);
