package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/jobs/jobstest"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

type redisProc = jobstest.Redis

func startRedis(t testing.TB) *redisProc { return jobstest.StartRedis(t) }

// rig is one test's database, Redis and tenants.
type rig struct {
	env        *tenanttest.Env
	redis      *redisProc
	ctxA, ctxB context.Context
	a, b       uuid.UUID
}

func newRig(t testing.TB, modules ...string) *rig {
	t.Helper()
	e := tenanttest.New(t)
	r := &rig{env: e, redis: startRedis(t)}
	r.ctxA, r.ctxB = e.Two(t, modules...)
	r.a, _ = tenants.IDFrom(r.ctxA)
	r.b, _ = tenants.IDFrom(r.ctxB)
	// A table for handlers' effects, as a module would have one: tenant-owned, under RLS.
	_, err := e.Owner.Exec(context.Background(), `
		CREATE TABLE test_effects (tenant_id uuid NOT NULL, task text NOT NULL, PRIMARY KEY (tenant_id, task));
		CREATE TABLE test_runs (tenant_id uuid NOT NULL, task text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(),
			n bigserial, PRIMARY KEY (tenant_id, n));
		GRANT SELECT, INSERT ON test_effects, test_runs TO epom_app;
		GRANT USAGE ON SEQUENCE test_runs_n_seq TO epom_app;
		SELECT epom_enable_tenant_rls('test_effects', 'read');
		SELECT epom_enable_tenant_rls('test_runs', 'read');`)
	if err != nil {
		t.Fatalf("create effect tables: %v", err)
	}
	return r
}

func quietLogger() *slog.Logger {
	if os.Getenv("EPOM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fastRelay is a relay configuration that makes failure recovery take seconds, not minutes.
func fastRelay(url string) jobs.RelayConfig {
	return jobs.RelayConfig{
		RedisURL: url, PollInterval: 100 * time.Millisecond, ReconcileAfter: time.Second,
		ReconcileInterval: 300 * time.Millisecond, Logger: quietLogger(),
	}
}

// workerConcurrency is how many handlers fastWorker runs at once.
const workerConcurrency = 8

func fastWorker(url string) jobs.Config {
	return jobs.Config{
		RedisURL: url, Concurrency: workerConcurrency, ShutdownTimeout: 2 * time.Second, WaitDelay: 300 * time.Millisecond,
		RetryDelay: func(int) time.Duration { return 200 * time.Millisecond }, Logger: quietLogger(),
	}
}

// running starts fn in the background and stops it (and waits) at cleanup.
func running(t testing.TB, fn func(ctx context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("background: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// startPipeline runs a relay and a worker for mux against the rig.
func (r *rig) startPipeline(t testing.TB, mux *jobs.Mux, gate jobs.Gate) (stop func()) {
	t.Helper()
	relay, err := jobs.NewRelay(r.env.Platform, fastRelay(r.redis.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if gate == nil {
		gate = jobs.ResolverGate(tenants.NewResolver(r.env.Registry, nil, 0))
	}
	w, err := jobs.NewWorker(r.env.Platform, gate, mux, fastWorker(r.redis.URL()))
	if err != nil {
		t.Fatal(err)
	}
	s1 := running(t, relay.Run)
	s2 := running(t, w.Run)
	return func() { s1(); s2() }
}

// effectHandler records every run (test_runs) and its effect once (test_effects), as an
// idempotent handler does.
func effectHandler(onRun func(d jobs.Delivery)) jobs.Handler {
	return func(ctx context.Context, d jobs.Delivery) error {
		if onRun != nil {
			onRun(d)
		}
		return nil
	}
}

func writeEffect(db *tenants.Database) jobs.Handler {
	return func(ctx context.Context, d jobs.Delivery) error {
		return db.InTx(ctx, func(ctx context.Context) error {
			tid, _ := tenants.IDFrom(ctx)
			if err := tenants.DB(ctx).Exec(`INSERT INTO test_runs (tenant_id, task) VALUES (?, ?)`, tid, d.ID).Error; err != nil {
				return err
			}
			return tenants.DB(ctx).Exec(`INSERT INTO test_effects (tenant_id, task) VALUES (?, ?) ON CONFLICT DO NOTHING`, tid, d.ID).Error
		})
	}
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// enqueue commits one task per call in its own transaction and returns the outbox id.
func enqueue(t testing.TB, db *tenants.Database, ctx context.Context, task jobs.Task) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	err := db.InTx(ctx, func(ctx context.Context) error {
		var err error
		id, err = jobs.Enqueue(ctx, task)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

func newResolver(r *rig) *tenants.Resolver { return tenants.NewResolver(r.env.Registry, nil, 0) }
