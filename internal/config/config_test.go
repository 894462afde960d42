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

// TestSecretKeyPrevious: the earlier keys are read in order after the current one; a key of
// the wrong size, the current key again or a duplicate is refused naming the variable, and
// no key is ever echoed in the error.
func TestSecretKeyPrevious(t *testing.T) {
	const (
		cur = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // bytes 0…31
		k1  = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" // 32 × 0x01
		k2  = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=" // 32 × 0x02
	)
	cases := []struct {
		name     string
		current  string
		previous string
		wantErr  string // substring after "EPOM_SECRET_KEY_PREVIOUS: "
		wantLen  int
	}{
		{name: "unset", current: cur},
		{name: "blank", current: cur, previous: "  "},
		{name: "one", current: cur, previous: k1, wantLen: 1},
		{name: "two with spaces, order kept", current: cur, previous: " " + k1 + " , " + k2, wantLen: 2},
		{name: "without a current key", previous: k1, wantLen: 1},
		{name: "short key", current: cur, previous: k1 + ",c2hvcnQ=", wantErr: "key 2: want the base64 of exactly 32 bytes"},
		{name: "not base64", current: cur, previous: "not*base64", wantErr: "key 1: want the base64"},
		{name: "empty entry", current: cur, previous: k1 + ",,", wantErr: "key 2 is empty"},
		{name: "the current key again", current: cur, previous: cur, wantErr: "key 1 is the current EPOM_SECRET_KEY"},
		{name: "duplicate", current: cur, previous: k1 + "," + k1, wantErr: "key 2 is listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"EPOM_SECRET_KEY": tc.current, "EPOM_SECRET_KEY_PREVIOUS": tc.previous}
			c, err := Load(func(k string) string { return env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "EPOM_SECRET_KEY_PREVIOUS: ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want EPOM_SECRET_KEY_PREVIOUS: …%s", err, tc.wantErr)
				}
				for _, k := range []string{cur, k1} {
					if strings.Contains(err.Error(), k) {
						t.Fatalf("error shows a key: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.SecretKeysPrevious) != tc.wantLen {
				t.Fatalf("%d previous keys, want %d", len(c.SecretKeysPrevious), tc.wantLen)
			}
			ring := c.KeyRing()
			if tc.wantLen == 2 && (ring.Previous[0][0] != 1 || ring.Previous[1][0] != 2) {
				t.Fatal("order of the previous keys lost")
			}
			if got := len(ring.Keys()); tc.current != "" && got != 1+tc.wantLen {
				t.Fatalf("ring has %d keys", got)
			}
		})
	}
}
