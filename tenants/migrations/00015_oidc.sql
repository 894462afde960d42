-- +goose Up
-- Sign-in with an external identity provider over OpenID Connect (tenants/identity/oidc).
-- Accounts are not tenant data, so neither are these tables: no tenant_id, no RLS.

-- Which account a provider's subject signs in to. The e-mail is what the provider said when
-- the identity was linked; later sign-ins find the account by (provider, subject) even after
-- the address changed at the provider. One identity per provider and account, so that
-- "unlink NIA" names exactly one row.
CREATE TABLE user_identities (
    provider            text NOT NULL,
    subject             text NOT NULL,
    user_id             uuid NOT NULL REFERENCES users (id),
    email               text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_used_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, subject),
    UNIQUE (user_id, provider)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON user_identities TO epom_app;
GRANT SELECT ON user_identities TO epom_platform;

-- Sign-ins under way: between the redirect to the provider and its answer. Keyed by the
-- SHA-256 of the state, which the browser also holds in a cookie; a row is used once.
CREATE TABLE oidc_logins (
    state_hash          bytea PRIMARY KEY,
    provider            text NOT NULL,
    nonce               text NOT NULL,
    verifier            text NOT NULL,              -- PKCE code verifier
    next                text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL
);
CREATE INDEX oidc_logins_expires ON oidc_logins (expires_at);
GRANT SELECT, INSERT, DELETE ON oidc_logins TO epom_app;

-- +goose Down
DROP TABLE oidc_logins;
DROP TABLE user_identities;
