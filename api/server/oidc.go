package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/identity/oidc"
)

// oidcStateCookie binds a sign-in started at an identity provider to the browser that
// started it (see oidc.Service.Start for why the rest stays on the server).
const oidcStateCookie = "epom_oidc"

// oidcRoutes is the kernel's capability to serve the browser legs of external sign-in. They
// are redirects and HTML pages, not JSON operations, so they live outside the API chain.
type oidcRoutes interface {
	registerOIDC(e *gin.Engine, p *pages)
}

func (k *Kernel) registerOIDC(e *gin.Engine, p *pages) {
	if k.OIDC == nil {
		return
	}
	e.GET("/auth/oidc/:provider", func(c *gin.Context) { k.oidcStart(c, p) })
	e.GET("/auth/oidc/:provider/callback", func(c *gin.Context) { k.oidcCallback(c, p) })
	e.GET("/auth/oidc/:provider/failed/:reason", func(c *gin.Context) { k.oidcFailurePage(c, p) })
}

// stateCookie is scoped to the callback's path and lives as long as a started sign-in.
// SameSite=Lax, because the provider sends the browser back with a cross-site top-level GET,
// where Strict would leave the cookie out.
func (k *Kernel) stateCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: oidcStateCookie, Value: value, Path: "/auth/oidc/", MaxAge: maxAge,
		HttpOnly: true, Secure: k.CookieSecure, SameSite: http.SameSiteLaxMode}
}

// oidcStart sends the browser to the provider; ?next= (an /app/ path) is where it ends up.
func (k *Kernel) oidcStart(c *gin.Context, p *pages) {
	id := c.Param("provider")
	authURL, state, err := k.OIDC.Start(c, id, c.Query("next"))
	if err != nil {
		k.oidcFailed(c, p, id, err)
		return
	}
	http.SetCookie(c.Writer, k.stateCookie(state, int(oidc.LoginTTL.Seconds())))
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, authURL)
}

// oidcCallback completes the sign-in and starts the session exactly as password sign-in does.
func (k *Kernel) oidcCallback(c *gin.Context, p *pages) {
	id := c.Param("provider")
	state, _ := c.Cookie(oidcStateCookie)
	http.SetCookie(c.Writer, k.stateCookie("", -1))
	c.Header("Cache-Control", "no-store")
	res, err := k.OIDC.Finish(c, id, c.Request.URL.Query(), state)
	if err != nil {
		k.oidcFailed(c, p, id, err)
		return
	}
	cl := clientFrom(c)
	u := res.User
	var ev *audit.Event
	switch res.Outcome {
	case oidc.Linked:
		ev = &audit.Event{ActorID: &u.ID, Actor: u.Email, IP: cl.IP, Action: "identity-linked", Target: id,
			Details: map[string]string{"method": "oidc", "provider": id}}
	case oidc.Created:
		ev = &audit.Event{ActorID: &u.ID, Actor: u.Email, IP: cl.IP, Action: "account-created", Target: u.Email,
			Details: map[string]string{"method": "oidc", "provider": id}}
	}
	if ev != nil {
		if err := k.Audit.Platform(c, *ev); err != nil {
			k.oidcFailed(c, p, id, err)
			return
		}
	}
	next := res.Next
	if next == "" {
		next = "/app/"
	}
	// A provider trusted to do multi-factor sign-in (trustMfa, e.g. NIA at a substantial level)
	// completes it. Otherwise an account with TOTP still gives its code: the browser goes to
	// the sign-in page's second step with a pending sign-in, exactly as after a password.
	assurance := identity.AssuranceExternalSingleFactor
	if res.Provider.TrustMFA {
		assurance = identity.AssuranceExternal
	} else {
		hasTOTP, err := k.Identity.HasTOTP(c, u.ID)
		if err != nil {
			k.oidcFailed(c, p, id, err)
			return
		}
		if hasTOTP {
			pending, err := k.Identity.BeginSecondFactor(c, u.ID, cl.IP, cl.UserAgent)
			if err != nil {
				k.oidcFailed(c, p, id, err)
				return
			}
			c.Writer.Header().Add("Set-Cookie", k.secondFactorCookie(pending.Token, int(pending.TTL.Seconds())))
			// The sign-in page's next is a path inside the app, without its /app prefix.
			appNext := strings.TrimPrefix(next, "/app")
			c.Redirect(http.StatusFound, "/app/prihlaseni?"+url.Values{"krok": {"kod"}, "next": {appNext}}.Encode())
			return
		}
	}
	_, cookie, err := k.startSession(c, u, cl, signInMethod{Name: "oidc", Provider: id, Assurance: assurance})
	if err != nil {
		k.oidcFailed(c, p, id, err)
		return
	}
	c.Writer.Header().Add("Set-Cookie", cookie)
	c.Redirect(http.StatusFound, next)
}

type oidcPage struct {
	pageData
	Heading, Detail, Back string
}

// oidcFailed records a failed external sign-in and sends the browser to the page that
// explains it. The page has its own address, so that reloading it or switching its language
// does not replay the callback (whose code and state are spent).
func (k *Kernel) oidcFailed(c *gin.Context, p *pages, id string, err error) {
	if errors.Is(err, oidc.ErrUnknownProvider) {
		p.notFound(c)
		return
	}
	reason := "internal"
	var f *oidc.Failure
	if errors.As(err, &f) {
		reason = string(f.Reason)
	}
	httpx.LogAttrs(c, slog.String("oidc_provider", id), slog.String("oidc_error", err.Error()))
	if aerr := k.Audit.Platform(c, audit.Event{IP: clientFrom(c).IP, Action: "sign-in-failed", Target: id,
		Details: map[string]string{"method": "oidc", "provider": id, "reason": reason}}); aerr != nil {
		httpx.LogAttrs(c, slog.String("audit_error", aerr.Error()))
	}
	c.Redirect(http.StatusSeeOther, "/auth/oidc/"+id+"/failed/"+reason)
}

// oidcFailurePage explains a failed external sign-in in words a person can act on, with the
// way back to the sign-in page.
func (k *Kernel) oidcFailurePage(c *gin.Context, p *pages) {
	pr, ok := k.OIDC.Provider(c.Param("provider"))
	if !ok {
		p.notFound(c)
		return
	}
	reason := c.Param("reason")
	d := oidcPage{pageData: p.base(c, "")}
	d.Heading, d.Detail, d.Back = failureText(d.Lang, reason, pr.Name)
	d.Title = d.Heading
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "oidc.html", d); err != nil {
		c.String(http.StatusInternalServerError, "%s", d.Heading)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Language", d.Lang)
	c.Data(failureStatus(oidc.Reason(reason)), "text/html; charset=utf-8", buf.Bytes())
}

func failureStatus(r oidc.Reason) int {
	switch r {
	case oidc.ReasonUnavailable, oidc.ReasonExchange:
		return http.StatusBadGateway
	case oidc.ReasonUnverified, oidc.ReasonDisabled:
		return http.StatusForbidden
	case oidc.ReasonConflict:
		return http.StatusConflict
	case "internal":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// failureText is the heading, explanation and back link of the failure page.
func failureText(lang, reason, provider string) (heading, detail, back string) {
	if lang == "en" {
		heading, back = "Sign-in failed", "Back to sign-in"
		switch oidc.Reason(reason) {
		case oidc.ReasonProviderError:
			detail = "The sign-in at " + provider + " was cancelled or did not succeed."
		case oidc.ReasonState:
			detail = "The answer of " + provider + " does not belong to a sign-in started in this browser. Please start again."
		case oidc.ReasonExpired:
			detail = "The sign-in took too long and expired. Please start again."
		case oidc.ReasonExchange, oidc.ReasonToken:
			detail = provider + " did not confirm your identity validly. Please try again or sign in another way."
		case oidc.ReasonUnavailable:
			detail = provider + " cannot be reached at the moment. Please try again later."
		case oidc.ReasonUnverified:
			detail = provider + " did not confirm your e-mail address, so no account can be created or linked with it. Verify the address there, or sign in with your e-mail and password."
		case oidc.ReasonDisabled:
			detail = "The account is blocked. Please contact the administrator."
		case oidc.ReasonConflict:
			detail = "Your account is already linked to another identity at " + provider + ". Sign in with that one, or unlink it in your account settings."
		default:
			detail = "Something went wrong while signing in. Please try again."
		}
		return heading, detail, back
	}
	heading, back = "Přihlášení se nezdařilo", "Zpět na přihlášení"
	switch oidc.Reason(reason) {
	case oidc.ReasonProviderError:
		detail = "Přihlášení přes " + provider + " bylo zrušeno nebo se nepodařilo."
	case oidc.ReasonState:
		detail = "Odpověď od " + provider + " nepatří k přihlášení zahájenému v tomto prohlížeči. Začněte prosím znovu."
	case oidc.ReasonExpired:
		detail = "Přihlášení trvalo příliš dlouho a jeho platnost vypršela. Začněte prosím znovu."
	case oidc.ReasonExchange, oidc.ReasonToken:
		detail = "Poskytovatel identity " + provider + " vaši totožnost platně nepotvrdil. Zkuste to prosím znovu, nebo se přihlaste jinak."
	case oidc.ReasonUnavailable:
		detail = "Poskytovatel identity " + provider + " je teď nedostupný. Zkuste to prosím později."
	case oidc.ReasonUnverified:
		detail = "Poskytovatel identity " + provider + " nepotvrdil vaši e-mailovou adresu, proto k ní nelze založit ani připojit účet. Ověřte si adresu u poskytovatele, nebo se přihlaste e-mailem a heslem."
	case oidc.ReasonDisabled:
		detail = "Účet je zablokovaný. Obraťte se prosím na správce."
	case oidc.ReasonConflict:
		detail = "Váš účet je už propojený s jinou identitou u " + provider + ". Přihlaste se jí, nebo ji v nastavení účtu odpojte."
	default:
		detail = "Při přihlašování došlo k chybě. Zkuste to prosím znovu."
	}
	return heading, detail, back
}

// ListAuthProviders implements listAuthProviders.
func (k *Kernel) ListAuthProviders(ctx context.Context, _ gen.ListAuthProvidersRequestObject) (gen.ListAuthProvidersResponseObject, error) {
	items := []gen.AuthProvider{}
	if k.OIDC != nil {
		for _, p := range k.OIDC.Providers() {
			items = append(items, gen.AuthProvider{Id: p.ID, Name: p.Name, StartUrl: "/auth/oidc/" + p.ID})
		}
	}
	return gen.ListAuthProviders200JSONResponse{Items: items}, nil
}

// ListMyIdentities implements listMyIdentities.
func (k *Kernel) ListMyIdentities(ctx context.Context, _ gen.ListMyIdentitiesRequestObject) (gen.ListMyIdentitiesResponseObject, error) {
	items := []gen.LinkedIdentity{}
	if k.OIDC == nil {
		return gen.ListMyIdentities200JSONResponse{Items: items}, nil
	}
	p, _ := principalFrom(ctx)
	ids, err := k.OIDC.Identities(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	for _, i := range ids {
		name := i.Provider
		if pr, ok := k.OIDC.Provider(i.Provider); ok {
			name = pr.Name
		}
		items = append(items, gen.LinkedIdentity{Provider: i.Provider, ProviderName: name, Email: i.Email,
			CreatedAt: i.CreatedAt, LastUsedAt: i.LastUsedAt})
	}
	return gen.ListMyIdentities200JSONResponse{Items: items}, nil
}

// UnlinkMyIdentity implements unlinkMyIdentity.
func (k *Kernel) UnlinkMyIdentity(ctx context.Context, req gen.UnlinkMyIdentityRequestObject) (gen.UnlinkMyIdentityResponseObject, error) {
	if k.OIDC == nil {
		return nil, oidc.ErrNotLinked
	}
	p, _ := principalFrom(ctx)
	if _, err := k.OIDC.Unlink(ctx, p.User.ID, req.Provider); err != nil {
		return nil, err
	}
	if err := k.Audit.Platform(ctx, audit.Event{ActorID: &p.User.ID, Actor: p.User.Email, IP: clientFrom(ctx).IP,
		Action: "identity-unlinked", Target: req.Provider, Details: map[string]string{"provider": req.Provider}}); err != nil {
		return nil, err
	}
	return gen.UnlinkMyIdentity204Response{}, nil
}
