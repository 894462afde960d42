package onboarding_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/onboarding"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// mails records what would be sent; fail makes Send fail.
type mails struct {
	sent []onboarding.Mail
	fail error
}

func (m *mails) Send(_ context.Context, _ pgx.Tx, msg onboarding.Mail) error {
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, msg)
	return nil
}

func newService(t *testing.T) (*onboarding.Service, *mails, *tenanttest.Env) {
	t.Helper()
	env := tenanttest.New(t)
	m := &mails{}
	svc := onboarding.New(onboarding.Deps{Platform: env.Platform, Registry: env.Registry, Audit: audit.New(env.DB, env.Platform),
		Mail: m, HasModule: func(id string) bool { return id == "waste" }, BaseURL: "http://epom.test"})
	return svc, m, env
}

func TestSubmitRefusesBadRequestsAndWritesNothing(t *testing.T) {
	svc, m, env := newService(t)
	ctx := context.Background()
	if _, err := env.Registry.Create(ctx, tenants.CreateParams{KodObce: "563889", Slug: "liberec", Status: tenants.StatusActive}); err != nil {
		t.Fatal(err)
	}
	good := onboarding.SubmitParams{ICO: "00276227", ContactName: "Jana", Email: "jana@turnov.test", Consent: true, IP: "198.51.100.7"}
	with := func(change func(*onboarding.SubmitParams)) onboarding.SubmitParams {
		p := good
		change(&p)
		return p
	}
	var liberecICO string
	if err := env.Platform.QueryRow(ctx, `SELECT ico FROM catalogue_municipalities WHERE kod_obce = '563889'`).Scan(&liberecICO); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		p     onboarding.SubmitParams
		field string
		err   error
	}{
		{"no consent", with(func(p *onboarding.SubmitParams) { p.Consent = false }), "/consent", nil},
		{"bad e-mail", with(func(p *onboarding.SubmitParams) { p.Email = "jana@" }), "/email", nil},
		{"blank name", with(func(p *onboarding.SubmitParams) { p.ContactName = "  " }), "/contactName", nil},
		{"unknown module", with(func(p *onboarding.SubmitParams) { p.Modules = []string{"waste", "tarot"} }), "/modules/1", nil},
		{"unknown IČO", with(func(p *onboarding.SubmitParams) { p.ICO = "99999999" }), "/ico", nil},
		{"municipality uses epom", with(func(p *onboarding.SubmitParams) { p.ICO = liberecICO }), "", onboarding.ErrAlreadyTenant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Submit(ctx, tc.p)
			var fe *onboarding.FieldError
			switch {
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field || fe.CS == "" || fe.EN == ""):
				t.Fatalf("error %v, want a field error on %s", err, tc.field)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Fatalf("error %v, want %v", err, tc.err)
			}
		})
	}
	// A failed e-mail rolls the request back: the applicant never holds a request nobody was told of.
	m.fail = errors.New("mail down")
	if _, err := svc.Submit(ctx, good); !errors.Is(err, m.fail) {
		t.Fatalf("submit with failing mail: %v", err)
	}
	var n int
	if err := env.Platform.QueryRow(ctx, `SELECT count(*) FROM subscription_requests`).Scan(&n); err != nil || n != 0 || len(m.sent) != 0 {
		t.Fatalf("%d requests, %d mails after refusals (%v)", n, len(m.sent), err)
	}
	m.fail = nil
	if _, err := svc.Submit(ctx, good); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Submit(ctx, good); !errors.Is(err, onboarding.ErrPendingRequest) {
		t.Fatalf("second request: %v", err)
	}
}

func TestApproveIsIdempotentAndReportsOtherKraje(t *testing.T) {
	svc, m, env := newService(t)
	ctx := context.Background()
	rc, err := svc.Submit(ctx, onboarding.SubmitParams{ICO: "00276227", ContactName: "Jana", Email: "jana@turnov.test",
		Modules: []string{"waste"}, Consent: true, Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	op := onboarding.Actor{ID: uuid.Nil, Email: "operator@kraj.test"}
	if _, err := svc.Approve(ctx, op, "CZ052", rc.ID, ""); !errors.Is(err, onboarding.ErrNotInKraj) {
		t.Fatalf("approve from another kraj: %v", err)
	}
	// decided_by references users: give the operator an account.
	op.ID = tenants.NewID()
	if _, err := env.Platform.Exec(ctx, `INSERT INTO users (id, email, name) VALUES ($1, $2, 'Op')`, op.ID, op.Email); err != nil {
		t.Fatal(err)
	}
	first, err := svc.Approve(ctx, op, "CZ051", rc.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Approve(ctx, op, "CZ051", rc.ID, "")
	if err != nil || again.TenantID == nil || *again.TenantID != *first.TenantID || first.TenantSlug != "turnov" {
		t.Fatalf("approve twice: %+v %+v %v", first, again, err)
	}
	// The receipt, then one approval (in the applicant's language), not two.
	if len(m.sent) != 2 || m.sent[1].Lang != "en" || m.sent[1].To != "jana@turnov.test" {
		t.Fatalf("mails: %+v", m.sent)
	}
	if _, err := svc.Reject(ctx, op, "CZ051", rc.ID, "late"); !errors.Is(err, onboarding.ErrDecided) {
		t.Fatalf("reject an approved request: %v", err)
	}
}
