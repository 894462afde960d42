package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantErr []string // every bad variable is named
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.HTTPAddr != "127.0.0.1:8080" || c.MaxBodyBytes != 1<<20 || c.TenantCacheTTL != 30*time.Second || c.CookieSecure || c.HSTS {
				t.Fatalf("defaults: %+v", c)
			}
		}},
		{name: "https turns on secure cookies and HSTS", env: map[string]string{"EPOM_BASE_URL": "https://epom.example.cz/"},
			check: func(t *testing.T, c Config) {
				if !c.CookieSecure || !c.HSTS || c.BaseURL != "https://epom.example.cz" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "explicit overrides auto", env: map[string]string{"EPOM_BASE_URL": "https://x.cz", "EPOM_HSTS": "false"},
			check: func(t *testing.T, c Config) {
				if c.HSTS {
					t.Fatal("HSTS forced off")
				}
			}},
		{name: "every mistake named", env: map[string]string{
			"EPOM_HTTP_ADDR": "8080", "EPOM_DATABASE_URL": "mysql://x", "EPOM_SESSION_IDLE": "forever",
			"EPOM_LOG_LEVEL": "loud", "EPOM_TRUSTED_PROXIES": "proxy.local", "EPOM_BASE_URL": "https://x.cz/epom"},
			wantErr: []string{"EPOM_HTTP_ADDR", "EPOM_DATABASE_URL", "EPOM_SESSION_IDLE", "EPOM_LOG_LEVEL", "EPOM_TRUSTED_PROXIES", "EPOM_BASE_URL"}},
		{name: "mfa: no secret key by default, staff two-factor required", check: func(t *testing.T, c Config) {
			if c.SecretKey != nil || c.MFAStaffOptional || c.RequireSecretKey() == nil {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "mfa: a key and the optional policy", env: map[string]string{
			"EPOM_SECRET_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "EPOM_MFA_STAFF": "optional"},
			check: func(t *testing.T, c Config) {
				if len(c.SecretKey) != 32 || c.SecretKey[31] != 31 || !c.MFAStaffOptional || c.RequireSecretKey() != nil {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "mfa: short key and unknown policy named", env: map[string]string{"EPOM_SECRET_KEY": "c2hvcnQ=", "EPOM_MFA_STAFF": "sometimes"},
			wantErr: []string{"EPOM_SECRET_KEY", "EPOM_MFA_STAFF"}},
		{name: "passwords are not echoed", env: map[string]string{"EPOM_REDIS_URL": "http://user:s3cret@host"},
			wantErr: []string{"EPOM_REDIS_URL"}, check: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tc.env[k] })
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, name := range tc.wantErr {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("error does not name %s: %v", name, err)
					}
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows a password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestHelpListsEveryVariableWithoutPasswords(t *testing.T) {
	h := Help()
	for _, v := range Vars() {
		if !strings.Contains(h, v.Name) {
			t.Errorf("help lacks %s", v.Name)
		}
	}
	if strings.Contains(h, "epom_app:epom_app@") {
		t.Error("help shows a default password")
	}
}
