package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// TestUserResetMFA runs `epom user reset-mfa` against a private database: the account's TOTP
// and sessions are gone, the platform's audit log and mail queue have the reset, and an
// unknown address or a missing reason fail.
func TestUserResetMFA(t *testing.T) {
	e := tenanttest.New(t)
	ctx := context.Background()
	t.Setenv("EPOM_DATABASE_URL", e.AppDSN)
	t.Setenv("EPOM_PLATFORM_DATABASE_URL", e.PlatformDSN)
	t.Setenv("EPOM_OWNER_DATABASE_URL", e.OwnerDSN)
	users, err := identity.NewService(e.App, e.Platform, e.DB, identity.Config{
		Argon2: identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, SecretKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.CreateUser(ctx, "operator@test.cz", "Olga Operátorová", "dlouhé heslo 123")
	if err != nil {
		t.Fatal(err)
	}
	if err := users.EnrolTOTPWithSecret(ctx, u, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	// Staff of two municipalities: both logs must show the reset; a third one must not.
	ctxA, ctxB := e.Two(t)
	for _, c := range []context.Context{ctxA, ctxB} {
		if err := users.Grant(c, u.ID, "clerk"); err != nil {
			t.Fatal(err)
		}
	}
	ctxC, _ := e.Tenant(t, "582786", "brno")
	token, _, err := users.StartSession(ctx, u.ID, "192.0.2.1", "test", identity.AssurancePasswordTOTP)
	if err != nil {
		t.Fatal(err)
	}

	cli := func(code int, want string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(args, &out, &errOut); got != code {
			t.Fatalf("epom %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out.String(), errOut.String())
		}
		if all := out.String() + errOut.String(); !strings.Contains(all, want) {
			t.Fatalf("epom %s: output lacks %q:\n%s", strings.Join(args, " "), want, all)
		}
	}
	cli(2, "epom user reset-mfa -email", "user")
	cli(2, "epom user reset-mfa -email", "user", "reset-mfa", "--email", "operator@test.cz")
	cli(2, "at least 3 characters", "user", "reset-mfa", "--email", "operator@test.cz", "--reason", " x ")
	cli(1, "no account with this e-mail address: nobody@test.cz", "user", "reset-mfa", "--email", "nobody@test.cz", "--reason", "lost phone")
	if on, _ := users.HasTOTP(ctx, u.ID); !on {
		t.Fatal("a refused run removed the TOTP")
	}
	cli(0, "sessions ended:                1", "user", "reset-mfa", "--email", "Operator@test.cz", "--reason", "Lost phone, identity checked by phone")

	if on, err := users.HasTOTP(ctx, u.ID); err != nil || on {
		t.Fatalf("TOTP after the reset: %v %v", on, err)
	}
	if _, err := users.Session(ctx, token); err == nil {
		t.Fatal("the session survived the reset")
	}
	var actor, reason string
	if err := e.Platform.QueryRow(ctx, `SELECT actor, details->>'reason' FROM platform_audit_log WHERE action = 'mfa-reset' AND target = $1`,
		u.Email).Scan(&actor, &reason); err != nil {
		t.Fatalf("audit entry: %v", err)
	}
	if !strings.HasPrefix(actor, "cli:") || reason != "Lost phone, identity checked by phone" {
		t.Fatalf("audit entry: %s %q", actor, reason)
	}
	for name, c := range map[string]context.Context{"A": ctxA, "B": ctxB, "C": ctxC} {
		tid, _ := tenants.IDFrom(c)
		var n int
		if err := e.Platform.QueryRow(ctx, `SELECT count(*) FROM tenant_audit_log WHERE tenant_id = $1 AND action = 'mfa-reset'
			AND target = $2 AND details->>'by' = 'platform-operator' AND actor LIKE 'cli:%'`, tid, u.Email).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 0, false: 1}[name == "C"]; n != want {
			t.Errorf("municipality %s: %d mfa-reset entries, want %d", name, n, want)
		}
	}
	var n int
	if err := e.Platform.QueryRow(ctx, `SELECT count(*) FROM platform_mail WHERE to_address = $1 AND template = 'mfareset' AND created_at > $2`,
		u.Email, time.Now().Add(-time.Hour)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("mails: %d %v", n, err)
	}
	for _, c := range []context.Context{context.Background(), ctxA, ctxB} {
		tid, _ := tenants.IDFrom(c) // uuid.Nil: the platform chain
		rep, err := audit.New(e.DB, e.Platform).Verify(ctx, tid)
		if err != nil || !rep.OK() {
			t.Fatalf("audit verify %s: %+v %v", tid, rep, err)
		}
	}
}
