package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EmailVerified reports whether the account's e-mail address is verified: a public page may
// then act on that address without a confirmation e-mail of its own.
func (s *Service) EmailVerified(ctx context.Context, id uuid.UUID) (bool, error) {
	var ok bool
	err := s.app.QueryRow(ctx, `SELECT email_verified_at IS NOT NULL FROM users WHERE id = $1`, id).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNoSession
	}
	if err != nil {
		return false, fmt.Errorf("read account: %w", err)
	}
	return ok, nil
}
