package oidc

import "testing"

func TestSafeNext(t *testing.T) {
	cases := map[string]string{
		"":                             "",
		"/app/":                        "/app/",
		"/app/t/liberec":               "/app/t/liberec",
		"/app/t/liberec?tab=1#x":       "/app/t/liberec?tab=1",
		"/app":                         "",
		"/api/v1/me":                   "",
		"/":                            "",
		"https://evil.example/app/":    "",
		"//evil.example/app/":          "",
		"/\\evil.example/app/":         "",
		"/app/../admin/queues":         "",
		"/app/%2e%2e/admin":            "",
		"/app/./x":                     "",
		"/app//evil.example":           "",
		"javascript:alert(1)":          "",
		"/app/\r\nSet-Cookie: x=1":     "",
		"http:/app/":                   "",
		"/app/t/kun%C5%BEak/nastaveni": "/app/t/kun%C5%BEak/nastaveni",
	}
	for in, want := range cases {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEmailVerifiedClaim(t *testing.T) {
	for v, want := range map[any]bool{true: true, "true": true, false: false, "false": false, "yes": false, 1.0: false} {
		if got := (claims{EmailVerified: v}).verified(); got != want {
			t.Errorf("email_verified %#v: %v", v, got)
		}
	}
	if (claims{}).verified() {
		t.Error("a missing email_verified counts as verified")
	}
}
