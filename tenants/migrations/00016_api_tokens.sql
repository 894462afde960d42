-- +goose Up
-- API tokens for machine clients of one municipality (tenants/apitokens). The client sends
-- "epom_<id>_<secret>"; the row is found by id and only SHA-256 of the 256-bit secret is kept,
-- so a stolen database holds no usable token. Scopes are permissions ("tenant.settings:read")
-- the token may use, never more than its creator held when it was made.
CREATE TABLE api_tokens (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    secret_hash         bytea NOT NULL CHECK (length(secret_hash) = 32),
    scopes              text[] NOT NULL,
    created_by          uuid NOT NULL REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz,
    last_used_at        timestamptz,
    last_used_ip        text NOT NULL DEFAULT '',
    revoked_at          timestamptz,
    revoked_by          uuid REFERENCES users (id),
    PRIMARY KEY (tenant_id, id),
    CHECK (expires_at IS NULL OR expires_at <= created_at + interval '1 year 1 day')
);
-- A bearer token names its id (UUIDv7) but not its tenant: authentication finds the row by id
-- alone (through the platform role) and then refuses it anywhere but its own tenant.
CREATE INDEX api_tokens_id ON api_tokens (id);
CREATE INDEX api_tokens_recent ON api_tokens (tenant_id, created_at DESC);
-- Credentials are not the municipality's data: an export archive must not carry them.
COMMENT ON TABLE api_tokens IS 'API tokens of machine clients. epom:transfer=skip';
GRANT SELECT, INSERT, UPDATE ON api_tokens TO epom_app;
SELECT epom_enable_tenant_rls('api_tokens', 'read');

-- +goose Down
DROP TABLE api_tokens;
