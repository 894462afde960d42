package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is a pgx.Tx or the pool.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Assurance is how a session's user proved who they are.
type Assurance string

// The assurances a session can have.
const (
	AssurancePassword         Assurance = "password"
	AssurancePasswordTOTP     Assurance = "password+totp"
	AssurancePasswordRecovery Assurance = "password+recovery-code"
	// AssuranceExternal: an external identity provider (OpenID Connect) that the deployment
	// trusts to apply its own second factor (its trustMfa setting) signed the user in.
	AssuranceExternal Assurance = "external"
	// AssuranceExternalSingleFactor: a provider without trustMfa signed in a user who has no
	// TOTP of their own; it counts as one factor.
	AssuranceExternalSingleFactor Assurance = "external-single-factor"
)

// MultiFactor tells whether the assurance satisfies the staff two-factor policy.
func (a Assurance) MultiFactor() bool {
	return a != AssurancePassword && a != AssuranceExternalSingleFactor && a != ""
}

// StartSession creates a session for the user with the given assurance and returns the
// cookie token (only its hash is stored). Every way of signing in (password, password and
// code, an external provider) ends here.
func (s *Service) StartSession(ctx context.Context, userID uuid.UUID, ip, userAgent string, a Assurance) (string, Session, error) {
	token, err := randomToken()
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", Session{}, err
	}
	now := s.now()
	sess := Session{UserID: userID, PublicID: uuid.New(), Assurance: a, CSRFToken: csrf, CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.MaxAge)}
	_, err = s.app.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, public_id, assurance)
		VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9)`, tokenHash(token), userID, csrf, now, sess.ExpiresAt, ip,
		truncate(userAgent, 300), sess.PublicID, a)
	if err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	return token, sess, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Session returns the live session of token and refreshes its idle timer (at most once a
// minute, so busy pages do not write on every request).
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, ErrNoSession
	}
	now := s.now()
	var sess Session
	var lastSeen time.Time
	err := s.app.QueryRow(ctx, `SELECT user_id, public_id, assurance, csrf_token, created_at, expires_at, last_seen_at FROM sessions
		WHERE token_hash = $1`, tokenHash(token)).Scan(&sess.UserID, &sess.PublicID, &sess.Assurance, &sess.CSRFToken,
		&sess.CreatedAt, &sess.ExpiresAt, &lastSeen)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	if now.After(sess.ExpiresAt) || now.Sub(lastSeen) > s.cfg.IdleTimeout {
		_ = s.EndSession(ctx, token)
		return Session{}, ErrNoSession
	}
	if now.Sub(lastSeen) > time.Minute {
		if _, err := s.app.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, tokenHash(token), now); err != nil {
			return Session{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return sess, nil
}

// SessionInfo is one of the user's sessions, as "my sessions" lists it.
type SessionInfo struct {
	PublicID   uuid.UUID
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
	Assurance  Assurance
	Current    bool
}

// Sessions lists the user's live sessions, newest first; current marks the one of token.
func (s *Service) Sessions(ctx context.Context, userID uuid.UUID, currentToken string) ([]SessionInfo, error) {
	rows, err := s.app.Query(ctx, `SELECT public_id, created_at, last_seen_at, expires_at, ip, user_agent, assurance,
			token_hash = $2
		FROM sessions WHERE user_id = $1 AND expires_at > $3 AND last_seen_at > $4
		ORDER BY created_at DESC`, userID, tokenHash(currentToken), s.now(), s.now().Add(-s.cfg.IdleTimeout))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SessionInfo])
}

// RevokeSession ends one of the user's sessions by its public id. Another user's id is not
// found, like an unknown one.
func (s *Service) RevokeSession(ctx context.Context, userID, publicID uuid.UUID) error {
	tag, err := s.app.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND public_id = $2`, userID, publicID)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrSessionNotFound
	}
	return nil
}

// RevokeOtherSessions ends every session of the user but the one of currentToken.
func (s *Service) RevokeOtherSessions(ctx context.Context, userID uuid.UUID, currentToken string) (int, error) {
	tag, err := s.app.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, tokenHash(currentToken))
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// maxCodeFailures wrong codes end a pending sign-in; the password must be entered again.
const maxCodeFailures = 5

// HasTOTP tells whether the user must pass the second step to sign in.
func (s *Service) HasTOTP(ctx context.Context, userID uuid.UUID) (bool, error) {
	var on bool
	err := s.app.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL)`, userID).Scan(&on)
	if err != nil {
		return false, fmt.Errorf("has totp: %w", err)
	}
	return on, nil
}

// PendingLogin is a sign-in that passed the password and waits for the code.
type PendingLogin struct {
	Token     string
	ExpiresAt time.Time
	TTL       time.Duration
}

// BeginSecondFactor records that the user's password was right and returns the token of the
// pending sign-in for its short-lived cookie.
func (s *Service) BeginSecondFactor(ctx context.Context, userID uuid.UUID, ip, userAgent string) (PendingLogin, error) {
	token, err := randomToken()
	if err != nil {
		return PendingLogin{}, err
	}
	now := s.now()
	p := PendingLogin{Token: token, ExpiresAt: now.Add(s.cfg.PendingLoginTTL), TTL: s.cfg.PendingLoginTTL}
	// Old pending sign-ins are swept here; they are few and short-lived.
	if _, err := s.app.Exec(ctx, `DELETE FROM pending_logins WHERE expires_at < $1`, now); err != nil {
		return PendingLogin{}, fmt.Errorf("pending sign-in: %w", err)
	}
	_, err = s.app.Exec(ctx, `INSERT INTO pending_logins (token_hash, user_id, created_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6)`, tokenHash(token), userID, now, p.ExpiresAt, ip, truncate(userAgent, 300))
	if err != nil {
		return PendingLogin{}, fmt.Errorf("pending sign-in: %w", err)
	}
	return p, nil
}

// SecondFactorResult is a passed second step.
type SecondFactorResult struct {
	User      User
	Assurance Assurance
	// RecoveryRemaining is how many recovery codes are left, when one was used.
	RecoveryRemaining int
}

// WrongCodeError is a wrong code on a pending sign-in; Left says how many tries remain
// (0: the pending sign-in has ended). User is whose sign-in it was, for the audit log.
type WrongCodeError struct {
	Left int
	User User
}

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("%v (%d tries left)", ErrWrongCode, e.Left)
}

// Unwrap makes errors.Is(err, ErrWrongCode) hold.
func (e *WrongCodeError) Unwrap() error { return ErrWrongCode }

// CompleteSecondFactor checks a TOTP code or a recovery code (one of them) for the pending
// sign-in of token. A right one ends the pending sign-in and returns the user, to start a
// session with; a wrong one counts, and the fifth ends it.
func (s *Service) CompleteSecondFactor(ctx context.Context, token, code, recoveryCode string) (SecondFactorResult, error) {
	if token == "" {
		return SecondFactorResult{}, ErrLoginExpired
	}
	var res SecondFactorResult
	var wrong *WrongCodeError
	err := pgx.BeginFunc(ctx, s.app, func(tx pgx.Tx) error {
		var userID uuid.UUID
		var expires time.Time
		var failures int
		err := tx.QueryRow(ctx, `SELECT user_id, expires_at, failures FROM pending_logins WHERE token_hash = $1 FOR UPDATE`,
			tokenHash(token)).Scan(&userID, &expires, &failures)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrLoginExpired
		}
		if err != nil {
			return fmt.Errorf("pending sign-in: %w", err)
		}
		if s.now().After(expires) || failures >= maxCodeFailures {
			_, _ = tx.Exec(ctx, `DELETE FROM pending_logins WHERE token_hash = $1`, tokenHash(token))
			return ErrLoginExpired
		}
		// The check runs in a savepoint, so a failed one leaves the failure count to commit.
		err = pgx.BeginFunc(ctx, tx, func(tx pgx.Tx) error {
			if recoveryCode != "" {
				left, err := s.useRecoveryCode(ctx, tx, userID, recoveryCode)
				res.Assurance, res.RecoveryRemaining = AssurancePasswordRecovery, left
				return err
			}
			res.Assurance = AssurancePasswordTOTP
			return s.checkTOTP(ctx, tx, userID, code)
		})
		if errors.Is(err, ErrWrongCode) {
			failures++
			wrong = &WrongCodeError{Left: maxCodeFailures - failures, User: User{ID: userID}}
			if err := tx.QueryRow(ctx, `SELECT email, name FROM users WHERE id = $1`, userID).Scan(&wrong.User.Email, &wrong.User.Name); err != nil {
				return fmt.Errorf("pending sign-in: %w", err)
			}
			if failures >= maxCodeFailures {
				_, err = tx.Exec(ctx, `DELETE FROM pending_logins WHERE token_hash = $1`, tokenHash(token))
			} else {
				_, err = tx.Exec(ctx, `UPDATE pending_logins SET failures = $2 WHERE token_hash = $1`, tokenHash(token), failures)
			}
			return err
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pending_logins WHERE token_hash = $1`, tokenHash(token)); err != nil {
			return fmt.Errorf("pending sign-in: %w", err)
		}
		return tx.QueryRow(ctx, `SELECT id, email, name FROM users WHERE id = $1 AND disabled_at IS NULL`, userID).
			Scan(&res.User.ID, &res.User.Email, &res.User.Name)
	})
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return SecondFactorResult{}, ErrLoginExpired
		}
		return SecondFactorResult{}, err
	}
	if wrong != nil {
		return SecondFactorResult{}, wrong
	}
	return res, nil
}
