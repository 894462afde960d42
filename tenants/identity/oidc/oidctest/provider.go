// Package oidctest is a small OpenID Connect provider for tests: discovery, a JWKS with an RSA
// key made at start, an authorization endpoint that answers at once (no login form) and a
// token endpoint that checks PKCE and issues ID tokens signed with that key. What the next
// sign-in's ID token says is set by the test, including wrong audiences, expired tokens and
// foreign nonces.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Login is what the provider says about the person who signs in next.
type Login struct {
	Subject       string
	Email         string
	EmailVerified any // bool, or a string as some providers send it; nil leaves the claim out
	Name          string

	// Faults, for the tests of what epom must refuse.
	Error     string        // answer the authorization request with this error instead of a code
	Audience  string        // aud other than the client id
	Issuer    string        // iss other than the provider's
	Nonce     string        // a nonce other than the one of the request
	ExpiresIn time.Duration // negative: already expired; zero: five minutes
	SignWith  *rsa.PrivateKey
}

type grant struct {
	login     Login
	nonce     string
	challenge string
	redirect  string
}

// Provider is a running test provider.
type Provider struct {
	Server       *httptest.Server
	ClientID     string
	ClientSecret string

	key   *rsa.PrivateKey
	mu    sync.Mutex
	next  Login
	codes map[string]grant
	// Requests records the authorization requests' query, for assertions on PKCE and scopes.
	Requests []url.Values
}

// New starts a provider for client id and secret; it stops when the test ends.
func New(t testing.TB, clientID, clientSecret string) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: clientID, ClientSecret: clientSecret, key: key, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Server.Close)
	return p
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.Server.URL }

// Next sets who signs in next.
func (p *Provider) Next(l Login) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next = l
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": p.Issuer(), "authorization_endpoint": p.Issuer() + "/authorize",
		"token_endpoint": p.Issuer() + "/token", "jwks_uri": p.Issuer() + "/jwks",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: "test", Algorithm: "RS256", Use: "sig"}}})
}

func randomCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.Requests = append(p.Requests, q)
	login := p.next
	p.mu.Unlock()
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	answer := url.Values{"state": {q.Get("state")}}
	if login.Error != "" {
		answer.Set("error", login.Error)
		answer.Set("error_description", "The user cancelled the sign-in.")
	} else {
		code := randomCode()
		p.mu.Lock()
		p.codes[code] = grant{login: login, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		p.mu.Unlock()
		answer.Set("code", code)
	}
	back.RawQuery = answer.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if id != p.ClientID || secret != p.ClientSecret {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, found := p.codes[code]
	delete(p.codes, code)
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != g.redirect ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		tokenError(w, "invalid_grant")
		return
	}
	idToken, err := p.sign(g)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randomCode(), "token_type": "Bearer",
		"expires_in": 300, "id_token": idToken})
}

func (p *Provider) sign(g grant) (string, error) {
	l := g.login
	now := time.Now()
	exp := l.ExpiresIn
	if exp == 0 {
		exp = 5 * time.Minute
	}
	c := map[string]any{"iss": p.Issuer(), "sub": l.Subject, "aud": p.ClientID, "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(exp).Unix()}
	if exp < 0 {
		c["iat"] = now.Add(2 * exp).Unix()
	}
	if l.Email != "" {
		c["email"] = l.Email
	}
	if l.EmailVerified != nil {
		c["email_verified"] = l.EmailVerified
	}
	if l.Name != "" {
		c["name"] = l.Name
	}
	if l.Audience != "" {
		c["aud"] = l.Audience
	}
	if l.Issuer != "" {
		c["iss"] = l.Issuer
	}
	if l.Nonce != "" {
		c["nonce"] = l.Nonce
	}
	key := p.key
	if l.SignWith != nil {
		key = l.SignWith
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func tokenError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
