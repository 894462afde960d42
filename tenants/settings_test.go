package tenants_test

import (
	"context"
	"errors"
	"testing"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

var errNoSettings = errors.New("no settings")

func TestSettingsStoreIsolation(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, ctxB := e.Two(t)
	store := tenants.NewSettingsStore(e.DB)
	get := func(ctx context.Context, id string) error {
		st, saved, err := store.Get(ctx, "")
		if err != nil {
			return err
		}
		if !saved || st.TenantID.String() != id {
			return errNoSettings
		}
		return nil
	}
	tenanttest.RunIsolation(t, e, ctxA, ctxB, tenanttest.Isolation{
		Create: func(ctx context.Context) (string, error) {
			st, err := store.Put(ctx, tenants.Settings{DisplayName: "Obec"}, tenants.NewID())
			return st.TenantID.String(), err
		},
		Get: get,
		List: func(ctx context.Context) ([]string, error) {
			st, saved, err := store.Get(ctx, "")
			if err != nil || !saved {
				return nil, err
			}
			return []string{st.TenantID.String()}, nil
		},
		// Put always writes the context's own tenant: from B it can only create B's row.
		Update: func(ctx context.Context, id string) error {
			st, err := store.Put(ctx, tenants.Settings{DisplayName: "Převzato"}, tenants.NewID())
			if err != nil {
				return err
			}
			if st.TenantID.String() == id {
				return nil
			}
			return errNoSettings
		},
		IsNotFound: func(err error) bool { return errors.Is(err, errNoSettings) },
		Tables:     []string{"tenant_settings"},
	})
	st, _, err := store.Get(ctxA, "")
	if err != nil || st.DisplayName != "Obec" {
		t.Fatalf("A's settings after B's attempts: %+v %v", st, err)
	}
}
