package config

import (
	"strings"
	"testing"
)

func TestOIDCProviders(t *testing.T) {
	nia := `{"id":"nia","name":"Identita občana","issuer":"https://nia.example.cz","clientId":"epom","clientSecretEnv":"EPOM_OIDC_NIA_SECRET","trustMfa":true}`
	cases := []struct {
		name    string
		json    string
		secret  string
		wantErr string
	}{
		{name: "none", json: ""},
		{name: "nia with its secret", json: "[" + nia + "]", secret: "s3cret"},
		{name: "loopback http for tests", json: `[{"id":"dev","name":"Dev","issuer":"http://127.0.0.1:5556","clientId":"x"}]`},
		{name: "plain http elsewhere", json: `[{"id":"x","name":"X","issuer":"http://idp.example.cz","clientId":"x"}]`, wantErr: "must be https"},
		{name: "bad id", json: `[{"id":"NIA","name":"X","issuer":"https://idp.example.cz","clientId":"x"}]`, wantErr: "a-z"},
		{name: "duplicate id", json: "[" + nia + "," + nia + "]", secret: "s", wantErr: "used twice"},
		{name: "secret in the JSON", json: `[{"id":"x","name":"X","issuer":"https://i.cz","clientId":"x","clientSecret":"s3cret"}]`, wantErr: "clientSecretEnv"},
		{name: "secret variable unset", json: "[" + nia + "]", wantErr: "EPOM_OIDC_NIA_SECRET is not set"},
		{name: "no openid scope", json: `[{"id":"x","name":"X","issuer":"https://i.cz","clientId":"x","scopes":["email"]}]`, wantErr: "openid"},
		{name: "not JSON", json: `nia`, wantErr: "JSON array"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(func(k string) string {
				switch k {
				case "EPOM_OIDC_PROVIDERS":
					return tc.json
				case "EPOM_OIDC_NIA_SECRET":
					return tc.secret
				}
				return ""
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "EPOM_OIDC_PROVIDERS") {
					t.Fatalf("want an error naming EPOM_OIDC_PROVIDERS with %q, got %v", tc.wantErr, err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.secret != "" {
				p := c.OIDCProviders[0]
				if p.ClientSecret != tc.secret || !p.TrustMFA || strings.Join(p.Scopes, " ") != "openid email profile" {
					t.Fatalf("provider: %+v", p)
				}
			}
		})
	}
}
