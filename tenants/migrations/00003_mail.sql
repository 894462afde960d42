-- +goose Up
-- The per-tenant log of outgoing e-mail (the municipality's admin sees what was sent to whom
-- and when). A row is written, with the rendered message, in the same transaction as the
-- business change that caused it; the "core:mail" task carries only the row's id, so
-- recipients and content never pass through Redis.
CREATE TABLE mail_log (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,                 -- UUIDv7; also the Message-ID's local part
    created_at          timestamptz NOT NULL DEFAULT now(),
    template            text NOT NULL,
    lang                text NOT NULL CHECK (lang IN ('cs', 'en')),
    ref                 text NOT NULL DEFAULT '',      -- what it is about, e.g. noticeboard.notice:<id>
    to_address          text NOT NULL,
    to_name             text NOT NULL DEFAULT '',
    from_name           text NOT NULL,                 -- the municipality's name as the sender
    reply_to            text NOT NULL DEFAULT '',
    list_unsubscribe    text NOT NULL DEFAULT '',
    subject             text NOT NULL,
    text_body           text NOT NULL,
    html_body           text NOT NULL DEFAULT '',
    -- queued: waiting for the worker; sent: accepted by the SMTP server; failed: refused for
    -- good (5xx) or out of retries; not_sent: no SMTP server configured (development)
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sent', 'failed', 'not_sent')),
    attempts            integer NOT NULL DEFAULT 0,
    sent_at             timestamptz,
    message_id          text NOT NULL DEFAULT '',
    last_error          text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);
-- The admin's list, newest first; ids are time-ordered, so this is the primary key's order too.
CREATE INDEX mail_log_recent ON mail_log (tenant_id, created_at DESC);
CREATE INDEX mail_log_recipient ON mail_log (tenant_id, to_address);
-- DELETE: the worker prunes the tenant's own old entries (personal data is kept no longer
-- than needed).
GRANT SELECT, INSERT, UPDATE, DELETE ON mail_log TO epom_app;
SELECT epom_enable_tenant_rls('mail_log');

-- +goose Down
DROP TABLE mail_log;
