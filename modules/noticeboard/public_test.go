package noticeboard_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/unicode/norm"

	"github.com/epom-cz/epom/modules/noticeboard"
)

// ofnDir holds the official OFN schemas (see its README): EPOM_OFN_DIR, else the shared copy.
func ofnDir(t *testing.T) string {
	dir := os.Getenv("EPOM_OFN_DIR")
	if dir == "" {
		dir = "/work/shared/ofn"
	}
	if _, err := os.Stat(filepath.Join(dir, "úřední-desky")); err != nil {
		if os.Getenv("EPOM_REQUIRE_OFN") != "" {
			t.Fatalf("OFN schemas not found in %s", dir)
		}
		t.Skipf("OFN schemas not found in %s (set EPOM_OFN_DIR)", dir)
	}
	return dir
}

// ofnLoader resolves the schemas' absolute URLs to the local copies, never the network.
type ofnLoader struct{ dir string }

func (l ofnLoader) Load(raw string) (any, error) {
	raw, _, _ = strings.Cut(raw, "#")
	if u, err := url.PathUnescape(raw); err == nil {
		raw = u
	}
	raw = norm.NFC.String(raw)
	var rel string
	switch {
	case strings.HasPrefix(raw, "https://ofn.gov.cz/"):
		rel = strings.TrimPrefix(raw, "https://ofn.gov.cz/")
	case strings.HasPrefix(raw, "https://raw.githubusercontent.com/"):
		rel = "external/raw.githubusercontent.com/" + strings.TrimPrefix(raw, "https://raw.githubusercontent.com/")
	default:
		return nil, errors.New("no local copy of " + raw)
	}
	f, err := os.Open(filepath.Join(l.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

func ofnSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.UseLoader(ofnLoader{dir: ofnDir(t)})
	c.DefaultDraft(jsonschema.Draft2019)
	c.AssertFormat()
	s, err := c.Compile("https://ofn.gov.cz/úřední-desky/2021-07-20/schémata/úřední-deska.json")
	if err != nil {
		t.Fatalf("compile the OFN schema: %v", err)
	}
	return s
}

func TestPublicBoardAndOpenData(t *testing.T) {
	schema := ofnSchema(t)
	w := newWeb(t)
	clerk, second := w.users["clerk@a.test"], w.users["clerk2@a.test"]
	if _, err := w.svc.PutSettings(w.ctxA, clerk, noticeboard.Settings{ApprovalRequired: true}); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(30 * 24 * time.Hour)
	// Every optional field filled.
	full, err := w.svc.Create(w.ctxA, clerk, noticeboard.Draft{Title: "Veřejná vyhláška – změna č. 2 územního plánu",
		Body: "Veřejné projednání se koná 15. 12.\n\nNámitky lze podat do 7 dnů.", Category: "uzemni-plan",
		Origin: noticeboard.OriginOther, OriginName: "Krajský úřad Libereckého kraje", ReferenceNumber: "KULK/1207/2026",
		FileMark: "UP/2026/14", RelevantUntil: &until})
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte("%PDF-1.4\n% vykres\n%%EOF\n")
	a, err := w.svc.AddAttachment(w.ctxA, clerk, full.ID, "vykres.pdf", doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{full.ID.String()} {
		if _, err := w.svc.Submit(w.ctxA, clerk, full.ID); err != nil {
			t.Fatal(id, err)
		}
		if _, err := w.svc.Approve(w.ctxA, second, full.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Open-ended, with nothing optional; and a draft nobody may see.
	if _, err := w.svc.PutSettings(w.ctxA, clerk, noticeboard.Settings{}); err != nil {
		t.Fatal(err)
	}
	bare, err := w.svc.Create(w.ctxA, clerk, noticeboard.Draft{Title: "Svoz odpadu <script>x</script>", Category: "ostatni"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Publish(w.ctxA, clerk, bare.ID); err != nil {
		t.Fatal(err)
	}
	draft, err := w.svc.Create(w.ctxA, clerk, noticeboard.Draft{Title: "Koncept DRAFT-MARKER", Category: "volby"})
	if err != nil {
		t.Fatal(err)
	}
	anon := &client{w: w}

	res := anon.do(t, "GET", "/o/liberec/uredni-deska.jsonld", "", "")
	if res.Code != 200 || !strings.HasPrefix(res.Header().Get("Content-Type"), "application/ld+json") {
		t.Fatalf("JSON-LD: %d %v", res.Code, res.Header())
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("the board's JSON-LD does not validate against OFN Úřední desky: %v\n%s", err, res.Body)
	}
	var board struct {
		Provozovatel struct{ Ičo string } `json:"provozovatel"`
		Informace    []map[string]any     `json:"informace"`
	}
	if err := json.Unmarshal(res.Body.Bytes(), &board); err != nil {
		t.Fatal(err)
	}
	if board.Provozovatel.Ičo != "00262978" || len(board.Informace) != 2 {
		t.Fatalf("board: operator %q, %d notices:\n%s", board.Provozovatel.Ičo, len(board.Informace), res.Body)
	}
	body := res.Body.String()
	for _, want := range []string{`"nespecifikovaný": true`, `"číslo_jednací": "KULK/1207/2026"`, `"spisová_značka": "UP/2026/14"`,
		`"schválení"`, "/prilohy/" + a.ID.String(), `"Územní plán"`} {
		if !strings.Contains(body, want) {
			t.Errorf("JSON-LD lacks %s", want)
		}
	}
	if strings.Contains(body, "DRAFT-MARKER") {
		t.Error("a draft is in the open data")
	}
	// The schema can fail: a broken document is refused.
	var broken map[string]any
	_ = json.Unmarshal(res.Body.Bytes(), &broken)
	broken["provozovatel"] = map[string]any{"typ": "Osoba", "ičo": "123"}
	if err := schema.Validate(broken); err == nil {
		t.Error("a document with a bad IČO validates")
	}

	res = anon.do(t, "GET", "/o/liberec/uredni-deska", "", "")
	page := res.Body.String()
	if res.Code != 200 || !strings.Contains(page, "změna č. 2 územního plánu") || strings.Contains(page, "DRAFT-MARKER") ||
		strings.Contains(page, "<script>x") || !strings.Contains(page, "Svoz odpadu") {
		t.Fatalf("board page: %d\n%s", res.Code, page)
	}
	res = anon.do(t, "GET", "/o/liberec/uredni-deska?kategorie=uzemni-plan&q=PROJEDNÁNÍ", "", "")
	if page = res.Body.String(); !strings.Contains(page, "územního plánu") || strings.Contains(page, "Svoz odpadu") {
		t.Fatalf("filtered board: %s", page)
	}
	res = anon.do(t, "GET", "/o/liberec/uredni-deska/"+full.ID.String(), "", "")
	if page = res.Body.String(); res.Code != 200 || !strings.Contains(page, "Krajský úřad Libereckého kraje") || !strings.Contains(page, "vykres.pdf") {
		t.Fatalf("notice page: %d %s", res.Code, page)
	}
	res = anon.do(t, "GET", "/o/liberec/uredni-deska/"+full.ID.String()+"/prilohy/"+a.ID.String(), "", "")
	if res.Code != 200 || !bytes.Equal(res.Body.Bytes(), doc) || res.Header().Get("Content-Type") != "application/pdf" {
		t.Fatalf("document: %d %v", res.Code, res.Header())
	}
	for _, path := range []string{
		"/o/liberec/uredni-deska/" + draft.ID.String(), // not public yet
		"/o/kunzak/uredni-deska/" + full.ID.String(),   // another tenant's id
		"/o/kunzak/uredni-deska/" + full.ID.String() + "/prilohy/" + a.ID.String(),
		"/o/liberec/uredni-deska/nic",
	} {
		if res := anon.do(t, "GET", path, "", ""); res.Code != 404 || strings.Contains(res.Body.String(), "územního plánu") {
			t.Errorf("%s: %d", path, res.Code)
		}
	}
	if _, err := w.svc.TakeDown(w.ctxA, clerk, bare.ID, "Svoz proběhl"); err != nil {
		t.Fatal(err)
	}
	res = anon.do(t, "GET", "/o/liberec/uredni-deska/archiv", "", "")
	if page = res.Body.String(); !strings.Contains(page, "Svoz odpadu") || strings.Contains(page, "územního plánu") {
		t.Fatalf("archive: %s", page)
	}
}
