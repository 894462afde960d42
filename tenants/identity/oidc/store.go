package oidc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/identity"
)

// take consumes the started sign-in of state: whatever happens next, it cannot be used again.
func (s *Service) take(ctx context.Context, state string) (login, bool, error) {
	var l login
	err := s.pool.QueryRow(ctx, `DELETE FROM oidc_logins WHERE state_hash = $1
		RETURNING provider, nonce, verifier, next, expires_at`, stateHash(state)).
		Scan(&l.provider, &l.nonce, &l.verifier, &l.next, &l.expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return login{}, false, nil
	}
	if err != nil {
		return login{}, false, fmt.Errorf("take sign-in: %w", err)
	}
	return l, true, nil
}

func uniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// account finds, links or creates the account of (provider, subject) in one transaction.
// Two first sign-ins racing for the same subject or e-mail collide on a unique index; the
// loser runs once more and finds what the winner made.
func (s *Service) account(ctx context.Context, provider, subject, email string, verified bool, name string) (identity.User, Outcome, error) {
	for attempt := 0; ; attempt++ {
		var u identity.User
		var outcome Outcome
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			u, outcome, err = s.accountTx(ctx, tx, provider, subject, email, verified, name)
			return err
		})
		if uniqueViolation(err) && attempt == 0 {
			continue
		}
		return u, outcome, err
	}
}

func (s *Service) accountTx(ctx context.Context, tx pgx.Tx, provider, subject, email string, verified bool, name string) (identity.User, Outcome, error) {
	fail := func(r Reason, err error) (identity.User, Outcome, error) {
		return identity.User{}, 0, &Failure{Reason: r, Provider: provider, Err: err}
	}
	var u identity.User
	var disabled bool
	err := tx.QueryRow(ctx, `SELECT u.id, u.email, u.name, u.disabled_at IS NOT NULL
		FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.provider = $1 AND i.subject = $2 FOR UPDATE OF i`, provider, subject).Scan(&u.ID, &u.Email, &u.Name, &disabled)
	switch {
	case err == nil:
		if disabled {
			return fail(ReasonDisabled, errors.New("the linked account is disabled"))
		}
		if _, err := tx.Exec(ctx, `UPDATE user_identities SET last_used_at = $3 WHERE provider = $1 AND subject = $2`,
			provider, subject, s.now()); err != nil {
			return identity.User{}, 0, fmt.Errorf("touch identity: %w", err)
		}
		return u, Known, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return identity.User{}, 0, fmt.Errorf("find identity: %w", err)
	}

	// Not linked yet: only an address the provider vouches for may name an account, or
	// anybody who can make an account at some IdP could take over someone else's.
	if email == "" || !verified {
		return fail(ReasonUnverified, fmt.Errorf("email %q verified=%v", email, verified))
	}
	outcome := Linked
	err = tx.QueryRow(ctx, `SELECT id, email, name, disabled_at IS NOT NULL FROM users WHERE email = $1 FOR UPDATE`, email).
		Scan(&u.ID, &u.Email, &u.Name, &disabled)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// A citizen account without a password: it signs in through this provider. The
		// provider verified the address.
		// accounts: when users get an e-mail verification mark, set it here too.
		outcome = Created
		if name == "" {
			name = email
		}
		u = identity.User{ID: tenants.NewID(), Email: email, Name: name}
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, email, name) VALUES ($1, $2, $3)`, u.ID, u.Email, u.Name); err != nil {
			return identity.User{}, 0, fmt.Errorf("create account: %w", err)
		}
	case err != nil:
		return identity.User{}, 0, fmt.Errorf("find account: %w", err)
	case disabled:
		return fail(ReasonDisabled, errors.New("the account with this e-mail is disabled"))
	}
	var other string
	err = tx.QueryRow(ctx, `SELECT subject FROM user_identities WHERE user_id = $1 AND provider = $2`, u.ID, provider).Scan(&other)
	if err == nil {
		return fail(ReasonConflict, errors.New("the account is linked to another subject of this provider"))
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return identity.User{}, 0, fmt.Errorf("find identity: %w", err)
	}
	now := s.now()
	if _, err := tx.Exec(ctx, `INSERT INTO user_identities (provider, subject, user_id, email, created_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $5)`, provider, subject, u.ID, email, now); err != nil {
		return identity.User{}, 0, fmt.Errorf("link identity: %w", err)
	}
	return u, outcome, nil
}

// Identity is an external identity linked to an account.
type Identity struct {
	Provider   string
	Email      string // as the provider said when it was linked
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Identities lists the identities linked to the account, oldest first.
func (s *Service) Identities(ctx context.Context, userID uuid.UUID) ([]Identity, error) {
	rows, err := s.pool.Query(ctx, `SELECT provider, email, created_at, last_used_at FROM user_identities
		WHERE user_id = $1 ORDER BY created_at, provider`, userID)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Identity])
}

// Unlink removes the account's identity at provider, unless it is the only way left to sign
// in: an account without a password needs another linked identity.
func (s *Service) Unlink(ctx context.Context, userID uuid.UUID, provider string) (Identity, error) {
	var removed Identity
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var hasPassword bool
		// The account row is locked so that two unlinks at once cannot both see the other
		// identity and leave none.
		if err := tx.QueryRow(ctx, `SELECT password_hash <> '' FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&hasPassword); err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		ids, err := tx.Query(ctx, `SELECT provider, email, created_at, last_used_at FROM user_identities WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("list identities: %w", err)
		}
		list, err := pgx.CollectRows(ids, pgx.RowToStructByPos[Identity])
		if err != nil {
			return fmt.Errorf("list identities: %w", err)
		}
		found := false
		for _, i := range list {
			if i.Provider == provider {
				removed, found = i, true
			}
		}
		switch {
		case !found:
			return ErrNotLinked
		case !hasPassword && len(list) == 1:
			return ErrLastSignIn
		}
		_, err = tx.Exec(ctx, `DELETE FROM user_identities WHERE user_id = $1 AND provider = $2`, userID, provider)
		if err != nil {
			return fmt.Errorf("unlink identity: %w", err)
		}
		return nil
	})
	return removed, err
}
