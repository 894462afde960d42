-- +goose Up
-- Tenants' files (attachments: notice board PDFs, submission uploads, export archives) stored
-- in PostgreSQL, and the owner's access for tenant export/import/drop.

-- One row per file. Content is immutable: a changed document is a new file. sha256 and size
-- are computed while the content streams in (tenants/files).
CREATE TABLE files (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,                 -- UUIDv7, made by the store
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    content_type        text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 255),
    size                bigint NOT NULL CHECK (size >= 0),
    sha256              bytea NOT NULL CHECK (octet_length(sha256) = 32),
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- A file with an expiry is temporary (an export archive waiting to be downloaded): it is
    -- deleted after that time and tenant exports leave it out.
    expires_at          timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX files_expires ON files (tenant_id, expires_at) WHERE expires_at IS NOT NULL;

-- The content in 1 MiB chunks, so a file of any size is written and read a chunk at a time
-- with bounded memory. The foreign key is deferred so the store can write the chunks first
-- and the files row (with the SHA-256 known only at the end) last.
CREATE TABLE file_chunks (
    tenant_id           uuid NOT NULL,
    file_id             uuid NOT NULL,
    seq                 integer NOT NULL CHECK (seq >= 0),
    data                bytea NOT NULL,
    PRIMARY KEY (tenant_id, file_id, seq),
    FOREIGN KEY (tenant_id, file_id) REFERENCES files (tenant_id, id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
-- Attachments are mostly compressed already (PDF, JPEG, ZIP); skip pglz's attempt.
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

GRANT SELECT, INSERT, DELETE ON files, file_chunks TO epom_app;
SELECT epom_enable_tenant_rls('files');
SELECT epom_enable_tenant_rls('file_chunks');

-- +goose StatementBegin
-- Tenant import and drop (`epom tenant import|drop`, tenants/transfer) write and delete every
-- row of one tenant in every tenant table, in one transaction, including tables the app role
-- may only read (tenant_hosts, tenant_modules, outbox) and the tenants row, which only the
-- owner may delete. They run as the owner role, which FORCE ROW LEVEL SECURITY subjects to
-- the policies like everyone else; this policy lets the owner see and change exactly the
-- rows of the tenant its transaction is bound to (app.tenant_id), as tenant_isolation does
-- for the app role. The owner can already alter and drop these tables, so this gives it no
-- power it did not have, and the server never connects as the owner.
CREATE FUNCTION epom_enable_owner_transfer(tbl regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format(
        'CREATE POLICY owner_transfer ON %s TO epom_owner '
        'USING (tenant_id = (SELECT NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)) '
        'WITH CHECK (tenant_id = (SELECT NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid))',
        tbl);
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- The same helper as in 00001, plus the owner's transfer policy, so every tenant table created
-- from now on (kernel and modules) is covered by export, import and drop.
CREATE OR REPLACE FUNCTION epom_enable_tenant_rls(tbl regclass, platform_access text DEFAULT 'none')
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s TO epom_app '
        'USING (tenant_id = (SELECT NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)) '
        'WITH CHECK (tenant_id = (SELECT NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid))',
        tbl);
    IF platform_access = 'read' THEN
        EXECUTE format('CREATE POLICY platform_read ON %s FOR SELECT TO epom_platform USING (true)', tbl);
        EXECUTE format('GRANT SELECT ON %s TO epom_platform', tbl);
    ELSIF platform_access = 'all' THEN
        EXECUTE format('CREATE POLICY platform_all ON %s TO epom_platform USING (true) WITH CHECK (true)', tbl);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO epom_platform', tbl);
    ELSIF platform_access <> 'none' THEN
        RAISE EXCEPTION 'platform_access must be none, read or all, not %', platform_access;
    END IF;
    PERFORM epom_enable_owner_transfer(tbl);
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Tables made before this migration (00001–00009) get the policy here.
DO $do$
DECLARE t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation')
          AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'owner_transfer')
    LOOP
        PERFORM epom_enable_owner_transfer(t);
    END LOOP;
END
$do$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $do$
DECLARE t regclass;
BEGIN
    FOR t IN SELECT p.polrelid::regclass FROM pg_policy p WHERE p.polname = 'owner_transfer' LOOP
        EXECUTE format('DROP POLICY owner_transfer ON %s', t);
    END LOOP;
END
$do$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION epom_enable_tenant_rls(tbl regclass, platform_access text DEFAULT 'none')
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s TO epom_app '
        'USING (tenant_id = (SELECT NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)) '
        'WITH CHECK (tenant_id = (SELECT NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid))',
        tbl);
    IF platform_access = 'read' THEN
        EXECUTE format('CREATE POLICY platform_read ON %s FOR SELECT TO epom_platform USING (true)', tbl);
        EXECUTE format('GRANT SELECT ON %s TO epom_platform', tbl);
    ELSIF platform_access = 'all' THEN
        EXECUTE format('CREATE POLICY platform_all ON %s TO epom_platform USING (true) WITH CHECK (true)', tbl);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO epom_platform', tbl);
    ELSIF platform_access <> 'none' THEN
        RAISE EXCEPTION 'platform_access must be none, read or all, not %', platform_access;
    END IF;
END
$fn$;
-- +goose StatementEnd
DROP FUNCTION epom_enable_owner_transfer(regclass);
DROP TABLE file_chunks;
DROP TABLE files;
