package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/tenants/apitokens"
	"github.com/epom-cz/epom/tenants/identity"
)

// API tokens of machine clients: their part of the request flow (authenticate, authorize,
// record use) and the tenant admin's operations to list, create and revoke them.

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(c *gin.Context) (string, bool) {
	h := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// authenticateToken makes the request's principal the token. A token works only in its own
// tenant; it needs no CSRF token, since no browser sends it by itself. After the handler the
// use is recorded in the token's tenant.
func (s *Server) authenticateToken(c *gin.Context, raw string) {
	if s.deps.Tokens == nil {
		httpx.Abort(c, problem.New(problem.InvalidToken, ""))
		return
	}
	tok, err := s.deps.Tokens.Authenticate(c.Request.Context(), raw)
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	httpx.LogAttrs(c, slog.String("token", tok.ID.String()))
	t, inTenant := resolvedFrom(c)
	if inTenant && t.ID != tok.TenantID {
		httpx.Abort(c, problem.New(problem.TokenNotAllowed, "This API token belongs to another municipality."))
		return
	}
	c.Set(keyUser, Principal{
		User:     identity.User{ID: tok.CreatedBy, Email: "token:" + tok.ID.String(), Name: tok.Name},
		APIToken: &tok,
	})
	c.Next()
	if !inTenant {
		return
	}
	write := c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead && c.Request.Method != http.MethodOptions
	status := c.Writer.Status()
	// A refused read is no use of the token's data; every attempted write is recorded.
	if !write && status >= 400 {
		return
	}
	op := ""
	if o := operationFrom(c); o != nil {
		op = o.ID
	}
	ctx := context.WithoutCancel(c.Request.Context())
	if err := s.deps.Tokens.Used(ctx, tok, apitokens.Use{IP: c.ClientIP(), Operation: op, Status: status, Write: write}); err != nil {
		s.deps.Log.ErrorContext(ctx, "record API token use", "token", tok.ID.String(), "err", err)
	}
}

// authorizeToken lets a token do what its scopes name, in its own tenant, and only while its
// creator still holds the permission (a token of a removed admin stops working).
func (s *Server) authorizeToken(c *gin.Context, op *httpx.Operation, p Principal) {
	if op.Permission == httpx.PermissionAuthenticated {
		httpx.Abort(c, problem.New(problem.TokenNotAllowed, "Account operations need a signed-in person, not an API token."))
		return
	}
	t, ok := resolvedFrom(c)
	if !ok || t.ID != p.APIToken.TenantID {
		httpx.Abort(c, problem.New(problem.TokenNotAllowed, "An API token works only on operations of its own municipality."))
		return
	}
	if !p.APIToken.Allows(op.Permission) {
		httpx.Abort(c, problem.New(problem.Forbidden, fmt.Sprintf("The token's scopes do not include %s.", op.Permission)))
		return
	}
	allowed, err := s.deps.Authz.Allowed(p.User.ID.String(), t.ID.String(), op.Permission)
	if err != nil {
		httpx.Abort(c, problem.From(err))
		return
	}
	if !allowed {
		httpx.Abort(c, problem.New(problem.Forbidden, "The token's creator no longer holds "+op.Permission+"."))
		return
	}
	c.Next()
}

func tokenBody(t apitokens.Token, now time.Time) gen.ApiToken {
	out := gen.ApiToken{Id: openapi_types.UUID(t.ID), Name: t.Name, Scopes: t.Scopes, Status: gen.ApiTokenStatus(t.Status(now)),
		CreatedBy: openapi_types.UUID(t.CreatedBy), CreatedByEmail: optional(t.CreatedByEmail), CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, LastUsedIp: optional(t.LastUsedIP), RevokedAt: t.RevokedAt}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if t.RevokedBy != nil {
		by := openapi_types.UUID(*t.RevokedBy)
		out.RevokedBy = &by
	}
	return out
}

// grantableBy lists the scopes user may put into a token of the tenant: what tokens may carry
// at all, narrowed to what the user holds there.
func (k *Kernel) grantableBy(ctx context.Context, user uuid.UUID) ([]string, error) {
	t, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, perm := range apitokens.Grantable(k.Authz.Permissions()) {
		ok, err := k.Authz.Allowed(user.String(), t.ID.String(), perm)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, perm)
		}
	}
	return out, nil
}

// ListApiTokens implements listApiTokens.
func (k *Kernel) ListApiTokens(ctx context.Context, _ gen.ListApiTokensRequestObject) (gen.ListApiTokensResponseObject, error) {
	p, _ := principalFrom(ctx)
	list, err := k.Tokens.List(ctx)
	if err != nil {
		return nil, err
	}
	grantable, err := k.grantableBy(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	items := make([]gen.ApiToken, 0, len(list))
	for _, t := range list {
		items = append(items, tokenBody(t, now))
	}
	return gen.ListApiTokens200JSONResponse{Items: items, GrantableScopes: grantable}, nil
}

// CreateApiToken implements createApiToken. The creator may grant only permissions tokens may
// carry and that they hold themselves in this municipality.
func (k *Kernel) CreateApiToken(ctx context.Context, req gen.CreateApiTokenRequestObject) (gen.CreateApiTokenResponseObject, error) {
	p, _ := principalFrom(ctx)
	b := req.Body
	grantable, err := k.grantableBy(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	var bad []problem.FieldError
	if strings.TrimSpace(b.Name) == "" {
		bad = append(bad, problem.FieldError{Field: "/name", Message: "must not be blank"})
	}
	for i, sc := range b.Scopes {
		if !slices.Contains(grantable, sc) {
			bad = append(bad, problem.FieldError{Field: fmt.Sprintf("/scopes/%d", i),
				Message: "not a permission you may give to a token: " + sc})
		}
	}
	now := time.Now()
	if b.ExpiresAt != nil && (!b.ExpiresAt.After(now) || b.ExpiresAt.Sub(now) > apitokens.MaxLifetime) {
		bad = append(bad, problem.FieldError{Field: "/expiresAt", Message: "must be in the future and at most a year away"})
	}
	if len(bad) > 0 {
		return nil, problem.New(problem.Validation, "Some fields are not valid.", bad...)
	}
	scopes := slices.Clone(b.Scopes)
	slices.Sort(scopes)
	var expires *time.Time
	if b.ExpiresAt != nil {
		e := b.ExpiresAt.UTC().Truncate(time.Microsecond)
		expires = &e
	}
	t, secret, err := k.Tokens.Create(ctx, apitokens.Actor{ID: p.User.ID, Email: p.User.Email, IP: clientFrom(ctx).IP},
		apitokens.NewToken{Name: b.Name, Scopes: scopes, ExpiresAt: expires})
	if err != nil {
		return nil, err
	}
	return gen.CreateApiToken201JSONResponse{Token: tokenBody(t, now), Secret: secret}, nil
}

// RevokeApiToken implements revokeApiToken.
func (k *Kernel) RevokeApiToken(ctx context.Context, req gen.RevokeApiTokenRequestObject) (gen.RevokeApiTokenResponseObject, error) {
	p, _ := principalFrom(ctx)
	t, err := k.Tokens.Revoke(ctx, apitokens.Actor{ID: p.User.ID, Email: p.User.Email, IP: clientFrom(ctx).IP}, uuid.UUID(req.TokenId))
	if err != nil {
		return nil, err
	}
	return gen.RevokeApiToken200JSONResponse(tokenBody(t, time.Now())), nil
}
