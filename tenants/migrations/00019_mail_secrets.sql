-- +goose Up
-- Keys carried by a logged e-mail: an invitation or a subscription confirmation token, an
-- unsubscribe token. The sender needs them in the body until the message has left; then
-- they are replaced in the stored body (and this list emptied), so neither the mail log nor
-- a tenant export holds a link that still works.
ALTER TABLE mail_log ADD COLUMN secrets text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE mail_log DROP COLUMN secrets;
