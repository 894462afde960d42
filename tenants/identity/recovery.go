package identity

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RecoveryCodeCount is how many recovery codes (záchranné kódy) a user gets at a time.
const RecoveryCodeCount = 10

// recoveryAlphabet leaves out characters people confuse (0/O, 1/I/L).
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// newRecoveryCode is ten characters from a 31-letter alphabet (about 50 bits), shown as
// xxxxx-xxxxx.
func newRecoveryCode() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	out := make([]byte, 0, 11)
	for i, c := range b {
		if i == 5 {
			out = append(out, '-')
		}
		// The modulo bias of 256 % 31 is below half a bit over the whole code.
		out = append(out, recoveryAlphabet[int(c)%len(recoveryAlphabet)])
	}
	return string(out), nil
}

// recoveryHash is keyed (under the current key), so a leaked table alone does not let
// anybody test guesses.
func (s *Service) recoveryHash(userID uuid.UUID, code string) []byte {
	return s.keys().Sign(userID[:], []byte(strings.ToLower(normalizeCode(code))))
}

// recoveryHashes are the code's hashes under every key of the ring: a code issued before the
// key was rotated is still accepted while its key stays in EPOM_SECRET_KEY_PREVIOUS.
func (s *Service) recoveryHashes(userID uuid.UUID, code string) [][]byte {
	return s.keys().SumAll(userID[:], []byte(strings.ToLower(normalizeCode(code))))
}

// replaceRecoveryCodes drops the user's codes and stores RecoveryCodeCount new ones.
func (s *Service) replaceRecoveryCodes(ctx context.Context, tx pgx.Tx, userID uuid.UUID) ([]string, error) {
	ring := s.keys()
	if !ring.Ready() {
		return nil, ErrNoSecretKey
	}
	if _, err := tx.Exec(ctx, `DELETE FROM user_recovery_codes WHERE user_id = $1`, userID); err != nil {
		return nil, fmt.Errorf("recovery codes: %w", err)
	}
	codes := make([]string, 0, RecoveryCodeCount)
	for range RecoveryCodeCount {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO user_recovery_codes (user_id, code_hash, key_id) VALUES ($1, $2, $3)`,
			userID, s.recoveryHash(userID, c), ring.CurrentID()); err != nil {
			return nil, fmt.Errorf("recovery codes: %w", err)
		}
		codes = append(codes, c)
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes after a current TOTP code.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID uuid.UUID, code string) ([]string, error) {
	var codes []string
	err := pgx.BeginFunc(ctx, s.app, func(tx pgx.Tx) error {
		if err := s.checkTOTP(ctx, tx, userID, code); err != nil {
			return err
		}
		var err error
		codes, err = s.replaceRecoveryCodes(ctx, tx, userID)
		return err
	})
	return codes, err
}

// useRecoveryCode spends one recovery code and returns how many are left.
func (s *Service) useRecoveryCode(ctx context.Context, q querier, userID uuid.UUID, code string) (int, error) {
	tag, err := q.Exec(ctx, `UPDATE user_recovery_codes SET used_at = $3
		WHERE user_id = $1 AND code_hash = ANY($2) AND used_at IS NULL`, userID, s.recoveryHashes(userID, code), s.now())
	if err != nil {
		return 0, fmt.Errorf("use recovery code: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return 0, ErrWrongCode
	}
	var left int
	err = q.QueryRow(ctx, `SELECT count(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID).Scan(&left)
	return left, err
}
