package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes queue sizes and latency (from Redis, through asynq's Inspector) and the
// outbox backlog (from PostgreSQL) at scrape time. Any process can register it: it reads
// shared state, so the web server's /metrics shows the queues even though the worker runs
// elsewhere. Labels are queue and state only, never tenants.
type Collector struct {
	insp     *asynq.Inspector
	platform *pgxpool.Pool
	log      *slog.Logger

	tasks, latency, processed, failed, paused *prometheus.Desc
	outbox, oldest, scrapeErr                 *prometheus.Desc
}

// NewCollector returns the collector; platform (may be nil) adds the outbox figures. Call
// Close on shutdown.
func NewCollector(redisURL string, platform *pgxpool.Pool, log *slog.Logger) (*Collector, error) {
	opt, err := redisOpt(redisURL)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Collector{
		insp: asynq.NewInspector(opt), platform: platform, log: log,
		tasks: prometheus.NewDesc("epom_jobs_queue_tasks", "Tasks in Redis by queue and state.",
			[]string{"queue", "state"}, nil),
		latency: prometheus.NewDesc("epom_jobs_queue_latency_seconds", "Age of the oldest pending task of the queue.",
			[]string{"queue"}, nil),
		processed: prometheus.NewDesc("epom_jobs_queue_processed_total", "Tasks processed (succeeded or failed) since the queue was created.",
			[]string{"queue"}, nil),
		failed: prometheus.NewDesc("epom_jobs_queue_failed_total", "Task attempts that failed since the queue was created.",
			[]string{"queue"}, nil),
		paused: prometheus.NewDesc("epom_jobs_queue_paused", "1 if the queue is paused.", []string{"queue"}, nil),
		outbox: prometheus.NewDesc("epom_outbox_rows", "Outbox rows: due (waiting for the relay), later (Task.At in the future), published (in Redis, not finished), dead (archived).",
			[]string{"state"}, nil),
		oldest: prometheus.NewDesc("epom_outbox_oldest_due_seconds", "How long the oldest due outbox row has waited for the relay.",
			nil, nil),
		scrapeErr: prometheus.NewDesc("epom_jobs_scrape_error", "1 if the last scrape could not read Redis or the outbox.",
			[]string{"source"}, nil),
	}, nil
}

// Close releases the Redis connections.
func (c *Collector) Close() error { return c.insp.Close() }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tasks, c.latency, c.processed, c.failed, c.paused, c.outbox, c.oldest, c.scrapeErr} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	redisErr := 0.0
	infos, err := queueInfos(c.insp)
	if err != nil {
		redisErr = 1
		c.log.Warn("jobs metrics: read queues", "err", err)
	}
	for _, info := range infos {
		q := info.Queue
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled, "retry": info.Retry,
			"archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, info.Latency.Seconds(), q)
		ch <- prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, float64(info.ProcessedTotal), q)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(info.FailedTotal), q)
		p := 0.0
		if info.Paused {
			p = 1
		}
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, p, q)
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeErr, prometheus.GaugeValue, redisErr, "redis")
	if c.platform == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := outboxStats(ctx, c.platform)
	dbErr := 0.0
	if err != nil {
		dbErr = 1
		c.log.Warn("jobs metrics: read outbox", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(s.Due), "due")
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(s.Later), "later")
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(s.Published), "published")
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(s.Dead), "dead")
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestDue.Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeErr, prometheus.GaugeValue, dbErr, "outbox")
}
