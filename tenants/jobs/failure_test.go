package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants/jobs"
)

// TestRedisDownLosesNothing kills Redis (SIGKILL, no persistence: everything it held is
// gone) while transactions keep committing, and starts it again. Every committed outbox row
// must become exactly one executed task, including the ones Redis had and lost, and the
// ones committed while it was down; no rolled-back one may run.
func TestRedisDownLosesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, "noticeboard")
	var mu sync.Mutex
	runs := map[string]int{}
	var hold atomic.Bool // while set, handlers stall and tasks pile up in Redis
	mux := jobs.NewMux()
	_ = mux.Handle("noticeboard:publish", func(ctx context.Context, d jobs.Delivery) error {
		for hold.Load() && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		runs[d.ID]++
		mu.Unlock()
		return nil
	})
	r.startPipeline(t, mux, nil)

	var committed, rolledBack []uuid.UUID
	// produce commits one task and rolls one back per round until d has passed and until
	// enough() holds (nil: no condition).
	produce := func(d time.Duration, enough func() bool) {
		end := time.Now().Add(d)
		for i := 0; time.Now().Before(end) || (enough != nil && !enough()); i++ {
			if time.Since(end) > 20*time.Second {
				t.Fatalf("the pipeline never reached the state the test needs")
			}
			ctx := r.ctxA
			if i%3 == 0 {
				ctx = r.ctxB
			}
			committed = append(committed, enqueue(t, r.env.DB, ctx, jobs.Task{Type: "noticeboard:publish"}))
			var lost uuid.UUID
			err := r.env.DB.InTx(ctx, func(ctx context.Context) error {
				var err error
				lost, err = jobs.Enqueue(ctx, jobs.Task{Type: "noticeboard:publish"})
				if err != nil {
					return err
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatalf("rolled-back transaction: %v", err)
			}
			rolledBack = append(rolledBack, lost)
			time.Sleep(3 * time.Millisecond)
		}
	}
	produce(500*time.Millisecond, nil)
	hold.Store(true)
	// These wait in Redis, which is about to forget them. A fixed time is not enough on a
	// loaded machine: every published task may still be sitting in a stalled handler (which
	// finishes and is marked done without Redis). Go on until some are queued behind the
	// worker's busy slots, so that the kill really loses tasks.
	const queuedBehind = 5
	produce(300*time.Millisecond, func() bool {
		return count(t, r.env.Platform, `SELECT count(*) FROM outbox WHERE state = 'published'`) >= workerConcurrency+queuedBehind
	})
	time.Sleep(50 * time.Millisecond) // the last claim is committed before its enqueue
	beforeKill := len(committed)
	r.redis.Kill()
	hold.Store(false)
	produce(time.Second, nil) // commits while Redis is down
	r.redis.Start()
	produce(500*time.Millisecond, nil)
	t.Logf("committed %d tasks (%d before Redis died), rolled back %d", len(committed), beforeKill, len(rolledBack))

	// RestartGrace (12 s) holds back re-enqueueing what Redis lost until the workers'
	// heartbeats had their chance to announce what they are running.
	eventually(t, 60*time.Second, "every committed task to run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(runs) >= len(committed)
	})
	eventually(t, 10*time.Second, "every outbox row done", func() bool {
		return count(t, r.env.Platform, `SELECT count(*) FROM outbox WHERE state <> 'done'`) == 0
	})
	mu.Lock()
	defer mu.Unlock()
	for _, id := range committed {
		if n := runs[id.String()]; n != 1 {
			t.Errorf("committed task %s ran %d times", id, n)
		}
	}
	for _, id := range rolledBack {
		if n := runs[id.String()]; n != 0 {
			t.Errorf("rolled-back task %s ran %d times", id, n)
		}
	}
	if len(runs) != len(committed) {
		t.Errorf("%d distinct tasks ran, %d committed", len(runs), len(committed))
	}
	requeued := count(t, r.env.Platform, `SELECT count(*) FROM outbox WHERE publish_attempts > 1`)
	t.Logf("%d tasks needed more than one publish (Redis refused or lost them)", requeued)
	if requeued == 0 {
		t.Errorf("no task needed a second publish: the test did not exercise the outage")
	}
}

// TestTwoRelaysNoDuplicates runs three relays against one outbox: each row is published
// once and each task runs once.
func TestTwoRelaysNoDuplicates(t *testing.T) {
	r := newRig(t, "noticeboard")
	var mu sync.Mutex
	runs := map[string]int{}
	mux := jobs.NewMux()
	_ = mux.Handle("noticeboard:publish", func(ctx context.Context, d jobs.Delivery) error {
		mu.Lock()
		runs[d.ID]++
		mu.Unlock()
		return nil
	})
	// Commit the rows first, so that the relays start together on a backlog.
	const n = 3000
	tasks := make([]jobs.Task, n)
	for i := range tasks {
		tasks[i] = jobs.Task{Type: "noticeboard:publish", Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))}
	}
	for _, ctx := range []context.Context{r.ctxA, r.ctxB} {
		if err := r.env.DB.InTx(ctx, func(ctx context.Context) error {
			_, err := jobs.EnqueueMany(ctx, tasks[:n/2])
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	var relays []*jobs.Relay
	for range 3 {
		cfg := fastRelay(r.redis.URL())
		cfg.BatchSize = 100
		relay, err := jobs.NewRelay(r.env.Platform, cfg)
		if err != nil {
			t.Fatal(err)
		}
		relays = append(relays, relay)
		running(t, relay.Run)
	}
	w, err := jobs.NewWorker(r.env.Platform, jobs.ResolverGate(newResolver(r)), mux, fastWorker(r.redis.URL()))
	if err != nil {
		t.Fatal(err)
	}
	running(t, w.Run)
	eventually(t, 60*time.Second, "all tasks to run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(runs) == n
	})
	eventually(t, 5*time.Second, "outbox rows done", func() bool {
		return count(t, r.env.Platform, `SELECT count(*) FROM outbox WHERE state = 'done'`) == n
	})
	mu.Lock()
	defer mu.Unlock()
	for id, k := range runs {
		if k != 1 {
			t.Errorf("task %s ran %d times", id, k)
		}
	}
	if k := count(t, r.env.Platform, `SELECT count(*) FROM outbox WHERE publish_attempts <> 1`); k != 0 {
		t.Errorf("%d rows were published more than once", k)
	}
	for i, relay := range relays {
		t.Logf("relay %d published %d", i, relay.Published())
	}
}
