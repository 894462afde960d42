package noticeboard_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/epom-cz/epom/internal/calendar"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
)

// boardWithRevision posts a notice of A with a document, then changes it (revision 2), and
// posts a second notice; it returns the first notice's id and its document's SHA-256.
func (r *rig) boardWithRevision(t *testing.T) (noticeboard.Notice, string) {
	t.Helper()
	n, err := r.svc.Create(r.ctxA, r.clerk, r.draft())
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.svc.AddAttachment(r.ctxA, r.clerk, n.ID, "vyhlaska.pdf", pdf("vyhláška"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Publish(r.ctxA, r.clerk, n.ID); err != nil {
		t.Fatal(err)
	}
	d := r.draft()
	d.Title, d.Note = "Oznámení o uzavírce (opraveno)", "Oprava"
	if n, err = r.svc.Update(r.ctxA, r.clerk, n.ID, d); err != nil || n.Revision != 2 {
		t.Fatalf("revision 2: %d %v", n.Revision, err)
	}
	other, err := r.svc.Create(r.ctxA, r.clerk, r.draft())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Publish(r.ctxA, r.clerk, other.ID); err != nil {
		t.Fatal(err)
	}
	// A draft is not on the board.
	if _, err := r.svc.Create(r.ctxA, r.clerk, r.draft()); err != nil {
		t.Fatal(err)
	}
	return n, hex.EncodeToString(a.SHA256)
}

func TestSnapshotRecordsTheBoardOncePerDay(t *testing.T) {
	r := newRig(t)
	n, sum := r.boardWithRevision(t)
	day := calendar.NewDate(2026, 11, 22)
	first, created, err := r.svc.TakeSnapshot(r.ctxA, day)
	if err != nil || !created {
		t.Fatalf("first snapshot: %v %v", created, err)
	}
	r.clock.Add(time.Hour)
	again, created, err := r.svc.TakeSnapshot(r.ctxA, day)
	if err != nil || created || !again.TakenAt.Equal(first.TakenAt) || string(again.Content) != string(first.Content) {
		t.Fatalf("second run of the same day: created %v, %v", created, err)
	}
	if got := r.count(t, "noticeboard_snapshots"); got != 1 {
		t.Fatalf("%d snapshot rows, want 1", got)
	}
	if got := r.scanA(t, `SELECT count(*) FROM tenant_audit_log WHERE action = 'noticeboard.snapshot-taken'`); got != 1 {
		t.Fatalf("%d audit entries, want 1", got)
	}

	var c noticeboard.SnapshotContent
	if err := json.Unmarshal(first.Content, &c); err != nil {
		t.Fatal(err)
	}
	if c.Day != "2026-11-22" || len(c.Notices) != 2 || first.NoticeCount != 2 {
		t.Fatalf("content: %s", first.Content)
	}
	got := c.Notices[0]
	if got.ID != n.ID || got.Revision != 2 || got.Title != "Oznámení o uzavírce (opraveno)" ||
		len(got.Attachments) != 1 || got.Attachments[0].SHA256 != sum || got.Attachments[0].Name != "vyhlaska.pdf" {
		t.Fatalf("first notice: %+v", got)
	}
	if h := sha256.Sum256(first.Content); hex.EncodeToString(h[:]) != hex.EncodeToString(first.ContentSHA256) {
		t.Fatal("content hash")
	}
	// The next day links to this one.
	next, _, err := r.svc.TakeSnapshot(r.ctxA, day.AddDays(1))
	if err != nil || hex.EncodeToString(next.PrevHash) != hex.EncodeToString(first.Hash) {
		t.Fatalf("next day: %v", err)
	}
	list, err := r.svc.Snapshots(r.ctxA)
	if err != nil || len(list) != 2 || list[0].Day != day.AddDays(1) {
		t.Fatalf("list: %+v %v", list, err)
	}
}

func TestSnapshotsCannotBeChangedByTheApp(t *testing.T) {
	r := newRig(t)
	r.boardWithRevision(t)
	if _, _, err := r.svc.TakeSnapshot(r.ctxA, calendar.NewDate(2026, 11, 22)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE noticeboard_snapshots SET content = '{}'`,
		`DELETE FROM noticeboard_snapshots`,
	} {
		err := r.e.DB.InTx(r.ctxA, func(ctx context.Context) error { return tenants.DB(ctx).Exec(q).Error })
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "42501" {
			t.Fatalf("%s as the app role: %v, want permission denied", q, err)
		}
	}
	if got := r.count(t, "noticeboard_snapshots"); got != 1 {
		t.Fatalf("%d rows", got)
	}
}

func TestSnapshotChainDetectsTampering(t *testing.T) {
	days := []calendar.Date{calendar.NewDate(2026, 11, 20), calendar.NewDate(2026, 11, 21), calendar.NewDate(2026, 11, 22)}
	for _, tc := range []struct {
		name    string
		tamper  string // run by the owner
		badDay  string
		problem string
	}{
		{"intact", "", "", ""},
		{"content altered", `UPDATE noticeboard_snapshots SET content = replace(content, 'opraveno', 'původní') WHERE day = '2026-11-21'`,
			"2026-11-21", "content"},
		{"content and its hash altered", `UPDATE noticeboard_snapshots SET content = '{}', content_sha256 = sha256('{}') WHERE day = '2026-11-21'`,
			"2026-11-21", "hash"},
		{"all hashes of a day recomputed", `UPDATE noticeboard_snapshots SET content = '{}', content_sha256 = sha256('{}'),
			hash = sha256(prev_hash || sha256('{}')) WHERE day = '2026-11-21'`, "2026-11-21", ""},
		{"middle day deleted", `DELETE FROM noticeboard_snapshots WHERE day = '2026-11-21'`, "2026-11-21", "missing"},
		{"last day deleted", `DELETE FROM noticeboard_snapshots WHERE day = '2026-11-22'`, "2026-11-22", "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.boardWithRevision(t)
			for _, d := range days {
				if _, _, err := r.svc.TakeSnapshot(r.ctxA, d); err != nil {
					t.Fatal(err)
				}
			}
			if tc.tamper != "" {
				// As someone with direct database access: the owner, row-level security relaxed.
				ctx := context.Background()
				if _, err := r.e.Owner.Exec(ctx, `ALTER TABLE noticeboard_snapshots NO FORCE ROW LEVEL SECURITY`); err != nil {
					t.Fatal(err)
				}
				tag, err := r.e.Owner.Exec(ctx, tc.tamper)
				if err != nil || tag.RowsAffected() != 1 {
					t.Fatalf("tamper: %v %v", tag, err)
				}
				if _, err := r.e.Owner.Exec(ctx, `ALTER TABLE noticeboard_snapshots FORCE ROW LEVEL SECURITY`); err != nil {
					t.Fatal(err)
				}
			}
			check, err := r.svc.VerifySnapshots(r.ctxA)
			if err != nil {
				t.Fatal(err)
			}
			if tc.badDay == "" {
				if !check.Intact || check.Days != 3 {
					t.Fatalf("intact chain reported %+v", check)
				}
				return
			}
			if check.Intact || check.Day == nil || check.Day.String() != tc.badDay || !strings.Contains(check.Problem, tc.problem) {
				t.Fatalf("got %+v (day %v), want day %s, problem with %q", check, check.Day, tc.badDay, tc.problem)
			}
		})
	}
}

func TestSnapshotsOfAnotherTenantAreInvisible(t *testing.T) {
	r := newRig(t)
	r.boardWithRevision(t)
	day := calendar.NewDate(2026, 11, 22)
	if _, _, err := r.svc.TakeSnapshot(r.ctxA, day); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Snapshot(r.ctxB, day); !errors.Is(err, modules.ErrNotFound) {
		t.Fatalf("B reads A's day: %v", err)
	}
	if list, err := r.svc.Snapshots(r.ctxB); err != nil || len(list) != 0 {
		t.Fatalf("B's list: %d %v", len(list), err)
	}
	// B's own snapshot of the same day is B's board (empty), its own chain, and intact.
	b, created, err := r.svc.TakeSnapshot(r.ctxB, day)
	if err != nil || !created || b.NoticeCount != 0 {
		t.Fatalf("B's snapshot: %+v %v", b, err)
	}
	for _, ctx := range []context.Context{r.ctxA, r.ctxB} {
		if check, err := r.svc.VerifySnapshots(ctx); err != nil || !check.Intact || check.Days != 1 {
			t.Fatalf("chain: %+v %v", check, err)
		}
	}
}

func TestSnapshotScheduleIsAfterMidnightInPrague(t *testing.T) {
	m := noticeboard.New(noticeboard.Deps{})
	var found bool
	for _, sp := range m.Periodic() {
		if sp.Name != "noticeboard:snapshot" {
			continue
		}
		found = true
		if sp.Cron != "5 0 * * *" {
			t.Errorf("cron %q", sp.Cron)
		}
		// 00:05 in Prague on 22 November is 23:05 UTC on the 21st.
		task := sp.Task(tenants.NewID(), time.Date(2026, 11, 21, 23, 5, 0, 0, time.UTC))
		if task.Type != "noticeboard:snapshot" || !strings.Contains(string(task.Payload), `"2026-11-22"`) {
			t.Errorf("task %s %s", task.Type, task.Payload)
		}
	}
	if !found {
		t.Fatal("no snapshot schedule")
	}
}
