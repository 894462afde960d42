package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/jobs/jobstest"
)

func newLimiter(t *testing.T, cfg identity.LimitConfig) *identity.RedisLimiter {
	t.Helper()
	r := jobstest.StartRedis(t)
	opts, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return identity.NewRedisLimiter(rdb, cfg)
}

func limited(t *testing.T, err error) *identity.LimitedError {
	t.Helper()
	var le *identity.LimitedError
	if !errors.As(err, &le) || !errors.Is(err, identity.ErrTooManyAttempts) {
		t.Fatalf("want a *LimitedError, got %v", err)
	}
	return le
}

func TestAccountLockDoublesUpToTheMaximum(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t, identity.LimitConfig{AccountMax: 3, LockBase: time.Minute, LockMax: 5 * time.Minute, IPMax: 1000})
	const who = "Jana@Obec.cz"
	for i := 1; i <= 2; i++ {
		lock, err := l.SignInFailed(ctx, who, "10.0.0.1")
		if err != nil || lock.Account != 0 {
			t.Fatalf("failure %d: lock %+v, %v", i, lock, err)
		}
	}
	if err := l.SignInAllowed(ctx, who, "10.0.0.2"); err != nil {
		t.Fatalf("below the limit: %v", err)
	}
	// Each further failure locks twice as long: 1, 2, 4, then the 5-minute cap.
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		lock, err := l.SignInFailed(ctx, who, "10.0.0.1")
		if err != nil || lock.Account != want {
			t.Fatalf("lock %d: %+v, %v; want %s", i+1, lock, err, want)
		}
	}
	// The lock follows the account (any case of the address, any client address).
	le := limited(t, l.SignInAllowed(ctx, "jana@obec.cz", "192.0.2.9"))
	if le.RetryAfter <= 4*time.Minute || le.RetryAfter > 5*time.Minute {
		t.Fatalf("retry after %s", le.RetryAfter)
	}
	if err := l.SignInAllowed(ctx, "petr@obec.cz", "192.0.2.9"); err != nil {
		t.Fatalf("another account is locked too: %v", err)
	}
}

func TestSuccessForgetsFailuresButNotARunningLock(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t, identity.LimitConfig{AccountMax: 3, IPMax: 1000})
	for range 2 {
		if _, err := l.SignInFailed(ctx, "a@b.cz", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SignInSucceeded(ctx, "a@b.cz"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		lock, err := l.SignInFailed(ctx, "a@b.cz", "10.0.0.1")
		if err != nil || lock.Account != 0 {
			t.Fatalf("failure %d after success locked: %+v %v", i, lock, err)
		}
	}
	if err := l.SignInAllowed(ctx, "a@b.cz", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
}

func TestIPLimitCountsEveryAddressTyped(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t, identity.LimitConfig{IPMax: 4, IPWindow: 15 * time.Minute, AccountMax: 100})
	// Four different addresses, none of which need exist.
	var locks []bool
	for _, e := range []string{"a@x.cz", "b@x.cz", "c@x.cz", "d@x.cz"} {
		lock, err := l.SignInFailed(ctx, e, "198.51.100.7")
		if err != nil {
			t.Fatal(err)
		}
		locks = append(locks, lock.IP)
	}
	if locks[0] || locks[1] || locks[2] || !locks[3] {
		t.Fatalf("the IP lock should start exactly at the 4th failure: %v", locks)
	}
	le := limited(t, l.SignInAllowed(ctx, "e@x.cz", "198.51.100.7"))
	if le.RetryAfter <= 14*time.Minute || le.RetryAfter > 15*time.Minute {
		t.Fatalf("retry after %s", le.RetryAfter)
	}
	if err := l.SignInAllowed(ctx, "e@x.cz", "198.51.100.8"); err != nil {
		t.Fatalf("another client is refused: %v", err)
	}
}

// TestIPLimitGroupsAnIPv6Network: one IPv6 client can use every address of its /64, so
// the limit counts the network; the neighbouring /64 is another client.
func TestIPLimitGroupsAnIPv6Network(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t, identity.LimitConfig{IPMax: 3, IPWindow: 15 * time.Minute, AccountMax: 100})
	for i, ip := range []string{"2001:db8:7:1::1", "2001:db8:7:1::2", "2001:db8:7:1:ffff::3"} {
		if _, err := l.SignInFailed(ctx, "someone@x.cz", ip); err != nil {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	limited(t, l.SignInAllowed(ctx, "other@x.cz", "2001:db8:7:1:abcd::99"))
	if err := l.SignInAllowed(ctx, "other@x.cz", "2001:db8:7:2::1"); err != nil {
		t.Fatalf("the neighbouring /64 is refused: %v", err)
	}
}

func TestMailThrottle(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t, identity.LimitConfig{MailPerIP: 3, MailPerEmail: 2})
	var got []bool
	for range 2 {
		ok, err := l.MailAllowed(ctx, "a@x.cz", "10.1.1.1")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	ok, err := l.MailAllowed(ctx, "A@x.cz", "10.1.1.2")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, ok)
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("per address: %v, want true true false", got)
	}
	if ok, err := l.MailAllowed(ctx, "b@x.cz", "10.1.1.1"); err != nil || !ok {
		t.Fatalf("third request of the IP: %v %v", ok, err)
	}
	_, err = l.MailAllowed(ctx, "c@x.cz", "10.1.1.1")
	if le := limited(t, err); le.RetryAfter <= 0 {
		t.Fatalf("retry after %s", le.RetryAfter)
	}
}
