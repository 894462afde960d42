package noticeboard_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/internal/calendar"
	"github.com/epom-cz/epom/modules/noticeboard"
)

func TestAPILegalDatesAndSnapshots(t *testing.T) {
	w := newWeb(t)
	clerk := w.signIn(t, "clerk@a.test")
	var n gen.Notice
	clerk.json(t, "POST", base+"/notices", `{"title":"Veřejná vyhláška","category":"vyhlasky"}`, 201, &n)
	if n.DeliveredOn != nil {
		t.Fatalf("a draft without a posting time has a delivery day: %v", n.DeliveredOn)
	}
	clerk.json(t, "POST", base+"/notices/"+n.Id.String()+"/publish", "", 200, &n)
	// The test server reads days in UTC.
	posted := calendar.DateOf(*n.PostedAt, n.PostedAt.Location())
	if n.DeliveredOn == nil || n.EarliestTakeDownOn == nil ||
		n.DeliveredOn.String() != posted.AddDays(15).String() || n.EarliestTakeDownOn.String() != posted.AddDays(16).String() {
		t.Fatalf("posted %s: delivered %v, take-down %v", posted, n.DeliveredOn, n.EarliestTakeDownOn)
	}
	var got gen.Notice
	clerk.json(t, "GET", base+"/notices/"+n.Id.String(), "", 200, &got)
	if got.DeliveredOn == nil || got.DeliveredOn.String() != n.DeliveredOn.String() {
		t.Fatalf("detail: %v", got.DeliveredOn)
	}

	day := calendar.NewDate(2026, 11, 22)
	if _, _, err := w.svc.TakeSnapshot(w.ctxA, day); err != nil {
		t.Fatal(err)
	}
	// B has its own notice and a snapshot of another day.
	nb, err := w.svc.Create(w.ctxB, w.users["clerk@b.test"], noticeboard.Draft{Title: "Kunžak MARKER-B", Category: "volby"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Publish(w.ctxB, w.users["clerk@b.test"], nb.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.TakeSnapshot(w.ctxB, day.AddDays(1)); err != nil {
		t.Fatal(err)
	}

	auditor := w.signIn(t, "auditor@a.test")
	var list gen.NoticeboardSnapshotList
	auditor.json(t, "GET", base+"/snapshots", "", 200, &list)
	if len(list.Items) != 1 || list.Items[0].Day.String() != "2026-11-22" || list.Items[0].NoticeCount != 1 || !list.ChainIntact {
		t.Fatalf("list: %+v", list)
	}
	var snap gen.NoticeboardSnapshot
	auditor.json(t, "GET", base+"/snapshots/2026-11-22", "", 200, &snap)
	sum := sha256.Sum256([]byte(snap.Content))
	if hex.EncodeToString(sum[:]) != snap.ContentSha256 || snap.Hash != list.Items[0].Hash ||
		!strings.Contains(snap.Content, n.Id.String()) || snap.PrevHash != strings.Repeat("0", 64) {
		t.Fatalf("snapshot: %+v", snap)
	}
	// B's day is not A's: 404 without a word of B.
	res := auditor.do(t, "GET", base+"/snapshots/2026-11-23", "", "")
	if res.Code != 404 || strings.Contains(res.Body.String(), "MARKER-B") {
		t.Fatalf("B's day: %d %s", res.Code, res.Body)
	}
	auditor.json(t, "GET", base+"/snapshots/2026-02-30", "", 400, nil)
	auditor.json(t, "GET", "/api/v1/tenants/kunzak/noticeboard/snapshots", "", 403, nil)
}
