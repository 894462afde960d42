package noticeboard

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants/jobs"
)

// Task types of the board.
const (
	taskPost     = "noticeboard:post"      // post one scheduled notice at its minute
	taskTakeDown = "noticeboard:take-down" // take one notice down at its minute
	taskSweep    = "noticeboard:sweep"     // everything due, every minute
)

type taskPayload struct {
	Notice uuid.UUID `json:"notice"`
}

// RegisterTasks implements modules.WithTasks.
func (m *Module) RegisterTasks(r jobs.Registrar) error {
	if m.svc == nil {
		return fmt.Errorf("noticeboard: tasks need the service (module built without dependencies)")
	}
	for typ, h := range map[string]jobs.Handler{
		taskPost:     m.handleNotice(m.svc.PostDue),
		taskTakeDown: m.handleNotice(m.svc.TakeDownDue),
		taskNotify:   m.handleNotify,
		taskSweep: func(ctx context.Context, _ jobs.Delivery) error {
			_, _, err := m.svc.Sweep(ctx)
			return err
		},
		taskSnapshot: m.handleSnapshot, // proof of posting
	} {
		if err := r.Handle(typ, h); err != nil {
			return err
		}
	}
	return nil
}

func (m *Module) handleNotice(do func(context.Context, uuid.UUID) (bool, error)) jobs.Handler {
	return func(ctx context.Context, d jobs.Delivery) error {
		var p taskPayload
		if err := d.Decode(&p); err != nil {
			return err
		}
		_, err := do(ctx, p.Notice)
		return err
	}
}

// Periodic implements modules.WithPeriodic: the sweep every minute, so a notice goes up or
// comes down at its minute even if its own task was lost.
func (m *Module) Periodic() []jobs.PeriodicSpec {
	return []jobs.PeriodicSpec{m.snapshotSpec(), {
		Name:    taskSweep,
		Cron:    "* * * * *",
		Queue:   jobs.QueueCritical,
		CatchUp: 10 * time.Minute,
		Task: func(uuid.UUID, time.Time) jobs.Task {
			return jobs.Task{Type: taskSweep, MaxRetry: 2, Timeout: time.Minute}
		},
	}}
}
