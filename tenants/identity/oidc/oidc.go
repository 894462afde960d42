// Package oidc signs people in with an external identity provider over OpenID Connect: the
// national identity broker (NIA, Identita občana) or a municipality's own IdP, as the
// deployment configures them. It runs the authorization code flow with PKCE, verifies the ID
// token, and finds, links or creates the epom account the provider's subject stands for.
// Sessions are not its business: the caller starts one like any other sign-in.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	coreoidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants/identity"
)

// LoginTTL is how long a started sign-in may take at the provider.
const LoginTTL = 10 * time.Minute

// Errors of the account operations, mapped to problems by api/problem.
var (
	ErrUnknownProvider = errors.New("no such identity provider")
	ErrNotLinked       = errors.New("the account has no identity at this provider")
	// ErrLastSignIn: unlinking would leave an account without a password no way to sign in.
	ErrLastSignIn = errors.New("this identity is the account's only way to sign in")
)

// Reason says why a sign-in at a provider failed; the sign-in pages explain each one.
type Reason string

// The reasons a sign-in fails.
const (
	ReasonProviderError Reason = "provider-error"       // the provider answered with an error (the user cancelled, say)
	ReasonState         Reason = "state-mismatch"       // the answer does not belong to a sign-in this browser started
	ReasonExpired       Reason = "expired"              // the sign-in was started too long ago
	ReasonExchange      Reason = "exchange-failed"      // the provider refused the code
	ReasonToken         Reason = "token-invalid"        // signature, issuer, audience, expiry or nonce of the ID token
	ReasonUnavailable   Reason = "provider-unavailable" // discovery failed
	ReasonUnverified    Reason = "email-unverified"     // no verified e-mail to link or create an account by
	ReasonDisabled      Reason = "account-disabled"
	ReasonConflict      Reason = "identity-conflict" // the account is linked to another identity at this provider
)

// Failure is a sign-in that did not succeed.
type Failure struct {
	Reason   Reason
	Provider string
	Err      error // for the log; never shown
}

func (f *Failure) Error() string {
	if f.Err != nil {
		return fmt.Sprintf("oidc %s: %s: %v", f.Provider, f.Reason, f.Err)
	}
	return fmt.Sprintf("oidc %s: %s", f.Provider, f.Reason)
}

func (f *Failure) Unwrap() error { return f.Err }

// Provider is a configured identity provider as the sign-in page lists it.
type Provider struct {
	ID, Name string
	// TrustMFA: a sign-in at this provider counts as multi-factor.
	TrustMFA bool
}

// Outcome tells how the account was found.
type Outcome int

// The ways a sign-in finds its account.
const (
	Known   Outcome = iota // by (provider, subject)
	Linked                 // by verified e-mail; the identity is now linked
	Created                // a new citizen account
)

// Result is a successful sign-in.
type Result struct {
	User     identity.User
	Provider Provider
	Outcome  Outcome
	Next     string // where the user wanted to go, already checked by SafeNext; may be empty
}

type provider struct {
	Provider
	cfg    config.OIDCProvider
	mu     sync.Mutex
	ready  bool // discovery done
	oauth  oauth2.Config
	verify *coreoidc.IDTokenVerifier
}

// Service runs the flow. Providers are discovered on first use, not at start, so an IdP that
// is down does not keep the server from starting.
type Service struct {
	pool      *pgxpool.Pool
	providers []*provider
	baseURL   string
	client    *http.Client
	now       func() time.Time
}

// New returns the service for the configured providers. baseURL is the deployment's public
// URL: the callback is {baseURL}/auth/oidc/{id}/callback, registered at each provider.
func New(pool *pgxpool.Pool, providers []config.OIDCProvider, baseURL string) *Service {
	s := &Service{pool: pool, baseURL: strings.TrimSuffix(baseURL, "/"),
		client: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
	for _, c := range providers {
		s.providers = append(s.providers, &provider{Provider: Provider{ID: c.ID, Name: c.Name, TrustMFA: c.TrustMFA}, cfg: c})
	}
	return s
}

// Providers lists the configured providers in configuration order.
func (s *Service) Providers() []Provider {
	out := make([]Provider, 0, len(s.providers))
	for _, p := range s.providers {
		out = append(out, p.Provider)
	}
	return out
}

// Provider finds a configured provider.
func (s *Service) Provider(id string) (Provider, bool) {
	p, ok := s.find(id)
	if !ok {
		return Provider{}, false
	}
	return p.Provider, true
}

func (s *Service) find(id string) (*provider, bool) {
	for _, p := range s.providers {
		if p.ID == id {
			return p, true
		}
	}
	return nil, false
}

// CallbackURL is where provider id sends the browser back.
func (s *Service) CallbackURL(id string) string { return s.baseURL + "/auth/oidc/" + id + "/callback" }

func (s *Service) httpContext(ctx context.Context) context.Context {
	return context.WithValue(coreoidc.ClientContext(ctx, s.client), oauth2.HTTPClient, s.client)
}

// discover fetches the provider's discovery document once; a failure is retried next time.
func (s *Service) discover(ctx context.Context, p *provider) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready {
		return nil
	}
	// The key set outlives this request: it fetches keys with a context that keeps the client
	// but not the cancellation.
	op, err := coreoidc.NewProvider(s.httpContext(ctx), p.cfg.Issuer)
	if err != nil {
		return fmt.Errorf("discover %s: %w", p.cfg.Issuer, err)
	}
	p.oauth = oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: op.Endpoint(),
		RedirectURL: s.CallbackURL(p.ID), Scopes: p.cfg.Scopes}
	p.verify = op.VerifierContext(s.httpContext(context.Background()), &coreoidc.Config{ClientID: p.cfg.ClientID, Now: s.now})
	p.ready = true
	return nil
}

func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oidc random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func stateHash(state string) []byte {
	h := sha256.Sum256([]byte(state))
	return h[:]
}

// SafeNext keeps next only when it is a path inside the app (/app/…) on this site; anything
// else (another origin, "//evil", "/app/../admin", a backslash trick) becomes "".
func SafeNext(next string) string {
	if len(next) > 1000 || strings.ContainsAny(next, "\\\x00\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/app/") {
		return ""
	}
	for _, seg := range strings.Split(u.Path, "/")[2:] {
		if seg == "." || seg == ".." {
			return ""
		}
	}
	if strings.Contains(u.Path, "//") {
		return ""
	}
	u.Fragment = ""
	return u.RequestURI()
}

// Start begins a sign-in at provider id: it records state, nonce and PKCE verifier and returns
// the provider's authorization URL and the state, which the caller binds to the browser.
//
// The flow's secrets stay on the server, in oidc_logins, rather than in a signed cookie: a row
// is used at most once (a replayed callback finds nothing), the PKCE verifier and the nonce
// never leave the server, and there is no signing key to share and rotate across replicas.
// The browser holds only the state, in a short-lived HttpOnly cookie, which binds the answer
// to the browser that started the sign-in (no login CSRF with someone else's code).
func (s *Service) Start(ctx context.Context, id, next string) (authURL, state string, err error) {
	p, ok := s.find(id)
	if !ok {
		return "", "", ErrUnknownProvider
	}
	if err := s.discover(ctx, p); err != nil {
		return "", "", &Failure{Reason: ReasonUnavailable, Provider: id, Err: err}
	}
	if state, err = random(); err != nil {
		return "", "", err
	}
	nonce, err := random()
	if err != nil {
		return "", "", err
	}
	verifier := oauth2.GenerateVerifier()
	now := s.now()
	// Rows expired a day ago go now; younger ones stay so that a late answer is told "expired"
	// rather than "not yours".
	if _, err := s.pool.Exec(ctx, `DELETE FROM oidc_logins WHERE expires_at < $1`, now.Add(-24*time.Hour)); err != nil {
		return "", "", fmt.Errorf("clean up sign-ins: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO oidc_logins (state_hash, provider, nonce, verifier, next, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, stateHash(state), id, nonce, verifier, SafeNext(next), now, now.Add(LoginTTL)); err != nil {
		return "", "", fmt.Errorf("record sign-in: %w", err)
	}
	return p.oauth.AuthCodeURL(state, coreoidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

type login struct {
	provider, nonce, verifier, next string
	expires                         time.Time
}

// claims are the ID token's claims epom uses. email_verified comes as a boolean from most
// providers and as the string "true" from some.
type claims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"`
	Name          string `json:"name"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
}

func (c claims) verified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func (c claims) name() string {
	if n := strings.TrimSpace(c.Name); n != "" {
		return n
	}
	return strings.TrimSpace(c.GivenName + " " + c.FamilyName)
}

// Finish completes a sign-in at provider id from the callback's query and the state the
// browser's cookie held. It consumes the started sign-in, exchanges the code with the PKCE
// verifier, verifies the ID token (signature by the provider's keys, issuer, audience,
// expiry, nonce) and finds the account: by (provider, subject); else by a verified e-mail,
// linking the identity; else it creates a citizen account. Every failure is a *Failure.
func (s *Service) Finish(ctx context.Context, id string, query url.Values, cookieState string) (Result, error) {
	fail := func(r Reason, err error) (Result, error) {
		return Result{}, &Failure{Reason: r, Provider: id, Err: err}
	}
	p, ok := s.find(id)
	if !ok {
		return Result{}, ErrUnknownProvider
	}
	state := query.Get("state")
	if state == "" || cookieState == "" || subtle.ConstantTimeCompare([]byte(state), []byte(cookieState)) != 1 {
		return fail(ReasonState, errors.New("the state does not match the browser's"))
	}
	l, found, err := s.take(ctx, state)
	if err != nil {
		return Result{}, err
	}
	if !found || l.provider != id {
		return fail(ReasonState, errors.New("no sign-in was started with this state"))
	}
	if e := query.Get("error"); e != "" {
		desc := query.Get("error_description")
		if len(desc) > 200 {
			desc = desc[:200]
		}
		return fail(ReasonProviderError, fmt.Errorf("%.50s: %s", e, desc))
	}
	if s.now().After(l.expires) {
		return fail(ReasonExpired, fmt.Errorf("started sign-in expired at %s", l.expires))
	}
	if err := s.discover(ctx, p); err != nil {
		return fail(ReasonUnavailable, err)
	}
	tok, err := p.oauth.Exchange(s.httpContext(ctx), query.Get("code"), oauth2.VerifierOption(l.verifier))
	if err != nil {
		return fail(ReasonExchange, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail(ReasonToken, errors.New("the token response has no id_token"))
	}
	idt, err := p.verify.Verify(ctx, raw)
	if err != nil {
		return fail(ReasonToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(l.nonce)) != 1 {
		return fail(ReasonToken, errors.New("the nonce does not match"))
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return fail(ReasonToken, err)
	}
	u, outcome, err := s.account(ctx, id, idt.Subject, identity.NormalizeEmail(c.Email), c.verified(), c.name())
	if err != nil {
		return Result{}, err
	}
	return Result{User: u, Provider: p.Provider, Outcome: outcome, Next: l.next}, nil
}
