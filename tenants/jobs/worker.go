package jobs

import (
	"context"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"log/slog"
	"runtime"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/epom-cz/epom/tenants"
)

// Task headers. The tenant travels beside the payload, not in it, so that the worker can
// gate a task before any module code decodes it.
const (
	headerTenant  = "epom-tenant"
	headerRequest = "epom-request"
	headerOutbox  = "epom-outbox" // the outbox row to mark done
	headerDue     = "epom-due"    // RFC 3339: when the task became due (commit or Task.At)
)

// Config configures the worker. Zero values take the defaults in brackets.
type Config struct {
	RedisURL string // redis://host:port/db
	// Concurrency is how many tasks run at once [10 × GOMAXPROCS, at least 10]: handlers
	// mostly wait on PostgreSQL and SMTP, not the CPU.
	Concurrency int
	// Queues are the queue weights [critical 6, default 3, low 1]: with all three non-empty,
	// a free slot takes critical work 60% of the time, low work 10%, so low is never starved.
	Queues map[string]int
	// ShutdownTimeout is how long running tasks may finish after the signal [25s]; what is
	// still running then goes back to its queue and runs again elsewhere.
	ShutdownTimeout time.Duration
	// TaskCheckInterval is how long an idle worker sleeps between polls of empty queues
	// [100ms]. asynq's 1 s default alone would put p99 commit-to-start above a second.
	TaskCheckInterval time.Duration
	// DelayedTaskCheckInterval is how often retries that are due move back to their queue [1s].
	DelayedTaskCheckInterval time.Duration
	// WaitDelay is how long a task of a suspended tenant or switched-off module waits before
	// it is offered again [5m]; MaxWait is when such a task is archived instead [30 days].
	WaitDelay time.Duration
	MaxWait   time.Duration
	// RetryDelay is the backoff before retry n (0-based) of a failed task [asynq's
	// exponential n⁴+15 s with jitter].
	RetryDelay func(n int) time.Duration
	Logger     *slog.Logger
	// Tracer traces every task as a span with its type, tenant and request id [none].
	Tracer trace.TracerProvider
}

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = max(10, 10*runtime.GOMAXPROCS(0))
	}
	if len(c.Queues) == 0 {
		c.Queues = map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1}
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 25 * time.Second
	}
	if c.TaskCheckInterval <= 0 {
		c.TaskCheckInterval = 100 * time.Millisecond
	}
	if c.DelayedTaskCheckInterval <= 0 {
		c.DelayedTaskCheckInterval = time.Second
	}
	if c.WaitDelay <= 0 {
		c.WaitDelay = 5 * time.Minute
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 30 * 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Worker runs task handlers: an asynq server whose middleware rebuilds the tenant context,
// applies the gate and marks outbox rows done.
type Worker struct {
	cfg     Config
	redis   asynq.RedisConnOpt
	gate    Gate
	mux     *Mux
	book    *pgxpool.Pool // bookkeeping pool for the marker: see bookkeepingPool
	marker  *marker
	metrics *workerMetrics
	now     func() time.Time
}

// NewWorker returns a worker for the tasks registered in mux. platform is the platform
// role's pool (it marks outbox rows of any tenant done); gate decides whether a task may run.
func NewWorker(platform *pgxpool.Pool, gate Gate, mux *Mux, cfg Config) (*Worker, error) {
	cfg.defaults()
	opt, err := redisOpt(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	if gate == nil || mux == nil || platform == nil {
		return nil, errors.New("jobs.NewWorker: platform pool, gate and mux are required")
	}
	for q := range cfg.Queues {
		if !ValidQueue(q) {
			return nil, fmt.Errorf("jobs.NewWorker: unknown queue %q", q)
		}
	}
	book, err := bookkeepingPool(platform, 2)
	if err != nil {
		return nil, err
	}
	return &Worker{
		cfg: cfg, redis: opt, gate: gate, mux: mux, book: book,
		marker:  newMarker(book, cfg.Logger),
		metrics: newWorkerMetrics(),
		now:     time.Now,
	}, nil
}

func redisOpt(url string) (asynq.RedisConnOpt, error) {
	if url == "" {
		return nil, errors.New("jobs: Redis URL is empty")
	}
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		return nil, fmt.Errorf("jobs: Redis URL: %w", err)
	}
	return opt, nil
}

// Metrics returns the worker's own instruments (start delay, handler duration and outcome by
// task type); queue sizes come from NewCollector, which any process can register.
func (w *Worker) Metrics() prometheus.Collector { return w.metrics }

// Run serves tasks until ctx ends, then shuts down gracefully: no new tasks are taken,
// running ones get ShutdownTimeout to finish, and the rest go back to their queues.
func (w *Worker) Run(ctx context.Context) error {
	markCtx, stopMarker := context.WithCancel(context.WithoutCancel(ctx))
	markerDone := make(chan struct{})
	go func() {
		defer close(markerDone)
		w.marker.run(markCtx)
	}()
	defer func() {
		stopMarker()
		<-markerDone
		w.book.Close()
	}()

	srv := asynq.NewServer(w.redis, asynq.Config{
		Concurrency:              w.cfg.Concurrency,
		Queues:                   w.cfg.Queues,
		ShutdownTimeout:          w.cfg.ShutdownTimeout,
		TaskCheckInterval:        w.cfg.TaskCheckInterval,
		DelayedTaskCheckInterval: w.cfg.DelayedTaskCheckInterval,
		IsFailure:                func(err error) bool { return !isWait(err) },
		RetryDelayFunc:           w.retryDelay,
		ErrorHandler:             asynq.ErrorHandlerFunc(w.failed),
		Logger:                   slogAdapter{w.cfg.Logger.With("component", "asynq")},
		LogLevel:                 asynq.WarnLevel,
	})
	if err := srv.Start(asynq.HandlerFunc(w.process)); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	w.cfg.Logger.InfoContext(ctx, "worker started", "concurrency", w.cfg.Concurrency, "queues", w.cfg.Queues,
		"task_types", w.mux.Types())
	<-ctx.Done()
	srv.Shutdown()
	w.cfg.Logger.Info("worker stopped")
	return nil
}

func (w *Worker) retryDelay(n int, err error, t *asynq.Task) time.Duration {
	switch {
	case isWait(err):
		return w.cfg.WaitDelay
	case errors.Is(err, asynq.ErrLeaseExpired):
		// The worker running it died; nothing suggests the task itself is at fault.
		return time.Second
	case w.cfg.RetryDelay != nil:
		return w.cfg.RetryDelay(n)
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// process is the middleware every task goes through.
func (w *Worker) process(ctx context.Context, t *asynq.Task) error {
	h := t.Headers()
	d := Delivery{Type: t.Type(), Payload: t.Payload(), RequestID: h[headerRequest]}
	d.ID, _ = asynq.GetTaskID(ctx)
	d.Attempt, _ = asynq.GetRetryCount(ctx)
	d.MaxRetry, _ = asynq.GetMaxRetry(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	if due, err := time.Parse(time.RFC3339Nano, h[headerDue]); err == nil {
		d.Queued = due
	}
	var err error
	if d.TenantID, err = uuid.Parse(h[headerTenant]); err != nil {
		w.metrics.handled.WithLabelValues(queue, d.Type, "refused").Inc()
		return Permanent(fmt.Errorf("task %s carries no tenant", d.ID))
	}
	log := w.cfg.Logger.With("task", d.ID, "type", d.Type, "tenant", d.TenantID, "request_id", d.RequestID, "attempt", d.Attempt)

	tenant, err := admit(ctx, w.gate, d.TenantID, ModuleOf(d.Type), d.Queued, w.cfg.MaxWait, w.now())
	if err != nil {
		log.InfoContext(ctx, "task refused", "reason", err)
		w.metrics.handled.WithLabelValues(queue, d.Type, outcome(err)).Inc()
		return err
	}
	handler, ok := w.mux.handler(d.Type)
	if !ok {
		// A newer binary enqueued a type this one does not know: leave it for a worker that
		// does rather than archive it in the middle of a rolling deploy.
		w.metrics.handled.WithLabelValues(queue, d.Type, "waiting").Inc()
		return wait("no handler for %s in this worker", d.Type)
	}
	start := w.now()
	if !d.Queued.IsZero() && d.Attempt == 0 {
		w.metrics.startDelay.WithLabelValues(queue).Observe(start.Sub(d.Queued).Seconds())
	}
	hctx := WithRequestID(tenants.WithTenant(ctx, tenant), d.RequestID)
	if w.cfg.Tracer != nil {
		var span trace.Span
		hctx, span = w.cfg.Tracer.Tracer("epom/jobs").Start(hctx, "task "+d.Type, trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("epom.task_id", d.ID), attribute.String("epom.tenant", tenant.Slug),
				attribute.String("epom.request_id", d.RequestID), attribute.Int("epom.attempt", d.Attempt)))
		defer func() {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}()
	}
	err = handler(hctx, d)
	w.metrics.duration.WithLabelValues(queue, d.Type).Observe(w.now().Sub(start).Seconds())
	w.metrics.handled.WithLabelValues(queue, d.Type, outcome(err)).Inc()
	if err != nil {
		log.WarnContext(ctx, "task failed", "err", err)
		return err
	}
	if oid, perr := uuid.Parse(h[headerOutbox]); perr == nil {
		// Wait for the mark so that "done" in the outbox is never behind a finished task for
		// longer than one group commit; a failure only delays it until the reconciler sees
		// the task completed in Redis.
		if merr := w.marker.mark(ctx, markReq{tenant: d.TenantID, id: oid, dead: false}); merr != nil {
			log.WarnContext(ctx, "mark outbox row done", "err", merr)
		}
	}
	return nil
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case isWait(err):
		return "waiting"
	case IsPermanent(err):
		return "archived"
	}
	return "failed"
}

// failed records in the outbox that a task has gone to the archive, with the reason, so the
// reconciler leaves it alone and a tenant's job page can tell it.
func (w *Worker) failed(ctx context.Context, t *asynq.Task, err error) {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if !IsPermanent(err) && retried < maxRetry {
		return
	}
	h := t.Headers()
	tid, err1 := uuid.Parse(h[headerTenant])
	oid, err2 := uuid.Parse(h[headerOutbox])
	if err1 != nil || err2 != nil {
		return
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if merr := w.marker.mark(mctx, markReq{tenant: tid, id: oid, dead: true, reason: err.Error()}); merr != nil {
		w.cfg.Logger.Warn("mark outbox row dead", "task", oid, "err", merr)
	}
}

// workerMetrics are labelled by queue and task type only: tenant ids would make the series
// count grow with the number of municipalities.
type workerMetrics struct {
	startDelay *prometheus.HistogramVec
	duration   *prometheus.HistogramVec
	handled    *prometheus.CounterVec
}

func newWorkerMetrics() *workerMetrics {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	return &workerMetrics{
		startDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "epom_jobs_start_delay_seconds", Help: "From commit (or the task's due time) to its handler's first start.",
			Buckets: buckets,
		}, []string{"queue"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "epom_jobs_handler_duration_seconds", Help: "Task handler run time.", Buckets: buckets,
		}, []string{"queue", "type"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "epom_jobs_handled_total", Help: "Task attempts by outcome (ok, failed, waiting, archived, refused).",
		}, []string{"queue", "type", "outcome"}),
	}
}

func (m *workerMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.startDelay.Describe(ch)
	m.duration.Describe(ch)
	m.handled.Describe(ch)
}

func (m *workerMetrics) Collect(ch chan<- prometheus.Metric) {
	m.startDelay.Collect(ch)
	m.duration.Collect(ch)
	m.handled.Collect(ch)
}

// slogAdapter routes asynq's log lines into the process's structured log.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }

func formatDue(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
