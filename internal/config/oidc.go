package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// OIDCProvider is an external identity provider people may sign in with over OpenID Connect:
// the national identity broker (NIA, Identita občana) or a municipality's own IdP.
type OIDCProvider struct {
	ID              string   `json:"id"`   // in URLs: /auth/oidc/{id}
	Name            string   `json:"name"` // on the button: "Přihlásit se přes {name}"
	Issuer          string   `json:"issuer"`
	ClientID        string   `json:"clientId"`
	ClientSecretEnv string   `json:"clientSecretEnv"` // the variable holding the secret; empty for a public client (PKCE only)
	Scopes          []string `json:"scopes"`
	// TrustMFA: the provider's sign-in counts as multi-factor (NIA's higher levels of
	// assurance), so no TOTP is asked on top.
	TrustMFA bool `json:"trustMfa"`

	ClientSecret string `json:"-"` // read from ClientSecretEnv at start, never from the JSON
}

var providerID = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// parseOIDCProviders reads EPOM_OIDC_PROVIDERS. Secrets are not in the JSON (it often ends up
// in a ConfigMap or a values file); resolveOIDCSecrets reads them from the variables named.
func parseOIDCProviders(c *Config, v string) error {
	c.OIDCProviders = nil
	if strings.TrimSpace(v) == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.DisallowUnknownFields()
	var list []OIDCProvider
	if err := dec.Decode(&list); err != nil {
		if strings.Contains(err.Error(), "clientSecret\"") {
			return fmt.Errorf("put the client secret into its own variable and name it in clientSecretEnv")
		}
		return fmt.Errorf("want a JSON array of providers: %v", err)
	}
	seen := map[string]bool{}
	for i, p := range list {
		at := fmt.Sprintf("provider %d", i+1)
		if !providerID.MatchString(p.ID) {
			return fmt.Errorf("%s: id %q must be 1–40 of a-z, 0-9 and -", at, p.ID)
		}
		at = fmt.Sprintf("provider %q", p.ID)
		if seen[p.ID] {
			return fmt.Errorf("%s: the id is used twice", at)
		}
		seen[p.ID] = true
		if strings.TrimSpace(p.Name) == "" {
			return fmt.Errorf("%s: name is empty", at)
		}
		if err := checkIssuer(p.Issuer); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if p.ClientID == "" {
			return fmt.Errorf("%s: clientId is empty", at)
		}
		if p.ClientSecretEnv != "" && !strings.HasPrefix(p.ClientSecretEnv, "EPOM_") {
			return fmt.Errorf("%s: clientSecretEnv %q must start with EPOM_", at, p.ClientSecretEnv)
		}
		if len(p.Scopes) == 0 {
			list[i].Scopes = []string{"openid", "email", "profile"}
		} else if !slices.Contains(p.Scopes, "openid") {
			return fmt.Errorf("%s: scopes must include openid", at)
		}
	}
	c.OIDCProviders = list
	return nil
}

// checkIssuer wants https; plain http only on a loopback address, which is what development
// and the tests' provider use (a discovery document over http could be swapped in transit).
func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("issuer %q must be https (http only on localhost)", issuer)
}

// resolveOIDCSecrets reads each provider's client secret from the variable it names.
func resolveOIDCSecrets(c *Config, getenv func(string) string) error {
	for i, p := range c.OIDCProviders {
		if p.ClientSecretEnv == "" {
			continue
		}
		if c.OIDCProviders[i].ClientSecret = getenv(p.ClientSecretEnv); c.OIDCProviders[i].ClientSecret == "" {
			return fmt.Errorf("provider %q: %s is not set", p.ID, p.ClientSecretEnv)
		}
	}
	return nil
}
