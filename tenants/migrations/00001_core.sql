-- +goose Up
-- The kernel schema. Roles: epom_owner runs this; epom_app serves requests and runs jobs
-- (never superuser, never BYPASSRLS); epom_platform runs the few cross-tenant code paths
-- (tenant registry, resolution, relay) through explicit per-table policies, not BYPASSRLS.

-- +goose StatementBegin
-- epom_enable_tenant_rls is the one place that defines tenant isolation, so that every tenant
-- table (kernel and modules) gets exactly the same policies. The setting is read in a
-- sub-select so PostgreSQL evaluates it once per statement instead of once per row; after a
-- transaction ends the setting reads '' (not NULL), hence NULLIF.
CREATE FUNCTION epom_enable_tenant_rls(tbl regclass, platform_access text DEFAULT 'none')
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

-- +goose StatementBegin
-- epom_migration_versions lets the app role's /readyz compare the applied migration versions
-- with the ones embedded in the binary without being able to read or change anything else.
CREATE FUNCTION epom_migration_versions()
RETURNS TABLE (version_table text, version bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'goose\_%' LOOP
        version_table := t;
        EXECUTE format('SELECT COALESCE(max(version_id), 0) FROM %I WHERE is_applied', t) INTO version;
        RETURN NEXT;
    END LOOP;
END
$fn$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION epom_migration_versions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION epom_migration_versions() TO epom_app, epom_platform;

-- catalogue: the ČSÚ list of all municipalities (obce), refreshed from the embedded CSV by
-- `epom migrate up`; readable by everyone, written only by the owner.
CREATE TABLE catalogue_municipalities (
    kod_obce            text PRIMARY KEY,           -- kód obce (ZÚJ)
    nazev               text NOT NULL,
    typ                 text NOT NULL,
    pou_kod             text NOT NULL,              -- pověřený obecní úřad
    pou_nazev           text NOT NULL,
    orp_kod             text NOT NULL,              -- obec s rozšířenou působností
    orp_nazev           text NOT NULL,
    okres_kod_nuts      text NOT NULL,
    okres_nazev         text NOT NULL,
    kraj_kod_nuts       text NOT NULL,
    kraj_nazev          text NOT NULL,
    ico                 text NOT NULL DEFAULT '',
    pocet_obyvatel      integer,
    psc                 text[] NOT NULL DEFAULT '{}',
    platnost_k          date NOT NULL,
    search_key          text NOT NULL               -- lower case, no diacritics
);
CREATE INDEX catalogue_municipalities_kraj ON catalogue_municipalities (kraj_kod_nuts, nazev);
CREATE INDEX catalogue_municipalities_ico ON catalogue_municipalities (ico);
GRANT SELECT ON catalogue_municipalities TO epom_app, epom_platform;

-- The tenant registry: a municipality that uses epom.
CREATE TABLE tenants (
    id                  uuid PRIMARY KEY,
    kod_obce            text NOT NULL UNIQUE REFERENCES catalogue_municipalities (kod_obce),
    slug                text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
    status              text NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'closed')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    status_changed_at   timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON tenants TO epom_app;
GRANT SELECT, INSERT, UPDATE ON tenants TO epom_platform;

-- Custom host names (e.g. epom.kunzak.cz) that resolve to a tenant.
CREATE TABLE tenant_hosts (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    host                text NOT NULL CHECK (host = lower(host) AND host ~ '^[a-z0-9.-]+$'),
    PRIMARY KEY (tenant_id, host)
);
CREATE UNIQUE INDEX tenant_hosts_host ON tenant_hosts (host);
GRANT SELECT ON tenant_hosts TO epom_app;
SELECT epom_enable_tenant_rls('tenant_hosts', 'all');

-- Which agenda modules a tenant has switched on; a row means on.
CREATE TABLE tenant_modules (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    module_id           text NOT NULL,
    enabled_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, module_id)
);
GRANT SELECT ON tenant_modules TO epom_app;
SELECT epom_enable_tenant_rls('tenant_modules', 'all');

-- The municipality's own settings, edited by its admin.
CREATE TABLE tenant_settings (
    tenant_id           uuid PRIMARY KEY REFERENCES tenants (id),
    display_name        text NOT NULL,
    contact_email       text NOT NULL DEFAULT '',
    contact_phone       text NOT NULL DEFAULT '',
    website             text NOT NULL DEFAULT '',
    address             text NOT NULL DEFAULT '',
    embed_origins       text[] NOT NULL DEFAULT '{}',  -- CSP frame-ancestors for ?embed=1 pages
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          uuid
);
GRANT SELECT, INSERT, UPDATE ON tenant_settings TO epom_app;
SELECT epom_enable_tenant_rls('tenant_settings', 'read');

-- People. One account across all municipalities; staff roles come from memberships.
CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    email               text NOT NULL CHECK (email = lower(email)),
    name                text NOT NULL,
    password_hash       text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    disabled_at         timestamptz
);
CREATE UNIQUE INDEX users_email ON users (email);
GRANT SELECT, INSERT, UPDATE ON users TO epom_app;
GRANT SELECT, INSERT, UPDATE ON users TO epom_platform;

-- Roles outside any tenant: platform-admin (scope 'platform'), operator (scope 'kraj:CZ051').
CREATE TABLE platform_roles (
    user_id             uuid NOT NULL REFERENCES users (id),
    role                text NOT NULL,
    scope               text NOT NULL,
    PRIMARY KEY (user_id, role, scope)
);
GRANT SELECT ON platform_roles TO epom_app;
GRANT SELECT, INSERT, DELETE ON platform_roles TO epom_platform;

-- A user's roles in one tenant.
CREATE TABLE memberships (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    user_id             uuid NOT NULL REFERENCES users (id),
    role                text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, role)
);
CREATE INDEX memberships_user ON memberships (user_id);
GRANT SELECT, INSERT, DELETE ON memberships TO epom_app;
SELECT epom_enable_tenant_rls('memberships', 'all');

-- Server-side sessions; the cookie carries a random token, the table only its SHA-256.
CREATE TABLE sessions (
    token_hash          bytea PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id),
    csrf_token          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    ip                  text NOT NULL DEFAULT '',
    user_agent          text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO epom_app;

-- +goose Down
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE platform_roles;
DROP TABLE users;
DROP TABLE tenant_settings;
DROP TABLE tenant_modules;
DROP TABLE tenant_hosts;
DROP TABLE tenants;
DROP TABLE catalogue_municipalities;
DROP FUNCTION epom_enable_tenant_rls(regclass, text);
DROP FUNCTION epom_migration_versions();
