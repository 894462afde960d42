package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/apitokens"
)

// withBearer sends a request with an API token and nothing else (no cookie, no CSRF token).
func (f *fixture) withBearer(t testing.TB, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return w
}

// createToken makes a token of tenant A through the API as its admin.
func (f *fixture) createToken(t testing.TB, admin *session, body string) gen.ApiTokenCreated {
	t.Helper()
	w := f.do(t, request{method: "POST", path: "/api/v1/tenants/liberec/tokens", body: body, sess: admin})
	if w.Code != http.StatusCreated {
		t.Fatalf("create token: %d %s", w.Code, w.Body)
	}
	var out gen.ApiTokenCreated
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) tokenAudit(t testing.TB, action string) int {
	t.Helper()
	var n int
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT count(*) FROM tenant_audit_log
		WHERE tenant_id = $1 AND action = $2`, f.a.ID, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAPITokens(t *testing.T) {
	f := newFixture(t)
	admin, clerk := f.signIn(t, "admin-a@test.cz"), f.signIn(t, "clerk-a@test.cz")
	base := "/api/v1/tenants/liberec/tokens"

	if w := f.do(t, request{method: "GET", path: base, sess: clerk}); w.Code != http.StatusForbidden {
		t.Fatalf("clerk lists tokens: %d", w.Code)
	}
	w := f.do(t, request{method: "GET", path: base, sess: admin})
	var list gen.ListApiTokens200JSONResponse
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &list) != nil {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	for _, sc := range list.GrantableScopes {
		if strings.HasPrefix(sc, "tenant.tokens") || strings.HasPrefix(sc, "tenant.export") || strings.HasPrefix(sc, "platform.") {
			t.Errorf("grantable scope %s", sc)
		}
	}
	if !strings.Contains(strings.Join(list.GrantableScopes, " "), "tenant.settings:write") {
		t.Errorf("admin may not grant tenant.settings:write: %v", list.GrantableScopes)
	}

	// Scopes a token may never carry, or the creator does not hold, are refused by field.
	for _, bad := range []string{
		`{"name":"x","scopes":["tenant.tokens:write"]}`,
		`{"name":"x","scopes":["tenant.settings:read","tenant.export:run"]}`,
		`{"name":"x","scopes":["platform.tenants:read"]}`,
		`{"name":"x","scopes":["tenant.settings:read"],"expiresAt":"2020-01-01T00:00:00Z"}`,
		`{"name":"x","scopes":["tenant.settings:read"],"expiresAt":"` + time.Now().AddDate(2, 0, 0).Format(time.RFC3339) + `"}`,
		`{"name":" ","scopes":["tenant.settings:read"]}`,
		`{"name":"x","scopes":[]}`,
	} {
		w := f.do(t, request{method: "POST", path: base, body: bad, sess: admin})
		if w.Code != 400 || len(problemOf(t, w).Errors) == 0 {
			t.Errorf("%s: %d %s", bad, w.Code, w.Body)
		}
	}
	if n := f.tokenAudit(t, "token-created"); n != 0 {
		t.Fatalf("refused tokens were recorded: %d", n)
	}

	created := f.createToken(t, admin, `{"name":"Spisová služba","scopes":["tenant.settings:read","tenant.settings:write"],"expiresAt":"`+
		time.Now().Add(24*time.Hour).Format(time.RFC3339)+`"}`)
	tok := created.Secret
	id, _, err := apitokens.Parse(tok)
	if err != nil || id != created.Token.Id || created.Token.Status != "active" {
		t.Fatalf("token %q: %v %+v", tok, err, created.Token)
	}
	// Only the hash of the secret is stored.
	var hash []byte
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT secret_hash FROM api_tokens WHERE id = $1`, id).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	_, secret, _ := apitokens.Parse(tok)
	if sum := sha256.Sum256(secret); string(hash) != string(sum[:]) {
		t.Fatal("stored hash is not SHA-256 of the secret")
	}
	if n := f.tokenAudit(t, "token-created"); n != 1 {
		t.Fatalf("token-created entries: %d", n)
	}
	if strings.Contains(f.do(t, request{method: "GET", path: base, sess: admin}).Body.String(), strings.Split(tok, "_")[2]) {
		t.Fatal("the list shows the secret")
	}

	// In scope, own tenant: reads and writes work, writes without a CSRF token.
	if w := f.withBearer(t, "GET", "/api/v1/tenants/liberec/settings", tok, ""); w.Code != 200 {
		t.Fatalf("read with token: %d %s", w.Code, w.Body)
	}
	if w := f.withBearer(t, "GET", "/api/v1/tenants/liberec/settings", tok, ""); w.Code != 200 {
		t.Fatalf("second read with token: %d %s", w.Code, w.Body)
	}
	if w := f.withBearer(t, "PUT", "/api/v1/tenants/liberec/settings", tok, `{"displayName":"Liberec z API"}`); w.Code != 200 {
		t.Fatalf("write with token: %d %s", w.Code, w.Body)
	}
	if w := f.withBearer(t, "PUT", "/api/v1/tenants/liberec/settings", tok, `{"displayName":"Liberec z API 2"}`); w.Code != 200 {
		t.Fatalf("second write with token: %d %s", w.Code, w.Body)
	}
	// Two reads within the hour are one entry; each write is one.
	var reads, writes int
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE details->>'kind' = 'read'),
		count(*) FILTER (WHERE details->>'kind' = 'write') FROM tenant_audit_log
		WHERE tenant_id = $1 AND action = 'token-used' AND target = $2`, f.a.ID, "token:"+id.String()).Scan(&reads, &writes); err != nil {
		t.Fatal(err)
	}
	if reads != 1 || writes != 2 {
		t.Fatalf("token-used entries: %d reads, %d writes; want 1 and 2", reads, writes)
	}
	var actor string
	if err := f.env.Platform.QueryRow(context.Background(), `SELECT actor FROM tenant_audit_log
		WHERE tenant_id = $1 AND action = 'settings-changed' ORDER BY seq DESC LIMIT 1`, f.a.ID).Scan(&actor); err != nil || actor != "token:"+id.String() {
		t.Fatalf("settings change recorded for %q (%v), want the token", actor, err)
	}

	// Out of scope, another tenant, account and platform operations: refused.
	for _, c := range []struct {
		method, path string
		status       int
		problem      string
	}{
		{"GET", "/api/v1/tenants/liberec/members", 403, "/problems/forbidden"},
		{"GET", "/api/v1/tenants/liberec/tokens", 403, "/problems/forbidden"},
		{"GET", "/api/v1/tenants/kunzak/settings", 403, "/problems/token-not-allowed"},
		{"GET", "/api/v1/tenants/kunzak", 403, "/problems/token-not-allowed"},
		{"GET", "/api/v1/me", 403, "/problems/token-not-allowed"},
		{"DELETE", "/api/v1/session", 403, "/problems/token-not-allowed"},
		{"GET", "/api/v1/platform/tenants", 403, "/problems/token-not-allowed"},
	} {
		w := f.withBearer(t, c.method, c.path, tok, "")
		if w.Code != c.status || problemOf(t, w).Type != c.problem {
			t.Errorf("%s %s with token: %d %s", c.method, c.path, w.Code, w.Body)
		}
	}
	if w := f.withBearer(t, "GET", "/api/v1/modules", tok, ""); w.Code != 200 {
		t.Errorf("public operation with token: %d", w.Code)
	}

	// Unknown, malformed and forged tokens.
	forged := apitokens.Format(id, make([]byte, 32))
	for _, bad := range []string{"nonsense", "epom_", "epom_abc_def", forged, apitokens.Format(tenants.NewID(), make([]byte, 32))} {
		w := f.withBearer(t, "GET", "/api/v1/tenants/liberec/settings", bad, "")
		if w.Code != 401 || problemOf(t, w).Type != "/problems/invalid-token" {
			t.Errorf("token %q: %d %s", bad, w.Code, w.Body)
		}
	}

	// Expired.
	short := f.createToken(t, admin, `{"name":"krátký","scopes":["tenant.settings:read"]}`)
	ctxA := tenants.WithTenant(context.Background(), f.a.Tenant)
	if err := f.env.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ?`, short.Token.Id).Error
	}); err != nil {
		t.Fatal(err)
	}
	if w := f.withBearer(t, "GET", "/api/v1/tenants/liberec/settings", short.Secret, ""); w.Code != 401 {
		t.Fatalf("expired token: %d %s", w.Code, w.Body)
	}

	// Revoked: by a clerk refused, by the admin at once effective, and recorded once.
	revoke := base + "/" + id.String() + "/revoke"
	if w := f.do(t, request{method: "POST", path: revoke, sess: clerk}); w.Code != 403 {
		t.Fatalf("clerk revokes: %d", w.Code)
	}
	w = f.do(t, request{method: "POST", path: revoke, sess: admin})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"revoked"`) {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "POST", path: revoke, sess: admin}); w.Code != 200 {
		t.Fatalf("revoke again: %d %s", w.Code, w.Body)
	}
	if n := f.tokenAudit(t, "token-revoked"); n != 1 {
		t.Fatalf("token-revoked entries: %d", n)
	}
	if w := f.withBearer(t, "GET", "/api/v1/tenants/liberec/settings", tok, ""); w.Code != 401 || problemOf(t, w).Type != "/problems/invalid-token" {
		t.Fatalf("revoked token: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, request{method: "POST", path: base + "/" + tenants.NewID().String() + "/revoke", sess: admin}); w.Code != 404 {
		t.Fatalf("revoke unknown: %d", w.Code)
	}
}
