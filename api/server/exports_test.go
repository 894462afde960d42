package server_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/transfer"
)

func TestTenantAdminExportsData(t *testing.T) {
	f := newFixture(t)
	admin, clerk := f.signIn(t, "admin-a@test.cz"), f.signIn(t, "clerk-a@test.cz")
	ctxA := tenants.WithTenant(context.Background(), f.a.Tenant)
	base := "/api/v1/tenants/liberec/exports"

	if w := f.do(t, request{method: "POST", path: base, sess: clerk}); w.Code != http.StatusForbidden {
		t.Fatalf("clerk starting an export: %d %s", w.Code, w.Body)
	}
	w := f.do(t, request{method: "POST", path: base, sess: admin})
	if w.Code != http.StatusAccepted {
		t.Fatalf("start export: %d %s", w.Code, w.Body)
	}
	var job gen.TenantExport
	if err := json.Unmarshal(w.Body.Bytes(), &job); err != nil {
		t.Fatal(err)
	}
	status := base + "/" + job.Id.String()
	if job.Status != "queued" || w.Header().Get("Location") != status {
		t.Fatalf("new export: %+v, Location %q", job, w.Header().Get("Location"))
	}
	if w := f.do(t, request{method: "POST", path: base, sess: admin}); w.Code != http.StatusConflict {
		t.Fatalf("second export while one is queued: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: status + "/download", sess: admin}); w.Code != http.StatusConflict {
		t.Fatalf("download before the export ran: %d %s", w.Code, w.Body)
	}

	// The worker runs the task the request enqueued.
	var payload []byte
	if err := f.env.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(`SELECT payload FROM outbox WHERE task_type = ?`, transfer.TaskExport).Row().Scan(&payload)
	}); err != nil {
		t.Fatalf("no export task in the outbox: %v", err)
	}
	if err := f.exports.HandleExport(ctxA, jobs.Delivery{Type: transfer.TaskExport, Payload: payload, MaxRetry: 2}); err != nil {
		t.Fatal(err)
	}

	w = f.do(t, request{method: "GET", path: status, sess: admin})
	if err := json.Unmarshal(w.Body.Bytes(), &job); err != nil || job.Status != "done" || job.Download == nil || *job.Download != status+"/download" {
		t.Fatalf("finished export: %d %s", w.Code, w.Body)
	}
	w = f.do(t, request{method: "GET", path: base, sess: admin})
	var list struct{ Items []gen.TenantExport }
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "GET", path: status + "/download", sess: clerk}); w.Code != http.StatusForbidden {
		t.Fatalf("clerk downloading: %d", w.Code)
	}
	// Another tenant's path never reaches A's export.
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/kunzak/exports/" + job.Id.String() + "/download", sess: admin}); w.Code != 403 && w.Code != 404 {
		t.Fatalf("A's export through B's path: %d", w.Code)
	}

	w = f.do(t, request{method: "GET", path: status + "/download", sess: admin})
	body := w.Body.Bytes()
	sum := sha256.Sum256(body)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/x-tar" ||
		w.Header().Get("X-Content-SHA256") != hex.EncodeToString(sum[:]) || int64(len(body)) != *job.Size {
		t.Fatalf("download: %d %v, %d bytes", w.Code, w.Header(), len(body))
	}
	if hdr, err := tar.NewReader(bytes.NewReader(body)).Next(); err != nil || hdr.Name != transfer.HeaderName {
		t.Fatalf("the download is not an archive: %v %v", hdr, err)
	}

	// Requests and downloads are in the tenant's audit chain.
	entries, err := audit.New(f.env.DB, f.env.Platform).Recent(ctxA, 10)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.Action] = true
	}
	if !seen["export-requested"] || !seen["export-downloaded"] {
		t.Fatalf("audit: %+v", entries)
	}
}
