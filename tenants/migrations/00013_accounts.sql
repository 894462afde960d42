-- +goose Up
-- Citizens register themselves and must prove they read the address before they can sign in.
-- Accounts that exist already, and accounts made by an operator, the CLI or the demo seed
-- (which do not name the column), count as verified: somebody vouched for the address.
-- Self-registration inserts NULL explicitly.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz DEFAULT now();
UPDATE users SET email_verified_at = created_at;

-- Single-use links sent by e-mail: address verification and password reset. The link carries
-- a random token, the table only its SHA-256. A used token stays until it expires (plus a
-- grace period for pruning), so that opening it again says "already used", not "unknown".
CREATE TABLE account_tokens (
    token_hash          bytea PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id),
    purpose             text NOT NULL CHECK (purpose IN ('verify-email', 'reset-password')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    used_at             timestamptz
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_expires ON account_tokens (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON account_tokens TO epom_app;
GRANT SELECT, DELETE ON account_tokens TO epom_platform;

-- +goose Down
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
