// Package tenants is the multi-tenant kernel: the registry of municipalities that use epom,
// tenant resolution, the tenant context and the tenant-scoped database access that every
// module goes through.
package tenants

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Status is where a tenant is in its life cycle.
type Status string

const (
	StatusPending   Status = "pending"
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	StatusClosed    Status = "closed"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusActive, StatusSuspended, StatusClosed:
		return true
	}
	return false
}

// Tenant is a municipality (obec) that uses epom.
type Tenant struct {
	ID        uuid.UUID
	Slug      string
	Status    Status
	KodObce   string // kód obce: the ČSÚ code of the municipality
	Name      string // the catalogue name; settings may override what is displayed
	KrajNUTS  string
	Hosts     []string
	CreatedAt time.Time
}

// Errors the kernel reports; the API maps them to problem types in one place.
var (
	ErrNotFound            = errors.New("tenant not found")
	ErrUnavailable         = errors.New("tenant is not available")
	ErrNoTenant            = errors.New("no tenant in context")
	ErrConflict            = errors.New("conflict")
	ErrInvalid             = errors.New("invalid input")
	ErrUnknownMunicipality = errors.New("unknown municipality")
)

type tenantKey struct{}

// WithTenant returns a context that carries t; every tenant-scoped query reads it from there.
func WithTenant(ctx context.Context, t Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// FromContext returns the tenant carried by ctx.
func FromContext(ctx context.Context) (Tenant, bool) {
	t, ok := ctx.Value(tenantKey{}).(Tenant)
	return t, ok
}

// IDFrom returns the tenant id from ctx or ErrNoTenant: never "all tenants".
func IDFrom(ctx context.Context) (uuid.UUID, error) {
	t, ok := FromContext(ctx)
	if !ok || t.ID == uuid.Nil {
		return uuid.Nil, ErrNoTenant
	}
	return t.ID, nil
}

// NewID makes a UUIDv7: time-ordered, so tenant-first B-tree indexes stay append-mostly.
func NewID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
