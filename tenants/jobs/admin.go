package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Queues are the queues every worker serves, in priority order.
var Queues = []string{QueueCritical, QueueDefault, QueueLow}

// ErrTaskNotFound means no queue has a task with the given id.
var ErrTaskNotFound = errors.New("task not found")

// Admin lists, retries and archives tasks for `epom jobs` and reads the outbox backlog.
type Admin struct {
	insp     *asynq.Inspector
	platform *pgxpool.Pool // nil: no outbox figures
}

// NewAdmin connects to Redis; platform (may be nil) adds the outbox figures.
func NewAdmin(redisURL string, platform *pgxpool.Pool) (*Admin, error) {
	opt, err := redisOpt(redisURL)
	if err != nil {
		return nil, err
	}
	return &Admin{insp: asynq.NewInspector(opt), platform: platform}, nil
}

// Close releases the Redis connections.
func (a *Admin) Close() error { return a.insp.Close() }

// QueueStats is the state of one queue.
type QueueStats struct {
	Queue                                                  string
	Pending, Active, Scheduled, Retry, Archived, Completed int
	Latency                                                time.Duration // age of the oldest pending task
	ProcessedToday, FailedToday                            int
	ProcessedTotal, FailedTotal                            int
	Paused                                                 bool
}

// Queues returns the state of every known queue (a queue that never had a task reads zero).
func (a *Admin) Queues() ([]QueueStats, error) {
	infos, err := queueInfos(a.insp)
	if err != nil {
		return nil, err
	}
	out := make([]QueueStats, 0, len(infos))
	for _, info := range infos {
		out = append(out, QueueStats{
			Queue: info.Queue, Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled, Retry: info.Retry,
			Archived: info.Archived, Completed: info.Completed, Latency: info.Latency,
			ProcessedToday: info.Processed, FailedToday: info.Failed,
			ProcessedTotal: info.ProcessedTotal, FailedTotal: info.FailedTotal, Paused: info.Paused,
		})
	}
	return out, nil
}

// queueInfos reads the three queues and any other Redis knows, in priority order. asynq
// creates a queue with its first task; one that does not exist yet reads as empty.
func queueInfos(insp *asynq.Inspector) ([]*asynq.QueueInfo, error) {
	existing, err := insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	names := slices.Clone(Queues)
	for _, q := range existing {
		if !slices.Contains(names, q) {
			names = append(names, q)
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return queueRank(names[i]) < queueRank(names[j]) })
	out := make([]*asynq.QueueInfo, 0, len(names))
	for _, q := range names {
		if !slices.Contains(existing, q) {
			out = append(out, &asynq.QueueInfo{Queue: q})
			continue
		}
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", q, err)
		}
		out = append(out, info)
	}
	return out, nil
}

// existingQueues narrows queue ("" for all) to the queues Redis has.
func (a *Admin) existingQueues(queue string) ([]string, error) {
	existing, err := a.insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	if queue == "" {
		return existing, nil
	}
	if slices.Contains(existing, queue) {
		return []string{queue}, nil
	}
	return nil, nil
}

func queueRank(q string) string {
	switch q {
	case QueueCritical:
		return "0"
	case QueueDefault:
		return "1"
	case QueueLow:
		return "2"
	}
	return "3" + q
}

// TaskSummary describes one task in Redis.
type TaskSummary struct {
	ID, Queue, Type, State string
	Tenant                 string
	Retried, MaxRetry      int
	LastErr                string
	LastFailedAt           time.Time
	NextProcessAt          time.Time
}

func summary(t *asynq.TaskInfo) TaskSummary {
	return TaskSummary{
		ID: t.ID, Queue: t.Queue, Type: t.Type, State: t.State.String(), Tenant: t.Headers[headerTenant],
		Retried: t.Retried, MaxRetry: t.MaxRetry, LastErr: t.LastErr, LastFailedAt: t.LastFailedAt,
		NextProcessAt: t.NextProcessAt,
	}
}

// States that List accepts.
var States = []string{"pending", "active", "scheduled", "retry", "archived", "completed"}

// List returns up to limit tasks of queue in state ("archived" is the dead-letter view). An
// empty queue means all queues.
func (a *Admin) List(queue, state string, limit int) ([]TaskSummary, error) {
	if limit <= 0 {
		limit = 50
	}
	queues, err := a.existingQueues(queue)
	if err != nil {
		return nil, err
	}
	var out []TaskSummary
	for _, q := range queues {
		var (
			ts  []*asynq.TaskInfo
			err error
		)
		opts := []asynq.ListOption{asynq.PageSize(limit)}
		switch state {
		case "pending":
			ts, err = a.insp.ListPendingTasks(q, opts...)
		case "active":
			ts, err = a.insp.ListActiveTasks(q, opts...)
		case "scheduled":
			ts, err = a.insp.ListScheduledTasks(q, opts...)
		case "retry":
			ts, err = a.insp.ListRetryTasks(q, opts...)
		case "archived", "dead":
			ts, err = a.insp.ListArchivedTasks(q, opts...)
		case "completed":
			ts, err = a.insp.ListCompletedTasks(q, opts...)
		default:
			return nil, fmt.Errorf("unknown state %q (want one of %v)", state, States)
		}
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s tasks of %s: %w", state, q, err)
		}
		for _, t := range ts {
			out = append(out, summary(t))
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// find returns the queue that holds task id (queue may name it already).
func (a *Admin) find(queue, id string) (*asynq.TaskInfo, error) {
	queues, err := a.existingQueues(queue)
	if err != nil {
		return nil, err
	}
	for _, q := range queues {
		info, err := a.insp.GetTaskInfo(q, id)
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("look up task %s: %w", id, err)
		}
		return info, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrTaskNotFound, id)
}

// Retry runs an archived, retry or scheduled task now (it keeps its TaskID, so the outbox
// row is marked done when it succeeds).
func (a *Admin) Retry(queue, id string) (TaskSummary, error) {
	info, err := a.find(queue, id)
	if err != nil {
		return TaskSummary{}, err
	}
	if err := a.insp.RunTask(info.Queue, id); err != nil {
		return summary(info), fmt.Errorf("retry %s: %w", id, err)
	}
	return summary(info), nil
}

// RetryArchived runs every archived task of queue (all queues when empty) again.
func (a *Admin) RetryArchived(queue string) (int, error) {
	queues, err := a.existingQueues(queue)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, q := range queues {
		n, err := a.insp.RunAllArchivedTasks(q)
		if err != nil {
			return total, fmt.Errorf("retry archived tasks of %s: %w", q, err)
		}
		total += n
	}
	return total, nil
}

// Archive moves a pending, scheduled or retry task to the archive, where it stays (for
// Retry) instead of running.
func (a *Admin) Archive(queue, id string) (TaskSummary, error) {
	info, err := a.find(queue, id)
	if err != nil {
		return TaskSummary{}, err
	}
	if err := a.insp.ArchiveTask(info.Queue, id); err != nil {
		return summary(info), fmt.Errorf("archive %s: %w", id, err)
	}
	return summary(info), nil
}

// OutboxStats is the outbox backlog.
type OutboxStats struct {
	Due, Later, Published, Dead int64
	OldestDue                   time.Duration // how long the oldest due row has waited
}

// Outbox reads the backlog as the platform role.
func (a *Admin) Outbox(ctx context.Context) (OutboxStats, error) {
	if a.platform == nil {
		return OutboxStats{}, errors.New("no database connection")
	}
	return outboxStats(ctx, a.platform)
}

func outboxStats(ctx context.Context, pool *pgxpool.Pool) (OutboxStats, error) {
	var s OutboxStats
	var oldest float64
	// One query per state, so each runs on its partial index and never touches done rows.
	err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM outbox WHERE state = 'pending' AND available_at <= now()),
			(SELECT count(*) FROM outbox WHERE state = 'pending' AND available_at > now()),
			(SELECT count(*) FROM outbox WHERE state = 'published'),
			(SELECT count(*) FROM outbox WHERE state = 'dead'),
			COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(available_at)) FROM outbox
			          WHERE state = 'pending' AND available_at <= now()), 0)`).
		Scan(&s.Due, &s.Later, &s.Published, &s.Dead, &oldest)
	if err != nil {
		return s, fmt.Errorf("outbox backlog: %w", err)
	}
	s.OldestDue = time.Duration(oldest * float64(time.Second))
	return s, nil
}

// NewQueuesUI returns the asynq monitoring UI, read-only (it refuses every request but GET),
// to be mounted at rootPath ("/admin/queues") behind the platform-admin check. Call close
// on shutdown.
func NewQueuesUI(redisURL, rootPath string) (h http.Handler, close func() error, err error) {
	opt, err := redisOpt(redisURL)
	if err != nil {
		return nil, nil, err
	}
	ui := asynqmon.New(asynqmon.Options{RootPath: rootPath, RedisConnOpt: opt, ReadOnly: true})
	return ui, ui.Close, nil
}
