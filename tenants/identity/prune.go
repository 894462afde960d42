package identity

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// staleGrace is how long an expired single-use row is kept: opening an old link within it
// says "expired" or "already used" rather than "unknown".
const staleGrace = 24 * time.Hour

// Pruned counts what one Prune removed.
type Pruned struct {
	Sessions, AccountTokens, PendingLogins, OIDCLogins int64
}

// Prune deletes the sign-in rows nobody can use any more: sessions past their absolute or
// idle timeout, account links (verification, reset) and external sign-ins a day past their
// expiry, and pending second-factor steps. Each table is cleaned in its own statement, so one
// failure does not keep the others; they are swept opportunistically elsewhere too, but only
// for users who come back, and a registry of a whole country must not grow without bound.
func (s *Service) Prune(ctx context.Context) (Pruned, error) {
	now := s.now()
	var p Pruned
	steps := []struct {
		what  string
		count *int64
		sql   string
		args  []any
	}{
		{"sessions", &p.Sessions, `DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2`,
			[]any{now, now.Add(-s.cfg.IdleTimeout)}},
		{"account tokens", &p.AccountTokens, `DELETE FROM account_tokens WHERE expires_at < $1`,
			[]any{now.Add(-staleGrace)}},
		{"pending sign-ins", &p.PendingLogins, `DELETE FROM pending_logins WHERE expires_at < $1`, []any{now}},
		{"external sign-ins", &p.OIDCLogins, `DELETE FROM oidc_logins WHERE expires_at < $1`,
			[]any{now.Add(-staleGrace)}},
	}
	var firstErr error
	for _, st := range steps {
		tag, err := s.app.Exec(ctx, st.sql, st.args...)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("prune %s: %w", st.what, err)
			}
			continue
		}
		*st.count = tag.RowsAffected()
	}
	return p, firstErr
}

// RunPrune prunes every interval until ctx ends. Several workers may run it at once: the
// deletes are idempotent.
func (s *Service) RunPrune(ctx context.Context, log *slog.Logger, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		p, err := s.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "prune sign-in data", "err", err)
		case p != (Pruned{}):
			log.InfoContext(ctx, "sign-in data pruned", "sessions", p.Sessions, "account_tokens", p.AccountTokens,
				"pending_logins", p.PendingLogins, "oidc_logins", p.OIDCLogins)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
