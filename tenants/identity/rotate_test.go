package identity

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/keyring"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// TestSecretKeyRotation walks a rotation of EPOM_SECRET_KEY from A to B: what was enrolled
// under A works with the ring B+A, fails clearly with B alone, is moved to B by RotateSecrets
// (in batches, idempotent, a secret under an unknown key reported, not touched), and then
// works with B alone.
func TestSecretKeyRotation(t *testing.T) {
	env := tenanttest.New(t)
	ctx := context.Background()
	keyA, keyB, keyC := bytes.Repeat([]byte{0xA}, 32), bytes.Repeat([]byte{0xB}, 32), bytes.Repeat([]byte{0xC}, 32)
	idA, idB := keyring.ID(keyA), keyring.ID(keyB)
	clock := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	tick := func() { clock = clock.Add(totpPeriod * time.Second) } // a new step: a code is accepted once
	mk := func(current []byte, previous ...[]byte) *Service {
		s, err := NewService(env.App, env.Platform, env.DB, Config{
			Argon2: Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, SecretKey: current, PreviousKeys: previous})
		if err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return clock }
		return s
	}
	underA, underBA, underB, underC := mk(keyA), mk(keyB, keyA), mk(keyB), mk(keyC)
	keyOf := func(table string, id uuid.UUID) string {
		t.Helper()
		var k string
		if err := env.Owner.QueryRow(ctx, `SELECT min(key_id) FROM `+table+` WHERE user_id = $1`, id).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	user := func(email string) User {
		t.Helper()
		u, err := underA.CreateUser(ctx, email, "Test", "heslo")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	signIn := func(s *Service, u User, code, recovery string) error {
		t.Helper()
		p, err := s.BeginSecondFactor(ctx, u.ID, "192.0.2.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CompleteSecondFactor(ctx, p.Token, code, recovery)
		return err
	}

	// Under A: u1 enrols with a confirming code and gets recovery codes; u2 and u3 (whose row
	// predates key ids) by the demo path; u4 under a key the ring will never hold.
	u1 := user("u1@test.cz")
	enrol, err := underA.StartTOTP(ctx, u1)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string { c, _ := TOTPCode(enrol.Secret, clock); return c }
	codes, err := underA.ConfirmTOTP(ctx, u1.ID, "", code())
	if err != nil {
		t.Fatal(err)
	}
	if keyOf("user_totp", u1.ID) != idA || keyOf("user_recovery_codes", u1.ID) != idA {
		t.Fatalf("key ids after enrolment: %q %q, want %q", keyOf("user_totp", u1.ID), keyOf("user_recovery_codes", u1.ID), idA)
	}
	u2, u3, u4, u5 := user("u2@test.cz"), user("u3@test.cz"), user("u4@test.cz"), user("u5@test.cz")
	for _, e := range []struct {
		s *Service
		u User
	}{{underA, u2}, {underA, u3}, {underC, u4}, {underB, u5}} {
		if err := e.s.EnrolTOTPWithSecret(ctx, e.u, enrol.Secret); err != nil {
			t.Fatal(err)
		}
	}
	// u3 under A and u5 under B as written before key ids were recorded.
	if _, err := env.Owner.Exec(ctx, `UPDATE user_totp SET key_id = '' WHERE user_id = ANY($1)`, []uuid.UUID{u3.ID, u5.ID}); err != nil {
		t.Fatal(err)
	}

	// B alone before the rotation: a clear error, not a wrong code; the dry run names them.
	tick()
	if err := underB.CheckTOTP(ctx, u1.ID, code()); !errors.Is(err, ErrSecretUndecryptable) {
		t.Fatalf("B alone: %v, want ErrSecretUndecryptable", err)
	}
	rep, err := underB.RotateSecrets(ctx, nil, RotateOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []uuid.UUID{u1.ID, u2.ID, u3.ID, u4.ID}; !sameIDs(rep.Undecryptable, want) || rep.Labelled != 1 || rep.Reencrypted != 0 {
		t.Fatalf("dry run with B alone: %+v, want undecryptable %v", rep, want)
	}

	// B with A as previous: the sign-in code and a recovery code made under A still work.
	if err := signIn(underBA, u1, code(), ""); err != nil {
		t.Fatalf("TOTP under the ring B+A: %v", err)
	}
	if err := signIn(underBA, u1, "", codes[0]); err != nil {
		t.Fatalf("recovery code under the ring B+A: %v", err)
	}
	if err := signIn(underBA, u1, "", codes[0]); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("recovery code used twice: %v", err)
	}

	// The dry run writes nothing; the rotation (two rows a batch) moves A's secrets to B.
	if rep, err = underBA.RotateSecrets(ctx, nil, RotateOptions{DryRun: true}); err != nil || rep.Reencrypted != 3 || rep.Labelled != 1 {
		t.Fatalf("dry run: %+v %v", rep, err)
	}
	if keyOf("user_totp", u1.ID) != idA {
		t.Fatal("the dry run wrote")
	}
	log := audit.New(env.DB, env.Platform)
	rep, err = underBA.RotateSecrets(ctx, log, RotateOptions{BatchSize: 2, Actor: "cli:test"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reencrypted != 3 || rep.Labelled != 1 || !sameIDs(rep.Undecryptable, []uuid.UUID{u4.ID}) ||
		rep.RecoveryOldKeyAccounts != 1 || rep.CurrentKeyID != idB || !slices.Equal(rep.PreviousKeyIDs, []string{idA}) {
		t.Fatalf("rotation: %+v", rep)
	}
	for _, u := range []User{u1, u2, u3, u5} {
		if k := keyOf("user_totp", u.ID); k != idB {
			t.Fatalf("%s: key id %q after the rotation, want %q", u.Email, k, idB)
		}
	}
	if k := keyOf("user_totp", u4.ID); k != keyring.ID(keyC) {
		t.Fatalf("the undecryptable row was touched: %q", k)
	}
	var details map[string]string
	if err := env.Platform.QueryRow(ctx, `SELECT details FROM platform_audit_log WHERE action = 'secret-key-rotate'`).Scan(&details); err != nil {
		t.Fatalf("audit entry: %v", err)
	}
	if details["totp_reencrypted"] != "3" || details["totp_undecryptable_users"] != u4.ID.String() || details["current_key"] != idB {
		t.Fatalf("audit details: %v", details)
	}
	// Again: nothing left to move.
	if rep, err = underBA.RotateSecrets(ctx, log, RotateOptions{BatchSize: 2}); err != nil || rep.Reencrypted != 0 || rep.Labelled != 0 || len(rep.Undecryptable) != 1 {
		t.Fatalf("second run: %+v %v", rep, err)
	}

	// B alone: the TOTP works; the recovery codes made under A do not, until new ones are made.
	tick()
	if err := signIn(underB, u1, code(), ""); err != nil {
		t.Fatalf("TOTP with B alone after the rotation: %v", err)
	}
	if err := signIn(underB, u1, "", codes[1]); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("recovery code under a dropped key: %v", err)
	}
	tick()
	if _, err := underB.RegenerateRecoveryCodes(ctx, u1.ID, code()); err != nil {
		t.Fatal(err)
	}
	if rep, err = underB.RotateSecrets(ctx, nil, RotateOptions{DryRun: true}); err != nil || rep.RecoveryOldKeyAccounts != 0 {
		t.Fatalf("after new recovery codes: %+v %v", rep, err)
	}
}

func sameIDs(a, b []uuid.UUID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	cmp := func(x, y uuid.UUID) int { return bytes.Compare(x[:], y[:]) }
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}
