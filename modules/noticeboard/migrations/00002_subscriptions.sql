-- +goose Up
-- Citizens' subscriptions to the board (odběr úřední desky): an e-mail for every notice
-- posted, optionally only in some categories. Double opt-in: a subscription receives mail
-- only once confirmed_at is set, by the link in the confirmation e-mail or because a
-- signed-in citizen's verified account address was used.
CREATE TABLE noticeboard_subscriptions (
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    id                  uuid NOT NULL,                  -- UUIDv7
    email               text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    user_id             uuid REFERENCES users (id),     -- the signed-in citizen who subscribed
    categories          text[] NOT NULL DEFAULT '{}',   -- empty: every category
    -- What an unconfirmed (re-)subscription asked for; applied by the confirmation, so that
    -- nobody changes another person's subscription without their mailbox.
    pending_categories  text[],
    lang                text NOT NULL DEFAULT 'cs' CHECK (lang IN ('cs', 'en')),
    confirm_token_hash  bytea CHECK (octet_length(confirm_token_hash) = 32),  -- SHA-256
    confirm_sent_at     timestamptz,
    confirmed_at        timestamptz,
    -- The unsubscribe token is not stored: it is an HMAC of the id under the deployment's
    -- secret key, so every notice e-mail can carry it and a database leak does not reveal it.
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    unsubscribed_at     timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX noticeboard_subscriptions_email ON noticeboard_subscriptions (tenant_id, lower(email));
CREATE UNIQUE INDEX noticeboard_subscriptions_confirm ON noticeboard_subscriptions (tenant_id, confirm_token_hash)
    WHERE confirm_token_hash IS NOT NULL;
GRANT SELECT, INSERT, UPDATE ON noticeboard_subscriptions TO epom_app;
SELECT epom_enable_tenant_rls('noticeboard_subscriptions');

-- Which subscriber was mailed about which notice: the fan-out inserts the row with the mail
-- in one transaction, so a retried task never mails anyone twice.
CREATE TABLE noticeboard_deliveries (
    tenant_id           uuid NOT NULL,
    notice_id           uuid NOT NULL,
    subscription_id     uuid NOT NULL,
    mail_id             uuid NOT NULL,                  -- the tenant mail log entry
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, notice_id, subscription_id),
    FOREIGN KEY (tenant_id, notice_id) REFERENCES noticeboard_notices (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, subscription_id) REFERENCES noticeboard_subscriptions (tenant_id, id) ON DELETE CASCADE
);
GRANT SELECT, INSERT ON noticeboard_deliveries TO epom_app;
SELECT epom_enable_tenant_rls('noticeboard_deliveries');

-- +goose Down
DROP TABLE noticeboard_deliveries;
DROP TABLE noticeboard_subscriptions;
