-- +goose Up
-- The transactional outbox. A module writes its business rows and an outbox row in one
-- tenants.InTx; the relay (in `epom worker`, as epom_platform) hands committed rows to asynq
-- with TaskID = task_key or id, and the worker marks them done when the handler succeeds. A
-- rolled-back transaction leaves no row, so it enqueues nothing; a Redis that restarts empty
-- loses nothing, because the relay's reconciler re-enqueues published rows that Redis no
-- longer knows and that are not done.
CREATE TABLE outbox (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,                 -- UUIDv7, made by jobs.Enqueue
    task_type           text NOT NULL CHECK (task_type ~ '^[a-z][a-z0-9]*[:.][a-z0-9_.:-]+$'),
    module              text NOT NULL,                 -- task_type up to the first ':' or '.'
    queue               text NOT NULL CHECK (queue IN ('critical', 'default', 'low')),
    payload             bytea NOT NULL DEFAULT '',     -- ids only, never personal data
    -- task_key is the asynq TaskID when the task must be unique beyond this row (periodic
    -- windows: 'periodic:<name>:<tenant>:<unix>'); NULL means the id is the TaskID.
    task_key            text,
    request_id          text NOT NULL DEFAULT '',
    max_retry           integer NOT NULL DEFAULT 12 CHECK (max_retry >= 0),
    timeout_seconds     integer NOT NULL DEFAULT 0 CHECK (timeout_seconds >= 0),
    available_at        timestamptz NOT NULL DEFAULT now(),  -- not handed to Redis before
    created_at          timestamptz NOT NULL DEFAULT now(),
    state               text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'published', 'done', 'dead')),
    published_at        timestamptz,
    check_at            timestamptz,                   -- when the reconciler next asks Redis
    done_at             timestamptz,
    publish_attempts    integer NOT NULL DEFAULT 0,
    last_error          text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);
-- A periodic window or a caller's dedupe key exists once per tenant.
CREATE UNIQUE INDEX outbox_task_key ON outbox (tenant_id, task_key) WHERE task_key IS NOT NULL;
-- The relay's claim: per tenant and queue, oldest first (UUIDv7 ids are time-ordered).
CREATE INDEX outbox_pending ON outbox (tenant_id, queue, id) WHERE state = 'pending';
-- The relay's fairness cap: how many of a tenant's tasks of a queue are in Redis right now.
-- The reconciler reads its work list (published rows past check_at) from it too: those rows
-- are few (the cap bounds them), and one index less is one write less per task.
CREATE INDEX outbox_in_flight ON outbox (tenant_id, queue, published_at) WHERE state = 'published';
-- The janitor's work lists; the dead one also serves the metrics (dead rows are few).
CREATE INDEX outbox_done ON outbox (done_at) WHERE state = 'done';
CREATE INDEX outbox_dead ON outbox (done_at) WHERE state = 'dead';

-- The app role writes rows inside InTx (and may read its tenant's, e.g. for a job status
-- page); only the platform role (relay, reconciler, janitor, scheduler) updates or deletes.
GRANT SELECT, INSERT ON outbox TO epom_app;
SELECT epom_enable_tenant_rls('outbox', 'all');

-- +goose StatementBegin
-- Wake the relays when a transaction that wrote outbox rows commits. NOTIFY is
-- transactional (a rolled-back insert notifies nobody) and identical notifications of one
-- transaction collapse into one; a statement trigger sends one per INSERT statement, not per row.
CREATE FUNCTION epom_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('epom_outbox', '');
    RETURN NULL;
END
$fn$;
-- +goose StatementEnd
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION epom_outbox_notify();

-- +goose Down
DROP TABLE outbox;
DROP FUNCTION epom_outbox_notify();
