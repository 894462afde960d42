package onboarding

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/catalogue"
)

// Municipality is a municipality of the kraj with its tenant, if it has one.
type Municipality struct {
	KodObce        string
	Name           string
	Type           string
	Okres          string
	ORP            string
	ICO            string
	Population     *int
	TenantID       *uuid.UUID
	TenantSlug     string
	TenantStatus   tenants.Status // "" without a tenant
	PendingRequest *uuid.UUID     // an online request waiting for a decision
}

// MunicipalityFilter narrows Municipalities.
type MunicipalityFilter struct {
	Q      string // part of the name (diacritics ignored), kód obce or IČO
	Status string // "": all; "none": without a tenant; or a tenant status
	Limit  int
	Offset int
}

// Municipalities lists the kraj's municipalities from the catalogue, by name, with their
// tenant status, and how many match in all.
func (s *Service) Municipalities(ctx context.Context, kraj string, f MunicipalityFilter) ([]Municipality, int, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	key := catalogue.Fold(strings.TrimSpace(f.Q))
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(key) + "%"
	rows, err := s.d.Platform.Query(ctx, `
		SELECT c.kod_obce, c.nazev, c.typ, c.okres_nazev, c.orp_nazev, c.ico, c.pocet_obyvatel,
		       t.id, COALESCE(t.slug, ''), COALESCE(t.status, ''),
		       (SELECT r.id FROM subscription_requests r WHERE r.kod_obce = c.kod_obce AND r.status = 'pending'),
		       count(*) OVER ()
		FROM catalogue_municipalities c
		LEFT JOIN tenants t ON t.kod_obce = c.kod_obce
		WHERE c.kraj_kod_nuts = $1
		  AND ($2 = '' OR c.search_key LIKE $3 OR c.kod_obce = $2 OR c.ico = $2)
		  AND ($4 = '' OR ($4 = 'none' AND t.id IS NULL) OR t.status = $4)
		ORDER BY c.nazev, c.kod_obce
		LIMIT $5 OFFSET $6`, kraj, key, like, f.Status, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list municipalities of %s: %w", kraj, err)
	}
	total := 0
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Municipality, error) {
		var m Municipality
		var status string
		err := r.Scan(&m.KodObce, &m.Name, &m.Type, &m.Okres, &m.ORP, &m.ICO, &m.Population,
			&m.TenantID, &m.TenantSlug, &status, &m.PendingRequest, &total)
		m.TenantStatus = tenants.Status(status)
		return m, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list municipalities of %s: %w", kraj, err)
	}
	if len(out) == 0 && f.Offset > 0 {
		// Past the last page the window count is unknown; count again.
		if err := s.d.Platform.QueryRow(ctx, `SELECT count(*) FROM catalogue_municipalities c
			LEFT JOIN tenants t ON t.kod_obce = c.kod_obce
			WHERE c.kraj_kod_nuts = $1 AND ($2 = '' OR c.search_key LIKE $3 OR c.kod_obce = $2 OR c.ico = $2)
			  AND ($4 = '' OR ($4 = 'none' AND t.id IS NULL) OR t.status = $4)`, kraj, key, like, f.Status).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("count municipalities of %s: %w", kraj, err)
		}
	}
	return out, total, nil
}

// Usage is what an operator may see of a tenant: its state, not its agenda.
type Usage struct {
	tenants.Resolved
	StatusChangedAt time.Time
	Staff           int        // people with a role in the tenant
	LastSignIn      *time.Time // the newest sign-in of any of them
}

// tenantIn loads tenant id and checks it belongs to kraj.
func (s *Service) tenantIn(ctx context.Context, kraj string, id uuid.UUID) (tenants.Resolved, error) {
	t, err := s.d.Registry.BySlugOrID(ctx, id.String())
	if err != nil {
		return tenants.Resolved{}, err
	}
	if t.KrajNUTS != kraj {
		return tenants.Resolved{}, fmt.Errorf("tenant %s: %w", id, ErrNotInKraj)
	}
	return t, nil
}

// Tenant returns the usage of tenant id of kraj.
func (s *Service) Tenant(ctx context.Context, kraj string, id uuid.UUID) (Usage, error) {
	t, err := s.tenantIn(ctx, kraj, id)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Resolved: t}
	err = s.d.Platform.QueryRow(ctx, `
		SELECT t.status_changed_at,
		       (SELECT count(DISTINCT m.user_id) FROM memberships m WHERE m.tenant_id = t.id),
		       (SELECT max(a.at) FROM platform_audit_log a WHERE a.action = 'sign-in'
		          AND a.actor_id IN (SELECT m.user_id FROM memberships m WHERE m.tenant_id = t.id))
		FROM tenants t WHERE t.id = $1`, id).Scan(&u.StatusChangedAt, &u.Staff, &u.LastSignIn)
	if err != nil {
		return Usage{}, fmt.Errorf("tenant usage: %w", err)
	}
	return u, nil
}

// OnboardParams describe a municipality the operator connects.
type OnboardParams struct {
	KodObce    string
	Slug       string // empty: from the name
	Modules    []string
	AdminEmail string
	AdminName  string
}

// Onboarded is the new tenant and whether its first admin was invited.
type Onboarded struct {
	Tenant  tenants.Resolved
	Invited bool
}

// Onboard creates an active tenant for a municipality of kraj with modules, audits it in the
// tenant's and the platform's log in the same transaction, and then invites the first admin.
func (s *Service) Onboard(ctx context.Context, by Actor, kraj string, p OnboardParams) (Onboarded, error) {
	if err := s.checkModules(p.Modules); err != nil {
		return Onboarded{}, err
	}
	var inKraj string
	err := s.d.Platform.QueryRow(ctx, `SELECT kraj_kod_nuts FROM catalogue_municipalities WHERE kod_obce = $1`, p.KodObce).Scan(&inKraj)
	if errors.Is(err, pgx.ErrNoRows) {
		return Onboarded{}, fmt.Errorf("%w: kód obce %s", tenants.ErrUnknownMunicipality, p.KodObce)
	}
	if err != nil {
		return Onboarded{}, fmt.Errorf("look up municipality: %w", err)
	}
	if inKraj != kraj {
		return Onboarded{}, fmt.Errorf("municipality %s: %w", p.KodObce, ErrNotInKraj)
	}
	var t tenants.Resolved
	err = pgx.BeginFunc(ctx, s.d.Platform, func(tx pgx.Tx) error {
		var err error
		if t, err = s.createTx(ctx, tx, by, p.KodObce, p.Slug, p.Modules, map[string]string{"via": "operator"}); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return Onboarded{}, err
	}
	s.afterCommit(ctx, t.ID)
	invited, err := s.invite(ctx, by, t.Tenant, p.AdminEmail, p.AdminName, "cs")
	return Onboarded{Tenant: t, Invited: invited}, err
}

// createTx creates an active tenant and writes tenant-created to its log and the platform's.
func (s *Service) createTx(ctx context.Context, tx pgx.Tx, by Actor, kod, slug string, mods []string, details map[string]string) (tenants.Resolved, error) {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE kod_obce = $1)`, kod).Scan(&exists); err != nil {
		return tenants.Resolved{}, fmt.Errorf("look up tenant: %w", err)
	}
	if exists {
		return tenants.Resolved{}, ErrAlreadyTenant
	}
	t, err := s.d.Registry.CreateTx(ctx, tx, tenants.CreateParams{KodObce: kod, Slug: slug, Status: tenants.StatusActive, Modules: mods})
	if err != nil {
		return tenants.Resolved{}, err
	}
	d := map[string]string{"kodObce": kod, "modules": strings.Join(t.Modules, " ")}
	for k, v := range details {
		d[k] = v
	}
	ev := by.event("tenant-created", t.Slug, d)
	if err := s.d.Audit.TenantByPlatformTx(ctx, tx, t.ID, ev); err != nil {
		return tenants.Resolved{}, err
	}
	if err := s.d.Audit.PlatformTx(ctx, tx, ev); err != nil {
		return tenants.Resolved{}, err
	}
	return t, nil
}

// SetModules makes mods the tenant's enabled modules.
func (s *Service) SetModules(ctx context.Context, by Actor, kraj string, id uuid.UUID, mods []string) (Usage, error) {
	if err := s.checkModules(mods); err != nil {
		return Usage{}, err
	}
	t, err := s.tenantIn(ctx, kraj, id)
	if err != nil {
		return Usage{}, err
	}
	err = pgx.BeginFunc(ctx, s.d.Platform, func(tx pgx.Tx) error {
		on, off, err := s.d.Registry.ReplaceModulesTx(ctx, tx, id, mods)
		if err != nil || (len(on) == 0 && len(off) == 0) {
			return err
		}
		ev := by.event("modules-changed", t.Slug, map[string]string{"enabled": strings.Join(on, " "),
			"disabled": strings.Join(off, " ")})
		if err := s.d.Audit.TenantByPlatformTx(ctx, tx, id, ev); err != nil {
			return err
		}
		return s.d.Audit.PlatformTx(ctx, tx, ev)
	})
	if err != nil {
		return Usage{}, err
	}
	s.afterCommit(ctx, id)
	return s.Tenant(ctx, kraj, id)
}

// SetStatus activates or suspends tenant id; suspending needs a reason, which is audited.
func (s *Service) SetStatus(ctx context.Context, by Actor, kraj string, id uuid.UUID, status tenants.Status, reason string) (Usage, error) {
	reason = strings.TrimSpace(reason)
	if status != tenants.StatusActive && status != tenants.StatusSuspended {
		return Usage{}, &FieldError{Field: "/status", CS: "Operátor může obec jen aktivovat nebo pozastavit.",
			EN: "An operator may only activate or suspend."}
	}
	if status == tenants.StatusSuspended && reason == "" {
		return Usage{}, &FieldError{Field: "/reason", CS: "Uveďte důvod pozastavení.", EN: "Give the reason for the suspension."}
	}
	before, err := s.tenantIn(ctx, kraj, id)
	if err != nil {
		return Usage{}, err
	}
	if before.Status == tenants.StatusClosed {
		return Usage{}, fmt.Errorf("%w: the tenant is closed", tenants.ErrConflict)
	}
	err = pgx.BeginFunc(ctx, s.d.Platform, func(tx pgx.Tx) error {
		t, err := s.d.Registry.SetStatusTx(ctx, tx, id, status)
		if err != nil || t.Status == before.Status {
			return err
		}
		d := map[string]string{"from": string(before.Status), "to": string(t.Status)}
		if reason != "" {
			d["reason"] = reason
		}
		ev := by.event("tenant-status", t.Slug, d)
		if err := s.d.Audit.TenantByPlatformTx(ctx, tx, id, ev); err != nil {
			return err
		}
		return s.d.Audit.PlatformTx(ctx, tx, ev)
	})
	if err != nil {
		return Usage{}, err
	}
	s.afterCommit(ctx, id)
	return s.Tenant(ctx, kraj, id)
}

// sortedCopy returns the distinct ids of mods, sorted; never nil (the column is NOT NULL).
func sortedCopy(mods []string) []string {
	out := append([]string{}, mods...)
	slices.Sort(out)
	return slices.Compact(out)
}
