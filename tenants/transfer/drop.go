package transfer

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
)

// Dropped reports what Drop deleted: rows per table (tables without rows left out).
type Dropped struct {
	Tables []Table
}

// Drop deletes the tenant and every row it has in every tenant table, in one transaction as
// the owner role bound to the tenant (see Importer for why the owner). It is the hard
// delete behind `epom tenant drop` (restores, GDPR erasure of a municipality's data).
//
// The head of the tenant's audit chain is deleted with the chain; what the platform did
// (the drop itself) belongs in the platform's chain, which the caller appends to.
// Accounts are left alone: a user is a person, who may belong to other tenants or be a
// citizen; erasing a person is identity's business. Tasks of the tenant still in Redis are
// archived by the worker, which refuses tasks of a tenant that no longer exists.
func Drop(ctx context.Context, owner *pgxpool.Pool, tenantID uuid.UUID) (*Dropped, error) {
	out := &Dropped{}
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, tenantID.String()); err != nil {
			return err
		}
		// Lock the tenant row first, so an import or a second drop of the same tenant waits.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&one); err != nil {
			if err == pgx.ErrNoRows {
				return tenants.ErrNotFound
			}
			return err
		}
		sch, err := loadSchema(ctx, tx)
		if err != nil {
			return err
		}
		// Children before parents; deferred constraints are checked at commit, when the
		// whole tenant is gone.
		for _, t := range slices.Backward(sch.tables) {
			tag, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM public.%s WHERE tenant_id = $1`, ident(t.name)), tenantID)
			if err != nil {
				return fmt.Errorf("delete from %s: %w", t.name, err)
			}
			if n := tag.RowsAffected(); n > 0 {
				out.Tables = append(out.Tables, Table{Name: t.name, Rows: n})
			}
		}
		// The head of the tenant's audit chain goes with the chain's entries.
		if ok, err := tableExists(ctx, tx, auditHeadsTable); err != nil {
			return err
		} else if ok {
			tag, err := tx.Exec(ctx, `DELETE FROM audit_heads WHERE chain = $1::text`, tenantID)
			if err != nil {
				return fmt.Errorf("delete audit head: %w", err)
			}
			if n := tag.RowsAffected(); n > 0 {
				out.Tables = append(out.Tables, Table{Name: auditHeadsTable, Rows: n})
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, tenantID); err != nil {
			return fmt.Errorf("delete tenant: %w", err)
		}
		out.Tables = append(out.Tables, Table{Name: tenantsTable, Rows: 1})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("drop tenant %s: %w", tenantID, err)
	}
	return out, nil
}
