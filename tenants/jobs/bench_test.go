package jobs_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// bench is a pipeline (relay + worker) with a handler that records when each task started,
// and a way to feed it either through the outbox or straight into asynq.
type bench struct {
	tb       testing.TB
	env      *tenanttest.Env
	db       *tenants.Database
	redisURL string
	ctxs     []context.Context
	client   *asynq.Client
	relay    *jobs.Relay

	mu      sync.Mutex
	sent    map[string]time.Time // task id → commit (outbox) or enqueue (direct) time
	started map[string]time.Time
	done    atomic.Int64
}

func newBench(tb testing.TB, tenantsN int) *bench {
	tb.Helper()
	e := tenanttest.New(tb)
	rp := startRedis(tb)
	// Pools larger than the test kit's, so producers do not queue for connections.
	pool := func(dsn string) *pgxpool.Pool {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			tb.Fatal(err)
		}
		cfg.MaxConns = 16
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(p.Close)
		return p
	}
	app, platform := pool(e.AppDSN), pool(e.PlatformDSN)
	db, err := tenants.NewDatabase(app)
	if err != nil {
		tb.Fatal(err)
	}
	b := &bench{tb: tb, env: e, db: db, redisURL: rp.URL(), sent: map[string]time.Time{}, started: map[string]time.Time{}}
	kods := []string{"563889", "546615", "554782", "582786", "500011", "555134", "569810", "571164",
		"562343", "572560", "565423", "553441", "529303", "555797", "500623", "563919"}
	if tenantsN > len(kods) {
		tb.Fatalf("at most %d tenants", len(kods))
	}
	for i := range tenantsN {
		ctx, _ := e.Tenant(tb, kods[i], "t"+strconv.Itoa(i), "noticeboard")
		b.ctxs = append(b.ctxs, ctx)
	}
	opt, _ := asynq.ParseRedisURI(rp.URL())
	b.client = asynq.NewClient(opt)
	tb.Cleanup(func() { b.client.Close() })

	mux := jobs.NewMux()
	_ = mux.Handle("noticeboard:bench", func(ctx context.Context, d jobs.Delivery) error {
		now := time.Now()
		b.mu.Lock()
		if _, dup := b.started[d.ID]; !dup {
			b.started[d.ID] = now
		}
		b.mu.Unlock()
		b.done.Add(1)
		return nil
	})
	relay, err := jobs.NewRelay(platform, jobs.RelayConfig{RedisURL: rp.URL(), Logger: quietLogger(),
		TenantInFlight: envInt("EPOM_BENCH_INFLIGHT", 0), Parallelism: envInt("EPOM_BENCH_PARALLEL", 0)})
	if err != nil {
		tb.Fatal(err)
	}
	w, err := jobs.NewWorker(platform, jobs.ResolverGate(tenants.NewResolver(tenants.NewRegistry(platform), nil, time.Minute)),
		mux, jobs.Config{RedisURL: rp.URL(), Logger: quietLogger(), Concurrency: envInt("EPOM_BENCH_CONCURRENCY", 0)})
	if err != nil {
		tb.Fatal(err)
	}
	running(tb, relay.Run)
	running(tb, w.Run)
	b.relay = relay
	return b
}

func (b *bench) reset() {
	b.mu.Lock()
	b.sent, b.started = map[string]time.Time{}, map[string]time.Time{}
	b.mu.Unlock()
	b.done.Store(0)
}

// send commits (outbox) or enqueues (direct) task i and records when it was sent.
func (b *bench) send(direct bool, i int) error {
	ctx := b.ctxs[i%len(b.ctxs)]
	if direct {
		tid, _ := tenants.IDFrom(ctx)
		t := asynq.NewTaskWithHeaders("noticeboard:bench", []byte(`{}`), map[string]string{"epom-tenant": tid.String()})
		info, err := b.client.Enqueue(t, asynq.Queue(jobs.QueueDefault))
		if err != nil {
			return err
		}
		now := time.Now()
		b.mu.Lock()
		b.sent[info.ID] = now
		b.mu.Unlock()
		return nil
	}
	var id string
	err := b.db.InTx(ctx, func(ctx context.Context) error {
		oid, err := jobs.Enqueue(ctx, jobs.Task{Type: "noticeboard:bench", Payload: []byte(`{}`)})
		id = oid.String()
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now() // after COMMIT returned
	b.mu.Lock()
	b.sent[id] = now
	b.mu.Unlock()
	return nil
}

type result struct {
	n                 int
	elapsed           time.Duration
	tasksPerSec       float64
	p50, p99, maxWait time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("%d tasks in %s: %.0f tasks/s, commit→start p50 %s p99 %s max %s",
		r.n, r.elapsed.Round(time.Millisecond), r.tasksPerSec, r.p50.Round(time.Microsecond),
		r.p99.Round(time.Microsecond), r.maxWait.Round(time.Microsecond))
}

// run sends n tasks from producers goroutines, at rate tasks/s in all (0: as fast as they
// can), and waits until every one has started.
func (b *bench) run(direct bool, n, producers int, rate float64) result {
	b.reset()
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				if err := b.send(direct, i); err != nil {
					b.tb.Errorf("send: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Minute)
	for b.done.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.mu.Lock()
	defer b.mu.Unlock()
	var lat []time.Duration
	for id, s := range b.sent {
		if st, ok := b.started[id]; ok {
			lat = append(lat, max(0, st.Sub(s)))
		}
	}
	if len(lat) != n {
		b.tb.Fatalf("%d of %d tasks started", len(lat), n)
	}
	slices.Sort(lat)
	return result{
		n: n, elapsed: elapsed, tasksPerSec: float64(n) / elapsed.Seconds(),
		p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], maxWait: lat[len(lat)-1],
	}
}

// drain commits n tasks due at one instant a little ahead (in bulk transactions, as an
// import does) and measures from that instant until every task has started: the outbox-to-
// handler path alone, relay and worker, without the producers' commits.
func (b *bench) drain(n int) result {
	b.reset()
	due := time.Now().Add(3 * time.Second)
	per := n / len(b.ctxs)
	for ci, ctx := range b.ctxs {
		for off := 0; off < per; off += 1000 {
			tasks := make([]jobs.Task, min(1000, per-off))
			for i := range tasks {
				tasks[i] = jobs.Task{Type: "noticeboard:bench", Payload: []byte(`{}`), At: due}
			}
			var ids []string
			if err := b.db.InTx(ctx, func(ctx context.Context) error {
				got, err := jobs.EnqueueMany(ctx, tasks)
				for _, id := range got {
					ids = append(ids, id.String())
				}
				return err
			}); err != nil {
				b.tb.Fatal(err)
			}
			b.mu.Lock()
			for _, id := range ids {
				b.sent[id] = due
			}
			b.mu.Unlock()
		}
		_ = ci
	}
	if time.Now().After(due) {
		b.tb.Fatalf("committing the backlog took past its due time; raise the lead")
	}
	n = per * len(b.ctxs)
	for b.done.Load() < int64(n) && time.Since(due) < 5*time.Minute {
		time.Sleep(2 * time.Millisecond)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var last time.Time
	var lat []time.Duration
	for id, s := range b.sent {
		st, ok := b.started[id]
		if !ok {
			b.tb.Fatalf("task %s never started", id)
		}
		lat = append(lat, max(0, st.Sub(s)))
		if st.After(last) {
			last = st
		}
	}
	slices.Sort(lat)
	elapsed := last.Sub(due)
	return result{
		n: n, elapsed: elapsed, tasksPerSec: float64(n) / elapsed.Seconds(),
		p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], maxWait: lat[len(lat)-1],
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkOutboxVsDirect compares the outbox path (commit in InTx → relay → asynq →
// handler) with asynq enqueued directly, in the same run on the same worker: throughput with
// producers going flat out, and commit-to-start latency at a steady 500 tasks/s.
//
//	go test -run '^$' -bench OutboxVsDirect -benchtime 1x ./tenants/jobs/
func BenchmarkOutboxVsDirect(b *testing.B) {
	n := envInt("EPOM_BENCH_TASKS", 20000)
	producers := envInt("EPOM_BENCH_PRODUCERS", 8)
	tenantsN := envInt("EPOM_BENCH_TENANTS", 4)
	rate := float64(envInt("EPOM_BENCH_RATE", 500))
	bn := newBench(b, tenantsN)
	b.ResetTimer()
	for range b.N {
		// Warm-up: connections, queues, resolver cache.
		bn.run(true, 500, producers, 0)
		bn.run(false, 500, producers, 0)

		direct := bn.run(true, n, producers, 0)
		r0, c0, t0 := bn.relay.RoundStats()
		outbox := bn.drain(n)
		r1, c1, t1 := bn.relay.RoundStats()
		b.Logf("relay during the drain: %d rounds, %s claiming, %s in rounds", r1-r0, c1-c0, t1-t0)
		if os.Getenv("EPOM_BENCH_QUICK") != "" {
			b.Logf("direct %s", direct)
			b.Logf("outbox %s ratio %.2f", outbox, outbox.tasksPerSec/direct.tasksPerSec)
			return
		}
		perCommit := bn.run(false, n, producers, 0)
		b.Logf("throughput, direct asynq (enqueue → handler):   %s", direct)
		b.Logf("throughput, outbox (due row → handler):         %s", outbox)
		b.Logf("outbox/direct throughput ratio: %.2f", outbox.tasksPerSec/direct.tasksPerSec)
		b.Logf("throughput, one transaction per task (commit → handler), %d producers: %s", producers, perCommit)

		steadyN := int(rate * 10)
		directSteady := bn.run(true, steadyN, producers, rate)
		outboxSteady := bn.run(false, steadyN, producers, rate)
		b.Logf("%.0f tasks/s for 10 s, direct asynq: %s", rate, directSteady)
		b.Logf("%.0f tasks/s for 10 s, outbox:       %s", rate, outboxSteady)

		b.ReportMetric(direct.tasksPerSec, "direct-tasks/s")
		b.ReportMetric(outbox.tasksPerSec, "outbox-tasks/s")
		b.ReportMetric(outbox.tasksPerSec/direct.tasksPerSec, "ratio")
		b.ReportMetric(perCommit.tasksPerSec, "tx-per-task-tasks/s")
		b.ReportMetric(float64(outboxSteady.p50.Microseconds())/1000, "outbox-p50-ms")
		b.ReportMetric(float64(outboxSteady.p99.Microseconds())/1000, "outbox-p99-ms")
		b.ReportMetric(float64(directSteady.p50.Microseconds())/1000, "direct-p50-ms")
		b.ReportMetric(float64(directSteady.p99.Microseconds())/1000, "direct-p99-ms")
	}
}
