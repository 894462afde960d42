package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/epom-cz/epom/tenants"
)

// Queues by work class. The worker serves them with weights (critical 6, default 3, low 1 by
// default), so e-mail and other short, user-visible work is not stuck behind exports.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// CoreModule is the module of kernel tasks (e-mail, …): always allowed for an active tenant.
const CoreModule = "core"

// DefaultMaxRetry is how often a failing task is retried when the Task does not say.
const DefaultMaxRetry = 12

// maxPayload keeps payloads to what they are for: ids. A larger payload almost certainly
// carries content that belongs in a table (and may be personal data).
const maxPayload = 8 << 10

// Errors of this package.
var (
	ErrInvalidTask = errors.New("invalid task")
	ErrDuplicate   = errors.New("a task with this key already exists")
	ErrNoTx        = errors.New("jobs.Enqueue called outside tenants.InTx")
)

// Task is work handed to the background. Payloads carry ids only, never personal data: an
// e-mail task carries the id of a mail_log row, which holds recipient and content.
type Task struct {
	// Type is "<module>:<action>" (or "<module>.<action>"), e.g. "noticeboard:publish". The
	// part before the first ':' or '.' is the module whose enablement gates the task.
	Type    string
	Payload []byte
	// Queue is QueueCritical, QueueDefault (when empty) or QueueLow.
	Queue string
	// At is the earliest time the task may run; zero means now. The row waits in PostgreSQL
	// until then, not in Redis, so a notice can be scheduled to come down months ahead.
	At time.Time
	// Key, when set, makes the task unique per tenant while its outbox row exists (the
	// janitor prunes done rows after the retention): a second Enqueue with the same key
	// returns ErrDuplicate and enqueues nothing.
	Key string
	// MaxRetry: 0 means DefaultMaxRetry; negative means no retry (failures archive at once).
	MaxRetry int
	// Timeout of one attempt; 0 means asynq's default of 30 minutes.
	Timeout time.Duration
}

// NewTask returns a task of type typ whose payload is v encoded as JSON.
func NewTask(typ string, v any) (Task, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Task{}, fmt.Errorf("encode payload of %s: %w", typ, err)
	}
	return Task{Type: typ, Payload: b}, nil
}

var typePattern = regexp.MustCompile(`^[a-z][a-z0-9]*[:.][a-z0-9_.:-]+$`)

// ModuleOf returns the module of a task type: the part before the first ':' or '.'.
func ModuleOf(taskType string) string {
	if i := strings.IndexAny(taskType, ":."); i > 0 {
		return taskType[:i]
	}
	return taskType
}

// ValidType reports whether typ is a well-formed task type.
func ValidType(typ string) bool { return typePattern.MatchString(typ) }

// ValidQueue reports whether q is one of the three queues.
func ValidQueue(q string) bool {
	return q == QueueCritical || q == QueueDefault || q == QueueLow
}

// row is a task ready for the outbox.
type row struct {
	tenantID  uuid.UUID
	id        uuid.UUID
	typ       string
	module    string
	queue     string
	payload   []byte
	key       *string
	requestID string
	maxRetry  int
	timeout   int
	at        time.Time
}

func (t Task) row(tenantID uuid.UUID, requestID string, now time.Time) (row, error) {
	if !ValidType(t.Type) {
		return row{}, fmt.Errorf("%w: type %q is not <module>:<action>", ErrInvalidTask, t.Type)
	}
	q := t.Queue
	if q == "" {
		q = QueueDefault
	}
	if !ValidQueue(q) {
		return row{}, fmt.Errorf("%w: queue %q", ErrInvalidTask, q)
	}
	if len(t.Payload) > maxPayload {
		return row{}, fmt.Errorf("%w: payload of %d bytes; payloads carry ids, not content", ErrInvalidTask, len(t.Payload))
	}
	r := row{
		tenantID: tenantID, id: tenants.NewID(), typ: t.Type, module: ModuleOf(t.Type), queue: q,
		payload: t.Payload, requestID: requestID, maxRetry: t.MaxRetry, timeout: int(t.Timeout / time.Second),
		at: t.At,
	}
	if r.payload == nil {
		r.payload = []byte{}
	}
	switch {
	case r.maxRetry == 0:
		r.maxRetry = DefaultMaxRetry
	case r.maxRetry < 0:
		r.maxRetry = 0
	}
	if r.at.IsZero() || r.at.Before(now) {
		r.at = now
	}
	if t.Key != "" {
		// The key becomes the asynq TaskID, which is unique per queue across all tenants,
		// hence the tenant in it.
		k := tenantID.String() + ":" + t.Key
		r.key = &k
	}
	return r, nil
}

func (r row) args() []any {
	return []any{r.tenantID, r.id, r.typ, r.module, r.queue, r.payload, r.key, r.requestID, r.maxRetry, r.timeout, r.at}
}

const insertColumns = `INSERT INTO outbox (tenant_id, id, task_type, module, queue, payload, task_key,
	request_id, max_retry, timeout_seconds, available_at) VALUES `

const rowPlaceholders = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Enqueue writes task to the outbox inside the caller's tenants.InTx, so it is handed to the
// worker if and only if the transaction commits. It returns the outbox id (the asynq TaskID
// unless the task has a Key).
func Enqueue(ctx context.Context, task Task) (uuid.UUID, error) {
	ids, err := EnqueueMany(ctx, []Task{task})
	if err != nil {
		return uuid.Nil, err
	}
	return ids[0], nil
}

// EnqueueMany writes tasks to the outbox in as few statements as possible (an import of
// thousands of rows should not pay a round trip per task). With a Key that already exists
// it returns ErrDuplicate for the whole call; the transaction stays usable.
func EnqueueMany(ctx context.Context, tasks []Task) ([]uuid.UUID, error) {
	tenantID, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, err
	}
	db, err := txFrom(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rid := RequestID(ctx)
	rows := make([]row, len(tasks))
	ids := make([]uuid.UUID, len(tasks))
	for i, t := range tasks {
		if rows[i], err = t.row(tenantID, rid, now); err != nil {
			return nil, err
		}
		ids[i] = rows[i].id
	}
	// 11 parameters a row; PostgreSQL allows 65535 per statement.
	const chunk = 2000
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		var sb strings.Builder
		sb.WriteString(insertColumns)
		args := make([]any, 0, len(part)*11)
		for i, r := range part {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(rowPlaceholders)
			args = append(args, r.args()...)
		}
		sb.WriteString(` ON CONFLICT DO NOTHING`)
		res := db.Exec(sb.String(), args...)
		if res.Error != nil {
			return nil, fmt.Errorf("write outbox: %w", res.Error)
		}
		if int(res.RowsAffected) != len(part) {
			return nil, fmt.Errorf("enqueue %s: %w", part[0].typ, ErrDuplicate)
		}
	}
	return ids, nil
}

// txFrom returns the surrounding transaction; tenants.DB panics outside InTx (a query with no
// tenant is a programming error), which Enqueue reports as an error instead, so a module's
// mistake fails the request rather than the process.
func txFrom(ctx context.Context) (db *gorm.DB, err error) {
	defer func() {
		if recover() != nil {
			db, err = nil, ErrNoTx
		}
	}()
	return tenants.DB(ctx), nil
}

type requestIDKey struct{}

// RequestIDKey is the key under which the HTTP layer (api/httpx, a gin string key) keeps the
// request id; RequestID reads it there too, so Enqueue in a web handler picks it up without
// this package importing the HTTP layer.
const RequestIDKey = "epom.request-id"

// WithRequestID returns a context carrying the id of the request that caused the work; the
// worker sets it for handlers, so a task's log lines carry the request that enqueued it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		return id
	}
	id, _ := ctx.Value(RequestIDKey).(string)
	return id
}
