package noticeboard_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
)

// get requests a public page of the tenant in ctx straight from the module, with the
// layout reduced to the body.
func (r *rig) get(t *testing.T, tenant *tenants.Tenant, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/o/"+tenant.Slug+"/"+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rest, _, _ := strings.Cut(path, "?")
	rec := httptest.NewRecorder()
	ctx := tenants.WithTenant(req.Context(), *tenant)
	p := modules.PublicRequest{Ctx: ctx, Tenant: tenants.Resolved{Tenant: *tenant}, Rest: rest, Lang: "cs",
		Profile: tenants.Profile{Settings: tenants.Settings{DisplayName: tenant.Name}}}
	p.Page = func(status int, _ string, body template.HTML) {
		rec.WriteHeader(status)
		_, _ = rec.WriteString(string(body))
	}
	p.NotFound = func() { rec.WriteHeader(http.StatusNotFound) }
	r.mod.ServePublic(rec, req.WithContext(ctx), p)
	return rec
}

func tenantOf(t *testing.T, r *rig, ctxIsA bool) *tenants.Tenant {
	t.Helper()
	ctx := r.ctxB
	if ctxIsA {
		ctx = r.ctxA
	}
	id, err := tenants.IDFrom(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slug := "b"
	if ctxIsA {
		slug = "a"
	}
	return &tenants.Tenant{ID: id, Slug: slug, Name: "Obec " + slug}
}

func TestPublicCache(t *testing.T) {
	r := newRig(t)
	a, b := tenantOf(t, r, true), tenantOf(t, r, false)
	publish := func(ctxA bool, title string, at *time.Time) noticeboard.Notice {
		ctx, by := r.ctxB, r.clerkB
		if ctxA {
			ctx, by = r.ctxA, r.clerk
		}
		n, err := r.svc.Create(ctx, by, noticeboard.Draft{Title: title, Category: "ostatni", PostingAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if n, err = r.svc.Publish(ctx, by, n.ID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	first := publish(true, "PRVNI", nil)
	publish(false, "CIZI", nil)
	res := r.get(t, a, "uredni-deska", nil)
	etag := res.Header().Get("ETag")
	if res.Code != 200 || !strings.Contains(res.Body.String(), "PRVNI") || etag == "" ||
		res.Header().Get("Cache-Control") != "public, no-cache" || res.Header().Get("Last-Modified") == "" {
		t.Fatalf("board: %d %v\n%s", res.Code, res.Header(), res.Body)
	}
	bRes := r.get(t, b, "uredni-deska", nil)
	bTag := bRes.Header().Get("ETag")
	if !strings.Contains(bRes.Body.String(), "CIZI") || strings.Contains(bRes.Body.String(), "PRVNI") {
		t.Fatalf("B's board: %s", bRes.Body)
	}
	cachedBefore := r.mod.CacheLen()

	// A matching validator gets 304, without a body.
	res = r.get(t, a, "uredni-deska", http.Header{"If-None-Match": {etag}})
	if res.Code != http.StatusNotModified || res.Body.Len() != 0 {
		t.Fatalf("If-None-Match: %d %q", res.Code, res.Body)
	}
	res = r.get(t, a, "uredni-deska", http.Header{"If-Modified-Since": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}})
	if res.Code != http.StatusNotModified {
		t.Fatalf("If-Modified-Since: %d", res.Code)
	}

	// Every change the public sees makes the next request fresh: a posting, a revision, and
	// the job posting a scheduled notice at its minute.
	steps := []struct {
		name   string
		change func()
		want   string
	}{
		{"posting", func() { publish(true, "DRUHY", nil) }, "DRUHY"},
		{"revision", func() {
			if _, err := r.svc.Update(r.ctxA, r.clerk, first.ID, noticeboard.Draft{Title: "PRVNI-OPRAVA", Category: "ostatni"}); err != nil {
				t.Fatal(err)
			}
		}, "PRVNI-OPRAVA"},
		{"scheduled posting by the job", func() {
			at := r.clock.Now().Add(time.Minute)
			n := publish(true, "NACAS", &at)
			if res := r.get(t, a, "uredni-deska", nil); strings.Contains(res.Body.String(), "NACAS") {
				t.Fatal("a scheduled notice is on the board before its minute")
			}
			r.clock.Add(time.Minute)
			if ok, err := r.svc.PostDue(r.ctxA, n.ID); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}, "NACAS"},
	}
	for _, s := range steps {
		s.change()
		res := r.get(t, a, "uredni-deska", http.Header{"If-None-Match": {etag}})
		if res.Code != 200 || !strings.Contains(res.Body.String(), s.want) || res.Header().Get("ETag") == etag {
			t.Fatalf("after %s: %d %s", s.name, res.Code, res.Body)
		}
		etag = res.Header().Get("ETag")
	}
	// The JSON-LD and the notice page follow too; a take-down empties the notice from the board.
	if _, err := r.svc.TakeDown(r.ctxA, r.clerk, first.ID, "Konec"); err != nil {
		t.Fatal(err)
	}
	if res := r.get(t, a, "uredni-deska", nil); strings.Contains(res.Body.String(), "PRVNI-OPRAVA") {
		t.Fatal("a taken-down notice is still on the cached board")
	}
	if res := r.get(t, a, "uredni-deska/archiv", nil); !strings.Contains(res.Body.String(), "PRVNI-OPRAVA") {
		t.Fatal("the archive lacks the taken-down notice")
	}

	// None of A's changes touched B's cached board.
	if r.mod.CacheLen() < 1 || cachedBefore < 2 {
		t.Fatalf("cache: %d entries", r.mod.CacheLen())
	}
	res = r.get(t, b, "uredni-deska", http.Header{"If-None-Match": {bTag}})
	if res.Code != http.StatusNotModified {
		t.Fatalf("B's board after A's changes: %d", res.Code)
	}
	// A not-found is never cached as a page.
	if res := r.get(t, a, "uredni-deska/nic", nil); res.Code != http.StatusNotFound {
		t.Fatalf("unknown notice: %d", res.Code)
	}
}
