package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// bookkeepingPool returns a small pool of the platform role whose commits do not wait for
// the WAL flush (synchronous_commit = off). It serves only the outbox's own bookkeeping —
// claims, published and done marks — where waiting for an fsync per mark would cap the
// worker at a few hundred tasks a second on an ordinary disk. A PostgreSQL crash may forget
// the last fraction of a second of marks, which is harmless by construction: a forgotten
// claim is claimed again and Redis refuses the duplicate TaskID; a forgotten done mark is
// restored by the reconciler from the task's completed record in Redis (or, if Redis lost
// that too, the idempotent handler runs once more). Business data and the outbox rows
// themselves are written by the app role in the caller's durable transaction.
func bookkeepingPool(platform *pgxpool.Pool, maxConns int32) (*pgxpool.Pool, error) {
	cfg := platform.Config()
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	cfg.ConnConfig.RuntimeParams["application_name"] = "epom-jobs"
	cfg.MaxConns = maxConns
	cfg.MinConns = 0
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: bookkeeping pool: %w", err)
	}
	return p, nil
}
