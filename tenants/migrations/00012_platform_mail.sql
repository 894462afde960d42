-- +goose Up
-- Mail the deployment sends in its own name rather than a municipality's: account verification,
-- password reset, the steps of an online subscription. It has no tenant, so it cannot ride the
-- tenant outbox; the row is written in the caller's transaction (a rollback sends nothing) and
-- the worker's platform sender claims due rows with SKIP LOCKED. Bodies may carry single-use
-- links, so the sender clears them once the message is out; the row stays as the log.
CREATE TABLE platform_mail (
    id                  uuid PRIMARY KEY,              -- UUIDv7; also the Message-ID's local part
    created_at          timestamptz NOT NULL DEFAULT now(),
    template            text NOT NULL,
    lang                text NOT NULL CHECK (lang IN ('cs', 'en')),
    ref                 text NOT NULL DEFAULT '',      -- what it is about, no personal data
    to_address          text NOT NULL,
    to_name             text NOT NULL DEFAULT '',
    subject             text NOT NULL,
    text_body           text NOT NULL,
    html_body           text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sent', 'failed', 'not_sent')),
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),  -- also the claim's lease
    sent_at             timestamptz,
    message_id          text NOT NULL DEFAULT '',
    last_error          text NOT NULL DEFAULT ''
);
CREATE INDEX platform_mail_due ON platform_mail (next_attempt_at) WHERE status = 'queued';
CREATE INDEX platform_mail_recipient ON platform_mail (to_address, created_at DESC);
GRANT SELECT, INSERT ON platform_mail TO epom_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON platform_mail TO epom_platform;

-- +goose StatementBegin
CREATE FUNCTION epom_platform_mail_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('epom_platform_mail', '');
    RETURN NULL;
END
$fn$;
-- +goose StatementEnd
CREATE TRIGGER platform_mail_notify AFTER INSERT ON platform_mail
    FOR EACH STATEMENT EXECUTE FUNCTION epom_platform_mail_notify();

-- +goose Down
DROP TABLE platform_mail;
DROP FUNCTION epom_platform_mail_notify();
