-- +goose Up
-- Which key of the ring (EPOM_SECRET_KEY, EPOM_SECRET_KEY_PREVIOUS) encrypted a TOTP secret
-- or keyed a recovery-code hash: the key's fingerprint, the first 8 hex digits of its
-- SHA-256. '' is a row written before keys were recorded (unknown). `epom secrets rotate`
-- re-encrypts the TOTP secrets not under the current key and reports what still depends on
-- an earlier one.
ALTER TABLE user_totp ADD COLUMN key_id text NOT NULL DEFAULT '';
ALTER TABLE user_recovery_codes ADD COLUMN key_id text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE user_recovery_codes DROP COLUMN key_id;
ALTER TABLE user_totp DROP COLUMN key_id;
