package noticeboard

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/modules"
)

func entry(body string) *cachedResponse {
	r := &cachedResponse{status: http.StatusOK, header: http.Header{}, body: []byte(body)}
	r.finish("profile", time.Now())
	return r
}

func TestPageCacheStaysBounded(t *testing.T) {
	c := newPageCache(nil, 64<<10, 100)
	for i := range 1000 { // 1,000 tenants
		tenant := uuid.New()
		for k := range 5 {
			c.put(tenant, fmt.Sprint(tenant, k), c.gen(tenant), entry(string(make([]byte, 1000))))
		}
		if c.Len() > 100 || c.bytes > 64<<10 {
			t.Fatalf("after %d tenants: %d entries, %d bytes", i+1, c.Len(), c.bytes)
		}
	}
	if c.Len() == 0 {
		t.Fatal("nothing cached")
	}
}

func TestPageCacheDropIsPerTenant(t *testing.T) {
	c := newPageCache(nil, 0, 0)
	a, b := uuid.New(), uuid.New()
	c.put(a, "a/board", c.gen(a), entry("A"))
	c.put(b, "b/board", c.gen(b), entry("B"))
	genA := c.gen(a)
	c.drop(a)
	if _, ok := c.get(a, "a/board"); ok {
		t.Error("A's entry survived A's change")
	}
	if got, ok := c.get(b, "b/board"); !ok || string(got.body) != "B" {
		t.Error("A's change evicted or altered B's entry")
	}
	// A render that began before the change must not be stored after it.
	c.put(a, "a/board", genA, entry("old A"))
	if _, ok := c.get(a, "a/board"); ok {
		t.Error("a render of the old board was cached")
	}
}

func TestNotModified(t *testing.T) {
	resp := entry("x")
	later := resp.modified.Add(time.Hour).Format(http.TimeFormat)
	earlier := resp.modified.Add(-time.Hour).Format(http.TimeFormat)
	for _, tc := range []struct {
		name      string
		inm, ims  string
		unchanged bool
	}{
		{"no validators", "", "", false},
		{"matching etag", resp.etag, "", true},
		{"one of several", `"abc", ` + resp.etag, "", true},
		{"weak form", "W/" + resp.etag, "", true},
		{"other etag", `"abc"`, "", false},
		{"other etag wins over a date", `"abc"`, later, false},
		{"modified since", "", earlier, false},
		{"not modified since", "", later, true},
		{"bad date", "", "yesterday", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			if tc.inm != "" {
				r.Header.Set("If-None-Match", tc.inm)
			}
			if tc.ims != "" {
				r.Header.Set("If-Modified-Since", tc.ims)
			}
			if got := notModified(r, resp); got != tc.unchanged {
				t.Errorf("notModified = %v, want %v", got, tc.unchanged)
			}
		})
	}
}

func TestDocumentsAreKeptCompressed(t *testing.T) {
	doc := strings.Repeat(`{"název": "Oznámení"}`, 200)
	resp := &cachedResponse{status: http.StatusOK, header: http.Header{"Content-Type": {"application/ld+json"}}, body: []byte(doc)}
	resp.finish("profile", time.Now())
	if resp.gz == nil || len(resp.gz) >= len(doc)/4 {
		t.Fatalf("kept %d bytes compressed of %d", len(resp.gz), len(doc))
	}
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{{"", false}, {"gzip", true}, {"br, gzip;q=0.5", true}, {"gzip;q=0", false}, {"deflate", false}} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.accept != "" {
			r.Header.Set("Accept-Encoding", tc.accept)
		}
		w := httptest.NewRecorder()
		resp.serve(w, r, modules.PublicRequest{})
		body := w.Body.Bytes()
		if got := w.Header().Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Errorf("%q: gzip %v", tc.accept, got)
		}
		if tc.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if string(body) != doc || w.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("%q: %d bytes, Vary %q", tc.accept, len(body), w.Header().Get("Vary"))
		}
	}
}
