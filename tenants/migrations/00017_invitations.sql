-- +goose Up
-- Invitations (pozvánky) of staff into a municipality: a tenant admin, or the operator who
-- sets a new municipality up, invites an e-mail address with some role templates; the link in
-- the e-mail carries a random token of which only the SHA-256 is stored. Accepting adds the
-- memberships. The public accept page finds the invitation by its token before it knows the
-- tenant, so the platform role may read (not write) the table.
CREATE TABLE invitations (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,
    email               text NOT NULL CHECK (email = lower(email)),
    name                text NOT NULL DEFAULT '',
    roles               text[] NOT NULL CHECK (cardinality(roles) > 0),
    token_hash          bytea NOT NULL,
    invited_by          uuid REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    accepted_at         timestamptz,
    accepted_by         uuid REFERENCES users (id),
    revoked_at          timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
-- One open invitation per address: a new one replaces (revokes) the previous.
CREATE UNIQUE INDEX invitations_open ON invitations (tenant_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
-- Links do not survive a move to another deployment, and invited_by names accounts of this one.
COMMENT ON TABLE invitations IS 'Staff invitations, transient. epom:transfer=skip';
GRANT SELECT, INSERT, UPDATE ON invitations TO epom_app;
SELECT epom_enable_tenant_rls('invitations', 'read');

-- +goose Down
DROP TABLE invitations;
