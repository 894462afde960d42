package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrUnsafeRole means the app role could escape row-level security.
var ErrUnsafeRole = errors.New("unsafe database role")

// CheckAppRole refuses a connection whose role would make row-level security moot: a
// superuser or BYPASSRLS role ignores policies, and a table owner ignores them unless FORCE is
// set, which we do not want to rely on alone.
func CheckAppRole(ctx context.Context, pool *pgxpool.Pool) error {
	var user string
	var super, bypass bool
	err := pool.QueryRow(ctx, `SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`).
		Scan(&user, &super, &bypass)
	if err != nil {
		return fmt.Errorf("inspect database role: %w", err)
	}
	var problems []string
	if super {
		problems = append(problems, "is a superuser")
	}
	if bypass {
		problems = append(problems, "has BYPASSRLS")
	}
	var owned []string
	rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		  AND pg_has_role(current_user, c.relowner, 'USAGE')
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("inspect table owners: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		owned = append(owned, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(owned) > 0 {
		problems = append(problems, "owns tenant tables ("+strings.Join(owned, ", ")+")")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: role %q %s; connect the server as the app role (epom_app)",
			ErrUnsafeRole, user, strings.Join(problems, " and "))
	}
	return nil
}
