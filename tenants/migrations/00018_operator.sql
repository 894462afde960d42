-- +goose Up
-- Online subscription (objednávka): a municipality asks to use epom through the public form;
-- the regional operator of its kraj approves (which creates the tenant and invites the
-- applicant as its first admin) or rejects it with a reason. A platform table: the request
-- exists before the tenant does. Written only through the platform role.
CREATE TABLE subscription_requests (
    id                  uuid PRIMARY KEY,
    kod_obce            text NOT NULL REFERENCES catalogue_municipalities (kod_obce),
    kraj_nuts           text NOT NULL,
    ico                 text NOT NULL,
    contact_name        text NOT NULL,
    email               text NOT NULL CHECK (email = lower(email)),
    phone               text NOT NULL DEFAULT '',
    modules             text[] NOT NULL DEFAULT '{}',
    note                text NOT NULL DEFAULT '',
    lang                text NOT NULL DEFAULT 'cs' CHECK (lang IN ('cs', 'en')),
    ip                  text NOT NULL DEFAULT '',  -- for the per-address rate limit; cleared on decision
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    reason              text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    decided_by          uuid REFERENCES users (id),
    decided_at          timestamptz,
    -- Not "tenant_id": this is a platform table, not a tenant one (tenant tables are found by
    -- that column and must have row-level security).
    approved_tenant_id  uuid REFERENCES tenants (id),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (status <> 'rejected' OR reason <> ''),
    CHECK (status <> 'approved' OR approved_tenant_id IS NOT NULL)
);
-- At most one open request per municipality.
CREATE UNIQUE INDEX subscription_requests_pending ON subscription_requests (kod_obce) WHERE status = 'pending';
CREATE INDEX subscription_requests_queue ON subscription_requests (kraj_nuts, status, created_at DESC);
CREATE INDEX subscription_requests_ip ON subscription_requests (ip, created_at);
GRANT SELECT, INSERT, UPDATE ON subscription_requests TO epom_platform;

-- The operator console shows when a tenant's staff last signed in; this keeps that lookup an
-- index scan over the platform log.
CREATE INDEX platform_audit_log_sign_in ON platform_audit_log (actor_id, at DESC) WHERE action = 'sign-in';

-- +goose Down
DROP INDEX platform_audit_log_sign_in;
DROP TABLE subscription_requests;
