package jobs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/epom-cz/epom/tenants/jobs"
)

// TestPanicRetryAndPermanent: a panicking handler does not take the worker down and is
// retried with backoff; a permanent error archives at once with its reason.
func TestPanicRetryAndPermanent(t *testing.T) {
	r := newRig(t, "noticeboard")
	var attempts atomic.Int32
	mux := jobs.NewMux()
	_ = mux.Handle("noticeboard:flaky", func(ctx context.Context, d jobs.Delivery) error {
		switch attempts.Add(1) {
		case 1:
			panic("boom")
		case 2:
			return errors.New("database briefly away")
		}
		if d.Attempt != 2 {
			t.Errorf("third run reports attempt %d", d.Attempt)
		}
		return nil
	})
	_ = mux.Handle("noticeboard:broken", func(ctx context.Context, d jobs.Delivery) error {
		var p struct{ ID int }
		if err := d.Decode(&p); err != nil {
			return err // Decode marks a bad payload permanent
		}
		return nil
	})
	r.startPipeline(t, mux, nil)
	flaky := enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "noticeboard:flaky"})
	broken := enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "noticeboard:broken", Payload: []byte("not json")})
	eventually(t, 15*time.Second, "the flaky task to succeed", func() bool { return outboxState(t, r, flaky.String()) == "done" })
	if n := attempts.Load(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	eventually(t, 10*time.Second, "the broken task to be archived", func() bool { return outboxState(t, r, broken.String()) == "dead" })
	var reason string
	_ = r.env.Platform.QueryRow(context.Background(), `SELECT last_error FROM outbox WHERE id = $1`, broken).Scan(&reason)
	if !strings.Contains(reason, "decode payload") {
		t.Errorf("reason %q", reason)
	}
}

// TestUnknownTypeWaits: a task type this worker has no handler for (a newer binary enqueued
// it during a rolling deploy) waits instead of being archived.
func TestUnknownTypeWaits(t *testing.T) {
	r := newRig(t, "noticeboard")
	r.startPipeline(t, jobs.NewMux(), nil)
	id := enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "noticeboard:future"})
	admin, err := jobs.NewAdmin(r.redis.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	eventually(t, 10*time.Second, "the task to wait in retry", func() bool {
		ts, _ := admin.List(jobs.QueueDefault, "retry", 10)
		return len(ts) == 1 && ts[0].ID == id.String() && strings.Contains(ts[0].LastErr, "no handler")
	})
	// `epom jobs archive` takes it out of the way; it stays in the archive for a retry.
	if _, err := admin.Archive("", id.String()); err != nil {
		t.Fatal(err)
	}
	ts, _ := admin.List("", "archived", 10)
	if len(ts) != 1 {
		t.Errorf("archive holds %d tasks", len(ts))
	}
	if n, err := admin.RetryArchived(""); err != nil || n != 1 {
		t.Errorf("retry archived: %d, %v", n, err)
	}
}

func TestPruneAndMetrics(t *testing.T) {
	r := newRig(t, "noticeboard")
	var log runLog
	mux := jobs.NewMux()
	_ = mux.Handle("noticeboard:publish", log.handler)
	r.startPipeline(t, mux, nil)
	for range 5 {
		enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "noticeboard:publish"})
	}
	later := enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "noticeboard:publish", At: time.Now().Add(time.Hour)})
	eventually(t, 10*time.Second, "tasks done", func() bool {
		return count(t, r.env.Platform, `SELECT count(*) FROM outbox WHERE state = 'done'`) == 5
	})
	if s := outboxState(t, r, later.String()); s != "pending" {
		t.Errorf("a task due in an hour is %s", s)
	}

	c, err := jobs.NewCollector(r.redis.URL(), r.env.Platform, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP epom_outbox_rows Outbox rows: due (waiting for the relay), later (Task.At in the future), published (in Redis, not finished), dead (archived).
# TYPE epom_outbox_rows gauge
epom_outbox_rows{state="dead"} 0
epom_outbox_rows{state="due"} 0
epom_outbox_rows{state="later"} 1
epom_outbox_rows{state="published"} 0
`), "epom_outbox_rows"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "epom_jobs_queue_tasks"); err != nil || n != 18 {
		t.Errorf("queue series: %d, %v", n, err)
	}

	// Done rows older than the retention go; the pending one stays.
	_, _ = r.env.Platform.Exec(context.Background(), `UPDATE outbox SET done_at = now() - interval '4 days' WHERE state = 'done'`)
	relay, _ := jobs.NewRelay(r.env.Platform, fastRelay(r.redis.URL()))
	n, err := relay.Prune(context.Background())
	if err != nil || n != 5 {
		t.Errorf("pruned %d, %v", n, err)
	}
	if k := count(t, r.env.Platform, `SELECT count(*) FROM outbox`); k != 1 {
		t.Errorf("%d rows left", k)
	}
}

// TestQueuesUIReadOnly: /admin/queues shows the queues and refuses changes.
func TestQueuesUIReadOnly(t *testing.T) {
	rp := startRedis(t)
	h, closeUI, err := jobs.NewQueuesUI(rp.URL(), "/admin/queues")
	if err != nil {
		t.Fatal(err)
	}
	defer closeUI()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/admin/queues/api/queues")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET queues: %d", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/admin/queues/api/queues/default", nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 400 {
		t.Errorf("DELETE queue allowed: %d", res.StatusCode)
	}
	res, err = http.Get(srv.URL + "/admin/queues/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET UI: %d", res.StatusCode)
	}
}
