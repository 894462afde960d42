package tenanttest

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// Isolation describes one store to the two-tenant isolation kit. Each function runs with a
// context bound to a tenant; the kit calls them from tenant A and tenant B.
type Isolation struct {
	// Create makes a record in the context's tenant and returns its id.
	Create func(ctx context.Context) (string, error)
	// Get reads the record; from the other tenant it must fail with a not-found error.
	Get func(ctx context.Context, id string) error
	// List returns the ids the tenant can see.
	List func(ctx context.Context) ([]string, error)
	// Update changes the record (optional); from the other tenant it must fail.
	Update func(ctx context.Context, id string) error
	// Delete removes the record (optional); from the other tenant it must fail.
	Delete func(ctx context.Context, id string) error
	// IsNotFound tells the store's not-found error.
	IsNotFound func(error) bool
	// Tables are the store's tables: with no tenant bound, the app role must see no rows.
	Tables []string
}

// RunIsolation proves that what tenant A makes is invisible and untouchable from tenant B.
func RunIsolation(t *testing.T, e *Env, ctxA, ctxB context.Context, s Isolation) {
	t.Helper()
	id, err := s.Create(ctxA)
	if err != nil {
		t.Fatalf("create in tenant A: %v", err)
	}
	if err := s.Get(ctxA, id); err != nil {
		t.Fatalf("tenant A cannot read its own record: %v", err)
	}
	t.Run("get from B", func(t *testing.T) {
		err := s.Get(ctxB, id)
		if err == nil || !s.IsNotFound(err) {
			t.Fatalf("tenant B reading A's record: got %v, want not found", err)
		}
	})
	t.Run("list from B", func(t *testing.T) {
		ids, err := s.List(ctxB)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids, id) {
			t.Fatalf("tenant B lists A's record %s", id)
		}
		idsA, err := s.List(ctxA)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(idsA, id) {
			t.Fatalf("tenant A does not list its own record %s", id)
		}
	})
	if s.Update != nil {
		t.Run("update from B", func(t *testing.T) {
			if err := s.Update(ctxB, id); err == nil {
				t.Fatal("tenant B updated A's record")
			}
			if err := s.Get(ctxA, id); err != nil {
				t.Fatalf("A's record after B's update attempt: %v", err)
			}
		})
	}
	if s.Delete != nil {
		t.Run("delete from B", func(t *testing.T) {
			_ = s.Delete(ctxB, id)
			if err := s.Get(ctxA, id); err != nil {
				t.Fatalf("A's record gone after B's delete attempt: %v", err)
			}
		})
	}
	t.Run("no tenant bound", func(t *testing.T) {
		for _, table := range s.Tables {
			var n int
			if err := e.App.QueryRow(context.Background(), fmt.Sprintf("SELECT count(*) FROM %s", table)).Scan(&n); err != nil {
				t.Fatalf("count %s: %v", table, err)
			}
			if n != 0 {
				t.Fatalf("app role sees %d rows of %s with no tenant bound", n, table)
			}
		}
	})
}
