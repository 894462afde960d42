-- +goose Up
-- Two-factor sign-in (TOTP, RFC 6238) with recovery codes, the pending step between password
-- and code, and what a user needs to list and revoke their own sessions. None of this is
-- tenant data: an account serves every municipality.

-- The TOTP secret, AES-GCM encrypted under EPOM_SECRET_KEY. enabled_at is NULL while the user
-- is enrolling (the secret is shown, no code confirmed yet). last_step is the newest 30-second
-- step a code was accepted for, so a code cannot be used twice.
CREATE TABLE user_totp (
    user_id             uuid PRIMARY KEY REFERENCES users (id),
    secret_enc          bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    enabled_at          timestamptz,
    last_step           bigint NOT NULL DEFAULT 0
);
GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp TO epom_app;

-- Recovery codes, keyed HMAC-SHA-256 of the code (the key is EPOM_SECRET_KEY); single use.
CREATE TABLE user_recovery_codes (
    user_id             uuid NOT NULL REFERENCES users (id),
    code_hash           bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    used_at             timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON user_recovery_codes TO epom_app;

-- A sign-in whose password was right and which waits for the second factor. The cookie
-- carries a random token, the table only its SHA-256.
CREATE TABLE pending_logins (
    token_hash          bytea PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    failures            int NOT NULL DEFAULT 0,
    ip                  text NOT NULL DEFAULT '',
    user_agent          text NOT NULL DEFAULT ''
);
CREATE INDEX pending_logins_expires ON pending_logins (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON pending_logins TO epom_app;

-- A session's public id names it in "my sessions" (the token hash must never leave the
-- server); assurance says how the user proved who they are.
ALTER TABLE sessions
    ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN assurance text NOT NULL DEFAULT 'password'
        CHECK (assurance IN ('password', 'password+totp', 'password+recovery-code', 'external',
            'external-single-factor'));
CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);

-- +goose Down
DROP INDEX sessions_public_id;
ALTER TABLE sessions DROP COLUMN assurance, DROP COLUMN public_id;
DROP TABLE pending_logins;
DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
