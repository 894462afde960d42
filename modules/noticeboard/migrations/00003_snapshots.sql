-- +goose Up
-- Proof of posting (důkaz vyvěšení): once a day, what hung on the board — every posted
-- notice with its revision and the SHA-256 of every attachment — as canonical JSON. Rows are
-- written once and never changed: the app role may only INSERT and SELECT. Each day's hash
-- covers the previous day's hash and the content's hash, so an altered or deleted day breaks
-- the chain; each day's hash is also written to the tenant's audit log, whose own chain
-- (with its head) shows a cut tail.
CREATE TABLE noticeboard_snapshots (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    day                 date NOT NULL,                  -- the day in Europe/Prague
    taken_at            timestamptz NOT NULL,
    notice_count        integer NOT NULL CHECK (notice_count >= 0),
    content             text NOT NULL,                  -- the canonical JSON, byte for byte as hashed
    content_sha256      bytea NOT NULL CHECK (octet_length(content_sha256) = 32),
    prev_hash           bytea NOT NULL CHECK (octet_length(prev_hash) = 32),  -- zeros for the first day
    hash                bytea NOT NULL CHECK (octet_length(hash) = 32),       -- SHA-256(prev_hash || content_sha256)
    PRIMARY KEY (tenant_id, day),
    -- One chain, never forked: two days cannot follow the same day.
    UNIQUE (tenant_id, prev_hash)
);
GRANT SELECT, INSERT ON noticeboard_snapshots TO epom_app;
SELECT epom_enable_tenant_rls('noticeboard_snapshots');

-- +goose Down
DROP TABLE noticeboard_snapshots;
