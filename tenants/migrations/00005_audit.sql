-- +goose Up
-- The security audit log: append-only, one hash chain per tenant and one for the platform.
-- Each entry's hash covers its content and the previous entry's hash, and audit_heads keeps
-- the newest sequence number and hash of every chain, so `epom audit verify` detects an
-- edited, deleted or reordered entry, and a cut tail. Nobody but the owner can UPDATE or
-- DELETE entries.

CREATE TABLE tenant_audit_log (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    seq         bigint NOT NULL,
    at          timestamptz NOT NULL,
    actor_id    uuid,
    actor       text NOT NULL DEFAULT '',   -- e-mail or "system" at the time of the event
    ip          text NOT NULL DEFAULT '',
    action      text NOT NULL,              -- sign-in, sign-in-failed, role-granted, module-enabled, …
    target      text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX tenant_audit_log_at ON tenant_audit_log (tenant_id, at);
GRANT SELECT, INSERT ON tenant_audit_log TO epom_app;
SELECT epom_enable_tenant_rls('tenant_audit_log', 'read');
GRANT INSERT ON tenant_audit_log TO epom_platform;
-- The platform role appends tenant events it causes (status changes, module changes).
CREATE POLICY platform_append ON tenant_audit_log FOR INSERT TO epom_platform WITH CHECK (true);

CREATE TABLE platform_audit_log (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    uuid,
    actor       text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    action      text NOT NULL,
    target      text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);
GRANT SELECT, INSERT ON platform_audit_log TO epom_app, epom_platform;

-- The head of each chain: 'platform' or a tenant id. Appends lock the head row, which also
-- serialises appends to one chain.
CREATE TABLE audit_heads (
    chain       text PRIMARY KEY,
    seq         bigint NOT NULL,
    hash        bytea NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON audit_heads TO epom_app, epom_platform;

-- +goose Down
DROP TABLE audit_heads;
DROP TABLE platform_audit_log;
DROP TABLE tenant_audit_log;
