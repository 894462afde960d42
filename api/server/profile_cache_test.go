package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPublicPageShowsSettingsChangeAtOnce: the server caches the tenant's public profile, so
// a settings change must reach the next public request (the board is served from the
// module's cache in between), and the other tenant's page is untouched.
func TestPublicPageShowsSettingsChangeAtOnce(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(t, "admin-a@test.cz")
	page := func(slug string) string {
		t.Helper()
		w := f.do(t, request{method: "GET", path: "/o/" + slug + "/uredni-deska"})
		if w.Code != http.StatusOK {
			t.Fatalf("%s board: %d %s", slug, w.Code, w.Body)
		}
		return w.Body.String()
	}
	if a := page("liberec"); !strings.Contains(a, "Liberec MARKER-A") {
		t.Fatalf("A's board without A's name:\n%s", a)
	}
	if b := page("kunzak"); !strings.Contains(b, "Kunžak") {
		t.Fatalf("B's board without B's name:\n%s", b)
	}
	page("liberec") // a cache hit for both the profile and the board
	w := f.do(t, request{method: "PUT", path: "/api/v1/tenants/liberec/settings", body: `{"displayName":"Statutární město MARKER-NEW"}`, sess: admin})
	if w.Code != http.StatusOK {
		t.Fatalf("update: %d %s", w.Code, w.Body)
	}
	a := page("liberec")
	if !strings.Contains(a, "Statutární město MARKER-NEW") || strings.Contains(a, "MARKER-A") {
		t.Fatalf("A's board after the settings change still shows the old name:\n%s", a)
	}
	if got := page("kunzak"); !strings.Contains(got, "Kunžak") || strings.Contains(got, "MARKER") {
		t.Fatalf("B's board changed with A's settings:\n%s", got)
	}
}
