package tenants_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs/jobstest"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// TestResolverProfileCache: the public profile is read once per TTL, and a settings change
// reaches the next read on this replica and, through Redis, on another one; the other
// tenant's cached profile stays.
func TestResolverProfileCache(t *testing.T) {
	e := tenanttest.New(t)
	ctx := context.Background()
	ctxA, a := e.Tenant(t, "563889", "liberec")
	ctxB, b := e.Tenant(t, "546615", "kunzak")
	store := tenants.NewSettingsStore(e.DB)

	r := jobstest.StartRedis(t)
	opts, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	here := tenants.NewResolver(e.Registry, rdb, time.Hour)
	there := tenants.NewResolver(e.Registry, rdb, time.Hour)
	listenCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go there.Listen(listenCtx)

	name := func(res *tenants.Resolver, tn tenants.Resolved) string {
		t.Helper()
		p, err := res.Profile(ctx, tn.Tenant, store)
		if err != nil {
			t.Fatal(err)
		}
		if p.TenantID != tn.ID || p.Kraj == "" {
			t.Fatalf("profile of %s: %+v", tn.Slug, p)
		}
		return p.DisplayName
	}
	put := func(ctx context.Context, display string) {
		t.Helper()
		if _, err := store.Put(ctx, tenants.Settings{DisplayName: display}, tenants.NewID()); err != nil {
			t.Fatal(err)
		}
	}

	if got := name(here, a); got != "Liberec" {
		t.Fatalf("A before any settings: %q", got)
	}
	name(there, a)
	put(ctxB, "Obec Kunžak")
	if got := name(here, b); got != "Obec Kunžak" {
		t.Fatalf("B: %q", got)
	}

	// Cached: a write nobody announced is not seen until the TTL.
	put(ctxA, "Statutární město Liberec")
	if got := name(here, a); got != "Liberec" {
		t.Fatalf("A read again without invalidation: %q (not cached?)", got)
	}

	// Wait until the other replica listens, then announce the change as the kernel does.
	for i := 0; ; i++ {
		n, err := rdb.PubSubNumSub(ctx, "epom:tenants:changed").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n["epom:tenants:changed"] > 0 {
			break
		}
		if i == 200 {
			t.Fatal("the other replica never subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	here.Invalidate(ctx, a.ID.String())
	if got := name(here, a); got != "Statutární město Liberec" {
		t.Fatalf("A after invalidation, same replica: %q", got)
	}
	for i := 0; name(there, a) != "Statutární město Liberec"; i++ {
		if i == 200 {
			t.Fatal("the other replica kept A's old profile")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// B's cached profile survived A's invalidation: a write to B without one is not seen.
	put(ctxB, "Městys Kunžak")
	if got := name(here, b); got != "Obec Kunžak" {
		t.Fatalf("B after A's invalidation: %q", got)
	}
}
