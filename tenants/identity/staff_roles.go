package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/authz"
)

// SetRoles makes roles the member's roles in the tenant of ctx; an empty list removes the
// member. A user who is not a member of this tenant gives ErrNotMember (so no tenant admin
// can reach another tenant's staff), and a change that would leave the municipality without
// a tenant-admin gives ErrLastAdmin. Each granted and revoked role is one audit entry
// ("role-granted", "role-revoked") in the same transaction.
func (s *Staff) SetRoles(ctx context.Context, userID uuid.UUID, roles []string, by Actor) (Member, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return Member{}, err
	}
	want, err := normalizeRoles(roles, true)
	if err != nil {
		return Member{}, err
	}
	var m Member
	var changed bool
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		db := tenants.DB(ctx)
		// Role changes of one tenant take turns, so two admins demoting each other at once
		// cannot both pass the last-admin check. (The app role may not lock membership rows.)
		if err := db.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('epom:members:' || ?::text, 0))`, tid).Error; err != nil {
			return fmt.Errorf("lock members: %w", err)
		}
		have, err := strings0(db.Raw(`SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?`, tid, userID).Rows())
		if err != nil {
			return fmt.Errorf("read roles: %w", err)
		}
		if len(have) == 0 {
			return ErrNotMember
		}
		err = db.Raw(`SELECT id, email, name FROM users WHERE id = ?`, userID).Row().Scan(&m.ID, &m.Email, &m.Name)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotMember
		}
		if err != nil {
			return fmt.Errorf("read member: %w", err)
		}
		var grant, revoke []string
		for _, r := range want {
			if !slices.Contains(have, r) {
				grant = append(grant, r)
			}
		}
		for _, r := range have {
			if !slices.Contains(want, r) {
				revoke = append(revoke, r)
			}
		}
		if slices.Contains(revoke, authz.RoleTenantAdmin) {
			var others int64
			if err := db.Raw(`SELECT count(*) FROM memberships WHERE tenant_id = ? AND role = ? AND user_id <> ?`,
				tid, authz.RoleTenantAdmin, userID).Row().Scan(&others); err != nil {
				return fmt.Errorf("count admins: %w", err)
			}
			if others == 0 {
				return ErrLastAdmin
			}
		}
		if len(revoke) > 0 {
			if err := db.Exec(`DELETE FROM memberships WHERE tenant_id = ? AND user_id = ? AND role = ANY(?::text[])`,
				tid, userID, pq.StringArray(revoke)).Error; err != nil {
				return fmt.Errorf("revoke roles: %w", err)
			}
		}
		if len(grant) > 0 {
			if err := db.Exec(`INSERT INTO memberships (tenant_id, user_id, role) SELECT ?, ?, r FROM unnest(?::text[]) AS r`,
				tid, userID, pq.StringArray(grant)).Error; err != nil {
				return fmt.Errorf("grant roles: %w", err)
			}
		}
		changed = len(grant)+len(revoke) > 0
		if err := s.auditRoles(ctx, by, m.User, revoke, "role-revoked", uuid.Nil); err != nil {
			return err
		}
		return s.auditRoles(ctx, by, m.User, grant, "role-granted", uuid.Nil)
	})
	if err != nil {
		return Member{}, err
	}
	if changed {
		s.changed(ctx)
	}
	m.Roles = want
	if m.Roles == nil {
		m.Roles = []string{}
	}
	return m, nil
}
