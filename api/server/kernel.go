package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/apitokens"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/catalogue"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/identity/oidc"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/onboarding"
	"github.com/epom-cz/epom/tenants/transfer"
)

// Kernel implements the kernel's operations of the API; modules implement theirs, and cmd
// embeds them all into one gen.StrictServerInterface.
type Kernel struct {
	Modules   *modules.Registry
	Registry  *tenants.Registry
	Resolver  *tenants.Resolver
	Settings  *tenants.SettingsStore
	Identity  *identity.Service
	Authz     *authz.Authorizer
	Audit     *audit.Log
	Mail      *email.Service    // the tenants' outgoing mail and its log
	Exports   *transfer.Exports // the tenant admin's data export (exports.go)
	Catalogue func(ctx context.Context, q, kraj string, limit int) ([]catalogue.Hit, error)
	BaseURL   string
	// CookieSecure marks the session cookie Secure (always, behind TLS).
	CookieSecure  bool
	SessionMaxAge time.Duration
	// accounts: self-registration, password reset and change (accounts.go), and the
	// throttle of sign-in and account mail (nil: none).
	Accounts *identity.Accounts
	Limiter  identity.Limiter
	// oidc: sign-in with external identity providers and the identities linked to accounts (oidc.go).
	OIDC *oidc.Service
	// tokens: API tokens of machine clients (tokens.go).
	Tokens *apitokens.Store
	// members: invitations and members' roles (members.go).
	Staff *identity.Staff
	// operator: the regional operator's console and the online subscription (operator.go).
	Onboarding *onboarding.Service
}

func moduleInfo(m modules.Module) gen.ModuleInfo {
	_, public := m.(modules.Public)
	return gen.ModuleInfo{
		Id:          string(m.ID()),
		Name:        gen.LocalizedText{Cs: m.Name().CS, En: m.Name().EN},
		Description: gen.LocalizedText{Cs: m.Description().CS, En: m.Description().EN},
		Public:      public,
	}
}

// ListModules implements listModules.
func (k *Kernel) ListModules(ctx context.Context, _ gen.ListModulesRequestObject) (gen.ListModulesResponseObject, error) {
	items := []gen.ModuleInfo{}
	for _, m := range k.Modules.All() {
		items = append(items, moduleInfo(m))
	}
	return gen.ListModules200JSONResponse{Items: items}, nil
}

// ListTenantModules implements listTenantModules, from the resolved tenant.
func (k *Kernel) ListTenantModules(ctx context.Context, _ gen.ListTenantModulesRequestObject) (gen.ListTenantModulesResponseObject, error) {
	t, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	items := []gen.ModuleInfo{}
	for _, m := range k.Modules.All() {
		if t.Enabled(string(m.ID())) {
			items = append(items, moduleInfo(m))
		}
	}
	return gen.ListTenantModules200JSONResponse{Items: items}, nil
}

// current returns the resolved tenant of the request (bound by the resolveTenant step).
func (k *Kernel) current(ctx context.Context) (tenants.Resolved, error) {
	if t, ok := ctx.Value(keyTenant).(tenants.Resolved); ok {
		return t, nil
	}
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return tenants.Resolved{}, tenants.ErrNoTenant
	}
	return k.Resolver.BySlugOrID(ctx, t.ID.String())
}

// SearchMunicipalities implements searchMunicipalities.
func (k *Kernel) SearchMunicipalities(ctx context.Context, req gen.SearchMunicipalitiesRequestObject) (gen.SearchMunicipalitiesResponseObject, error) {
	limit := 20
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	hits, err := k.Catalogue(ctx, deref(req.Params.Q), deref(req.Params.Kraj), limit)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Municipality, 0, len(hits))
	for _, h := range hits {
		m := gen.Municipality{
			KodObce: h.KodObce, Name: h.Name, Type: h.Type, Pou: ptr(h.POUName), Orp: h.ORPName,
			OrpKod: ptr(h.ORPCode), Okres: h.OkresName, Kraj: h.KrajName, KrajNuts: h.KrajNUTS,
			Ico: ptr(h.ICO), Psc: h.PSC,
		}
		if m.Psc == nil {
			m.Psc = []string{}
		}
		if h.TenantSlug != "" {
			m.TenantSlug = ptr(h.TenantSlug)
		}
		items = append(items, m)
	}
	return gen.SearchMunicipalities200JSONResponse{Items: items}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

// GetTenant implements getTenant: the public profile, in one pipelined round trip.
func (k *Kernel) GetTenant(ctx context.Context, _ gen.GetTenantRequestObject) (gen.GetTenantResponseObject, error) {
	t, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := k.Settings.Profile(ctx, t.Tenant)
	if err != nil {
		return nil, err
	}
	p := gen.TenantProfile{
		Id: t.ID, Slug: t.Slug, Name: pr.DisplayName, KodObce: t.KodObce, Type: pr.Type,
		Kraj: pr.Kraj, Okres: pr.Okres, Orp: pr.ORP, Ico: optional(pr.ICO),
		ContactEmail: optional(pr.ContactEmail), ContactPhone: optional(pr.ContactPhone),
		Website: optional(pr.Website), Address: optional(pr.Address),
	}
	p.Links.Landing = k.BaseURL + "/o/" + t.Slug
	return gen.GetTenant200JSONResponse(p), nil
}

// optional leaves empty strings out of the JSON.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func settingsBody(st tenants.Settings) gen.TenantSettings {
	return gen.TenantSettings{
		DisplayName: st.DisplayName, ContactEmail: ptr(st.ContactEmail), ContactPhone: ptr(st.ContactPhone),
		Website: ptr(st.Website), Address: ptr(st.Address), EmbedOrigins: []string(st.EmbedOrigins),
		UpdatedAt: st.UpdatedAt,
	}
}

// GetTenantSettings implements getTenantSettings.
func (k *Kernel) GetTenantSettings(ctx context.Context, _ gen.GetTenantSettingsRequestObject) (gen.GetTenantSettingsResponseObject, error) {
	t, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	st, _, err := k.Settings.Get(ctx, t.Name)
	if err != nil {
		return nil, err
	}
	return gen.GetTenantSettings200JSONResponse(settingsBody(st)), nil
}

// UpdateTenantSettings implements updateTenantSettings.
func (k *Kernel) UpdateTenantSettings(ctx context.Context, req gen.UpdateTenantSettingsRequestObject) (gen.UpdateTenantSettingsResponseObject, error) {
	p, _ := principalFrom(ctx)
	b := req.Body
	st := tenants.Settings{
		DisplayName: b.DisplayName, ContactEmail: deref(b.ContactEmail), ContactPhone: deref(b.ContactPhone),
		Website: deref(b.Website), Address: deref(b.Address),
	}
	if b.EmbedOrigins != nil {
		st.EmbedOrigins = *b.EmbedOrigins
	}
	var saved tenants.Settings
	ip := clientFrom(ctx).IP // from the request; the transaction's context is no longer it
	details := map[string]string{"displayName": st.DisplayName}
	if len(st.EmbedOrigins) > 0 {
		details["embedOrigins"] = strings.Join(st.EmbedOrigins, " ")
	}
	// The change and its audit entry commit together.
	err := k.Settings.InTx(ctx, func(ctx context.Context) error {
		var err error
		if saved, err = k.Settings.Put(ctx, st, p.User.ID); err != nil {
			return err
		}
		return k.Audit.Tenant(ctx, audit.Event{ActorID: &p.User.ID, Actor: p.User.Email, IP: ip,
			Action: "settings-changed", Details: details})
	})
	if err != nil {
		return nil, err
	}
	t, _ := tenants.FromContext(ctx)
	// The display name and the framing origins are part of the resolved tenant.
	k.Resolver.Invalidate(ctx, t.ID.String())
	return gen.UpdateTenantSettings200JSONResponse(settingsBody(saved)), nil
}

// ListMembers implements listMembers.
func (k *Kernel) ListMembers(ctx context.Context, _ gen.ListMembersRequestObject) (gen.ListMembersResponseObject, error) {
	ms, err := k.Identity.Members(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Member, 0, len(ms))
	for _, m := range ms {
		items = append(items, gen.Member{UserId: m.ID, Email: m.Email, Name: m.Name, Roles: m.Roles})
	}
	return gen.ListMembers200JSONResponse{Items: items}, nil
}

func tenantBody(t tenants.Resolved) gen.Tenant {
	hosts := t.Hosts
	if hosts == nil {
		hosts = []string{}
	}
	return gen.Tenant{Id: t.ID, Slug: t.Slug, Status: gen.TenantStatus(t.Status), KodObce: t.KodObce,
		Name: t.DisplayName, KrajNuts: t.KrajNUTS, Hosts: hosts, CreatedAt: t.CreatedAt}
}

// ListTenants implements listTenants.
func (k *Kernel) ListTenants(ctx context.Context, req gen.ListTenantsRequestObject) (gen.ListTenantsResponseObject, error) {
	f := tenants.ListFilter{Limit: 100}
	if req.Params.Status != nil {
		f.Status = tenants.Status(*req.Params.Status)
	}
	f.KrajNUTS = deref(req.Params.Kraj)
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	if req.Params.Offset != nil {
		f.Offset = *req.Params.Offset
	}
	list, total, err := k.Registry.List(ctx, f)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Tenant, 0, len(list))
	for _, t := range list {
		items = append(items, tenantBody(t))
	}
	return gen.ListTenants200JSONResponse{Items: items, Total: total}, nil
}

// CreateTenant implements createTenant.
func (k *Kernel) CreateTenant(ctx context.Context, req gen.CreateTenantRequestObject) (gen.CreateTenantResponseObject, error) {
	b := req.Body
	p := tenants.CreateParams{KodObce: b.KodObce, Slug: deref(b.Slug)}
	if b.Status != nil {
		p.Status = tenants.Status(*b.Status)
	}
	if b.Hosts != nil {
		p.Hosts = *b.Hosts
	}
	if b.Modules != nil {
		for i, m := range *b.Modules {
			if !k.Modules.Has(m) {
				return nil, problem.New(problem.Validation, "Unknown module.",
					problem.FieldError{Field: fmt.Sprintf("/modules/%d", i), Message: "no module " + m})
			}
		}
		p.Modules = *b.Modules
	}
	t, err := k.Registry.Create(ctx, p)
	if err != nil {
		return nil, err
	}
	return gen.CreateTenant201JSONResponse(tenantBody(t)), nil
}

// UpdateTenantStatus implements updateTenantStatus.
func (k *Kernel) UpdateTenantStatus(ctx context.Context, req gen.UpdateTenantStatusRequestObject) (gen.UpdateTenantStatusResponseObject, error) {
	before, err := k.Registry.BySlugOrID(ctx, req.TenantId.String())
	if err != nil {
		return nil, err
	}
	t, err := k.Registry.SetStatus(ctx, uuid.UUID(req.TenantId), tenants.Status(req.Body.Status))
	if err != nil {
		return nil, err
	}
	k.Resolver.Invalidate(ctx, t.ID.String())
	if before.Status != t.Status {
		p, _ := principalFrom(ctx)
		ev := audit.Event{ActorID: &p.User.ID, Actor: p.User.Email, IP: clientFrom(ctx).IP, Action: "tenant-status",
			Target: t.Slug, Details: map[string]string{"from": string(before.Status), "to": string(t.Status)}}
		if err := k.Audit.TenantByPlatform(ctx, t.ID, ev); err != nil {
			return nil, err
		}
		if err := k.Audit.Platform(ctx, ev); err != nil {
			return nil, err
		}
	}
	return gen.UpdateTenantStatus200JSONResponse(tenantBody(t)), nil
}

func (k *Kernel) cookie(value string, maxAge int) string {
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: k.CookieSecure, SameSite: http.SameSiteLaxMode}
	return c.String()
}

func (k *Kernel) me(ctx context.Context, u identity.User, sess identity.Session) (gen.Me, error) {
	ms, err := k.Identity.Memberships(ctx, u.ID)
	if err != nil {
		return gen.Me{}, err
	}
	prs, err := k.Identity.PlatformRoles(ctx, u.ID)
	if err != nil {
		return gen.Me{}, err
	}
	mfa, err := k.Identity.MFA(ctx, u.ID)
	if err != nil {
		return gen.Me{}, err
	}
	out := gen.Me{Id: openapi_types.UUID(u.ID), Email: u.Email, Name: u.Name, CsrfToken: sess.CSRFToken,
		Memberships: []gen.Membership{}, PlatformRoles: []string{}, MfaEnabled: mfa.Enabled}
	for _, m := range ms {
		out.Memberships = append(out.Memberships, gen.Membership{TenantId: m.TenantID, Slug: m.Slug, Name: m.Name, Roles: m.Roles})
	}
	for _, r := range prs {
		out.PlatformRoles = append(out.PlatformRoles, r.String())
	}
	if mfa.Enabled {
		out.RecoveryCodesRemaining = &mfa.RecoveryRemaining
	}
	// mfa: staff whose session lacks a second factor must enrol (or sign in again with the code).
	staff := len(ms) > 0 || len(prs) > 0
	out.MfaRequired = staff && k.Identity.StaffMFARequired() && !sess.Assurance.MultiFactor()
	return out, nil
}

// SignIn implements signIn.
func (k *Kernel) SignIn(ctx context.Context, req gen.SignInRequestObject) (gen.SignInResponseObject, error) {
	cl := clientFrom(ctx)
	if err := k.signInAllowed(ctx, req.Body.Email, cl.IP); err != nil {
		return nil, err
	}
	u, err := k.Identity.Authenticate(ctx, req.Body.Email, req.Body.Password)
	if errors.Is(err, identity.ErrBadCredentials) {
		// The attempted address is recorded as typed: it may belong to nobody.
		if aerr := k.Audit.Platform(ctx, audit.Event{Actor: identity.NormalizeEmail(req.Body.Email), IP: cl.IP,
			Action: "sign-in-failed"}); aerr != nil {
			return nil, aerr
		}
		if lerr := k.signInFailed(ctx, req.Body.Email, cl.IP); lerr != nil {
			return nil, lerr
		}
	}
	if errors.Is(err, identity.ErrEmailNotVerified) {
		// The password was right: the account's failures are forgotten, but no session starts.
		return nil, k.signInUnverified(ctx, u, cl.IP, err)
	}
	if err != nil {
		return nil, err
	}
	if err := k.signInSucceeded(ctx, u.Email); err != nil {
		return nil, err
	}
	// mfa: an account with TOTP gets a pending sign-in, not a session.
	hasTOTP, err := k.Identity.HasTOTP(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if hasTOTP {
		return k.beginSecondFactor(ctx, u, cl)
	}
	me, cookie, err := k.startSession(ctx, u, cl, signInMethod{Name: "password", Assurance: identity.AssurancePassword})
	if err != nil {
		return nil, err
	}
	return gen.SignIn200JSONResponse{Body: me, Headers: gen.SignIn200ResponseHeaders{SetCookie: &cookie}}, nil
}

// SignOut implements signOut.
func (k *Kernel) SignOut(ctx context.Context, _ gen.SignOutRequestObject) (gen.SignOutResponseObject, error) {
	p, _ := principalFrom(ctx)
	if err := k.Identity.EndSession(ctx, p.Token); err != nil {
		return nil, err
	}
	cookie := k.cookie("", -1)
	return gen.SignOut204Response{Headers: gen.SignOut204ResponseHeaders{SetCookie: &cookie}}, nil
}

// GetMe implements getMe.
func (k *Kernel) GetMe(ctx context.Context, _ gen.GetMeRequestObject) (gen.GetMeResponseObject, error) {
	p, _ := principalFrom(ctx)
	me, err := k.me(ctx, p.User, p.Session)
	if err != nil {
		return nil, err
	}
	return gen.GetMe200JSONResponse(me), nil
}
