package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/epom-cz/epom/internal/keyring"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// TestSecretsRotate runs `epom secrets rotate` after EPOM_SECRET_KEY went from A to B: the dry
// run reports and writes nothing, the run moves A's secret to B, names the account no key
// opens, counts the recovery codes left under A and leaves an audit entry.
func TestSecretsRotate(t *testing.T) {
	e := tenanttest.New(t)
	ctx := context.Background()
	t.Setenv("EPOM_DATABASE_URL", e.AppDSN)
	t.Setenv("EPOM_PLATFORM_DATABASE_URL", e.PlatformDSN)
	t.Setenv("EPOM_OWNER_DATABASE_URL", e.OwnerDSN)
	keyA, keyB, keyC := bytes.Repeat([]byte{0xA}, 32), bytes.Repeat([]byte{0xB}, 32), bytes.Repeat([]byte{0xC}, 32)
	svc := func(key []byte) *identity.Service {
		s, err := identity.NewService(e.App, e.Platform, e.DB, identity.Config{
			Argon2: identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, SecretKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	underA, underC := svc(keyA), svc(keyC)
	alice, err := underA.CreateUser(ctx, "alice@test.cz", "Alice", "dlouhé heslo 123")
	if err != nil {
		t.Fatal(err)
	}
	enrol, err := underA.StartTOTP(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := identity.TOTPCode(enrol.Secret, time.Now())
	if _, err := underA.ConfirmTOTP(ctx, alice.ID, "", code); err != nil {
		t.Fatal(err)
	}
	lost, err := underC.CreateUser(ctx, "lost@test.cz", "Lost", "dlouhé heslo 123")
	if err != nil {
		t.Fatal(err)
	}
	if err := underC.EnrolTOTPWithSecret(ctx, lost, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	keyOf := func() string {
		var k string
		if err := e.Owner.QueryRow(ctx, `SELECT key_id FROM user_totp WHERE user_id = $1`, alice.ID).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	audits := func() int {
		var n int
		if err := e.Platform.QueryRow(ctx, `SELECT count(*) FROM platform_audit_log WHERE action = 'secret-key-rotate'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cli := func(code int, want []string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(args, &out, &errOut); got != code {
			t.Fatalf("epom %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out.String(), errOut.String())
		}
		all := out.String() + errOut.String()
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Fatalf("epom %s: output lacks %q:\n%s", strings.Join(args, " "), w, all)
			}
		}
	}
	b64 := base64.StdEncoding.EncodeToString
	cli(2, []string{"epom secrets rotate [-dry-run]"}, "secrets")
	cli(1, []string{"EPOM_SECRET_KEY is not set"}, "secrets", "rotate")
	t.Setenv("EPOM_SECRET_KEY", b64(keyB))
	t.Setenv("EPOM_SECRET_KEY_PREVIOUS", b64(keyB))
	cli(2, []string{"EPOM_SECRET_KEY_PREVIOUS: key 1 is the current EPOM_SECRET_KEY"}, "secrets", "rotate")
	t.Setenv("EPOM_SECRET_KEY_PREVIOUS", b64(keyA))

	cli(0, []string{"dry run", "TOTP secrets to re-encrypt:    1", "no key decrypts:  1", lost.ID.String() + " lost@test.cz",
		"previous keys:                 " + keyring.ID(keyA)}, "secrets", "rotate", "--dry-run")
	if keyOf() != keyring.ID(keyA) || audits() != 0 {
		t.Fatal("the dry run wrote")
	}
	cli(0, []string{"TOTP secrets re-encrypted:     1", "lost@test.cz", "epom user reset-mfa",
		"unused recovery codes under an old or unknown key: 1", "EPOM_SECRET_KEY_PREVIOUS\ncan be removed"}, "secrets", "rotate", "-batch", "1")
	if keyOf() != keyring.ID(keyB) || audits() != 1 {
		t.Fatalf("after the run: key %s, %d audit entries", keyOf(), audits())
	}
	cli(0, []string{"TOTP secrets re-encrypted:     0", "no key decrypts:  1"}, "secrets", "rotate")
}
