package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

var errRollback = errors.New("roll back")

// TestCommittedRunsRolledBackDoesNot: a committed Enqueue runs once, with the tenant and
// request id in its context; a rolled-back one never runs.
func TestCommittedRunsRolledBackDoesNot(t *testing.T) {
	r := newRig(t, "noticeboard")
	var mu sync.Mutex
	runs := map[string]int{}
	tenantOf := map[string]uuid.UUID{}
	requestOf := map[string]string{}
	mux := jobs.NewMux()
	if err := mux.Handle("noticeboard:publish", func(ctx context.Context, d jobs.Delivery) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		runs[d.ID]++
		tenantOf[d.ID] = tid
		requestOf[d.ID] = jobs.RequestID(ctx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r.startPipeline(t, mux, nil)

	var committed []uuid.UUID
	for i := range 20 {
		ctx := r.ctxA
		if i%2 == 1 {
			ctx = r.ctxB
		}
		ctx = jobs.WithRequestID(ctx, "req-"+strings.Repeat("x", i%3))
		committed = append(committed, enqueue(t, r.env.DB, ctx, jobs.Task{Type: "noticeboard:publish", Payload: []byte(`{"id":1}`)}))
		// The same in a transaction that fails after Enqueue.
		err := r.env.DB.InTx(ctx, func(ctx context.Context) error {
			if _, err := jobs.Enqueue(ctx, jobs.Task{Type: "noticeboard:publish"}); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("rolled-back transaction: %v", err)
		}
	}
	eventually(t, 20*time.Second, "all committed tasks to run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(runs) == len(committed)
	})
	time.Sleep(300 * time.Millisecond) // time for a stray duplicate to show up
	mu.Lock()
	defer mu.Unlock()
	for i, id := range committed {
		if runs[id.String()] != 1 {
			t.Errorf("task %s ran %d times", id, runs[id.String()])
		}
		want := r.a
		if i%2 == 1 {
			want = r.b
		}
		if tenantOf[id.String()] != want {
			t.Errorf("task %s ran for tenant %s, want %s", id, tenantOf[id.String()], want)
		}
		if !strings.HasPrefix(requestOf[id.String()], "req-") {
			t.Errorf("task %s lost its request id: %q", id, requestOf[id.String()])
		}
	}
	if len(runs) != len(committed) {
		t.Errorf("%d tasks ran, %d were committed", len(runs), len(committed))
	}
	eventually(t, 5*time.Second, "outbox rows marked done", func() bool {
		return count(t, r.env.Platform, `SELECT count(*) FROM outbox WHERE state = 'done'`) == len(committed)
	})
	if n := count(t, r.env.Platform, `SELECT count(*) FROM outbox`); n != len(committed) {
		t.Errorf("outbox has %d rows, want %d", n, len(committed))
	}
}

func TestEnqueueChecks(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	if _, err := jobs.Enqueue(ctxA, jobs.Task{Type: "noticeboard:publish"}); !errors.Is(err, jobs.ErrNoTx) {
		t.Errorf("outside InTx: got %v, want ErrNoTx", err)
	}
	if _, err := jobs.Enqueue(context.Background(), jobs.Task{Type: "noticeboard:publish"}); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("no tenant: got %v, want ErrNoTenant", err)
	}
	for _, bad := range []jobs.Task{
		{Type: "publish"},
		{Type: "Noticeboard:publish"},
		{Type: "noticeboard:publish", Queue: "urgent"},
		{Type: "noticeboard:publish", Payload: make([]byte, 9000)},
	} {
		err := e.DB.InTx(ctxA, func(ctx context.Context) error {
			_, err := jobs.Enqueue(ctx, bad)
			return err
		})
		if !errors.Is(err, jobs.ErrInvalidTask) {
			t.Errorf("%+v: got %v, want ErrInvalidTask", bad.Type, err)
		}
	}
	// A key is unique per tenant: the second Enqueue reports a duplicate, the transaction
	// goes on, and another tenant may use the same key.
	err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		if _, err := jobs.Enqueue(ctx, jobs.Task{Type: "noticeboard:publish", Key: "notice-1"}); err != nil {
			return err
		}
		if _, err := jobs.Enqueue(ctx, jobs.Task{Type: "noticeboard:publish", Key: "notice-1"}); !errors.Is(err, jobs.ErrDuplicate) {
			t.Errorf("second key: got %v, want ErrDuplicate", err)
		}
		_, err := jobs.Enqueue(ctx, jobs.Task{Type: "noticeboard:publish", Key: "notice-2"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.Platform, `SELECT count(*) FROM outbox WHERE task_key IS NOT NULL`); n != 2 {
		t.Errorf("%d keyed rows, want 2", n)
	}
	// EnqueueMany writes an import's tasks in bulk.
	many := make([]jobs.Task, 4500)
	for i := range many {
		many[i] = jobs.Task{Type: "records:import", Queue: jobs.QueueLow, Payload: []byte(`{"row":1}`)}
	}
	if err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		_, err := jobs.EnqueueMany(ctx, many)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.Platform, `SELECT count(*) FROM outbox WHERE task_type = 'records:import' AND queue = 'low'`); n != len(many) {
		t.Errorf("%d import rows, want %d", n, len(many))
	}
}

// TestOutboxIsolation: the outbox is a tenant table like any other.
func TestOutboxIsolation(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, ctxB := e.Two(t)
	tenanttest.RunIsolation(t, e, ctxA, ctxB, tenanttest.Isolation{
		Create: func(ctx context.Context) (string, error) {
			var id uuid.UUID
			err := e.DB.InTx(ctx, func(ctx context.Context) error {
				var err error
				id, err = jobs.Enqueue(ctx, jobs.Task{Type: "noticeboard:publish"})
				return err
			})
			return id.String(), err
		},
		Get: func(ctx context.Context, id string) error {
			return e.DB.InTx(ctx, func(ctx context.Context) error {
				var n int64
				if err := tenants.DB(ctx).Table("outbox").Where("id = ?", id).Count(&n).Error; err != nil {
					return err
				}
				if n == 0 {
					return gorm.ErrRecordNotFound
				}
				return nil
			})
		},
		List: func(ctx context.Context) ([]string, error) {
			var ids []string
			err := e.DB.InTx(ctx, func(ctx context.Context) error {
				return tenants.DB(ctx).Table("outbox").Pluck("id::text", &ids).Error
			})
			return ids, err
		},
		Update: func(ctx context.Context, id string) error {
			return e.DB.InTx(ctx, func(ctx context.Context) error {
				return tenants.DB(ctx).Exec(`UPDATE outbox SET state = 'done' WHERE id = ?`, id).Error
			})
		},
		IsNotFound: func(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) },
		Tables:     []string{"outbox"},
	})
}
