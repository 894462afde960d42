package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"gorm.io/gorm"
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

// Get returns the tenant's settings; a tenant that never saved any gets defaults with the
// catalogue name (fallbackName) and ok=false.
func (s *SettingsStore) Get(ctx context.Context, fallbackName string) (Settings, bool, error) {
	id, err := IDFrom(ctx)
	if err != nil {
		return Settings{}, false, err
	}
	var st Settings
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		return DB(ctx).Where("tenant_id = ?", id).Take(&st).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Settings{TenantID: id, DisplayName: fallbackName, EmbedOrigins: pq.StringArray{}}, false, nil
	}
	if err != nil {
		return Settings{}, false, fmt.Errorf("read settings: %w", err)
	}
	if st.EmbedOrigins == nil {
		st.EmbedOrigins = pq.StringArray{}
	}
	return st, true, nil
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
