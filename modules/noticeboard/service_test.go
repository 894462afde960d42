package noticeboard_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type rig struct {
	e          *tenanttest.Env
	svc        *noticeboard.Service
	mod        *noticeboard.Module
	clock      *clock
	ctxA, ctxB context.Context
	clerk      noticeboard.Actor // of A
	second     noticeboard.Actor // another clerk of A
	clerkB     noticeboard.Actor
}

const maxTestBytes = 64 << 10

func newRig(t *testing.T) *rig {
	t.Helper()
	m := noticeboard.New(noticeboard.Deps{})
	e := tenanttest.New(t, tenants.MigrationSet{Name: string(m.ID()), FS: m.Migrations()})
	ctxA, ctxB := e.Two(t, "noticeboard")
	// The clock runs a day ahead: the outbox never schedules a task before the real now.
	c := &clock{t: time.Now().UTC().Add(24 * time.Hour).Truncate(time.Minute)}
	m = noticeboard.New(noticeboard.Deps{DB: e.DB, Files: files.NewPostgres(e.DB), Audit: audit.New(e.DB, e.Platform),
		Config: noticeboard.Config{Now: c.Now, MaxAttachmentBytes: maxTestBytes}})
	user := func(email string) noticeboard.Actor {
		id := tenants.NewID()
		if _, err := e.App.Exec(context.Background(), `INSERT INTO users (id, email, name) VALUES ($1, $2, $3)`, id, email, email); err != nil {
			t.Fatal(err)
		}
		return noticeboard.Actor{UserID: id, Email: email, IP: "192.0.2.1"}
	}
	return &rig{e: e, svc: m.Service(), mod: m, clock: c, ctxA: ctxA, ctxB: ctxB,
		clerk: user("urednik@a.test"), second: user("druhy@a.test"), clerkB: user("urednik@b.test")}
}

func (r *rig) draft() noticeboard.Draft {
	return noticeboard.Draft{Title: "Oznámení o uzavírce", Body: "Silnice bude uzavřena.", Category: "ostatni",
		ReferenceNumber: "OÚ/1/2026"}
}

func pdf(text string) []byte {
	return []byte("%PDF-1.4\n1 0 obj << >> endobj\n% " + text + "\n%%EOF\n")
}

func zipOf(t *testing.T, entries map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, content := range entries {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write([]byte(content))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// count counts the rows of table that tenant A's transaction sees (the only tenant written).
func (r *rig) count(t *testing.T, table string) int {
	t.Helper()
	return r.scanA(t, "SELECT count(*) FROM "+table)
}

// scanA runs a one-value query in tenant A's transaction.
func (r *rig) scanA(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	err := r.e.DB.InTx(r.ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(q, args...).Row().Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStoreIsolation(t *testing.T) {
	r := newRig(t)
	tenanttest.RunIsolation(t, r.e, r.ctxA, r.ctxB, tenanttest.Isolation{
		Create: func(ctx context.Context) (string, error) {
			n, err := r.svc.Create(ctx, r.clerk, r.draft())
			if err != nil {
				return "", err
			}
			if _, err := r.svc.AddAttachment(ctx, r.clerk, n.ID, "a.pdf", pdf("a")); err != nil {
				return "", err
			}
			if _, err := r.svc.Publish(ctx, r.clerk, n.ID); err != nil {
				return "", err
			}
			_, err = r.svc.PutSettings(ctx, r.clerk, noticeboard.Settings{})
			return n.ID.String(), err
		},
		Get: func(ctx context.Context, id string) error {
			_, err := r.svc.Get(ctx, uuid.MustParse(id))
			return err
		},
		List: func(ctx context.Context) ([]string, error) {
			ns, _, err := r.svc.List(ctx, noticeboard.Filter{})
			ids := make([]string, len(ns))
			for i, n := range ns {
				ids[i] = n.ID.String()
			}
			return ids, err
		},
		Update: func(ctx context.Context, id string) error {
			_, err := r.svc.Update(ctx, r.clerkB, uuid.MustParse(id), r.draft())
			return err
		},
		Delete: func(ctx context.Context, id string) error {
			_, err := r.svc.TakeDown(ctx, r.clerkB, uuid.MustParse(id), "pokus")
			return err
		},
		IsNotFound: func(err error) bool { return errors.Is(err, modules.ErrNotFound) },
		Tables:     []string{"noticeboard_notices", "noticeboard_revisions", "noticeboard_attachments", "noticeboard_settings"},
	})
}

func TestOtherTenantsIDsAreNotFound(t *testing.T) {
	r := newRig(t)
	n, err := r.svc.Create(r.ctxA, r.clerk, r.draft())
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.svc.AddAttachment(r.ctxA, r.clerk, n.ID, "a.pdf", pdf("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Publish(r.ctxA, r.clerk, n.ID); err != nil {
		t.Fatal(err)
	}
	b := r.ctxB
	calls := map[string]func() error{
		"get":      func() error { _, err := r.svc.Get(b, n.ID); return err },
		"update":   func() error { _, err := r.svc.Update(b, r.clerkB, n.ID, r.draft()); return err },
		"submit":   func() error { _, err := r.svc.Submit(b, r.clerkB, n.ID); return err },
		"approve":  func() error { _, err := r.svc.Approve(b, r.clerkB, n.ID); return err },
		"publish":  func() error { _, err := r.svc.Publish(b, r.clerkB, n.ID); return err },
		"takedown": func() error { _, err := r.svc.TakeDown(b, r.clerkB, n.ID, "x"); return err },
		"revs":     func() error { _, err := r.svc.Revisions(b, n.ID); return err },
		"rev":      func() error { _, err := r.svc.Revision(b, n.ID, 1); return err },
		"attach":   func() error { _, err := r.svc.AddAttachment(b, r.clerkB, n.ID, "b.pdf", pdf("b")); return err },
		"download": func() error { _, _, err := r.svc.OpenAttachment(b, n.ID, a.ID); return err },
		"remove":   func() error { return r.svc.RemoveAttachment(b, r.clerkB, n.ID, a.ID) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, modules.ErrNotFound) {
				t.Fatalf("got %v, want not found", err)
			}
		})
	}
	if got, err := r.svc.Get(r.ctxA, n.ID); err != nil || got.State != noticeboard.StatePosted || got.Title != r.draft().Title {
		t.Fatalf("A's notice after B's attempts: %+v %v", got, err)
	}
}

func TestBadInputStoresNothing(t *testing.T) {
	r := newRig(t)
	later := r.clock.Now().Add(time.Hour)
	earlier := r.clock.Now().Add(30 * time.Minute)
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 100)...)
	for _, tc := range []struct {
		name  string
		edit  func(*noticeboard.Draft)
		file  string
		data  []byte
		field string
	}{
		{name: "missing title", edit: func(d *noticeboard.Draft) { d.Title = "  " }, field: "/title"},
		{name: "title only markup", edit: func(d *noticeboard.Draft) { d.Title = "<script>alert(1)</script>" }, field: "/title"},
		{name: "take-down before posting", edit: func(d *noticeboard.Draft) { d.PostingAt, d.RelevantUntil = &later, &earlier }, field: "/relevantUntil"},
		{name: "unknown category", edit: func(d *noticeboard.Draft) { d.Category = "tajne" }, field: "/category"},
		{name: "other body without name", edit: func(d *noticeboard.Draft) { d.Origin = noticeboard.OriginOther }, field: "/originName"},
		{name: "empty file", file: "prazdny.pdf", data: nil, field: "file"},
		{name: "oversized file", file: "velky.pdf", data: append(pdf("x"), make([]byte, maxTestBytes)...), field: "file"},
		{name: "exe named pdf", file: "faktura.pdf", data: exe, field: "file"},
		{name: "pdf named docx", file: "smlouva.docx", data: pdf("x"), field: "file"},
		{name: "zip posing as docx", file: "dopis.docx", data: zipOf(t, map[string]string{"virus.exe": "MZ"}), field: "file"},
		{name: "html file", file: "stranka.pdf", data: []byte("<html><script>alert(1)</script></html>"), field: "file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := [3]int{r.count(t, "noticeboard_notices"), r.count(t, "noticeboard_attachments"), r.count(t, "files")}
			var err error
			if tc.edit != nil {
				d := r.draft()
				tc.edit(&d)
				_, err = r.svc.Create(r.ctxA, r.clerk, d)
			} else {
				n, cerr := r.svc.Create(r.ctxA, r.clerk, r.draft())
				if cerr != nil {
					t.Fatal(cerr)
				}
				before[0]++
				_, err = r.svc.AddAttachment(r.ctxA, r.clerk, n.ID, tc.file, tc.data)
			}
			var inv *modules.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("got %v, want a field error", err)
			}
			if inv.Fields[0].Field != tc.field || inv.Fields[0].CS == "" || inv.Fields[0].EN == "" {
				t.Fatalf("field errors %+v, want %s with Czech and English text", inv.Fields, tc.field)
			}
			after := [3]int{r.count(t, "noticeboard_notices"), r.count(t, "noticeboard_attachments"), r.count(t, "files")}
			if after != before {
				t.Fatalf("rows (notices, attachments, files) %v → %v: something was stored", before, after)
			}
		})
	}
}

func TestTextIsSanitised(t *testing.T) {
	r := newRig(t)
	d := r.draft()
	d.Title = `Výzva <img src=x onerror=alert(1)><b>k podání</b> nabídek`
	d.Body = "<p>První odstavec.</p><script>document.location='https://evil.test'</script><p>Druhý <a href=\"javascript:alert(1)\">odkaz</a>.</p>"
	n, err := r.svc.Create(r.ctxA, r.clerk, d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.svc.Get(r.ctxA, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Výzva k podání nabídek" {
		t.Errorf("title %q", got.Title)
	}
	if got.Body != "První odstavec.\n\nDruhý odkaz." {
		t.Errorf("body %q", got.Body)
	}
	for _, s := range []string{got.Title, got.Body} {
		if strings.ContainsAny(s, "<>") || strings.Contains(s, "evil") {
			t.Errorf("markup survived: %q", s)
		}
	}
}

func TestAcceptedDocuments(t *testing.T) {
	r := newRig(t)
	n, err := r.svc.Create(r.ctxA, r.clerk, r.draft())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"vyhlaska.PDF", "application/pdf", pdf("ok")},
		{"zapis.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			zipOf(t, map[string]string{"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})},
		{"rozpocet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			zipOf(t, map[string]string{"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})},
		{"dopis.odt", "application/vnd.oasis.opendocument.text",
			zipOf(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"})},
		{"mapa.png", "image/png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")},
	} {
		a, err := r.svc.AddAttachment(r.ctxA, r.clerk, n.ID, tc.name, tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.ContentType != tc.want || len(a.SHA256) != 32 || a.Size != int64(len(tc.data)) {
			t.Fatalf("%s: %+v", tc.name, a)
		}
		_, rc, err := r.svc.OpenAttachment(r.ctxA, n.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil || !bytes.Equal(got, tc.data) {
			t.Fatalf("%s: read back %d bytes, %v", tc.name, len(got), err)
		}
	}
}

// registrar collects the module's task handlers.
type registrar map[string]jobs.Handler

func (r registrar) Handle(typ string, h jobs.Handler) error { r[typ] = h; return nil }

func TestSchedulingAtTheMinute(t *testing.T) {
	r := newRig(t)
	reg := registrar{}
	if err := r.mod.RegisterTasks(reg); err != nil {
		t.Fatal(err)
	}
	start := r.clock.Now()
	postAt, downAt := start.Add(time.Minute), start.Add(3*time.Minute)
	d := r.draft()
	d.PostingAt, d.RelevantUntil = &postAt, &downAt
	n, err := r.svc.Create(r.ctxA, r.clerk, d)
	if err != nil {
		t.Fatal(err)
	}
	if n, err = r.svc.Publish(r.ctxA, r.clerk, n.ID); err != nil || n.State != noticeboard.StateScheduled {
		t.Fatalf("publish: %v %v", n.State, err)
	}
	var due time.Time
	if err := r.e.Platform.QueryRow(context.Background(), `SELECT available_at FROM outbox WHERE task_type = 'noticeboard:post'`).Scan(&due); err != nil {
		t.Fatalf("posting task: %v", err)
	}
	if !due.Equal(postAt) {
		t.Fatalf("posting task due %v, want %v", due, postAt)
	}
	sweep := func() {
		t.Helper()
		if err := reg["noticeboard:sweep"](r.ctxA, jobs.Delivery{Type: "noticeboard:sweep"}); err != nil {
			t.Fatal(err)
		}
	}
	state := func() noticeboard.Notice {
		t.Helper()
		got, err := r.svc.Get(r.ctxA, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// A second before the minute, neither the task nor the sweep posts it.
	r.clock.Add(59 * time.Second)
	payload := []byte(`{"notice":"` + n.ID.String() + `"}`)
	if err := reg["noticeboard:post"](r.ctxA, jobs.Delivery{Type: "noticeboard:post", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	sweep()
	if s := state().State; s != noticeboard.StateScheduled {
		t.Fatalf("before its minute: %s", s)
	}
	r.clock.Add(time.Second)
	if err := reg["noticeboard:post"](r.ctxA, jobs.Delivery{Type: "noticeboard:post", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	got := state()
	if got.State != noticeboard.StatePosted || got.PostedAt == nil || !got.PostedAt.Equal(postAt) || got.Revision != 1 {
		t.Fatalf("at its minute: %+v", got)
	}
	if err := r.e.Platform.QueryRow(context.Background(), `SELECT available_at FROM outbox WHERE task_type = 'noticeboard:take-down'`).Scan(&due); err != nil || !due.Equal(downAt) {
		t.Fatalf("take-down task due %v (%v), want %v", due, err, downAt)
	}
	// The take-down task is lost; the sweep takes it down at its minute.
	r.clock.Add(2*time.Minute - time.Second)
	sweep()
	if s := state().State; s != noticeboard.StatePosted {
		t.Fatalf("before take-down: %s", s)
	}
	r.clock.Add(time.Second)
	sweep()
	got = state()
	if got.State != noticeboard.StateArchived || got.TakenDownAt == nil || !got.TakenDownAt.Equal(downAt) || got.TakeDownReason != "" {
		t.Fatalf("after take-down: %+v", got)
	}
	sweep()                                                                                                                                 // idempotent
	if entries := r.scanA(t, `SELECT count(*) FROM tenant_audit_log WHERE target = ?`, "noticeboard.notice:"+n.ID.String()); entries != 3 { // scheduled, posted, taken down
		t.Fatalf("%d audit entries, want 3", entries)
	}
}

func TestRevisions(t *testing.T) {
	r := newRig(t)
	n, err := r.svc.Create(r.ctxA, r.clerk, r.draft())
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.svc.AddAttachment(r.ctxA, r.clerk, n.ID, "puvodni.pdf", pdf("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Publish(r.ctxA, r.clerk, n.ID); err != nil {
		t.Fatal(err)
	}
	d := r.draft()
	d.Title, d.Note = "Oznámení o uzavírce (opraveno)", "Oprava data"
	if n, err = r.svc.Update(r.ctxA, r.second, n.ID, d); err != nil || n.Revision != 2 {
		t.Fatalf("update after posting: rev %d %v", n.Revision, err)
	}
	if _, err := r.svc.AddAttachment(r.ctxA, r.clerk, n.ID, "oprava.pdf", pdf("2")); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.RemoveAttachment(r.ctxA, r.clerk, n.ID, first.ID); !errors.Is(err, modules.ErrConflict) {
		t.Fatalf("removing a posted attachment: %v", err)
	}
	revs, err := r.svc.Revisions(r.ctxA, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 3 {
		t.Fatalf("%d revisions, want 3", len(revs))
	}
	if revs[0].Title != r.draft().Title || len(revs[0].Attachments) != 1 || revs[1].Title != d.Title ||
		revs[1].Note != "Oprava data" || len(revs[2].Attachments) != 2 {
		t.Fatalf("revisions: %+v", revs)
	}
	one, err := r.svc.Revision(r.ctxA, n.ID, 1)
	if err != nil || one.Title != r.draft().Title || one.Attachments[0].Name != "puvodni.pdf" {
		t.Fatalf("revision 1: %+v %v", one, err)
	}
	// The app role cannot rewrite history.
	if _, err := r.e.App.Exec(context.Background(), `UPDATE noticeboard_revisions SET title = 'x'`); err == nil {
		t.Fatal("the app role may update revisions")
	}
	if _, err := r.svc.TakeDown(r.ctxA, r.clerk, n.ID, " "); err == nil {
		t.Fatal("take-down without a reason")
	}
	got, err := r.svc.TakeDown(r.ctxA, r.clerk, n.ID, "Oznámení nahrazeno novým")
	if err != nil || got.State != noticeboard.StateArchived || got.TakeDownReason != "Oznámení nahrazeno novým" {
		t.Fatalf("take down early: %+v %v", got, err)
	}
	if _, err := r.svc.Update(r.ctxA, r.clerk, n.ID, d); !errors.Is(err, modules.ErrConflict) {
		t.Fatalf("editing the archive: %v", err)
	}
}

func TestApprovalBySecondClerk(t *testing.T) {
	r := newRig(t)
	if _, err := r.svc.PutSettings(r.ctxA, r.clerk, noticeboard.Settings{ApprovalRequired: true}); err != nil {
		t.Fatal(err)
	}
	n, err := r.svc.Create(r.ctxA, r.clerk, r.draft())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Publish(r.ctxA, r.clerk, n.ID); !errors.Is(err, modules.ErrConflict) {
		t.Fatalf("publishing without approval: %v", err)
	}
	if _, err := r.svc.Approve(r.ctxA, r.second, n.ID); !errors.Is(err, modules.ErrConflict) {
		t.Fatalf("approving a draft: %v", err)
	}
	if _, err := r.svc.Submit(r.ctxA, r.clerk, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Approve(r.ctxA, r.clerk, n.ID); !errors.Is(err, modules.ErrForbidden) {
		t.Fatalf("author approving own notice: %v", err)
	}
	// A document added while waiting sends it back: the approver has not seen it.
	if _, err := r.svc.AddAttachment(r.ctxA, r.clerk, n.ID, "priloha.pdf", pdf("p")); err != nil {
		t.Fatal(err)
	}
	if got, err := r.svc.Get(r.ctxA, n.ID); err != nil || got.State != noticeboard.StateDraft {
		t.Fatalf("after a new document: %v %v", got.State, err)
	}
	if _, err := r.svc.Submit(r.ctxA, r.clerk, n.ID); err != nil {
		t.Fatal(err)
	}
	got, err := r.svc.Approve(r.ctxA, r.second, n.ID)
	if err != nil || got.State != noticeboard.StatePosted || got.ApprovedBy == nil || *got.ApprovedBy != r.second.UserID {
		t.Fatalf("approval by a second clerk: %+v %v", got, err)
	}
	// Another tenant's board is unaffected by A's setting.
	st, err := r.svc.Settings(r.ctxB)
	if err != nil || st.ApprovalRequired {
		t.Fatalf("B's settings: %+v %v", st, err)
	}
}

func TestListFilters(t *testing.T) {
	r := newRig(t)
	for _, c := range []string{"volby", "volby", "rozpocet"} {
		d := r.draft()
		d.Category = c
		if _, err := r.svc.Create(r.ctxA, r.clerk, d); err != nil {
			t.Fatal(err)
		}
	}
	ns, total, err := r.svc.List(r.ctxA, noticeboard.Filter{Category: "volby", Limit: 1})
	if err != nil || total != 2 || len(ns) != 1 {
		t.Fatalf("category filter: %d of %d, %v", len(ns), total, err)
	}
	if _, _, err := r.svc.List(r.ctxA, noticeboard.Filter{State: "smazano"}); err == nil {
		t.Fatal("unknown state accepted")
	}
	future := r.clock.Now().Add(24 * time.Hour)
	if ns, _, err := r.svc.List(r.ctxA, noticeboard.Filter{From: &future}); err != nil || len(ns) != 0 {
		t.Fatalf("date filter: %d %v", len(ns), err)
	}
}

func TestClearingTheTimeOfAScheduledNoticePostsIt(t *testing.T) {
	r := newRig(t)
	later := r.clock.Now().Add(10 * time.Minute)
	d := r.draft()
	d.PostingAt = &later
	n, err := r.svc.Create(r.ctxA, r.clerk, d)
	if err != nil {
		t.Fatal(err)
	}
	if n, err = r.svc.Publish(r.ctxA, r.clerk, n.ID); err != nil || n.State != noticeboard.StateScheduled {
		t.Fatalf("publish: %v %v", n.State, err)
	}
	d.PostingAt = nil
	n, err = r.svc.Update(r.ctxA, r.clerk, n.ID, d)
	if err != nil || n.State != noticeboard.StatePosted || n.PostedAt == nil || !n.PostedAt.Equal(r.clock.Now()) {
		t.Fatalf("after clearing the posting time: %+v %v", n, err)
	}
}
