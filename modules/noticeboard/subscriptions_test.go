package noticeboard_test

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/transfer"
)

// subRig is the rig with tenant mail, a base URL and a secret key: subscriptions work.
type subRig struct {
	*rig
	notify jobs.Handler
}

func newSubRig(t *testing.T) *subRig {
	t.Helper()
	r := newRig(t)
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	mails := email.NewService(r.e.DB, tpl, mail.LogOnly{Log: slog.New(slog.DiscardHandler), MessageIDDomain: "epom.test"}, email.Config{})
	m := noticeboard.New(noticeboard.Deps{DB: r.e.DB, Files: files.NewPostgres(r.e.DB), Audit: audit.New(r.e.DB, r.e.Platform),
		Mail: mails, Config: noticeboard.Config{Now: r.clock.Now, MaxAttachmentBytes: maxTestBytes,
			BaseURL: "https://epom.test", SecretKey: rigKey}})
	r.mod, r.svc = m, m.Service()
	reg := registrar{}
	if err := m.RegisterTasks(reg); err != nil {
		t.Fatal(err)
	}
	return &subRig{rig: r, notify: reg["noticeboard:notify"]}
}

type sentMail struct {
	To, Subject, Text, Ref, ListUnsubscribe string
}

// mails lists the tenant's mail log, oldest first.
func (r *subRig) mails(t *testing.T, ctx context.Context) []sentMail {
	t.Helper()
	var out []sentMail
	err := r.e.DB.InTx(ctx, func(ctx context.Context) error {
		rows, err := tenants.DB(ctx).Raw(`SELECT to_address, subject, text_body, ref, list_unsubscribe FROM mail_log ORDER BY created_at, id`).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m sentMail
			if err := rows.Scan(&m.To, &m.Subject, &m.Text, &m.Ref, &m.ListUnsubscribe); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (r *subRig) mailsTo(t *testing.T, ctx context.Context, to, ref string) []sentMail {
	var out []sentMail
	for _, m := range r.mails(t, ctx) {
		if m.To == to && (ref == "" || m.Ref == ref) {
			out = append(out, m)
		}
	}
	return out
}

// page serves a public request of the board of ctx and returns the status and the body.
func (r *subRig) page(t *testing.T, ctx context.Context, method, target string, form url.Values) (int, string) {
	t.Helper()
	tn, _ := tenants.FromContext(ctx)
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	status, out := 0, ""
	rest := strings.TrimPrefix(req.URL.Path, "/o/"+tn.Slug+"/")
	r.mod.ServePublic(w, req, modules.PublicRequest{Ctx: ctx, Tenant: tenants.Resolved{Tenant: tn}, Rest: rest, Lang: "cs",
		BaseURL: "https://epom.test", ClientIP: "192.0.2.9",
		Page:     func(s int, _ string, b template.HTML) { status, out = s, string(b) },
		NotFound: func() { status = http.StatusNotFound }})
	if status == 0 {
		status, out = w.Code, w.Body.String()
	}
	return status, out
}

var formTokenRE = regexp.MustCompile(`name="form" value="([^"]+)"`)

// subscribe fills in and sends the public form.
func (r *subRig) subscribe(t *testing.T, ctx context.Context, addr string, cats ...string) (int, string) {
	t.Helper()
	tn, _ := tenants.FromContext(ctx)
	base := "/o/" + tn.Slug + "/uredni-deska/odber"
	status, body := r.page(t, ctx, http.MethodGet, base, nil)
	m := formTokenRE.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("form: %d %s", status, body)
	}
	return r.page(t, ctx, http.MethodPost, base, url.Values{"form": {m[1]}, "email": {addr}, "kategorie": cats})
}

var confirmRE = regexp.MustCompile(`/odber/potvrdit\?token=([A-Za-z0-9_-]+)`)

func (r *subRig) confirmToken(t *testing.T, ctx context.Context, addr string) string {
	t.Helper()
	ms := r.mailsTo(t, ctx, addr, "noticeboard.subscription")
	if len(ms) == 0 {
		t.Fatalf("no confirmation mail to %s", addr)
	}
	m := confirmRE.FindStringSubmatch(ms[len(ms)-1].Text)
	if m == nil {
		t.Fatalf("no confirmation link in %q", ms[len(ms)-1].Text)
	}
	return m[1]
}

func (r *subRig) confirm(t *testing.T, ctx context.Context, token string) int {
	t.Helper()
	tn, _ := tenants.FromContext(ctx)
	target := "/o/" + tn.Slug + "/uredni-deska/odber/potvrdit?token=" + token
	status, body := r.page(t, ctx, http.MethodPost, target, url.Values{})
	if status == http.StatusOK && !strings.Contains(body, "potvrzen") {
		t.Fatalf("confirmed page: %s", body)
	}
	return status
}

// post publishes a notice of category now and runs the notification task (twice when retry).
func (r *subRig) post(t *testing.T, ctx context.Context, by noticeboard.Actor, category string) noticeboard.Notice {
	t.Helper()
	d := r.draft()
	d.Category = category
	d.Title = "Oznámení " + category + " " + uuid.NewString()[:8]
	n, err := r.svc.Create(ctx, by, d)
	if err != nil {
		t.Fatal(err)
	}
	if n, err = r.svc.Publish(ctx, by, n.ID); err != nil || n.State != noticeboard.StatePosted {
		t.Fatalf("publish: %v %v", n.State, err)
	}
	var tasks int
	if err := r.e.Platform.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE task_type = 'noticeboard:notify'
		AND convert_from(payload, 'UTF8') LIKE '%' || $1 || '%'`, n.ID.String()).Scan(&tasks); err != nil || tasks != 1 {
		t.Fatalf("notify tasks in the outbox: %d (%v), want 1", tasks, err)
	}
	r.runNotify(t, ctx, n.ID)
	return n
}

func (r *subRig) runNotify(t *testing.T, ctx context.Context, id uuid.UUID) {
	t.Helper()
	if err := r.notify(ctx, jobs.Delivery{Type: "noticeboard:notify", Payload: []byte(`{"notice":"` + id.String() + `"}`)}); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionDoubleOptInAndNotices(t *testing.T) {
	r := newSubRig(t)
	ctx := r.ctxA
	const all, budget, lazy = "vsechno@obcan.test", "rozpocet@obcan.test", "nepotvrdil@obcan.test"

	status, body := r.subscribe(t, ctx, all)
	if status != http.StatusOK || !strings.Contains(body, "Zkontrolujte") {
		t.Fatalf("subscribe: %d %s", status, body)
	}
	if status, _ := r.subscribe(t, ctx, budget, "rozpocet"); status != http.StatusOK {
		t.Fatalf("subscribe with a category: %d", status)
	}
	if status, _ := r.subscribe(t, ctx, lazy); status != http.StatusOK {
		t.Fatalf("subscribe: %d", status)
	}
	if n, _ := r.svc.SubscriberCount(ctx); n != 0 {
		t.Fatalf("subscribers before confirmation: %d", n)
	}
	// A GET of the confirmation link (a link scanner) only shows the button.
	tokenAll := r.confirmToken(t, ctx, all)
	tn, _ := tenants.FromContext(ctx)
	if status, body := r.page(t, ctx, http.MethodGet, "/o/"+tn.Slug+"/uredni-deska/odber/potvrdit?token="+tokenAll, nil); status != http.StatusOK || !strings.Contains(body, `method="post"`) {
		t.Fatalf("confirmation page: %d %s", status, body)
	}
	if n, _ := r.svc.SubscriberCount(ctx); n != 0 {
		t.Fatalf("a GET confirmed: %d subscribers", n)
	}
	if s := r.confirm(t, ctx, tokenAll); s != http.StatusOK {
		t.Fatalf("confirm: %d", s)
	}
	if s := r.confirm(t, ctx, tokenAll); s != http.StatusNotFound {
		t.Fatalf("a used token confirmed again: %d", s)
	}
	if s := r.confirm(t, ctx, r.confirmToken(t, ctx, budget)); s != http.StatusOK {
		t.Fatalf("confirm: %d", s)
	}
	if n, _ := r.svc.SubscriberCount(ctx); n != 2 {
		t.Fatalf("subscribers: %d, want 2", n)
	}

	// A notice of another category reaches only the subscriber of everything, once.
	other := r.post(t, ctx, r.clerk, "ostatni")
	ref := "noticeboard.notice:" + other.ID.String()
	got := r.mailsTo(t, ctx, all, ref)
	if len(got) != 1 || got[0].Subject == "" || !strings.Contains(got[0].Text, other.Title) ||
		!strings.Contains(got[0].Text, "/uredni-deska/"+other.ID.String()) || !strings.Contains(got[0].Text, "Ostatní") {
		t.Fatalf("mail about the notice: %+v", got)
	}
	if !strings.HasPrefix(got[0].ListUnsubscribe, "https://epom.test/o/"+tn.Slug+"/uredni-deska/odber/zrusit?token=") {
		t.Fatalf("List-Unsubscribe: %q", got[0].ListUnsubscribe)
	}
	if len(r.mailsTo(t, ctx, budget, ref)) != 0 || len(r.mailsTo(t, ctx, lazy, ref)) != 0 {
		t.Fatal("the category filter or the confirmation was ignored")
	}
	// A retried task mails nobody again.
	r.runNotify(t, ctx, other.ID)
	if n := len(r.mailsTo(t, ctx, all, ref)); n != 1 {
		t.Fatalf("after a retry: %d mails, want 1", n)
	}
	budgetNotice := r.post(t, ctx, r.clerk, "rozpocet")
	bref := "noticeboard.notice:" + budgetNotice.ID.String()
	if len(r.mailsTo(t, ctx, all, bref)) != 1 || len(r.mailsTo(t, ctx, budget, bref)) != 1 || len(r.mailsTo(t, ctx, lazy, bref)) != 0 {
		t.Fatalf("budget notice mails: %+v", r.mails(t, ctx))
	}

	// One click unsubscribes (the token from the mail); later notices do not come.
	u, err := url.Parse(got[0].ListUnsubscribe)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := r.page(t, ctx, http.MethodGet, u.RequestURI(), nil); status != http.StatusOK || !strings.Contains(body, `method="post"`) {
		t.Fatalf("unsubscribe page: %d %s", status, body)
	}
	// As a mail client's RFC 8058 one-click POST.
	if status, body := r.page(t, ctx, http.MethodPost, u.RequestURI(), url.Values{"List-Unsubscribe": {"One-Click"}}); status != http.StatusOK || !strings.Contains(body, "zrušen") {
		t.Fatalf("unsubscribe: %d %s", status, body)
	}
	if status, _ := r.page(t, ctx, http.MethodPost, u.RequestURI(), url.Values{}); status != http.StatusOK {
		t.Fatalf("unsubscribing twice: %d", status)
	}
	third := r.post(t, ctx, r.clerk, "ostatni")
	if n := len(r.mailsTo(t, ctx, all, "noticeboard.notice:"+third.ID.String())); n != 0 {
		t.Fatalf("mailed after unsubscribing: %d", n)
	}
	if n, _ := r.svc.SubscriberCount(ctx); n != 1 {
		t.Fatalf("subscribers after unsubscribing: %d, want 1", n)
	}

	// The tokens of board A do nothing on board B.
	tnB, _ := tenants.FromContext(r.ctxB)
	if _, err := r.svc.Confirm(r.ctxB, r.confirmToken(t, ctx, lazy), ""); err == nil {
		t.Fatal("A's confirmation token worked on B")
	}
	if status, _ := r.page(t, r.ctxB, http.MethodPost, "/o/"+tnB.Slug+"/uredni-deska/odber/zrusit?"+u.RawQuery, url.Values{}); status != http.StatusNotFound {
		t.Fatalf("A's unsubscribe token on B: %d", status)
	}
	// A forged unsubscribe token is refused.
	forged := r.svc.UnsubscribeToken(uuid.New())
	if status, _ := r.page(t, ctx, http.MethodPost, "/o/"+tn.Slug+"/uredni-deska/odber/zrusit?token="+forged, url.Values{}); status != http.StatusNotFound {
		t.Fatalf("unknown subscription: %d", status)
	}
	if status, _ := r.page(t, ctx, http.MethodPost, "/o/"+tn.Slug+"/uredni-deska/odber/zrusit?token=x.y", url.Values{}); status != http.StatusNotFound {
		t.Fatalf("bad token: %d", status)
	}
}

func TestResubscribingNeedsTheMailbox(t *testing.T) {
	r := newSubRig(t)
	ctx := r.ctxA
	const addr = "obcan@obcan.test"
	r.subscribe(t, ctx, addr, "volby")
	if s := r.confirm(t, ctx, r.confirmToken(t, ctx, addr)); s != http.StatusOK {
		t.Fatalf("confirm: %d", s)
	}
	// Somebody else asks for other categories for the address: the same page, nothing changes
	// until the mailbox confirms.
	r.clock.Add(confirmResend)
	status, body := r.subscribe(t, ctx, strings.ToUpper(addr), "rozpocet")
	if status != http.StatusOK || !strings.Contains(body, "Zkontrolujte") {
		t.Fatalf("re-subscribe: %d %s", status, body)
	}
	r.post(t, ctx, r.clerk, "volby")
	if n := len(r.mails(t, ctx)); n != 3 { // two confirmations and the election notice
		t.Fatalf("mails: %d %+v", n, r.mails(t, ctx))
	}
	if s := r.confirm(t, ctx, r.confirmToken(t, ctx, addr)); s != http.StatusOK {
		t.Fatalf("confirm: %d", s)
	}
	n := r.post(t, ctx, r.clerk, "rozpocet")
	if len(r.mailsTo(t, ctx, addr, "noticeboard.notice:"+n.ID.String())) != 1 {
		t.Fatal("the confirmed categories did not apply")
	}
	if c, _ := r.svc.SubscriberCount(ctx); c != 1 {
		t.Fatalf("one address, %d subscribers", c)
	}
}

func TestSubscriptionFormRefusals(t *testing.T) {
	r := newSubRig(t)
	ctx := r.ctxA
	tn, _ := tenants.FromContext(ctx)
	base := "/o/" + tn.Slug + "/uredni-deska/odber"
	count := func() int {
		var n int
		if err := r.e.DB.InTx(ctx, func(ctx context.Context) error {
			return tenants.DB(ctx).Raw(`SELECT count(*) FROM noticeboard_subscriptions`).Row().Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name, email string
		cats        []string
		want        int
		text        string
	}{
		{"bad e-mail", "neni-adresa", nil, http.StatusUnprocessableEntity, "platnou e-mailovou adresu"},
		{"display name", "Jana <jana@obcan.test>", nil, http.StatusUnprocessableEntity, "platnou e-mailovou adresu"},
		{"unknown category", "jana@obcan.test", []string{"tajne"}, http.StatusUnprocessableEntity, "Neznámá kategorie"},
	} {
		status, body := r.subscribe(t, ctx, tc.email, tc.cats...)
		if status != tc.want || !strings.Contains(body, tc.text) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
	// Without the signed form token, or from another site.
	if status, _ := r.page(t, ctx, http.MethodPost, base, url.Values{"email": {"jana@obcan.test"}}); status != http.StatusForbidden {
		t.Errorf("no form token: %d", status)
	}
	// The honeypot: the robot sees success, nothing is stored or sent.
	_, form := r.page(t, ctx, http.MethodGet, base, nil)
	tok := formTokenRE.FindStringSubmatch(form)[1]
	if status, body := r.page(t, ctx, http.MethodPost, base, url.Values{"form": {tok}, "email": {"robot@obcan.test"}, "web": {"http://spam"}}); status != http.StatusOK || !strings.Contains(body, "Zkontrolujte") {
		t.Errorf("honeypot: %d %s", status, body)
	}
	// B's form token is not A's.
	tnB, _ := tenants.FromContext(r.ctxB)
	_, formB := r.page(t, r.ctxB, http.MethodGet, "/o/"+tnB.Slug+"/uredni-deska/odber", nil)
	tokB := formTokenRE.FindStringSubmatch(formB)[1]
	if status, _ := r.page(t, ctx, http.MethodPost, base, url.Values{"form": {tokB}, "email": {"jana@obcan.test"}}); status != http.StatusForbidden {
		t.Errorf("B's form token on A: %d", status)
	}
	// Expired.
	r.clock.Add(3 * confirmResend * 100)
	if status, _ := r.page(t, ctx, http.MethodPost, base, url.Values{"form": {tok}, "email": {"jana@obcan.test"}}); status != http.StatusForbidden {
		t.Errorf("expired form token: %d", status)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d subscriptions stored", n)
	}
	if n := len(r.mails(t, ctx)); n != 0 {
		t.Fatalf("%d mails sent", n)
	}
	// Other POSTs to the board are refused.
	if status, _ := r.page(t, ctx, http.MethodPost, "/o/"+tn.Slug+"/uredni-deska", url.Values{}); status != http.StatusMethodNotAllowed {
		t.Errorf("POST to the board: %d", status)
	}
}

func TestSignedInVerifiedCitizenSubscribesAtOnce(t *testing.T) {
	r := newSubRig(t)
	ctx := r.ctxA
	citizen := tenants.NewID()
	if _, err := r.e.App.Exec(context.Background(), `INSERT INTO users (id, email, name) VALUES ($1, $2, $3)`, citizen, "overeny@obcan.test", "Občan"); err != nil {
		t.Fatal(err)
	}
	res, err := r.svc.Subscribe(ctx, noticeboard.Subscriber{Email: "overeny@obcan.test", UserID: citizen, Verified: true}, nil, "en")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Confirmed {
		t.Fatal("a verified citizen was not subscribed at once")
	}
	if n := len(r.mails(t, ctx)); n != 0 {
		t.Fatalf("%d confirmation mails for a verified citizen", n)
	}
	n := r.post(t, ctx, r.clerk, "volby")
	got := r.mailsTo(t, ctx, "overeny@obcan.test", "noticeboard.notice:"+n.ID.String())
	if len(got) != 1 || !strings.Contains(got[0].Text, "Elections") {
		t.Fatalf("English notice mail: %+v", got)
	}
	// Not verified: a confirmation mail, no subscription yet.
	res, err = r.Subscribe(t, noticeboard.Subscriber{Email: "neovereny@obcan.test", UserID: citizen})
	if err != nil || res.Confirmed {
		t.Fatalf("unverified: %+v %v", res, err)
	}
	if len(r.mailsTo(t, ctx, "neovereny@obcan.test", "noticeboard.subscription")) != 1 {
		t.Fatal("no confirmation mail for an unverified account")
	}
}

func (r *subRig) Subscribe(t *testing.T, who noticeboard.Subscriber) (noticeboard.SubscribeResult, error) {
	return r.svc.Subscribe(r.ctxA, who, nil, "cs")
}

const confirmResend = 11 * time.Minute // past the pause before a second confirmation mail

// The subscriptions are tenant data: a copy of the tenant made by export and import has them,
// and the links in the e-mails already sent work on the copy's board.
func TestSubscriptionsTravelWithTheTenant(t *testing.T) {
	r := newSubRig(t)
	ctx := r.ctxA
	const addr = "cestovatel@obcan.test"
	r.subscribe(t, ctx, addr)
	if s := r.confirm(t, ctx, r.confirmToken(t, ctx, addr)); s != http.StatusOK {
		t.Fatalf("confirm: %d", s)
	}
	n := r.post(t, ctx, r.clerk, "ostatni")
	got := r.mailsTo(t, ctx, addr, "noticeboard.notice:"+n.ID.String())
	if len(got) != 1 {
		t.Fatalf("mails: %+v", got)
	}
	token := strings.TrimPrefix(got[0].ListUnsubscribe[strings.Index(got[0].ListUnsubscribe, "token="):], "token=")

	var archive bytes.Buffer
	if _, err := transfer.NewExporter(r.e.App).Export(ctx, &archive); err != nil {
		t.Fatalf("export: %v", err)
	}
	var kod string
	if err := r.e.App.QueryRow(context.Background(), `SELECT kod_obce FROM catalogue_municipalities
		WHERE kod_obce NOT IN (SELECT kod_obce FROM tenants) ORDER BY kod_obce LIMIT 1`).Scan(&kod); err != nil {
		t.Fatal(err)
	}
	res, err := transfer.NewImporter(r.e.Owner).Import(context.Background(), &archive,
		transfer.ImportOptions{NewID: true, KodObce: kod, Slug: "kopie", NoHosts: true})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	tn, _ := tenants.FromContext(ctx)
	tn.ID, tn.Slug = res.Tenant.ID, "kopie"
	copyCtx := tenants.WithTenant(context.Background(), tn)
	if c, err := r.svc.SubscriberCount(copyCtx); err != nil || c != 1 {
		t.Fatalf("subscribers of the copy: %d %v", c, err)
	}
	if !r.svc.UnsubscribeValid(copyCtx, token) {
		t.Fatal("the unsubscribe link does not work on the copy")
	}
	// The copy knows the notice was mailed: a retried task there mails nobody again.
	r.runNotify(t, copyCtx, n.ID)
	if c := len(r.mailsTo(t, copyCtx, addr, "noticeboard.notice:"+n.ID.String())); c != 1 {
		t.Fatalf("the copy mailed again: %d", c)
	}
}
