package apitokens

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants/authz"
)

func TestFormatAndParse(t *testing.T) {
	id := uuid.Must(uuid.NewV7())
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	tok := Format(id, secret)
	if !strings.HasPrefix(tok, "epom_") || strings.Count(tok, "_") != 2 {
		t.Fatalf("token %q", tok)
	}
	gotID, gotSecret, err := Parse(tok)
	if err != nil || gotID != id || string(gotSecret) != string(secret) {
		t.Fatalf("parse: %v %v %v", gotID, gotSecret, err)
	}
	idPart := strings.Split(tok, "_")[1]
	for _, bad := range []string{
		"", "epom", "epom_", "bearer " + tok, "xpom_" + tok[5:], tok + "x", tok[:len(tok)-1],
		"epom_" + idPart, "epom_" + idPart + "_", "epom_AAAA_" + strings.Split(tok, "_")[2],
		strings.ToUpper(tok),
	} {
		if _, _, err := Parse(bad); err != ErrInvalid {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestGrantable(t *testing.T) {
	perms := append(authz.KernelPermissions(),
		authz.Permission{Object: "noticeboard.notice", Action: "publish", Roles: []string{authz.RoleClerk}},
		authz.Permission{Object: "operator.tenants", Action: "write", Roles: []string{authz.RoleOperator}},
		authz.Permission{Object: "tenant.usage", Action: "read", Roles: []string{authz.RoleOperator}},
	)
	got := Grantable(perms)
	for _, want := range []string{"noticeboard.notice:publish", "tenant.settings:read", "tenant.settings:write", "tenant.audit:read"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s is not grantable: %v", want, got)
		}
	}
	for _, never := range []string{"tenant.tokens:read", "tenant.tokens:write", "tenant.export:run", "tenant.export:read",
		"platform.tenants:read", "operator.tenants:write", "tenant.usage:read"} {
		if slices.Contains(got, never) {
			t.Errorf("%s is grantable", never)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("not sorted: %v", got)
	}
}

func TestStatus(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	for _, c := range []struct {
		name string
		tok  Token
		want string
	}{
		{"no expiry", Token{}, "active"},
		{"expires later", Token{ExpiresAt: &future}, "active"},
		{"expired", Token{ExpiresAt: &past}, "expired"},
		{"expires now", Token{ExpiresAt: &now}, "expired"},
		{"revoked before expiry", Token{ExpiresAt: &future, RevokedAt: &past}, "revoked"},
	} {
		if got := c.tok.Status(now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
