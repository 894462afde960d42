package transfer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/tenanttest"
	"github.com/epom-cz/epom/tenants/transfer"
)

func newExports(t *testing.T, e *tenanttest.Env) *transfer.Exports {
	t.Helper()
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	mailer := email.NewService(e.DB, tpl, mail.LogOnly{Log: slog.New(slog.DiscardHandler), MessageIDDomain: "epom.test"}, email.Config{})
	return transfer.NewExports(e.DB, files.NewPostgres(e.DB), transfer.NewExporter(e.App), mailer,
		transfer.ExportsConfig{BaseURL: "https://epom.test", Logger: slog.New(slog.DiscardHandler)})
}

// delivery is the export task as the worker hands it to the handler: the outbox row of the
// request, in the tenant's context.
func delivery(t *testing.T, e *tenanttest.Env, ctx context.Context, attempt int) jobs.Delivery {
	t.Helper()
	tn, _ := tenants.FromContext(ctx)
	var payload []byte
	var maxRetry int
	if err := e.DB.InTx(ctx, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(`SELECT payload, max_retry FROM outbox WHERE task_type = ? ORDER BY id DESC LIMIT 1`,
			transfer.TaskExport).Row().Scan(&payload, &maxRetry)
	}); err != nil {
		t.Fatalf("the request enqueued no task: %v", err)
	}
	return jobs.Delivery{Type: transfer.TaskExport, Payload: payload, TenantID: tn.ID, Attempt: attempt, MaxRetry: maxRetry}
}

func TestRequestedExportIsWrittenMailedAndDownloaded(t *testing.T) {
	e, ctxA, _, a, _ := twoSeeded(t)
	x := newExports(t, e)
	var admin uuid.UUID
	if err := e.App.QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'admin@liberec.test'`).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	before := digest(t, e, a)

	job, err := x.Request(ctxA, admin)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != transfer.ExportQueued {
		t.Fatalf("new export: %+v", job)
	}
	if _, err := x.Request(ctxA, admin); !errors.Is(err, transfer.ErrExportInProgress) {
		t.Fatalf("second request while one is queued: %v", err)
	}
	if _, _, _, err := x.Open(ctxA, job.ID); !errors.Is(err, transfer.ErrExportNotReady) {
		t.Fatalf("download before it is written: %v", err)
	}

	d := delivery(t, e, ctxA, 0)
	if err := x.HandleExport(ctxA, d); err != nil {
		t.Fatal(err)
	}
	// Delivery is at least once: a second run changes nothing.
	if err := x.HandleExport(ctxA, d); err != nil {
		t.Fatal(err)
	}
	got, err := x.Get(ctxA, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != transfer.ExportDone || got.Size == nil || got.ExpiresAt == nil || got.SHA256 == "" {
		t.Fatalf("after the task: %+v", got)
	}

	// One e-mail to the requester, with the download link.
	var mails []struct{ ToAddress, Subject, TextBody string }
	if err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(`SELECT to_address, subject, text_body FROM mail_log WHERE ref = ?`,
			"tenant.export:"+job.ID.String()).Scan(&mails).Error
	}); err != nil {
		t.Fatal(err)
	}
	link := "https://epom.test/api/v1/tenants/liberec/exports/" + job.ID.String() + "/download"
	if len(mails) != 1 || mails[0].ToAddress != "admin@liberec.test" || !strings.Contains(mails[0].TextBody, link) {
		t.Fatalf("export e-mails: %+v", mails)
	}

	// The download is a complete archive: it restores the tenant into another deployment.
	_, f, rc, err := x.Open(ctxA, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(archive)) != *got.Size || f.ExpiresAt == nil {
		t.Fatalf("archive of %d bytes, export says %d; file %+v", len(archive), *got.Size, f)
	}
	e2 := newEnv(t)
	if _, err := transfer.NewImporter(e2.Owner).Import(context.Background(), bytes.NewReader(archive), transfer.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	after := digest(t, e2, a)
	for _, table := range []string{"test_records", "tenant_audit_log", "memberships", "file_chunks"} {
		if len(after[table]) != len(before[table]) {
			t.Errorf("%s: %d rows restored from the download, %d exported", table, len(after[table]), len(before[table]))
		}
	}

	// A later export leaves the earlier archive out (it is temporary), and expired
	// archives are deleted by the daily cleanup.
	again := export(t, e, ctxA)
	if bytes.Contains(again, []byte(f.ID.String())) {
		t.Fatal("a later export carries the earlier archive")
	}
	// Time passes (the owner, bound to the tenant, moves the expiry; the app may not).
	if err := pgx.BeginFunc(context.Background(), e.Owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), `SELECT set_config('app.tenant_id', $1, true)`, a.String()); err != nil {
			return err
		}
		_, err := tx.Exec(context.Background(), `UPDATE files SET expires_at = now() - interval '1 minute' WHERE expires_at IS NOT NULL`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := x.HandleCleanup(ctxA, jobs.Delivery{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := x.Get(ctxA, job.ID); got.Status != transfer.ExportExpired {
		t.Fatalf("after cleanup: %+v", got)
	}
	if _, _, _, err := x.Open(ctxA, job.ID); !errors.Is(err, transfer.ErrExportNotReady) {
		t.Fatalf("download after expiry: %v", err)
	}
}

func TestExportTaskWithoutItsRow(t *testing.T) {
	e := newEnv(t)
	ctxA, _ := e.Two(t)
	x := newExports(t, e)
	payload, _ := json.Marshal(map[string]any{"export": tenants.NewID()})
	if err := x.HandleExport(ctxA, jobs.Delivery{Type: transfer.TaskExport, Payload: payload}); err != nil {
		t.Fatalf("a task whose export is not there (restored tenant) must end quietly: %v", err)
	}
}

func TestFailedExportIsMarkedOnTheLastAttempt(t *testing.T) {
	e := newEnv(t)
	ctxA, _ := e.Two(t)
	a, _ := tenants.FromContext(ctxA)
	user := tenants.NewID()
	if _, err := e.App.Exec(context.Background(), `INSERT INTO users (id, email, name) VALUES ($1, 'x@liberec.test', 'X')`, user); err != nil {
		t.Fatal(err)
	}
	// An exporter over a pool that is closed fails every time.
	closed := tenanttest.New(t)
	closed.App.Close()
	tpl, _ := mail.LoadTemplates()
	x := transfer.NewExports(e.DB, files.NewPostgres(e.DB), transfer.NewExporter(closed.App),
		email.NewService(e.DB, tpl, mail.LogOnly{}, email.Config{}), transfer.ExportsConfig{Logger: slog.New(slog.DiscardHandler)})
	job, err := x.Request(ctxA, user)
	if err != nil {
		t.Fatal(err)
	}
	d := delivery(t, e, ctxA, 0)
	if err := x.HandleExport(ctxA, d); err == nil {
		t.Fatal("export over a closed pool succeeded")
	}
	if got, _ := x.Get(ctxA, job.ID); got.Status != transfer.ExportRunning {
		t.Fatalf("after a failed attempt that will be retried: %+v", got)
	}
	d.Attempt = d.MaxRetry
	if err := x.HandleExport(ctxA, d); err == nil {
		t.Fatal("export over a closed pool succeeded")
	}
	got, _ := x.Get(ctxA, job.ID)
	if got.Status != transfer.ExportFailed || got.Error == "" || got.FinishedAt == nil {
		t.Fatalf("after the last attempt: %+v", got)
	}
	// No half-written archive is left behind.
	var n int
	if err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(`SELECT count(*) FROM files WHERE tenant_id = ?`, a.ID).Row().Scan(&n)
	}); err != nil || n != 0 {
		t.Fatalf("%d files after failed exports (%v)", n, err)
	}
	// The tenant may ask again.
	if _, err := x.Request(ctxA, user); err != nil {
		t.Fatal(err)
	}
}

func TestExportsIsolation(t *testing.T) {
	e := newEnv(t)
	ctxA, ctxB := e.Two(t)
	x := newExports(t, e)
	user := tenants.NewID()
	if _, err := e.App.Exec(context.Background(), `INSERT INTO users (id, email, name) VALUES ($1, 'y@epom.test', 'Y')`, user); err != nil {
		t.Fatal(err)
	}
	tenanttest.RunIsolation(t, e, ctxA, ctxB, tenanttest.Isolation{
		Create: func(ctx context.Context) (string, error) {
			j, err := x.Request(ctx, user)
			return j.ID.String(), err
		},
		Get: func(ctx context.Context, id string) error {
			_, err := x.Get(ctx, uuid.MustParse(id))
			return err
		},
		List: func(ctx context.Context) ([]string, error) {
			js, err := x.List(ctx, 50)
			var ids []string
			for _, j := range js {
				ids = append(ids, j.ID.String())
			}
			return ids, err
		},
		IsNotFound: func(err error) bool { return errors.Is(err, transfer.ErrExportNotFound) },
		Tables:     []string{"tenant_exports"},
	})
	// B's request is its own: A's queued export does not block it.
	if _, err := x.Request(ctxB, user); err != nil {
		t.Fatal(err)
	}
}
