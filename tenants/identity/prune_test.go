package identity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// TestPruneKeepsWhatStillWorks: Prune deletes exactly the rows past use (and past the grace
// that lets an old link say "expired") and keeps everything else.
func TestPruneKeepsWhatStillWorks(t *testing.T) {
	ctx := context.Background()
	env := tenanttest.New(t)
	s, err := identity.NewService(env.App, env.Platform, env.DB, identity.Config{
		Argon2:      identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1},
		SecretKey:   make([]byte, 32),
		IdleTimeout: 2 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, "prune@test.cz", "Prune", "pw")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h := func(d time.Duration) time.Time { return now.Add(d) }
	rows := []struct {
		name, table string
		keep        bool
		insert      string
		args        []any
	}{
		{"live session", "sessions", true,
			`INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, last_seen_at) VALUES ($1, $2, 'c', $3, $4)`,
			[]any{h(time.Hour), h(-time.Minute)}},
		{"session past its absolute timeout", "sessions", false,
			`INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, last_seen_at) VALUES ($1, $2, 'c', $3, $4)`,
			[]any{h(-time.Minute), h(-2 * time.Minute)}},
		{"idle session", "sessions", false,
			`INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, last_seen_at) VALUES ($1, $2, 'c', $3, $4)`,
			[]any{h(10 * time.Hour), h(-3 * time.Hour)}},
		{"link expired an hour ago: still says expired", "account_tokens", true,
			`INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, 'reset-password', $3)`,
			[]any{h(-time.Hour)}},
		{"link expired two days ago", "account_tokens", false,
			`INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at, used_at) VALUES ($1, $2, 'verify-email', $3, $4)`,
			[]any{h(-48 * time.Hour), h(-50 * time.Hour)}},
		{"pending second step", "pending_logins", true,
			`INSERT INTO pending_logins (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
			[]any{h(5 * time.Minute)}},
		{"abandoned second step", "pending_logins", false,
			`INSERT INTO pending_logins (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
			[]any{h(-time.Minute)}},
	}
	for i, r := range rows {
		args := append([]any{[]byte(fmt.Sprintf("hash-%02d", i)), u.ID}, r.args...)
		if _, err := env.Owner.Exec(ctx, r.insert, args...); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	for _, o := range []struct {
		state   string
		expires time.Time
	}{{"fresh", h(5 * time.Minute)}, {"old", h(-48 * time.Hour)}} {
		if _, err := env.Owner.Exec(ctx, `INSERT INTO oidc_logins (state_hash, provider, nonce, verifier, expires_at)
			VALUES ($1, 'idp', 'n', 'v', $2)`, []byte(o.state), o.expires); err != nil {
			t.Fatal(err)
		}
	}

	p, err := s.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (identity.Pruned{Sessions: 2, AccountTokens: 1, PendingLogins: 1, OIDCLogins: 1}); p != want {
		t.Errorf("pruned %+v, want %+v", p, want)
	}
	for i, r := range rows {
		var n int
		if err := env.Owner.QueryRow(ctx, `SELECT count(*) FROM `+r.table+` WHERE token_hash = $1`,
			[]byte(fmt.Sprintf("hash-%02d", i))).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 1) != r.keep {
			t.Errorf("%s: %d rows left, keep=%v", r.name, n, r.keep)
		}
	}
	var oidcLeft []string
	rs, err := env.Owner.Query(ctx, `SELECT convert_from(state_hash, 'UTF8') FROM oidc_logins`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			t.Fatal(err)
		}
		oidcLeft = append(oidcLeft, s)
	}
	if len(oidcLeft) != 1 || oidcLeft[0] != "fresh" {
		t.Errorf("external sign-ins left: %v, want [fresh]", oidcLeft)
	}
	// A second run has nothing to do.
	if p, err := s.Prune(ctx); err != nil || p != (identity.Pruned{}) {
		t.Errorf("second prune: %+v, %v", p, err)
	}
}
