package jobs_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
)

func testSpecs() []jobs.PeriodicSpec {
	task := func(typ string) func(uuid.UUID, time.Time) jobs.Task {
		return func(tenant uuid.UUID, w time.Time) jobs.Task {
			t, _ := jobs.NewTask(typ, map[string]int64{"window": w.Unix()})
			return t
		}
	}
	return []jobs.PeriodicSpec{
		{Name: "noticeboard:expire", Cron: "* * * * *", Task: task("noticeboard:expire")},
		{Name: "noticeboard:digest", Cron: "*/5 * * * *", Queue: jobs.QueueLow, Task: task("noticeboard:digest")},
		{Name: "core:summary", Cron: "*/2 * * * *", Task: task("core:summary")},
	}
}

// TestTwoSchedulersCreateEachWindowOnce runs two schedulers (one of them restarted half way)
// over ten minutes of simulated ticks, interleaved at random, and a worker: each periodic
// window exists once per tenant, as an outbox row and as an executed task.
func TestTwoSchedulersCreateEachWindowOnce(t *testing.T) {
	r := newRig(t, "noticeboard")
	// C has the core module only; D is suspended and gets nothing.
	_, c := r.env.Tenant(t, "554782", "praha", "records")
	_, d := r.env.Tenant(t, "582786", "brno", "noticeboard")
	if _, err := r.env.Registry.SetStatus(context.Background(), d.ID, tenants.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 5, 4, 9, 58, 30, 0, prague)
	end := start.Add(10 * time.Minute)
	newScheduler := func() *jobs.Scheduler {
		s, err := jobs.NewScheduler(r.env.Platform, testSpecs(), jobs.SchedulerConfig{Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	var mu sync.Mutex
	runs := map[string]int{}
	mux := jobs.NewMux()
	for _, typ := range []string{"noticeboard:expire", "noticeboard:digest", "core:summary"} {
		_ = mux.Handle(typ, func(ctx context.Context, d jobs.Delivery) error {
			mu.Lock()
			runs[d.ID]++
			mu.Unlock()
			return nil
		})
	}
	r.startPipeline(t, mux, nil)

	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newScheduler()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for now := start; !now.After(end); now = now.Add(time.Duration(3+rng.IntN(15)) * time.Second) {
				if i == 0 && now.After(start.Add(5*time.Minute)) && now.Before(start.Add(5*time.Minute+20*time.Second)) {
					s = newScheduler() // a restart: it remembers nothing
				}
				if _, err := s.Tick(context.Background(), now); err != nil {
					t.Errorf("scheduler %d tick at %s: %v", i, now, err)
					return
				}
				time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
			}
			// The last tick exactly at the end, so both have seen every window.
			if _, err := s.Tick(context.Background(), end); err != nil {
				t.Errorf("scheduler %d: %v", i, err)
			}
		}()
	}
	wg.Wait()

	// Expected windows in (start − catch-up, end]: the latest window at start is caught up.
	want := map[string]bool{}
	add := func(name string, every time.Duration, tenants ...uuid.UUID) {
		first := start.Truncate(every) // whole minutes; Prague is whole hours from UTC
		for w := first; !w.After(end); w = w.Add(every) {
			for _, tid := range tenants {
				want[jobs.WindowKey(name, tid, w)] = true
			}
		}
	}
	add("noticeboard:expire", time.Minute, r.a, r.b)
	add("noticeboard:digest", 5*time.Minute, r.a, r.b)
	add("core:summary", 2*time.Minute, r.a, r.b, c.ID)
	if len(want) != 11*2+3*2+6*3 {
		t.Fatalf("test arithmetic: %d windows", len(want))
	}

	rows, err := r.env.Platform.Query(context.Background(), `SELECT task_key, count(*) FROM outbox GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		got[k] = n
	}
	for k := range want {
		if got[k] != 1 {
			t.Errorf("window %s: %d rows, want 1", k, got[k])
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("unexpected window %s", k)
		}
	}

	eventually(t, 20*time.Second, "every window's task to run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(runs) == len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	for k := range want {
		if runs[k] != 1 {
			t.Errorf("task %s ran %d times", k, runs[k])
		}
	}
}

func TestSchedulerRejectsBadSpecs(t *testing.T) {
	task := func(uuid.UUID, time.Time) jobs.Task { return jobs.Task{Type: "x:y"} }
	for _, specs := range [][]jobs.PeriodicSpec{
		{{Name: "expire", Cron: "* * * * *", Task: task}},
		{{Name: "x:y", Cron: "every minute", Task: task}},
		{{Name: "x:y", Cron: "* * * * *"}},
		{{Name: "x:y", Cron: "* * * * *", Task: task}, {Name: "x:y", Cron: "0 * * * *", Task: task}},
	} {
		if _, err := jobs.NewScheduler(nil, specs, jobs.SchedulerConfig{}); err == nil {
			t.Errorf("%+v accepted", specs)
		}
	}
}
