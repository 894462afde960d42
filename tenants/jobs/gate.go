package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants"
)

// Gate tells the worker who the tenant of a task is and whether module is switched on for
// it. The worker knows nothing of the module registry; cmd builds the gate, normally with
// ResolverGate.
type Gate func(ctx context.Context, tenantID uuid.UUID, module string) (t tenants.Tenant, moduleEnabled bool, err error)

// ResolverGate answers from the tenant resolver's cache, which the resolver's Listen keeps
// coherent across replicas, so a suspension reaches the workers as fast as the web servers.
func ResolverGate(r *tenants.Resolver) Gate {
	return func(ctx context.Context, tenantID uuid.UUID, module string) (tenants.Tenant, bool, error) {
		res, err := r.BySlugOrID(ctx, tenantID.String())
		if err != nil {
			return tenants.Tenant{}, false, err
		}
		if res.ID != tenantID {
			return tenants.Tenant{}, false, tenants.ErrNotFound
		}
		return res.Tenant, res.Enabled(module), nil
	}
}

// waitError means "not now": the tenant is suspended or pending, the module is switched off,
// or this worker has no handler yet (a rolling deploy). The task goes back to the retry set
// without using up a retry, and runs once the reason is gone.
type waitError struct{ reason string }

func (e *waitError) Error() string { return "waiting: " + e.reason }

func wait(format string, args ...any) error { return &waitError{reason: fmt.Sprintf(format, args...)} }

func isWait(err error) bool {
	var w *waitError
	return errors.As(err, &w)
}

// admit decides whether a task may run now. It returns the tenant to bind the handler's
// context to, a wait error (retry later, not counted), or a permanent error (archive now,
// with the reason, so the task is still there for `epom jobs retry`).
func admit(ctx context.Context, gate Gate, tenantID uuid.UUID, module string, due time.Time, maxWait time.Duration, now time.Time) (tenants.Tenant, error) {
	t, enabled, err := gate(ctx, tenantID, module)
	switch {
	case errors.Is(err, tenants.ErrNotFound):
		return t, Permanent(fmt.Errorf("tenant %s does not exist", tenantID))
	case err != nil:
		// The registry is unreachable: that says nothing about the task, try again soon.
		return t, wait("look up tenant %s: %v", tenantID, err)
	}
	var reason string
	switch {
	case t.Status == tenants.StatusClosed:
		return t, Permanent(fmt.Errorf("tenant %s is closed", tenantID))
	case t.Status != tenants.StatusActive:
		reason = fmt.Sprintf("tenant %s is %s", tenantID, t.Status)
	case module != CoreModule && !enabled:
		reason = fmt.Sprintf("module %s is switched off for tenant %s", module, tenantID)
	default:
		return t, nil
	}
	if maxWait > 0 && !due.IsZero() && now.Sub(due) > maxWait {
		return t, Permanent(fmt.Errorf("%s for more than %s", reason, maxWait))
	}
	return t, wait("%s", reason)
}
