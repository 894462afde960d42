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

func TestAPIPostingCertificate(t *testing.T) {
	w := newWeb(t)
	clerk := w.signIn(t, "clerk@a.test")
	by := w.users["clerk@a.test"]
	n, err := w.svc.Create(w.ctxA, by, noticeboard.Draft{Title: "Veřejná vyhláška – oznámení o zahájení řízení",
		Category: "vyhlasky", ReferenceNumber: "MML/123/2026", FileMark: "SZ 45/2026"})
	if err != nil {
		t.Fatal(err)
	}
	doc := pdf("vyhláška")
	if _, err := w.svc.AddAttachment(w.ctxA, by, n.ID, "vyhlaska.pdf", doc); err != nil {
		t.Fatal(err)
	}
	if n, err = w.svc.Publish(w.ctxA, by, n.ID); err != nil {
		t.Fatal(err)
	}
	// Two days with the notice on the board, then it comes down, then a day without it.
	day := calendar.NewDate(2026, 11, 22)
	for _, d := range []calendar.Date{day, day.AddDays(1)} {
		if _, _, err := w.svc.TakeSnapshot(w.ctxA, d); err != nil {
			t.Fatal(err)
		}
	}
	second, err := w.svc.Snapshot(w.ctxA, day.AddDays(1))
	if err != nil {
		t.Fatal(err)
	}
	if n, err = w.svc.TakeDown(w.ctxA, by, n.ID, "Řízení bylo zastaveno"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.TakeSnapshot(w.ctxA, day.AddDays(2)); err != nil {
		t.Fatal(err)
	}

	var c gen.PostingCertificate
	w.signIn(t, "auditor@a.test").json(t, "GET", base+"/notices/"+n.ID.String()+"/certificate", "", 200, &c)
	var detail gen.Notice
	clerk.json(t, "GET", base+"/notices/"+n.ID.String(), "", 200, &detail)
	sum := sha256.Sum256(doc)
	switch {
	case !c.PostedAt.Equal(*n.PostedAt) || c.TakenDownAt == nil || !c.TakenDownAt.Equal(*n.TakenDownAt):
		t.Errorf("times: posted %v taken down %v, want %v %v", c.PostedAt, c.TakenDownAt, n.PostedAt, n.TakenDownAt)
	case c.TakeDownReason == nil || *c.TakeDownReason != "Řízení bylo zastaveno":
		t.Errorf("reason: %v", c.TakeDownReason)
	case c.ReferenceNumber != "MML/123/2026" || c.FileMark != "SZ 45/2026" || c.Category != "vyhlasky" || c.RevisionCount != 1:
		t.Errorf("identification: %+v", c)
	case detail.DeliveredOn == nil || c.DeliveredOn.String() != detail.DeliveredOn.String() ||
		c.EarliestTakeDownOn.String() != detail.EarliestTakeDownOn.String():
		t.Errorf("legal dates %v %v differ from the detail's %v %v", c.DeliveredOn, c.EarliestTakeDownOn, detail.DeliveredOn, detail.EarliestTakeDownOn)
	case len(c.Attachments) != 1 || c.Attachments[0].Name != "vyhlaska.pdf" || c.Attachments[0].Sha256 != hex.EncodeToString(sum[:]) ||
		c.Attachments[0].Size != int64(len(doc)):
		t.Errorf("attachments: %+v", c.Attachments)
	case c.Evidence.Days != 2 || c.Evidence.FirstDay == nil || c.Evidence.FirstDay.String() != "2026-11-22" ||
		c.Evidence.LastDay == nil || c.Evidence.LastDay.String() != "2026-11-23" || !c.Evidence.ChainIntact ||
		c.Evidence.LatestHash == nil || *c.Evidence.LatestHash != hex.EncodeToString(second.Hash):
		t.Errorf("evidence: %+v", c.Evidence)
	case !strings.Contains(c.Municipality.Name, "Liberec") || c.Municipality.Ico == nil || *c.Municipality.Ico == "" || c.IssuedAt.IsZero():
		t.Errorf("municipality %+v, issued %v", c.Municipality, c.IssuedAt)
	}

	// A notice that hangs has no take-down time yet.
	hanging, err := w.svc.Create(w.ctxA, by, noticeboard.Draft{Title: "Oznámení", Category: "ostatni"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Publish(w.ctxA, by, hanging.ID); err != nil {
		t.Fatal(err)
	}
	var h gen.PostingCertificate
	clerk.json(t, "GET", base+"/notices/"+hanging.ID.String()+"/certificate", "", 200, &h)
	if h.TakenDownAt != nil || h.Evidence.Days != 0 || h.Evidence.LatestHash != nil {
		t.Errorf("hanging notice: %+v", h)
	}

	draft, err := w.svc.Create(w.ctxA, by, noticeboard.Draft{Title: "Koncept", Category: "ostatni"})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := w.svc.Create(w.ctxB, w.users["clerk@b.test"], noticeboard.Draft{Title: "Kunžak MARKER-B", Category: "volby"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Publish(w.ctxB, w.users["clerk@b.test"], nb.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       int
		body       string // in the answer
	}{
		{"a draft never hung", base + "/notices/" + draft.ID.String() + "/certificate", 409, "nebyla vyvěšena"},
		{"B's notice by A's slug", base + "/notices/" + nb.ID.String() + "/certificate", 404, ""},
		{"B's slug", "/api/v1/tenants/kunzak/noticeboard/notices/" + nb.ID.String() + "/certificate", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := clerk.do(t, "GET", tc.path, "", "")
			if res.Code != tc.want || !strings.Contains(res.Body.String(), tc.body) || strings.Contains(res.Body.String(), "MARKER-B") {
				t.Fatalf("%d %s", res.Code, res.Body)
			}
		})
	}
}
