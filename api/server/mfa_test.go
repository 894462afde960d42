package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/tenants/identity"
)

func staffMFARequired(c *identity.Config) { c.RequireStaffMFA = true }

func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	return v
}

func expectProblem(t testing.TB, w *httptest.ResponseRecorder, status int, typ string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if p := problemOf(t, w); p.Type != typ {
		t.Fatalf("problem %s, want %s: %+v", p.Type, typ, p)
	}
}

// enrol turns TOTP on for the signed-in session and returns the secret and recovery codes.
func (f *fixture) enrol(t testing.TB, s *session) (string, []string) {
	t.Helper()
	w := f.do(t, request{method: "POST", path: "/api/v1/me/totp", sess: s})
	if w.Code != http.StatusOK {
		t.Fatalf("start totp: %d %s", w.Code, w.Body)
	}
	e := decode[gen.TotpEnrolment](t, w)
	if !strings.HasPrefix(e.OtpauthUri, "otpauth://totp/epom:") || !strings.Contains(e.OtpauthUri, "issuer=epom") ||
		!strings.HasPrefix(e.QrCode, "data:image/png;base64,") {
		t.Fatalf("enrolment: %+v", e)
	}
	expectProblem(t, f.do(t, request{method: "POST", path: "/api/v1/me/totp/confirm", body: `{"code":"000000"}`, sess: s}),
		400, "/problems/wrong-code")
	code, err := identity.TOTPCode(e.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w = f.do(t, request{method: "POST", path: "/api/v1/me/totp/confirm", body: fmt.Sprintf(`{"code":%q}`, code), sess: s})
	if w.Code != http.StatusOK {
		t.Fatalf("confirm: %d %s", w.Code, w.Body)
	}
	rc := decode[gen.RecoveryCodes](t, w)
	if len(rc.Codes) != identity.RecoveryCodeCount {
		t.Fatalf("recovery codes: %v", rc.Codes)
	}
	return e.Secret, rc.Codes
}

// beginSignIn sends the password of an account with TOTP and returns the pending cookie.
func (f *fixture) beginSignIn(t testing.TB, email string) *http.Cookie {
	t.Helper()
	w := f.do(t, request{method: "POST", path: "/api/v1/session", body: fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)})
	if w.Code != http.StatusAccepted {
		t.Fatalf("sign in: %d %s", w.Code, w.Body)
	}
	if ch := decode[gen.SecondFactorChallenge](t, w); !ch.MfaRequired {
		t.Fatalf("challenge: %s", w.Body)
	}
	var pending *http.Cookie
	for _, c := range w.Result().Cookies() {
		switch c.Name {
		case server.SessionCookie:
			t.Fatal("a session before the second factor")
		case server.SecondFactorCookie:
			pending = c
		}
	}
	if pending == nil || !pending.HttpOnly || pending.SameSite != http.SameSiteStrictMode || pending.MaxAge != 300 {
		t.Fatalf("pending cookie: %+v", pending)
	}
	return pending
}

func (f *fixture) secondFactor(t testing.TB, pending *http.Cookie, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/session/mfa", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if pending != nil {
		req.AddCookie(pending)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return w
}

func (f *fixture) me(t testing.TB, s *session) gen.Me {
	t.Helper()
	w := f.do(t, request{method: "GET", path: "/api/v1/me", sess: s})
	if w.Code != http.StatusOK {
		t.Fatalf("me: %d %s", w.Code, w.Body)
	}
	return decode[gen.Me](t, w)
}

func (f *fixture) auditActions(t testing.TB, action string) []map[string]string {
	t.Helper()
	rows, err := f.env.Platform.Query(context.Background(), `SELECT details FROM platform_audit_log WHERE action = $1 ORDER BY seq`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		var d map[string]string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestTwoFactorSignIn(t *testing.T) {
	f := newFixtureWith(t, nil, staffMFARequired)
	const email = "citizen@test.cz"
	first := f.signIn(t, email)
	if me := f.me(t, first); me.MfaEnabled || me.MfaRequired {
		t.Fatalf("before enrolment: %+v", me)
	}
	secret, codes := f.enrol(t, first)
	if me := f.me(t, first); !me.MfaEnabled || me.RecoveryCodesRemaining == nil || *me.RecoveryCodesRemaining != 10 {
		t.Fatalf("after enrolment: %+v", me)
	}
	if len(f.auditActions(t, "mfa-enabled")) != 1 {
		t.Fatal("enrolment not audited")
	}
	// The code used to confirm is spent; the next step's code is within the tolerance.
	next, _ := identity.TOTPCode(secret, time.Now().Add(30*time.Second))

	t.Run("password alone gives no session", func(t *testing.T) {
		w := f.do(t, request{method: "POST", path: "/api/v1/session", body: fmt.Sprintf(`{"email":%q,"password":"wrong"}`, email)})
		expectProblem(t, w, 401, "/problems/bad-credentials")
		f.beginSignIn(t, email)
	})
	t.Run("wrong code, then the right one, then the same again", func(t *testing.T) {
		pending := f.beginSignIn(t, email)
		w := f.secondFactor(t, pending, `{"code":"123456"}`)
		expectProblem(t, w, 400, "/problems/wrong-code")
		if p := problemOf(t, w); !strings.Contains(p.Detail, "4") {
			t.Fatalf("tries left not told: %+v", p)
		}
		s := sessionOf(t, f.secondFactor(t, pending, fmt.Sprintf(`{"code":%q}`, next)))
		if me := f.me(t, s); me.MfaRequired || !me.MfaEnabled {
			t.Fatalf("me: %+v", me)
		}
		// The pending sign-in is used up, and a replayed code does not start another.
		expectProblem(t, f.secondFactor(t, pending, fmt.Sprintf(`{"code":%q}`, next)), 401, "/problems/mfa-login-expired")
		expectProblem(t, f.secondFactor(t, f.beginSignIn(t, email), fmt.Sprintf(`{"code":%q}`, next)), 400, "/problems/wrong-code")
	})
	t.Run("recovery code is single-use and audited", func(t *testing.T) {
		s := sessionOf(t, f.secondFactor(t, f.beginSignIn(t, email), fmt.Sprintf(`{"recoveryCode":%q}`, strings.ToUpper(codes[0]))))
		if me := f.me(t, s); *me.RecoveryCodesRemaining != 9 {
			t.Fatalf("remaining: %+v", me)
		}
		used := f.auditActions(t, "recovery-code-used")
		if len(used) != 1 || used[0]["remaining"] != "9" {
			t.Fatalf("audit: %v", used)
		}
		expectProblem(t, f.secondFactor(t, f.beginSignIn(t, email), fmt.Sprintf(`{"recoveryCode":%q}`, codes[0])), 400, "/problems/wrong-code")
	})
	t.Run("five wrong codes end the pending sign-in", func(t *testing.T) {
		pending := f.beginSignIn(t, email)
		for i := range 4 {
			expectProblem(t, f.secondFactor(t, pending, fmt.Sprintf(`{"code":"00000%d"}`, i)), 400, "/problems/wrong-code")
		}
		expectProblem(t, f.secondFactor(t, pending, `{"code":"000009"}`), 401, "/problems/mfa-login-expired")
		failed := f.auditActions(t, "sign-in-code-failed")
		if len(failed) < 5 || failed[len(failed)-1]["triesLeft"] != "0" {
			t.Fatalf("wrong codes not audited: %v", failed)
		}
		expectProblem(t, f.secondFactor(t, pending, fmt.Sprintf(`{"recoveryCode":%q}`, codes[1])), 401, "/problems/mfa-login-expired")
	})
	t.Run("no pending sign-in, or both kinds of code", func(t *testing.T) {
		expectProblem(t, f.secondFactor(t, nil, `{"code":"123456"}`), 401, "/problems/mfa-login-expired")
		expectProblem(t, f.secondFactor(t, f.beginSignIn(t, email), `{"code":"123456","recoveryCode":"abcde-fghij"}`), 400, "/problems/validation")
	})
	t.Run("regenerate needs a current code", func(t *testing.T) {
		expectProblem(t, f.do(t, request{method: "POST", path: "/api/v1/me/recovery-codes", body: `{"code":"111111"}`, sess: first}),
			400, "/problems/wrong-code")
		cur, _ := identity.TOTPCode(secret, time.Now().Add(60*time.Second))
		// Two steps ahead is outside the tolerance.
		expectProblem(t, f.do(t, request{method: "POST", path: "/api/v1/me/recovery-codes", body: fmt.Sprintf(`{"code":%q}`, cur), sess: first}),
			400, "/problems/wrong-code")
	})
	t.Run("a citizen may turn it off with the password", func(t *testing.T) {
		expectProblem(t, f.do(t, request{method: "DELETE", path: "/api/v1/me/totp", body: `{"password":"nope"}`, sess: first}),
			401, "/problems/bad-credentials")
		w := f.do(t, request{method: "DELETE", path: "/api/v1/me/totp", body: fmt.Sprintf(`{"password":%q}`, password), sess: first})
		if w.Code != http.StatusNoContent {
			t.Fatalf("disable: %d %s", w.Code, w.Body)
		}
		f.signIn(t, email) // one step again
		if len(f.auditActions(t, "mfa-disabled")) != 1 {
			t.Fatal("not audited")
		}
	})
}

func TestRegenerateRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	s := f.signIn(t, "citizen@test.cz")
	secret, old := f.enrol(t, s)
	next, _ := identity.TOTPCode(secret, time.Now().Add(30*time.Second))
	w := f.do(t, request{method: "POST", path: "/api/v1/me/recovery-codes", body: fmt.Sprintf(`{"code":%q}`, next), sess: s})
	if w.Code != http.StatusOK {
		t.Fatalf("regenerate: %d %s", w.Code, w.Body)
	}
	fresh := decode[gen.RecoveryCodes](t, w).Codes
	if len(fresh) != 10 || fresh[0] == old[0] {
		t.Fatalf("codes: %v", fresh)
	}
	expectProblem(t, f.secondFactor(t, f.beginSignIn(t, "citizen@test.cz"), fmt.Sprintf(`{"recoveryCode":%q}`, old[0])), 400, "/problems/wrong-code")
	sessionOf(t, f.secondFactor(t, f.beginSignIn(t, "citizen@test.cz"), fmt.Sprintf(`{"recoveryCode":%q}`, fresh[0])))
	if len(f.auditActions(t, "recovery-codes-regenerated")) != 1 {
		t.Fatal("not audited")
	}
}

func TestStaffMustEnrol(t *testing.T) {
	f := newFixtureWith(t, nil, staffMFARequired)
	admin := f.signIn(t, "admin-a@test.cz")
	if me := f.me(t, admin); !me.MfaRequired || me.MfaEnabled {
		t.Fatalf("me: %+v", me)
	}
	w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/settings", sess: admin})
	expectProblem(t, w, 403, "/problems/mfa-enrolment-required")
	if !strings.Contains(problemOf(t, w).Detail, "/app/ucet") {
		t.Fatalf("detail does not say where: %s", w.Body)
	}
	// A citizen asking the same is simply not allowed.
	expectProblem(t, f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/settings", sess: f.signIn(t, "citizen@test.cz")}),
		403, "/problems/forbidden")
	// Public and "authenticated" operations still work; enrolling raises this very session.
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec", sess: admin}); w.Code != 200 {
		t.Fatalf("public op: %d", w.Code)
	}
	secret, _ := f.enrol(t, admin)
	if me := f.me(t, admin); me.MfaRequired || !me.MfaEnabled {
		t.Fatalf("me after enrolment: %+v", me)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/settings", sess: admin}); w.Code != 200 {
		t.Fatalf("after enrolment: %d %s", w.Code, w.Body)
	}
	// Staff cannot turn it off while the policy requires it.
	next, _ := identity.TOTPCode(secret, time.Now().Add(30*time.Second))
	expectProblem(t, f.do(t, request{method: "DELETE", path: "/api/v1/me/totp", body: fmt.Sprintf(`{"code":%q}`, next), sess: admin}),
		409, "/problems/conflict")
	// Sign-out works whatever the state.
	clerk := f.signIn(t, "clerk-a@test.cz")
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/session", sess: clerk}); w.Code != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", w.Code, w.Body)
	}
}

func TestStaffMFAOptional(t *testing.T) {
	f := newFixture(t) // EPOM_MFA_STAFF=optional
	admin := f.signIn(t, "admin-a@test.cz")
	if me := f.me(t, admin); me.MfaRequired {
		t.Fatalf("me: %+v", me)
	}
	if w := f.do(t, request{method: "GET", path: "/api/v1/tenants/liberec/settings", sess: admin}); w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestMySessions(t *testing.T) {
	f := newFixture(t)
	s1 := f.signIn(t, "citizen@test.cz")
	s2 := f.signIn(t, "citizen@test.cz")
	other := f.signIn(t, "clerk-a@test.cz")
	list := func(s *session) []gen.MySession {
		w := f.do(t, request{method: "GET", path: "/api/v1/me/sessions", sess: s})
		if w.Code != http.StatusOK {
			t.Fatalf("list: %d %s", w.Code, w.Body)
		}
		return decode[struct{ Items []gen.MySession }](t, w).Items
	}
	mine := list(s1)
	if len(mine) != 2 {
		t.Fatalf("sessions: %+v", mine)
	}
	var current, second gen.MySession
	for _, s := range mine {
		if s.Current {
			current = s
		} else {
			second = s
		}
	}
	if current.Method != gen.Password || second.Id == current.Id || strings.Contains(fmt.Sprint(mine), s1.cookie.Value) {
		t.Fatalf("sessions: %+v", mine)
	}
	otherID := list(other)[0].Id
	expectProblem(t, f.do(t, request{method: "DELETE", path: "/api/v1/me/sessions/" + otherID.String(), sess: s1}), 404, "/problems/not-found")
	f.me(t, other) // untouched
	expectProblem(t, f.do(t, request{method: "DELETE", path: "/api/v1/me/sessions/" + second.Id.String(), sess: s1, noCSRF: true}), 403, "/problems/csrf")
	f.me(t, s2)
	if w := f.do(t, request{method: "DELETE", path: "/api/v1/me/sessions/" + second.Id.String(), sess: s1}); w.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	expectProblem(t, f.do(t, request{method: "GET", path: "/api/v1/me", sess: s2}), 401, "/problems/unauthenticated")

	s3 := f.signIn(t, "citizen@test.cz")
	w := f.do(t, request{method: "DELETE", path: "/api/v1/me/sessions", sess: s1})
	if w.Code != http.StatusOK || decode[gen.RevokeOtherSessions200JSONResponse](t, w).Revoked != 1 {
		t.Fatalf("revoke others: %d %s", w.Code, w.Body)
	}
	expectProblem(t, f.do(t, request{method: "GET", path: "/api/v1/me", sess: s3}), 401, "/problems/unauthenticated")
	f.me(t, s1)
	f.me(t, other)
	if got := len(f.auditActions(t, "session-revoked")); got != 2 {
		t.Fatalf("audit entries: %d", got)
	}
}

// TestTOTPWithoutCSRFRefused: every write of the account page needs the CSRF token.
func TestTOTPWithoutCSRFRefused(t *testing.T) {
	f := newFixture(t)
	s := f.signIn(t, "citizen@test.cz")
	for _, r := range []request{
		{method: "POST", path: "/api/v1/me/totp"},
		{method: "POST", path: "/api/v1/me/totp/confirm", body: `{"code":"123456"}`},
		{method: "DELETE", path: "/api/v1/me/sessions"},
	} {
		r.sess, r.noCSRF = s, true
		expectProblem(t, f.do(t, r), 403, "/problems/csrf")
	}
}
