package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/lib/pq"
)

// Settings are the municipality's own settings, edited by its admin.
type Settings struct {
	TenantID     uuid.UUID `gorm:"primaryKey"`
	DisplayName  string
	ContactEmail string
	ContactPhone string
	Website      string
	Address      string
	EmbedOrigins pq.StringArray `gorm:"type:text[]"`
	UpdatedAt    time.Time
	UpdatedBy    *uuid.UUID
}

// TableName maps Settings to its table.
func (Settings) TableName() string { return "tenant_settings" }

// SettingsStore reads and writes the settings of the tenant in the context.
type SettingsStore struct {
	db  *Database
	now func() time.Time
}

// NewSettingsStore returns the store.
func NewSettingsStore(db *Database) *SettingsStore { return &SettingsStore{db: db, now: time.Now} }

// settingsColumns are read by Get and Profile in this order. They come from a LEFT JOIN, so
// COALESCE turns a missing row into zero values that scan without per-field pointers (this
// is the hot path of public pages).
const settingsColumns = `s.tenant_id IS NOT NULL, COALESCE(s.display_name, ''), COALESCE(s.contact_email, ''),
	COALESCE(s.contact_phone, ''), COALESCE(s.website, ''), COALESCE(s.address, ''),
	COALESCE(s.embed_origins, '{}'), COALESCE(s.updated_at, 'epoch')`

// scanSettings fills st from settingsColumns (then extra), keeping st's defaults when the
// tenant has no settings row.
func scanSettings(row pgx.Row, st *Settings, extra ...any) (bool, error) {
	var saved bool
	var got Settings
	var origins []string
	dest := append([]any{&saved, &got.DisplayName, &got.ContactEmail, &got.ContactPhone, &got.Website,
		&got.Address, &origins, &got.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return false, err
	}
	if !saved {
		return false, nil
	}
	got.TenantID = st.TenantID
	got.EmbedOrigins = origins
	*st = got
	return true, nil
}

// Get returns the tenant's settings; a tenant that never saved any gets defaults with the
// catalogue name (fallbackName) and saved=false. One pipelined round trip.
func (s *SettingsStore) Get(ctx context.Context, fallbackName string) (st Settings, saved bool, err error) {
	id, err := IDFrom(ctx)
	if err != nil {
		return Settings{}, false, err
	}
	st = Settings{TenantID: id, DisplayName: fallbackName, EmbedOrigins: pq.StringArray{}}
	err = s.db.Read(ctx, func(b *pgx.Batch) {
		b.Queue(`SELECT `+settingsColumns+` FROM (SELECT 1) one
			LEFT JOIN tenant_settings s ON s.tenant_id = $1`, [16]byte(id)).QueryRow(func(row pgx.Row) error {
			saved, err = scanSettings(row, &st)
			return err
		})
	})
	if err != nil {
		return Settings{}, false, fmt.Errorf("read settings: %w", err)
	}
	if st.EmbedOrigins == nil {
		st.EmbedOrigins = pq.StringArray{}
	}
	return st, saved, nil
}

// Profile is what the public sees of a tenant: its settings and its catalogue entry.
type Profile struct {
	Settings
	Type, Kraj, Okres, ORP, ICO string
}

// Profile reads the settings and the catalogue row of the tenant in ctx in one pipelined
// round trip: the hot path of public tenant pages.
func (s *SettingsStore) Profile(ctx context.Context, t Tenant) (Profile, error) {
	p := Profile{Settings: Settings{TenantID: t.ID, DisplayName: t.Name, EmbedOrigins: pq.StringArray{}}}
	err := s.db.Read(ctx, func(b *pgx.Batch) {
		b.Queue(`SELECT `+settingsColumns+`, c.typ, c.kraj_nazev, c.okres_nazev, c.orp_nazev, c.ico
			FROM catalogue_municipalities c
			LEFT JOIN tenant_settings s ON s.tenant_id = $1
			WHERE c.kod_obce = $2`, [16]byte(t.ID), t.KodObce).QueryRow(func(row pgx.Row) error {
			_, err := scanSettings(row, &p.Settings, &p.Type, &p.Kraj, &p.Okres, &p.ORP, &p.ICO)
			return err
		})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Profile{}, ErrNotFound
	}
	if err != nil {
		return Profile{}, fmt.Errorf("read tenant profile: %w", err)
	}
	return p, nil
}

// InTx runs fn in the tenant transaction of the store's database, so a caller can write the
// settings and something else (the audit entry) atomically.
func (s *SettingsStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.InTx(ctx, fn)
}

// Put replaces the tenant's settings.
func (s *SettingsStore) Put(ctx context.Context, st Settings, by uuid.UUID) (Settings, error) {
	id, err := IDFrom(ctx)
	if err != nil {
		return Settings{}, err
	}
	st.TenantID = id
	st.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	st.UpdatedBy = &by
	if st.EmbedOrigins == nil {
		st.EmbedOrigins = pq.StringArray{}
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		return DB(ctx).Save(&st).Error
	})
	if err != nil {
		return Settings{}, fmt.Errorf("save settings: %w", err)
	}
	return st, nil
}
