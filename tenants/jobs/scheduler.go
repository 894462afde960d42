package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/robfig/cron/v3"
)

// PeriodicSpec is work a module wants done on a schedule, for every active tenant that has
// the module switched on.
type PeriodicSpec struct {
	// Name is "<module>:<what>" (e.g. "noticeboard:expire"); the module part selects the
	// tenants ("core" means every active tenant). Names are unique.
	Name string
	// Cron is a five-field cron expression in Europe/Prague time, e.g. "*/5 * * * *" or
	// "0 6 * * 1-5".
	Cron string
	// Queue of the tasks; empty means QueueDefault (Task's own Queue, if set, wins).
	Queue string
	// Task builds one tenant's task for the window that starts at window. Its Key and At are
	// ignored: the scheduler keys it "periodic:<name>:<tenant>:<window-start-unix>" and it is
	// due at once.
	Task func(tenantID uuid.UUID, window time.Time) Task
	// CatchUp is how late a window may still be created, when no scheduler ran at its start
	// (a deploy, an outage) [1h]. Only the latest missed window is created, never a backlog.
	CatchUp time.Duration
}

// SchedulerConfig configures the scheduler.
type SchedulerConfig struct {
	// Now is the clock [time.Now]; tests inject a simulated one.
	Now func() time.Time
	// Location of the cron expressions [Europe/Prague].
	Location *time.Location
	Logger   *slog.Logger
}

// Scheduler turns periodic specs into outbox rows, one per tenant and window. The window's
// key is deterministic and unique in the outbox (and, as the TaskID, in Redis), so any
// number of schedulers, and restarts, create each window once: a second insert of the same
// key does nothing. The scheduler needs no Redis.
type Scheduler struct {
	pool  *pgxpool.Pool
	specs []schedule
	cfg   SchedulerConfig
	log   *slog.Logger

	mu   sync.Mutex
	last map[string]time.Time // the newest window this scheduler has created, per spec
}

type schedule struct {
	PeriodicSpec
	module string
	sched  cron.Schedule
}

// NewScheduler checks the specs and returns a scheduler writing as the platform role.
func NewScheduler(platform *pgxpool.Pool, specs []PeriodicSpec, cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Europe/Prague")
		if err != nil {
			return nil, fmt.Errorf("jobs.NewScheduler: %w (import time/tzdata in main)", err)
		}
		cfg.Location = loc
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Scheduler{pool: platform, cfg: cfg, log: cfg.Logger.With("component", "scheduler"), last: map[string]time.Time{}}
	seen := map[string]bool{}
	for _, sp := range specs {
		if !ValidType(sp.Name) {
			return nil, fmt.Errorf("jobs.NewScheduler: spec name %q is not <module>:<what>", sp.Name)
		}
		if seen[sp.Name] {
			return nil, fmt.Errorf("jobs.NewScheduler: spec %q twice", sp.Name)
		}
		seen[sp.Name] = true
		if sp.Task == nil {
			return nil, fmt.Errorf("jobs.NewScheduler: spec %q has no Task", sp.Name)
		}
		sched, err := cron.ParseStandard(sp.Cron)
		if err != nil {
			return nil, fmt.Errorf("jobs.NewScheduler: spec %q: cron %q: %w", sp.Name, sp.Cron, err)
		}
		if sp.CatchUp <= 0 {
			sp.CatchUp = time.Hour
		}
		s.specs = append(s.specs, schedule{PeriodicSpec: sp, module: ModuleOf(sp.Name), sched: sched})
	}
	return s, nil
}

// Window returns the start of the latest window of spec at or before now that is not older
// than its CatchUp, or false. It is a pure function of the cron expression and now.
func (sc schedule) window(now time.Time, after time.Time, loc *time.Location) (time.Time, bool) {
	from := now.Add(-sc.CatchUp).Add(-time.Second)
	if after.After(from) {
		from = after
	}
	var w time.Time
	found := false
	for t := sc.sched.Next(from.In(loc)); !t.After(now); t = sc.sched.Next(t) {
		w, found = t, true
	}
	return w, found
}

// Run ticks until ctx ends, waking at the next window start of any spec (at least once a
// minute, so a changed clock or a failed tick is caught up).
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		if _, err := s.Tick(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "scheduler tick", "err", err)
		}
		now := s.cfg.Now()
		next := now.Add(time.Minute)
		for _, sc := range s.specs {
			if n := sc.sched.Next(now.In(s.cfg.Location)); n.Before(next) {
				next = n
			}
		}
		t := time.NewTimer(max(next.Sub(now), 100*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Tick creates the current window of every spec whose window this scheduler has not created
// yet, and returns how many outbox rows it wrote (rows another scheduler wrote first do not
// count).
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	var errs []error
	for _, sc := range s.specs {
		w, ok := sc.window(now, s.last[sc.Name], s.cfg.Location)
		if !ok || !w.After(s.last[sc.Name]) {
			continue
		}
		n, err := s.fanOut(ctx, sc, w)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("periodic %s at %s: %w", sc.Name, w.Format(time.RFC3339), err))
			continue
		}
		s.last[sc.Name] = w
		if n > 0 {
			s.log.InfoContext(ctx, "periodic window created", "spec", sc.Name, "window", w, "tasks", n)
		}
	}
	return total, errors.Join(errs...)
}

// WindowKey is the TaskID of a tenant's task of one window.
func WindowKey(name string, tenantID uuid.UUID, window time.Time) string {
	return fmt.Sprintf("periodic:%s:%s:%d", name, tenantID, window.Unix())
}

const fanOutSQL = `INSERT INTO outbox (tenant_id, id, task_type, module, queue, payload, task_key,
	request_id, max_retry, timeout_seconds)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bytea[],
	$7::text[], $8::text[], $9::int[], $10::int[])
ON CONFLICT (tenant_id, task_key) WHERE task_key IS NOT NULL DO NOTHING`

func (s *Scheduler) fanOut(ctx context.Context, sc schedule, w time.Time) (int, error) {
	rs, err := s.pool.Query(ctx, `SELECT t.id FROM tenants t
		WHERE t.status = 'active' AND ($1 = 'core' OR EXISTS (
			SELECT 1 FROM tenant_modules m WHERE m.tenant_id = t.id AND m.module_id = $1))
		ORDER BY t.id`, sc.module)
	if err != nil {
		return 0, fmt.Errorf("list tenants: %w", err)
	}
	ids, err := pgx.CollectRows(rs, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("list tenants: %w", err)
	}
	created := 0
	const chunk = 5000
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		var cols struct {
			tenant, id              []uuid.UUID
			typ, module, queue, key []string
			payload                 [][]byte
			rid                     []string
			retry, timeout          []int32
		}
		for _, tid := range part {
			t := sc.Task(tid, w)
			t.Key = ""
			if t.Queue == "" {
				t.Queue = sc.Queue
			}
			r, err := t.row(tid, "", w)
			if err != nil {
				return created, err
			}
			if r.module != sc.module {
				return created, fmt.Errorf("%w: task %s of spec %s belongs to another module", ErrInvalidTask, r.typ, sc.Name)
			}
			cols.tenant = append(cols.tenant, tid)
			cols.id = append(cols.id, r.id)
			cols.typ = append(cols.typ, r.typ)
			cols.module = append(cols.module, r.module)
			cols.queue = append(cols.queue, r.queue)
			cols.payload = append(cols.payload, r.payload)
			cols.key = append(cols.key, WindowKey(sc.Name, tid, w))
			cols.rid = append(cols.rid, "periodic:"+sc.Name)
			cols.retry = append(cols.retry, int32(r.maxRetry))
			cols.timeout = append(cols.timeout, int32(r.timeout))
		}
		tag, err := s.pool.Exec(ctx, fanOutSQL, cols.tenant, cols.id, cols.typ, cols.module, cols.queue,
			cols.payload, cols.key, cols.rid, cols.retry, cols.timeout)
		if err != nil {
			return created, fmt.Errorf("write outbox: %w", err)
		}
		created += int(tag.RowsAffected())
	}
	return created, nil
}
