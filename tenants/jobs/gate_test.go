package jobs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
)

type runLog struct {
	mu   sync.Mutex
	runs map[string]int
}

func (l *runLog) handler(ctx context.Context, d jobs.Delivery) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.runs == nil {
		l.runs = map[string]int{}
	}
	l.runs[d.ID]++
	return nil
}

func (l *runLog) count(id uuid.UUID) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.runs[id.String()]
}

// TestSuspendedTenantAndDisabledModuleWait: a task of a suspended tenant or a switched-off
// module does not run and is not lost: committed before the suspension it waits in the
// outbox (the relay does not publish it); already in Redis it waits in the retry set (the
// worker refuses it without using up a retry). Either way it runs once the tenant is active
// and the module on again.
func TestSuspendedTenantAndDisabledModuleWait(t *testing.T) {
	r := newRig(t, "noticeboard")
	ctx := context.Background()
	var log runLog
	mux := jobs.NewMux()
	_ = mux.Handle("noticeboard:publish", log.handler)
	_ = mux.Handle("core:mail", log.handler)
	resolver := newResolver(r) // TTL 0: every task sees the current status
	gate := jobs.ResolverGate(resolver)
	admin, err := jobs.NewAdmin(r.redis.URL(), r.env.Platform)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	// 1. In Redis before the suspension: publish with the relay alone, then suspend.
	relay, err := jobs.NewRelay(r.env.Platform, fastRelay(r.redis.URL()))
	if err != nil {
		t.Fatal(err)
	}
	stopRelay := running(t, relay.Run)
	inRedisB := enqueue(t, r.env.DB, r.ctxB, jobs.Task{Type: "noticeboard:publish"})
	inRedisA := enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "noticeboard:publish"})
	eventually(t, 10*time.Second, "the relay to publish", func() bool {
		return outboxState(t, r, inRedisB.String()) == "published" && outboxState(t, r, inRedisA.String()) == "published"
	})
	stopRelay()
	if _, err := r.env.Registry.SetStatus(ctx, r.b, tenants.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if err := r.env.Registry.SetModules(ctx, r.a, []string{"noticeboard"}, false); err != nil {
		t.Fatal(err)
	}

	// 2. Committed after the suspension: stays in the outbox. Kernel tasks ("core") of an
	// active tenant run whatever its modules.
	inOutboxB := enqueue(t, r.env.DB, r.ctxB, jobs.Task{Type: "noticeboard:publish"})
	inOutboxA := enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "noticeboard:publish"})
	coreA := enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "core:mail", Queue: jobs.QueueCritical})

	r.startPipeline(t, mux, gate)
	eventually(t, 10*time.Second, "the kernel task to run", func() bool { return log.count(coreA) == 1 })
	eventually(t, 10*time.Second, "the worker to refuse the tasks in Redis", func() bool {
		ts, err := admin.List("", "retry", 10)
		if err != nil {
			t.Fatal(err)
		}
		reasons := map[string]string{}
		for _, x := range ts {
			reasons[x.ID] = x.LastErr
		}
		return strings.Contains(reasons[inRedisB.String()], "is suspended") &&
			strings.Contains(reasons[inRedisA.String()], "module noticeboard is switched off")
	})
	time.Sleep(time.Second) // several refusals (WaitDelay is 300 ms here)
	for _, id := range []uuid.UUID{inRedisA, inRedisB, inOutboxA, inOutboxB} {
		if n := log.count(id); n != 0 {
			t.Errorf("task %s ran %d times while its tenant or module was off", id, n)
		}
	}
	for _, id := range []uuid.UUID{inOutboxA, inOutboxB} {
		if s := outboxState(t, r, id.String()); s != "pending" {
			t.Errorf("task %s committed during the suspension is %s, want pending in the outbox", id, s)
		}
	}
	// Waiting does not use up retries: a task refused many times still has them all.
	ts, _ := admin.List("", "retry", 10)
	for _, x := range ts {
		if x.Retried != 0 {
			t.Errorf("waiting task %s has used %d retries", x.ID, x.Retried)
		}
	}

	// Back on: everything runs, once.
	if _, err := r.env.Registry.SetStatus(ctx, r.b, tenants.StatusActive); err != nil {
		t.Fatal(err)
	}
	if err := r.env.Registry.SetModules(ctx, r.a, []string{"noticeboard"}, true); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uuid.UUID{inRedisA, inRedisB, inOutboxA, inOutboxB} {
		eventually(t, 10*time.Second, "task "+id.String()+" to run", func() bool { return log.count(id) == 1 })
	}
	eventually(t, 5*time.Second, "all rows done", func() bool {
		return count(t, r.env.Platform, `SELECT count(*) FROM outbox WHERE state <> 'done'`) == 0
	})
}

// TestClosedTenantArchivesWithReason: a task of a closed tenant is archived (not run, not
// lost) with the reason, the outbox row says so, and `epom jobs retry` runs it once the
// tenant is back.
func TestClosedTenantArchivesWithReason(t *testing.T) {
	r := newRig(t, "noticeboard")
	ctx := context.Background()
	var log runLog
	mux := jobs.NewMux()
	_ = mux.Handle("noticeboard:publish", log.handler)
	admin, err := jobs.NewAdmin(r.redis.URL(), r.env.Platform)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	relay, err := jobs.NewRelay(r.env.Platform, fastRelay(r.redis.URL()))
	if err != nil {
		t.Fatal(err)
	}
	stopRelay := running(t, relay.Run)
	id := enqueue(t, r.env.DB, r.ctxB, jobs.Task{Type: "noticeboard:publish"})
	eventually(t, 10*time.Second, "the relay to publish", func() bool { return outboxState(t, r, id.String()) == "published" })
	stopRelay()
	if _, err := r.env.Registry.SetStatus(ctx, r.b, tenants.StatusClosed); err != nil {
		t.Fatal(err)
	}
	r.startPipeline(t, mux, nil)
	eventually(t, 10*time.Second, "the task to be archived", func() bool { return outboxState(t, r, id.String()) == "dead" })
	var reason string
	_ = r.env.Platform.QueryRow(ctx, `SELECT last_error FROM outbox WHERE id = $1`, id).Scan(&reason)
	if !strings.Contains(reason, "is closed") {
		t.Errorf("outbox reason %q", reason)
	}
	archived, err := admin.List("", "archived", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(archived) != 1 || archived[0].ID != id.String() || !strings.Contains(archived[0].LastErr, "is closed") ||
		archived[0].Tenant != r.b.String() {
		t.Fatalf("archive: %+v", archived)
	}
	if log.count(id) != 0 {
		t.Fatal("the task of a closed tenant ran")
	}
	st, err := admin.Outbox(ctx)
	if err != nil || st.Dead != 1 {
		t.Errorf("outbox stats %+v, %v", st, err)
	}

	if _, err := r.env.Registry.SetStatus(ctx, r.b, tenants.StatusActive); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Retry("", id.String()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the retried task to run", func() bool { return log.count(id) == 1 })
	eventually(t, 5*time.Second, "the row to be done", func() bool { return outboxState(t, r, id.String()) == "done" })
	if _, err := admin.Retry("", "no-such-task"); err == nil {
		t.Error("retry of an unknown task succeeded")
	}
}
