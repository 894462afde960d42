package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// marker records finished tasks in the outbox with group commit: every handler waits for
// its own row to be marked, but the marks of all tasks finishing meanwhile go to PostgreSQL
// in one statement, so marking costs one round trip per batch, not per task.
type marker struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	reqs chan markReq
}

type markReq struct {
	tenant, id uuid.UUID
	dead       bool
	reason     string
	res        chan error
}

const maxMarkBatch = 1000

func newMarker(pool *pgxpool.Pool, log *slog.Logger) *marker {
	return &marker{pool: pool, log: log, reqs: make(chan markReq, maxMarkBatch)}
}

// mark records r and waits until it is committed or ctx ends.
func (m *marker) mark(ctx context.Context, r markReq) error {
	r.res = make(chan error, 1)
	select {
	case m.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run commits marks until ctx ends; what is queued then is still written.
func (m *marker) run(ctx context.Context) {
	for {
		var first markReq
		select {
		case first = <-m.reqs:
		case <-ctx.Done():
			// Drain: tasks finishing during shutdown still get their mark.
			for {
				select {
				case r := <-m.reqs:
					m.flush(context.Background(), []markReq{r})
				default:
					return
				}
			}
		}
		batch := []markReq{first}
	fill:
		for len(batch) < maxMarkBatch {
			select {
			case r := <-m.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		m.flush(context.WithoutCancel(ctx), batch)
	}
}

func (m *marker) flush(ctx context.Context, batch []markReq) {
	var doneT, doneI, deadT, deadI []uuid.UUID
	var deadR []string
	for _, r := range batch {
		if r.dead {
			deadT, deadI, deadR = append(deadT, r.tenant), append(deadI, r.id), append(deadR, r.reason)
		} else {
			doneT, doneI = append(doneT, r.tenant), append(doneI, r.id)
		}
	}
	var err error
	if len(doneT) > 0 {
		// A retried archived task can finish after all: done wins over dead.
		_, err = m.pool.Exec(ctx, `UPDATE outbox o SET state = 'done', done_at = now(), last_error = ''
			FROM unnest($1::uuid[], $2::uuid[]) AS d(tenant_id, id)
			WHERE o.tenant_id = d.tenant_id AND o.id = d.id AND o.state <> 'done'`, doneT, doneI)
		if err != nil {
			err = fmt.Errorf("mark outbox rows done: %w", err)
		}
	}
	if len(deadT) > 0 && err == nil {
		_, err = m.pool.Exec(ctx, `UPDATE outbox o SET state = 'dead', done_at = now(), last_error = left(d.reason, 2000)
			FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS d(tenant_id, id, reason)
			WHERE o.tenant_id = d.tenant_id AND o.id = d.id AND o.state = 'published'`, deadT, deadI, deadR)
		if err != nil {
			err = fmt.Errorf("mark outbox rows dead: %w", err)
		}
	}
	for _, r := range batch {
		r.res <- err
	}
}
