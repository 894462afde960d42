package tenants

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/epom-cz/epom/internal/pubsub"
)

// invalidationChannel carries "a tenant changed" between replicas so that a suspension takes
// effect everywhere at once rather than after the cache TTL.
const invalidationChannel = "epom:tenants:changed"

// maxNegative bounds the cache of unknown names so a scanner probing random slugs cannot grow
// memory without limit.
const maxNegative = 10_000

// Resolver finds the tenant of a request by slug, id or host name, with an in-process cache.
// Every replica keeps its own cache; Invalidate and Listen keep them coherent.
type Resolver struct {
	registry *Registry
	redis    *redis.Client // nil: no cross-replica invalidation (tests, single process)
	ttl      time.Duration
	now      func() time.Time
	group    singleflight.Group

	mu       sync.RWMutex
	entries  map[string]cacheEntry // "s:<slug-or-id>" or "h:<host>"
	negative int
	// profiles are the public profiles (settings + catalogue row) by tenant id: every public
	// page needs one, so they live and die with the tenant's entries (same TTL, Invalidate).
	profiles map[uuid.UUID]profileEntry
	dropped  uint64 // counts drops, so a read that raced one is not cached
}

type profileEntry struct {
	profile Profile
	expires time.Time
}

type cacheEntry struct {
	resolved Resolved
	err      error
	expires  time.Time
}

// NewResolver caches registry lookups for ttl.
func NewResolver(registry *Registry, rdb *redis.Client, ttl time.Duration) *Resolver {
	return &Resolver{registry: registry, redis: rdb, ttl: ttl, now: time.Now, entries: map[string]cacheEntry{},
		profiles: map[uuid.UUID]profileEntry{}}
}

// BySlugOrID resolves the {tenant} of a path. The tenant may be in any status: callers decide
// with Available.
func (r *Resolver) BySlugOrID(ctx context.Context, ref string) (Resolved, error) {
	return r.lookup(ctx, "s:"+ref, func(ctx context.Context) (Resolved, error) {
		return r.registry.BySlugOrID(ctx, ref)
	})
}

// ByHost resolves a custom host name (port and letter case ignored).
func (r *Resolver) ByHost(ctx context.Context, host string) (Resolved, error) {
	host = strings.ToLower(host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return r.lookup(ctx, "h:"+host, func(ctx context.Context) (Resolved, error) {
		return r.registry.ByHost(ctx, host)
	})
}

func (r *Resolver) lookup(ctx context.Context, key string, load func(context.Context) (Resolved, error)) (Resolved, error) {
	now := r.now()
	r.mu.RLock()
	e, ok := r.entries[key]
	r.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.resolved, e.err
	}
	v, err, _ := r.group.Do(key, func() (any, error) {
		res, err := load(context.WithoutCancel(ctx))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return res, err // a database failure is not cached
		}
		r.store(key, cacheEntry{resolved: res, err: err, expires: r.now().Add(r.ttl)})
		return res, err
	})
	res, _ := v.(Resolved)
	return res, err
}

func (r *Resolver) store(key string, e cacheEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.err != nil {
		if r.negative >= maxNegative {
			for k, old := range r.entries {
				if old.err != nil {
					delete(r.entries, k)
				}
			}
			r.negative = 0
		}
		r.negative++
	}
	r.entries[key] = e
}

// Profile returns the public profile of t, read through settings at most once per TTL; a
// settings change reaches it through Invalidate.
func (r *Resolver) Profile(ctx context.Context, t Tenant, settings *SettingsStore) (Profile, error) {
	r.mu.RLock()
	e, ok := r.profiles[t.ID]
	r.mu.RUnlock()
	if ok && r.now().Before(e.expires) {
		return e.profile, nil
	}
	v, err, _ := r.group.Do("p:"+t.ID.String(), func() (any, error) {
		r.mu.RLock()
		gen := r.dropped
		r.mu.RUnlock()
		p, err := settings.Profile(WithTenant(context.WithoutCancel(ctx), t), t)
		if err != nil {
			return p, err // nothing cached: the next request asks again
		}
		r.mu.Lock()
		if r.dropped == gen {
			r.profiles[t.ID] = profileEntry{profile: p, expires: r.now().Add(r.ttl)}
		}
		r.mu.Unlock()
		return p, nil
	})
	p, _ := v.(Profile)
	return p, err
}

// Available reports whether the tenant serves requests, and if not, why.
func Available(t Resolved) error {
	if t.Status == StatusActive {
		return nil
	}
	return ErrUnavailable
}

// Invalidate drops every cached entry of tenant id here and, through Redis, on the other
// replicas. Call it after any change to a tenant, its hosts, modules or settings.
func (r *Resolver) Invalidate(ctx context.Context, id string) {
	r.drop(id)
	if r.redis == nil {
		return
	}
	if err := r.redis.Publish(ctx, invalidationChannel, id).Err(); err != nil {
		// The TTL bounds how long other replicas serve the old state.
		slog.WarnContext(ctx, "publish tenant invalidation", "tenant", id, "err", err)
	}
}

func (r *Resolver) drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.entries {
		if e.err != nil || e.resolved.ID.String() == id {
			delete(r.entries, k)
		}
	}
	r.negative = 0
	r.dropped++
	if u, err := uuid.Parse(id); err == nil {
		delete(r.profiles, u)
	}
}

// Listen applies invalidations published by other replicas until ctx ends.
func (r *Resolver) Listen(ctx context.Context) {
	pubsub.Each(ctx, r.redis, invalidationChannel, r.drop)
}

// Len is the number of cached entries, for metrics.
func (r *Resolver) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.entries)
}
