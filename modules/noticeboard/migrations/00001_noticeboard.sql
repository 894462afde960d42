-- +goose Up
-- The notice board (úřední deska): notices, their immutable revisions once posted, their
-- attachments (content in the kernel's files table) and the board's per-tenant settings.

-- The board's own settings. No row means the defaults (no approval step).
CREATE TABLE noticeboard_settings (
    tenant_id           uuid PRIMARY KEY REFERENCES tenants (id),
    -- A second clerk (never the author) approves a notice before it can be posted.
    approval_required   boolean NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          uuid REFERENCES users (id)
);
GRANT SELECT, INSERT, UPDATE ON noticeboard_settings TO epom_app;
SELECT epom_enable_tenant_rls('noticeboard_settings');

-- A notice's current state. Its text while draft lives here; from posting on, each version
-- is also a row of noticeboard_revisions, and `revision` names the one now on the board.
CREATE TABLE noticeboard_notices (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,                  -- UUIDv7
    state               text NOT NULL DEFAULT 'draft'
                        CHECK (state IN ('draft', 'pending_approval', 'scheduled', 'posted', 'archived')),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    body                text NOT NULL DEFAULT '',       -- plain text, never HTML
    category            text NOT NULL CHECK (category IN ('vyhlasky', 'rozpocet', 'uzemni-plan',
                            'zakazky', 'volby', 'jine-urady', 'ostatni')),
    -- Původce: the municipality's own office, or another body that asked it to post.
    origin              text NOT NULL DEFAULT 'own' CHECK (origin IN ('own', 'other')),
    origin_name         text NOT NULL DEFAULT '',
    reference_number    text NOT NULL DEFAULT '',       -- číslo jednací
    file_mark           text NOT NULL DEFAULT '',       -- spisová značka
    posting_at          timestamptz,                    -- planned vyvěšení; NULL: when published
    relevant_until      timestamptz,                    -- planned sejmutí; NULL: until further notice
    posted_at           timestamptz,                    -- the real time it went up
    taken_down_at       timestamptz,                    -- the real time it came down
    take_down_reason    text NOT NULL DEFAULT '',
    revision            integer NOT NULL DEFAULT 0,     -- 0 until posted
    author_id           uuid NOT NULL REFERENCES users (id),
    approved_by         uuid REFERENCES users (id),
    approved_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (origin = 'own' OR origin_name <> ''),
    CHECK (relevant_until IS NULL OR posting_at IS NULL OR relevant_until > posting_at),
    CHECK (approved_by IS NULL OR approved_by <> author_id)
);
-- The clerk's list (by state, newest first) and the sweep of what is due.
CREATE INDEX noticeboard_notices_state ON noticeboard_notices (tenant_id, state, created_at DESC);
CREATE INDEX noticeboard_notices_due_post ON noticeboard_notices (tenant_id, posting_at) WHERE state = 'scheduled';
CREATE INDEX noticeboard_notices_due_down ON noticeboard_notices (tenant_id, relevant_until) WHERE state = 'posted';
GRANT SELECT, INSERT, UPDATE, DELETE ON noticeboard_notices TO epom_app;
SELECT epom_enable_tenant_rls('noticeboard_notices');

-- What hung on the board: one row per version from posting on. Never updated or deleted by
-- the app (no grant), so the history of a notice cannot be lost.
CREATE TABLE noticeboard_revisions (
    tenant_id           uuid NOT NULL,
    notice_id           uuid NOT NULL,
    revision            integer NOT NULL CHECK (revision >= 1),
    title               text NOT NULL,
    body                text NOT NULL,
    category            text NOT NULL,
    origin              text NOT NULL,
    origin_name         text NOT NULL,
    reference_number    text NOT NULL,
    file_mark           text NOT NULL,
    relevant_until      timestamptz,
    -- The attachments of this version: [{"id","name","contentType","size","sha256"}].
    attachments         jsonb NOT NULL DEFAULT '[]',
    note                text NOT NULL DEFAULT '',       -- why it changed
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          uuid REFERENCES users (id),
    PRIMARY KEY (tenant_id, notice_id, revision),
    FOREIGN KEY (tenant_id, notice_id) REFERENCES noticeboard_notices (tenant_id, id)
);
GRANT SELECT, INSERT ON noticeboard_revisions TO epom_app;
SELECT epom_enable_tenant_rls('noticeboard_revisions');

-- A notice's documents. The content is a kernel file (tenants/files) with its SHA-256;
-- an attachment removed from a posted notice stays (removed_at) because earlier revisions
-- point to it.
CREATE TABLE noticeboard_attachments (
    tenant_id           uuid NOT NULL,
    id                  uuid NOT NULL,                  -- also the file's id
    notice_id           uuid NOT NULL,
    name                text NOT NULL,
    content_type        text NOT NULL,
    size                bigint NOT NULL CHECK (size > 0),
    sha256              bytea NOT NULL CHECK (octet_length(sha256) = 32),
    created_at          timestamptz NOT NULL DEFAULT now(),
    removed_at          timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, notice_id) REFERENCES noticeboard_notices (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, id) REFERENCES files (tenant_id, id)
);
CREATE INDEX noticeboard_attachments_notice ON noticeboard_attachments (tenant_id, notice_id, created_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON noticeboard_attachments TO epom_app;
SELECT epom_enable_tenant_rls('noticeboard_attachments');

-- +goose Down
DROP TABLE noticeboard_attachments;
DROP TABLE noticeboard_revisions;
DROP TABLE noticeboard_notices;
DROP TABLE noticeboard_settings;
