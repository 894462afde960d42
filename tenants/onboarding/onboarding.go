// Package onboarding brings municipalities into epom: the regional operator's console
// (municipalities of the kraj, onboarding, modules, suspension, usage) and the online
// subscription (objednávka) a municipality files itself and the operator approves or rejects.
// It works through the platform role: it acts on tenants from outside them and never reads
// their agenda data.
package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
)

// Errors the API maps to problems.
var (
	// ErrNotInKraj: the tenant, municipality or request belongs to another kraj; answered as
	// not found, so an operator learns nothing about other regions.
	ErrNotInKraj = errors.New("not in the operator's kraj")
	// ErrAlreadyTenant: the municipality already uses epom.
	ErrAlreadyTenant = errors.New("the municipality already uses epom")
	// ErrPendingRequest: the municipality's earlier request still waits for a decision.
	ErrPendingRequest = errors.New("the municipality's request is already waiting for approval")
	// ErrDecided: the request was decided the other way already.
	ErrDecided = errors.New("the request has been decided")
	// ErrRateLimited: too many requests from one address.
	ErrRateLimited = errors.New("too many subscription requests")
)

// FieldError is bad input in one field, with a message for the person filling the form.
type FieldError struct {
	Field string // JSON pointer: /ico
	CS    string
	EN    string
}

func (e *FieldError) Error() string { return "invalid " + e.Field + ": " + e.EN }

// Actor is who acts: the signed-in operator.
type Actor struct {
	ID    uuid.UUID
	Email string
	Name  string // shown in the invitation: who invites
	IP    string
}

func (a Actor) event(action, target string, details map[string]string) audit.Event {
	id := a.ID
	return audit.Event{ActorID: &id, Actor: a.Email, IP: a.IP, Action: action, Target: target, Details: details}
}

// Mail is a platform e-mail (sent by the deployment, not by a municipality): a notification
// with a title, paragraphs and an optional button.
type Mail struct {
	To, ToName  string
	Lang        string // cs or en
	Title       string
	Paragraphs  []string
	ActionURL   string
	ActionLabel string
	Note        string // small print: why the recipient gets this
	Ref         string // no personal data: "subscription-request:<id>"
}

// Mailer queues platform e-mail in the caller's transaction, so a rollback sends nothing.
type Mailer interface {
	Send(ctx context.Context, tx pgx.Tx, m Mail) error
}

// Inviter invites a person to the staff of the tenant in ctx with a role; the invitation
// e-mail (in lang) is the tenant's. Inviting an address that has an open invitation again
// renews it; inviting a member changes nothing.
type Inviter interface {
	Invite(ctx context.Context, by Actor, email, name, role, lang string) error
}

// Deps are the service's collaborators.
type Deps struct {
	Platform *pgxpool.Pool
	Registry *tenants.Registry
	Resolver *tenants.Resolver
	Audit    *audit.Log
	Mail     Mailer
	Inviter  Inviter // nil: first admins are not invited (logged)
	// HasModule reports whether the deployment offers module id.
	HasModule func(id string) bool
	BaseURL   string
	// RateLimit subscription requests per address and RateWindow [5 per hour].
	RateLimit  int
	RateWindow time.Duration
	Log        *slog.Logger
}

// Service is the operator console and the subscription workflow.
type Service struct {
	d   Deps
	now func() time.Time
}

// New returns the service.
func New(d Deps) *Service {
	if d.RateLimit <= 0 {
		d.RateLimit = 5
	}
	if d.RateWindow <= 0 {
		d.RateWindow = time.Hour
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{d: d, now: time.Now}
}

// KrajDomain is the authorization domain of a kraj's operators: "kraj:CZ051".
func KrajDomain(kraj string) string { return "kraj:" + kraj }

func (s *Service) checkModules(mods []string) error {
	for i, m := range mods {
		if !s.d.HasModule(m) {
			return &FieldError{Field: fmt.Sprintf("/modules/%d", i), CS: "Tento modul nasazení nenabízí: " + m,
				EN: "This deployment has no module " + m}
		}
	}
	return nil
}

// afterCommit drops the cached resolutions of a tenant (its slug may have been cached as unknown).
func (s *Service) afterCommit(ctx context.Context, id uuid.UUID) {
	if s.d.Resolver != nil {
		s.d.Resolver.Invalidate(ctx, id.String())
	}
}

// invite asks the invitation service to invite the first admin of tenant t.
func (s *Service) invite(ctx context.Context, by Actor, t tenants.Tenant, email, name, lang string) (bool, error) {
	if s.d.Inviter == nil {
		s.d.Log.WarnContext(ctx, "no invitation service: the first admin was not invited", "tenant", t.Slug)
		return false, nil
	}
	if err := s.d.Inviter.Invite(tenants.WithTenant(ctx, t), by, email, name, authz.RoleTenantAdmin, lang); err != nil {
		return false, fmt.Errorf("invite the first admin of %s: %w", t.Slug, err)
	}
	return true, nil
}
