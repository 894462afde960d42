package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// RelayConfig configures the outbox relay. Zero values take the defaults in brackets.
type RelayConfig struct {
	RedisURL string
	// BatchSize is the most rows one claim takes [1000].
	BatchSize int
	// TenantInFlight caps how many tasks of one tenant and queue are in Redis at once [100]:
	// a tenant's 50,000-task import enters Redis 100 at a time, so another tenant's task
	// queues behind at most 100 of them, not 50,000. A round claims for each tenant and queue
	// what keeps it under the cap, once a quarter of the cap is free.
	TenantInFlight int
	// InFlightWindow: a published task older than this no longer counts against the cap
	// [5m], so a tenant whose tasks sit in retry for hours is not blocked by them.
	InFlightWindow time.Duration
	// PollInterval is how often an idle relay looks for work without a notification [1s]; it
	// is also the precision of Task.At.
	PollInterval time.Duration
	// BusyInterval is the pause between rounds that found nothing to claim, for ActiveFor
	// after the last claim [20ms, 2s]: rows held back by the cap become claimable as soon as
	// the worker finishes their predecessors, and no notification says when that is. A
	// round that filled its batch is followed by the next at once.
	BusyInterval time.Duration
	ActiveFor    time.Duration
	// Parallelism is how many Redis enqueues run at once [16].
	Parallelism int
	// Retention keeps completed tasks in Redis [1h], so that enqueueing the same TaskID again
	// (after a relay died between publishing and recording it) is refused as a duplicate.
	Retention time.Duration
	// ReconcileAfter is how long a published task may stay unfinished before the reconciler
	// asks Redis whether it still has it [1m]; ReconcileInterval is how often it looks [15s].
	ReconcileAfter    time.Duration
	ReconcileInterval time.Duration
	// RestartGrace: the reconciler re-enqueues nothing while Redis has been up for less
	// than this [12s], because workers re-announce the tasks they are running (which a Redis
	// restart forgot) only with their next heartbeats, every 5 s.
	RestartGrace time.Duration
	// Done rows are pruned after DoneRetention [72h], archived ("dead") rows after
	// DeadRetention [90 days, as long as asynq keeps its archive]; the janitor runs every
	// JanitorInterval [10m].
	DoneRetention   time.Duration
	DeadRetention   time.Duration
	JanitorInterval time.Duration
	Logger          *slog.Logger
}

func (c *RelayConfig) defaults() {
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setInt(&c.BatchSize, 1000)
	setInt(&c.TenantInFlight, 100)
	setInt(&c.Parallelism, 16)
	setDur(&c.InFlightWindow, 5*time.Minute)
	setDur(&c.PollInterval, time.Second)
	setDur(&c.BusyInterval, 20*time.Millisecond)
	setDur(&c.ActiveFor, 2*time.Second)
	setDur(&c.Retention, time.Hour)
	setDur(&c.ReconcileAfter, time.Minute)
	setDur(&c.ReconcileInterval, 15*time.Second)
	setDur(&c.RestartGrace, 12*time.Second)
	setDur(&c.DoneRetention, 72*time.Hour)
	setDur(&c.DeadRetention, 90*24*time.Hour)
	setDur(&c.JanitorInterval, 10*time.Minute)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Relay moves committed outbox rows into asynq. Any number of relays may run: a claim marks
// its rows published in the same statement that locks them (FOR UPDATE SKIP LOCKED), so no
// two relays take the same row, and TaskID = outbox id makes Redis refuse a second copy.
type Relay struct {
	cfg       RelayConfig
	pool      *pgxpool.Pool // bookkeeping pool: see bookkeepingPool
	client    *asynq.Client
	inspector *asynq.Inspector
	rdb       redis.UniversalClient
	log       *slog.Logger
	wake      chan struct{}

	// cursor is the last (tenant, queue) served, so that the next round starts after it and
	// every tenant gets its turn even when the first ones always have work.
	cursorTenant uuid.UUID
	cursorQueue  string

	published atomic.Int64 // for tests and metrics
	rounds    atomic.Int64
	claimNS   atomic.Int64
	roundNS   atomic.Int64
}

// RoundStats is a debugging aid: rounds run, and time spent claiming and in whole rounds.
func (r *Relay) RoundStats() (rounds int64, claim, total time.Duration) {
	return r.rounds.Load(), time.Duration(r.claimNS.Load()), time.Duration(r.roundNS.Load())
}

// NewRelay returns a relay over the platform role's pool.
func NewRelay(platform *pgxpool.Pool, cfg RelayConfig) (*Relay, error) {
	cfg.defaults()
	opt, err := redisOpt(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	if platform == nil {
		return nil, errors.New("jobs.NewRelay: platform pool is required")
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, errors.New("jobs.NewRelay: unsupported Redis connection")
	}
	book, err := bookkeepingPool(platform, 4)
	if err != nil {
		return nil, err
	}
	return &Relay{
		cfg: cfg, pool: book, client: asynq.NewClient(opt), inspector: asynq.NewInspector(opt), rdb: rdb,
		log: cfg.Logger.With("component", "relay"), wake: make(chan struct{}, 1),
	}, nil
}

// Wake makes the relay look for work now (the LISTEN connection does this for commits).
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends. It also runs the reconciler and the janitor.
func (r *Relay) Run(ctx context.Context) error {
	defer r.client.Close()
	defer r.inspector.Close()
	defer r.rdb.Close()
	defer r.pool.Close()
	var wg sync.WaitGroup
	for _, f := range []func(context.Context){r.listen, r.reconcileLoop, r.janitorLoop} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	r.relayLoop(ctx)
	wg.Wait()
	return nil
}

func (r *Relay) relayLoop(ctx context.Context) {
	var lastClaim time.Time
	failures := 0
	for ctx.Err() == nil {
		n, err := r.round(ctx)
		var pause time.Duration
		switch {
		case err != nil:
			failures++
			pause = min(r.cfg.PollInterval*time.Duration(1<<min(failures, 4)), 10*time.Second)
			if ctx.Err() == nil {
				r.log.WarnContext(ctx, "relay round failed", "err", err, "retry_in", pause)
			}
		case n >= r.cfg.BatchSize:
			// A full batch: more tenants may be waiting, go again at once.
			failures = 0
			lastClaim = time.Now()
			continue
		case n > 0:
			// Every tenant with work got what its cap allows; room comes back as the
			// worker finishes tasks.
			failures = 0
			lastClaim = time.Now()
			pause = r.cfg.BusyInterval
		case time.Since(lastClaim) < r.cfg.ActiveFor:
			failures = 0
			pause = r.cfg.BusyInterval
		default:
			failures = 0
			pause = r.cfg.PollInterval
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-r.wake:
			if err != nil {
				// Do not hammer a Redis that is down because commits keep notifying.
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		}
		t.Stop()
	}
}

// listen turns commits of outbox rows into wake-ups. Polling covers the time the
// connection is down, and rows whose At has come.
func (r *Relay) listen(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := r.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		r.log.WarnContext(ctx, "outbox LISTEN connection lost; polling meanwhile", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (r *Relay) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN epom_outbox`); err != nil {
		return err
	}
	r.Wake() // rows committed while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		r.Wake()
	}
}

// claimSQL claims due rows of active tenants, per (tenant, queue) at most $2 and no more
// than keeps that tenant and queue under $3 tasks published within $4 — and nothing until
// there is room for at least $10, so that a busy tenant is served in chunks, not a row per
// round — visiting (tenant, queue)
// pairs in order from just after ($5, $6) up to ($7, $8), and marks them published in the
// same statement. A recursive CTE walks the pending index from pair to pair (a loose index
// scan), so one tenant's 50,000 pending rows cost one index probe, not a 50,000-row scan.
const claimSQL = `
WITH RECURSIVE pairs AS (
    (SELECT o.tenant_id, o.queue FROM outbox o
     WHERE o.state = 'pending' AND (o.tenant_id, o.queue) > ($5::uuid, $6::text)
     ORDER BY o.tenant_id, o.queue LIMIT 1)
    UNION ALL
    SELECT n.tenant_id, n.queue FROM pairs p
    CROSS JOIN LATERAL (
        SELECT o.tenant_id, o.queue FROM outbox o
        WHERE o.state = 'pending' AND (o.tenant_id, o.queue) > (p.tenant_id, p.queue)
        ORDER BY o.tenant_id, o.queue LIMIT 1) n
),
claimed AS (
    SELECT c.tenant_id, c.id FROM pairs p
    JOIN tenants t ON t.id = p.tenant_id AND t.status = 'active'
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM outbox f
        WHERE f.tenant_id = p.tenant_id AND f.queue = p.queue AND f.state = 'published'
          AND f.published_at > now() - $4::interval) busy
    CROSS JOIN LATERAL (
        SELECT o.tenant_id, o.id FROM outbox o
        WHERE o.tenant_id = p.tenant_id AND o.queue = p.queue AND o.state = 'pending'
          AND o.available_at <= now()
          AND busy.n <= $3::int - $10::int
          AND (o.module = 'core' OR EXISTS (
              SELECT 1 FROM tenant_modules m WHERE m.tenant_id = o.tenant_id AND m.module_id = o.module))
        ORDER BY o.id
        LIMIT LEAST($2::int, GREATEST(0, $3::int - busy.n))
        FOR UPDATE OF o SKIP LOCKED) c
    WHERE (p.tenant_id, p.queue) <= ($7::uuid, $8::text)
    LIMIT $1
)
UPDATE outbox o SET state = 'published', published_at = now(), check_at = now() + $9::interval,
       publish_attempts = o.publish_attempts + 1
FROM claimed c
WHERE o.tenant_id = c.tenant_id AND o.id = c.id
RETURNING o.tenant_id, o.id, o.task_type, o.queue, o.payload, o.task_key, o.request_id,
          o.max_retry, o.timeout_seconds, o.available_at`

var maxUUID = uuid.Must(uuid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff"))

// maxQueue with maxUUID bounds every pair: no UUIDv7 is all ones, so the queue never matters
// (and no collation question arises).
const maxQueue = ""

type claimedRow struct {
	tenantID  uuid.UUID
	id        uuid.UUID
	typ       string
	queue     string
	payload   []byte
	key       *string
	requestID string
	maxRetry  int
	timeout   int
	due       time.Time
}

func (c claimedRow) taskID() string {
	if c.key != nil {
		return *c.key
	}
	return c.id.String()
}

// round claims and enqueues one batch and reports how many rows it published. Rows whose
// enqueue fails go back to pending.
func (r *Relay) round(ctx context.Context) (int, error) {
	start := time.Now()
	defer func() { r.rounds.Add(1); r.roundNS.Add(int64(time.Since(start))) }()
	perPair := r.cfg.TenantInFlight
	window := r.cfg.InFlightWindow.String()
	after := r.cfg.ReconcileAfter.String()
	// After the cursor to the end, then from the start up to the cursor.
	rows, err := r.claim(ctx, r.cfg.BatchSize, perPair, window, after, r.cursorTenant, r.cursorQueue, maxUUID, maxQueue)
	if err != nil {
		return 0, err
	}
	last := rows
	if len(rows) < r.cfg.BatchSize && (r.cursorTenant != uuid.Nil || r.cursorQueue != "") {
		more, err := r.claim(ctx, r.cfg.BatchSize-len(rows), perPair, window, after, uuid.Nil, "", r.cursorTenant, r.cursorQueue)
		if err != nil {
			// The first part is claimed and must be enqueued regardless.
			r.log.WarnContext(ctx, "relay claim", "err", err)
		}
		if len(more) > 0 {
			last = more
		}
		rows = append(rows, more...)
	}
	r.claimNS.Add(int64(time.Since(start)))
	if len(rows) == 0 {
		r.cursorTenant, r.cursorQueue = uuid.Nil, ""
		return 0, nil
	}
	// The next round starts after the last pair served, in cyclic order.
	r.cursorTenant, r.cursorQueue = last[len(last)-1].tenantID, last[len(last)-1].queue
	failed, firstErr := r.enqueue(ctx, rows)
	if len(failed) > 0 {
		if err := r.release(context.WithoutCancel(ctx), failed, firstErr); err != nil {
			// They stay published; the reconciler will find them missing from Redis.
			r.log.WarnContext(ctx, "return unsent rows to pending", "rows", len(failed), "err", err)
		}
		return len(rows) - len(failed), fmt.Errorf("enqueue %d of %d tasks: %w", len(failed), len(rows), firstErr)
	}
	r.published.Add(int64(len(rows)))
	return len(rows), nil
}

// scanClaimed reads an outbox row as the claim and the reconciler select it.
func scanClaimed(row pgx.CollectableRow) (claimedRow, error) {
	var c claimedRow
	err := row.Scan(&c.tenantID, &c.id, &c.typ, &c.queue, &c.payload, &c.key, &c.requestID,
		&c.maxRetry, &c.timeout, &c.due)
	return c, err
}

func (r *Relay) claim(ctx context.Context, limit, perPair int, window, after string,
	fromT uuid.UUID, fromQ string, toT uuid.UUID, toQ string) ([]claimedRow, error) {
	rs, err := r.pool.Query(ctx, claimSQL, limit, perPair, r.cfg.TenantInFlight, window,
		fromT, fromQ, toT, toQ, after, max(1, r.cfg.TenantInFlight/4))
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	out, err := pgx.CollectRows(rs, scanClaimed)
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	// UPDATE … RETURNING gives no order: restore the pair order (for the cursor) and the
	// commit order within each pair.
	slices.SortFunc(out, func(a, b claimedRow) int {
		if c := bytes.Compare(a.tenantID[:], b.tenantID[:]); c != 0 {
			return c
		}
		if c := strings.Compare(a.queue, b.queue); c != 0 {
			return c
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	return out, nil
}

func (r *Relay) task(c claimedRow) (*asynq.Task, []asynq.Option) {
	headers := map[string]string{
		headerTenant: c.tenantID.String(),
		headerOutbox: c.id.String(),
		headerDue:    formatDue(c.due),
	}
	if c.requestID != "" {
		headers[headerRequest] = c.requestID
	}
	opts := []asynq.Option{
		asynq.TaskID(c.taskID()),
		asynq.Queue(c.queue),
		asynq.MaxRetry(c.maxRetry),
		asynq.Retention(r.cfg.Retention),
	}
	if c.timeout > 0 {
		opts = append(opts, asynq.Timeout(time.Duration(c.timeout)*time.Second))
	}
	return asynq.NewTaskWithHeaders(c.typ, c.payload, headers), opts
}

// enqueue hands rows to Redis, Parallelism at a time, and returns those that did not make it.
func (r *Relay) enqueue(ctx context.Context, rows []claimedRow) ([]claimedRow, error) {
	var mu sync.Mutex
	var failed []claimedRow
	var firstErr error
	var broken atomic.Bool // after the first failure (Redis is likely down) try no more
	sem := make(chan struct{}, r.cfg.Parallelism)
	var wg sync.WaitGroup
	for _, c := range rows {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if broken.Load() {
				mu.Lock()
				failed = append(failed, c)
				mu.Unlock()
				return
			}
			t, opts := r.task(c)
			_, err := r.client.EnqueueContext(context.WithoutCancel(ctx), t, opts...)
			if err == nil || errors.Is(err, asynq.ErrTaskIDConflict) {
				// A conflict means Redis already has this task (an earlier relay enqueued
				// it and died before recording that): it is published.
				return
			}
			broken.Store(true)
			mu.Lock()
			failed = append(failed, c)
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return failed, firstErr
}

func (r *Relay) release(ctx context.Context, rows []claimedRow, cause error) error {
	ts, ids := make([]uuid.UUID, len(rows)), make([]uuid.UUID, len(rows))
	for i, c := range rows {
		ts[i], ids[i] = c.tenantID, c.id
	}
	_, err := r.pool.Exec(ctx, `UPDATE outbox o SET state = 'pending', published_at = NULL, check_at = NULL,
		last_error = left($3, 2000)
		FROM unnest($1::uuid[], $2::uuid[]) AS d(tenant_id, id)
		WHERE o.tenant_id = d.tenant_id AND o.id = d.id AND o.state = 'published'`, ts, ids, cause.Error())
	return err
}

func (r *Relay) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.ReconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.Reconcile(ctx); err != nil && ctx.Err() == nil {
				r.log.WarnContext(ctx, "reconcile outbox with Redis", "err", err)
			}
		}
	}
}

// ReconcileResult says what one reconciliation did.
type ReconcileResult struct {
	Checked, Requeued, Done, Dead int
}

// Reconcile asks Redis about published rows that have not finished within ReconcileAfter:
// a task Redis no longer has (it restarted without persistence, or a relay died between
// marking and enqueueing) is enqueued again; one Redis completed or archived is recorded as
// such. It takes no row locks while it talks to Redis, so it never holds up the marker.
func (r *Relay) Reconcile(ctx context.Context) (ReconcileResult, error) {
	var res ReconcileResult
	rs, err := r.pool.Query(ctx, `SELECT tenant_id, id, task_type, queue, payload, task_key, request_id,
			max_retry, timeout_seconds, available_at
		FROM outbox WHERE state = 'published' AND check_at <= now()
		LIMIT 500`)
	if err != nil {
		return res, fmt.Errorf("list unfinished tasks: %w", err)
	}
	rows, err := pgx.CollectRows(rs, scanClaimed)
	if err != nil {
		return res, fmt.Errorf("list unfinished tasks: %w", err)
	}
	var later, requeued, done, dead []claimedRow
	var deadReasons []string
	var running map[string]bool // task ids that live workers are processing, fetched once
	for _, c := range rows {
		res.Checked++
		info, err := r.inspector.GetTaskInfo(c.queue, c.taskID())
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
			// A Redis that restarted empty has forgotten tasks that workers are still
			// running; their heartbeats (every 5 s) announce them again. Until Redis has been
			// up for RestartGrace, or while a worker announces the task, it is not lost.
			if running == nil {
				if running, err = r.runningTasks(ctx); err != nil {
					return res, err
				}
			}
			if running[c.taskID()] {
				later = append(later, c)
				continue
			}
			t, opts := r.task(c)
			if _, err := r.client.EnqueueContext(ctx, t, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
				return res, fmt.Errorf("enqueue lost task %s again: %w", c.taskID(), err)
			}
			r.log.WarnContext(ctx, "task missing from Redis, enqueued again", "task", c.taskID(), "type", c.typ, "tenant", c.tenantID)
			requeued = append(requeued, c)
		case err != nil:
			return res, fmt.Errorf("look up task %s: %w", c.taskID(), err)
		case info.State == asynq.TaskStateCompleted:
			done = append(done, c)
		case info.State == asynq.TaskStateArchived:
			dead = append(dead, c)
			deadReasons = append(deadReasons, info.LastErr)
		default:
			later = append(later, c)
		}
	}
	after := r.cfg.ReconcileAfter.String()
	exec := func(sql string, rows []claimedRow, extra ...any) error {
		if len(rows) == 0 {
			return nil
		}
		ts, ids := make([]uuid.UUID, len(rows)), make([]uuid.UUID, len(rows))
		for i, c := range rows {
			ts[i], ids[i] = c.tenantID, c.id
		}
		_, err := r.pool.Exec(ctx, sql, append([]any{ts, ids}, extra...)...)
		return err
	}
	const from = ` FROM unnest($1::uuid[], $2::uuid[]) AS d(tenant_id, id)
		WHERE o.tenant_id = d.tenant_id AND o.id = d.id AND o.state = 'published'`
	if err := exec(`UPDATE outbox o SET check_at = now() + $3::interval`+from, later, after); err != nil {
		return res, fmt.Errorf("record reconciliation: %w", err)
	}
	if err := exec(`UPDATE outbox o SET check_at = now() + $3::interval, published_at = now(),
		publish_attempts = o.publish_attempts + 1`+from, requeued, after); err != nil {
		return res, fmt.Errorf("record reconciliation: %w", err)
	}
	if err := exec(`UPDATE outbox o SET state = 'done', done_at = now()`+from, done); err != nil {
		return res, fmt.Errorf("record reconciliation: %w", err)
	}
	if len(dead) > 0 {
		ts, ids := make([]uuid.UUID, len(dead)), make([]uuid.UUID, len(dead))
		for i, c := range dead {
			ts[i], ids[i] = c.tenantID, c.id
		}
		if _, err := r.pool.Exec(ctx, `UPDATE outbox o SET state = 'dead', done_at = now(), last_error = left(d.reason, 2000)
			FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS d(tenant_id, id, reason)
			WHERE o.tenant_id = d.tenant_id AND o.id = d.id AND o.state = 'published'`, ts, ids, deadReasons); err != nil {
			return res, fmt.Errorf("record reconciliation: %w", err)
		}
	}
	res.Requeued, res.Done, res.Dead = len(requeued), len(done), len(dead)
	return res, nil
}

// runningTasks returns the ids of tasks that live workers report running, or an error while
// Redis is younger than RestartGrace (the reports are not all back yet).
func (r *Relay) runningTasks(ctx context.Context) (map[string]bool, error) {
	info, err := r.rdb.Info(ctx, "server").Result()
	if err != nil {
		return nil, fmt.Errorf("redis uptime: %w", err)
	}
	var uptime int64 = -1
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "uptime_in_seconds:"); ok {
			uptime, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if uptime < 0 || time.Duration(uptime)*time.Second < r.cfg.RestartGrace {
		return nil, fmt.Errorf("redis up for %ds only: waiting for worker heartbeats before re-enqueueing", uptime)
	}
	servers, err := r.inspector.Servers()
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	out := map[string]bool{}
	for _, s := range servers {
		for _, w := range s.ActiveWorkers {
			out[w.TaskID] = true
		}
	}
	return out, nil
}

func (r *Relay) janitorLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.JanitorInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.Prune(ctx); err != nil && ctx.Err() == nil {
				r.log.WarnContext(ctx, "prune outbox", "err", err)
			}
		}
	}
}

// Prune deletes done rows older than DoneRetention and dead rows older than DeadRetention,
// in batches so that a large backlog does not hold one long transaction.
func (r *Relay) Prune(ctx context.Context) (int64, error) {
	var total int64
	for {
		tag, err := r.pool.Exec(ctx, `DELETE FROM outbox o USING (
				SELECT tenant_id, id FROM outbox
				WHERE (state = 'done' AND done_at < now() - $1::interval)
				   OR (state = 'dead' AND done_at < now() - $2::interval)
				LIMIT 5000) old
			WHERE o.tenant_id = old.tenant_id AND o.id = old.id`,
			r.cfg.DoneRetention.String(), r.cfg.DeadRetention.String())
		if err != nil {
			return total, fmt.Errorf("prune outbox: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < 5000 {
			return total, nil
		}
	}
}

// Published is how many rows this relay has published since it started.
func (r *Relay) Published() int64 { return r.published.Load() }
