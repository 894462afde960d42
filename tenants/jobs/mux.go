package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// Delivery is one attempt at a task, as a handler sees it. The handler's context carries the
// tenant (tenants.FromContext), so it uses tenants.InTx exactly as a web handler does.
type Delivery struct {
	ID        string // the asynq TaskID: the outbox id, or the task's unique key
	Type      string
	Payload   []byte
	TenantID  uuid.UUID
	RequestID string
	Attempt   int       // 0 on the first run
	MaxRetry  int       // the last attempt has Attempt == MaxRetry
	Queued    time.Time // when the outbox row was written
}

// Decode unmarshals the JSON payload into v.
func (d Delivery) Decode(v any) error {
	if err := json.Unmarshal(d.Payload, v); err != nil {
		return Permanent(fmt.Errorf("decode payload of %s: %w", d.Type, err))
	}
	return nil
}

// Handler does the work of one task type. It must be idempotent: a task can run more than
// once (a worker killed after the work but before the acknowledgement runs it again).
// Returning an error retries the task with backoff; Permanent(err) archives it at once.
type Handler func(ctx context.Context, d Delivery) error

// Permanent marks err as not worth retrying: the task goes to the archive (the dead-letter
// view in /admin/queues and `epom jobs list --state archived`) with err as the reason.
func Permanent(err error) error {
	return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool { return errors.Is(err, asynq.SkipRetry) }

// Registrar is what a module registers its task handlers with.
type Registrar interface {
	Handle(taskType string, h Handler) error
}

// Mux routes tasks to handlers by exact type.
type Mux struct {
	mu       sync.RWMutex
	handlers map[string]Handler
}

// NewMux returns an empty mux.
func NewMux() *Mux { return &Mux{handlers: map[string]Handler{}} }

// Handle registers h for taskType.
func (m *Mux) Handle(taskType string, h Handler) error {
	if !ValidType(taskType) {
		return fmt.Errorf("%w: type %q is not <module>:<action>", ErrInvalidTask, taskType)
	}
	if h == nil {
		return fmt.Errorf("%w: nil handler for %s", ErrInvalidTask, taskType)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.handlers[taskType]; dup {
		return fmt.Errorf("%w: %s registered twice", ErrInvalidTask, taskType)
	}
	m.handlers[taskType] = h
	return nil
}

// Module returns a registrar that accepts only task types of module id, so that a module
// cannot register (or take over) another module's tasks.
func (m *Mux) Module(id string) Registrar { return scoped{m: m, module: id} }

type scoped struct {
	m      *Mux
	module string
}

func (s scoped) Handle(taskType string, h Handler) error {
	if ModuleOf(taskType) != s.module {
		return fmt.Errorf("%w: module %s cannot register %s", ErrInvalidTask, s.module, taskType)
	}
	return s.m.Handle(taskType, h)
}

func (m *Mux) handler(taskType string) (Handler, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h, ok := m.handlers[taskType]
	return h, ok
}

// Types lists the registered task types, sorted.
func (m *Mux) Types() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.handlers))
	for t := range m.handlers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
