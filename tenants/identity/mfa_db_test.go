package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

const demoSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func newService(t *testing.T) *identity.Service {
	t.Helper()
	env := tenanttest.New(t)
	s, err := identity.NewService(env.App, env.Platform, env.DB, identity.Config{
		Argon2: identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCodeAcceptedOnceUnderRace: requests racing with the same code, as a replaying attacker
// would send them, let exactly one through.
func TestCodeAcceptedOnceUnderRace(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, "race@test.cz", "Race", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnrolTOTPWithSecret(ctx, u, demoSecret); err != nil {
		t.Fatal(err)
	}
	code, _ := identity.TOTPCode(demoSecret, time.Now())
	var wg sync.WaitGroup
	results := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- s.CheckTOTP(ctx, u.ID, code)
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, identity.ErrWrongCode):
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 8 racing uses of one code passed, want 1", ok)
	}
	// An older step than the one used is refused too.
	old, _ := identity.TOTPCode(demoSecret, time.Now().Add(-30*time.Second))
	if err := s.CheckTOTP(ctx, u.ID, old); !errors.Is(err, identity.ErrWrongCode) {
		t.Fatalf("older step: %v", err)
	}
}

// TestSecretUnreadableWithAnotherKey: the TOTP secret at rest depends on EPOM_SECRET_KEY.
func TestSecretUnreadableWithAnotherKey(t *testing.T) {
	env := tenanttest.New(t)
	ctx := context.Background()
	mk := func(key byte) *identity.Service {
		k := make([]byte, 32)
		k[0] = key
		s, err := identity.NewService(env.App, env.Platform, env.DB, identity.Config{
			Argon2: identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, SecretKey: k})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := mk(1), mk(2)
	u, err := a.CreateUser(ctx, "key@test.cz", "Key", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.EnrolTOTPWithSecret(ctx, u, demoSecret); err != nil {
		t.Fatal(err)
	}
	var stored []byte
	if err := env.Owner.QueryRow(ctx, `SELECT secret_enc FROM user_totp WHERE user_id = $1`, u.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) < 20 || string(stored) == demoSecret {
		t.Fatalf("stored secret looks plain: %x", stored)
	}
	code, _ := identity.TOTPCode(demoSecret, time.Now())
	if err := b.CheckTOTP(ctx, u.ID, code); err == nil || errors.Is(err, identity.ErrWrongCode) {
		t.Fatalf("another key: %v", err)
	}
	if err := a.CheckTOTP(ctx, u.ID, code); err != nil {
		t.Fatal(err)
	}
}
