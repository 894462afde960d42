package noticeboard_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// rigKey is the secret key newSubRig's board runs with.
var rigKey = []byte("0123456789abcdef0123456789abcdef")

// rekeyed is the rig's board on the same database with another key ring.
func (r *subRig) rekeyed(t *testing.T, current []byte, previous ...[]byte) *noticeboard.Module {
	t.Helper()
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	mails := email.NewService(r.e.DB, tpl, mail.LogOnly{Log: slog.New(slog.DiscardHandler), MessageIDDomain: "epom.test"}, email.Config{})
	return noticeboard.New(noticeboard.Deps{DB: r.e.DB, Files: files.NewPostgres(r.e.DB), Audit: audit.New(r.e.DB, r.e.Platform),
		Mail: mails, Config: noticeboard.Config{Now: r.clock.Now, MaxAttachmentBytes: maxTestBytes,
			BaseURL: "https://epom.test", SecretKey: current, PreviousKeys: previous}})
}

// TestTokensSurviveKeyRotation: the unsubscribe link of a mail sent under key A, and a form
// served under A, work once the key is B with A in EPOM_SECRET_KEY_PREVIOUS, and not with B
// alone; new tokens are made under B.
func TestTokensSurviveKeyRotation(t *testing.T) {
	r := newSubRig(t)
	ctx := r.ctxA
	tn, _ := tenants.FromContext(ctx)
	keyB := bytes.Repeat([]byte{'B'}, 32)
	const addr = "rotace@obcan.test"
	r.subscribe(t, ctx, addr)
	if s := r.confirm(t, ctx, r.confirmToken(t, ctx, addr)); s != http.StatusOK {
		t.Fatalf("confirm: %d", s)
	}
	n := r.post(t, ctx, r.clerk, "ostatni")
	ms := r.mailsTo(t, ctx, addr, "noticeboard.notice:"+n.ID.String())
	if len(ms) != 1 {
		t.Fatalf("%d notice mails", len(ms))
	}
	link, err := url.Parse(ms[0].ListUnsubscribe)
	if err != nil {
		t.Fatal(err)
	}
	tokenA := link.Query().Get("token")
	rawID, _, _ := strings.Cut(tokenA, ".")
	idb, err := base64.RawURLEncoding.DecodeString(rawID)
	if err != nil || len(idb) != 16 {
		t.Fatalf("token %q", tokenA)
	}
	base := "/o/" + tn.Slug + "/uredni-deska/odber"
	_, form := r.page(t, ctx, http.MethodGet, base, nil)
	formA := formTokenRE.FindStringSubmatch(form)[1]

	onlyB, ringBA := r.rekeyed(t, keyB), r.rekeyed(t, keyB, rigKey)
	if err := onlyB.Service().Unsubscribe(ctx, tokenA, "192.0.2.9"); !errors.Is(err, modules.ErrNotFound) {
		t.Fatalf("A's unsubscribe token with B alone: %v, want not found", err)
	}
	r.mod = onlyB
	if status, _ := r.page(t, ctx, http.MethodPost, base, url.Values{"form": {formA}, "email": {"jana@obcan.test"}}); status != http.StatusForbidden {
		t.Fatalf("A's form token with B alone: %d", status)
	}
	r.mod = ringBA
	if status, body := r.page(t, ctx, http.MethodPost, base, url.Values{"form": {formA}, "email": {"jana@obcan.test"}}); status != http.StatusOK {
		t.Fatalf("A's form token with B+A: %d %s", status, body)
	}
	if err := ringBA.Service().Unsubscribe(ctx, tokenA, "192.0.2.9"); err != nil {
		t.Fatalf("A's unsubscribe token with B+A: %v", err)
	}
	if c, _ := ringBA.Service().SubscriberCount(ctx); c != 0 {
		t.Fatalf("subscribers after unsubscribing: %d", c)
	}
	// New links are made under B: B alone reads them, A alone does not.
	tokenB := ringBA.Service().UnsubscribeToken(uuid.UUID(idb))
	if tokenB == tokenA {
		t.Fatal("the ring signs with the previous key")
	}
	if err := onlyB.Service().Unsubscribe(ctx, tokenB, "192.0.2.9"); err != nil {
		t.Fatalf("B's token with B alone: %v", err)
	}
	if err := r.rekeyed(t, rigKey).Service().Unsubscribe(ctx, tokenB, "192.0.2.9"); !errors.Is(err, modules.ErrNotFound) {
		t.Fatalf("B's token with A: %v", err)
	}
}
