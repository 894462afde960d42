-- +goose Up
-- Exports a tenant admin asks for in the app (tenants/transfer.Exports): one row per request.
-- The background task core:tenant.export writes the archive into a temporary file of the
-- tenant's files and e-mails the requester a download link; the file expires, and with it
-- the download (file_id becomes NULL).
CREATE TABLE tenant_exports (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,
    requested_by        uuid NOT NULL REFERENCES users (id),
    requested_at        timestamptz NOT NULL DEFAULT now(),
    status              text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    started_at          timestamptz,
    finished_at         timestamptz,
    file_id             uuid,
    size                bigint,
    sha256              bytea,
    expires_at          timestamptz,
    error               text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, file_id) REFERENCES files (tenant_id, id) ON DELETE SET NULL (file_id)
);
CREATE INDEX tenant_exports_recent ON tenant_exports (tenant_id, requested_at DESC);
-- The export jobs are not part of an export: they describe archives that are not in it.
COMMENT ON TABLE tenant_exports IS 'Exports requested in the app. epom:transfer=skip';
GRANT SELECT, INSERT, UPDATE ON tenant_exports TO epom_app;
SELECT epom_enable_tenant_rls('tenant_exports');

-- +goose Down
DROP TABLE tenant_exports;
