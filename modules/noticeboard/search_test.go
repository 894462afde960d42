package noticeboard_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/modules/noticeboard"
)

func TestCzechSearch(t *testing.T) {
	r := newRig(t)
	create := func(tenant string, by noticeboard.Actor, d noticeboard.Draft, publish bool) string {
		t.Helper()
		c := r.ctxA
		if tenant == "B" {
			c = r.ctxB
		}
		n, err := r.svc.Create(c, by, d)
		if err != nil {
			t.Fatal(err)
		}
		if publish {
			if _, err := r.svc.Publish(c, by, n.ID); err != nil {
				t.Fatal(err)
			}
		}
		return n.Title
	}
	dogs := create("A", r.clerk, noticeboard.Draft{Title: "Vyhláška o místním poplatku ze psů",
		Body: "Obecně závazná vyhláška č. 1/2026.\n\nPlatí od 1. ledna.", Category: "vyhlasky",
		ReferenceNumber: "OÚ-ŘÍZ/15/2026", FileMark: "SZ 2026/Ř-7"}, true)
	budget := create("A", r.clerk, noticeboard.Draft{Title: "Rozpočtové opatření č. 3",
		Body: "Schválené zastupitelstvem obce; 100 % čerpání.", Category: "rozpocet", ReferenceNumber: "FIN/3/2026"}, true)
	draft := create("A", r.clerk, noticeboard.Draft{Title: "VYHLÁŠKA – koncept", Category: "vyhlasky"}, false)
	create("B", r.clerkB, noticeboard.Draft{Title: "Vyhláška města Kunžak", Category: "vyhlasky"}, true)

	for _, tc := range []struct {
		q      string
		public []string // on the public board
		clerk  []string // in the clerk's list (every state)
	}{
		{"vyhlaska", []string{dogs}, []string{dogs, draft}},
		{"VYHLÁŠKA", []string{dogs}, []string{dogs, draft}},
		{"Vyhlaška", []string{dogs}, []string{dogs, draft}},
		{"vyhl", []string{dogs}, []string{dogs, draft}},  // a partial word
		{"psu", []string{dogs}, []string{dogs}},          // "psů" without its ring
		{"poplatek", nil, nil},                           // no stemming: "poplatku" is not "poplatek"
		{"poplat LEDNA", []string{dogs}, []string{dogs}}, // every word, anywhere in the text
		{"riz/15", []string{dogs}, []string{dogs}},       // číslo jednací
		{"sz 2026/r-7", []string{dogs}, []string{dogs}},  // spisová značka
		{"rozpoctove opatreni", []string{budget}, []string{budget}},
		{"ZASTUPITELSTVEM", []string{budget}, []string{budget}},
		{"opatření vyhláška", nil, nil},               // words of two notices are no match
		{"100 %", []string{budget}, []string{budget}}, // % is a character, not a wildcard
		{"%", []string{budget}, []string{budget}},     // only the notice with a literal %
		{"_", nil, nil},
		{"kunzak", nil, nil}, // another tenant's notice
		{"", []string{budget, dogs}, []string{draft, budget, dogs}},
	} {
		t.Run(tc.q, func(t *testing.T) {
			ns, total, err := r.svc.Store().PublicList(r.ctxA, noticeboard.PublicFilter{Query: tc.q})
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(ns); !sameSet(got, tc.public) || total != len(tc.public) {
				t.Errorf("public board: %q (total %d), want %q", got, total, tc.public)
			}
			ns, total, err = r.svc.List(r.ctxA, noticeboard.Filter{Query: tc.q})
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(ns); !sameSet(got, tc.clerk) || total != len(tc.clerk) {
				t.Errorf("clerk's list: %q (total %d), want %q", got, total, tc.clerk)
			}
		})
	}
}

func titles(ns []noticeboard.Notice) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Title)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestAPISearch(t *testing.T) {
	w := newWeb(t)
	clerk := w.signIn(t, "clerk@a.test")
	var n gen.Notice
	clerk.json(t, "POST", base+"/notices", `{"title":"Návrh rozpočtu 2027","category":"rozpocet","referenceNumber":"OÚ/1/2026"}`, 201, &n)
	clerk.json(t, "POST", base+"/notices", `{"title":"Svoz odpadu","category":"ostatni"}`, 201, nil)
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"rozpoctu", 1}, {"NÁVRH", 1}, {"ou/1/", 1}, {"rozpočet", 0}, {"", 2},
	} {
		var list gen.NoticeList
		clerk.json(t, "GET", base+"/notices?q="+url.QueryEscape(tc.q), "", 200, &list)
		if list.Total != tc.want || (tc.want == 1 && list.Items[0].Id != n.Id) {
			t.Errorf("q=%q: %d notices, want %d", tc.q, list.Total, tc.want)
		}
	}
	res := clerk.do(t, "GET", base+"/notices?q="+strings.Repeat("x", 201), "", "")
	if fields := problemFields(t, res); res.Code != 400 || len(fields) != 1 || fields[0].Field != "q" {
		t.Fatalf("an over-long query: %d %s", res.Code, res.Body)
	}
}
