// Package apitokens provides API tokens for machine clients of one municipality: scoped to
// permissions, revocable, with only a hash of the secret at rest. A token reads
// "epom_<id>_<secret>": the prefix tells people and secret scanners what it is, the id finds
// its row without a scan, and the secret (256 random bits) is compared by its SHA-256.
package apitokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lib/pq"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
)

// Prefix starts every token.
const Prefix = "epom_"

// MaxLifetime is the longest a token may live.
const MaxLifetime = 366 * 24 * time.Hour

// ReadAuditInterval is how often a token's reads are recorded in the audit log; every write is.
const ReadAuditInterval = time.Hour

// Errors of the store.
var (
	// ErrInvalid covers an unknown, malformed, revoked and expired token alike, so the answer
	// does not tell which tokens exist.
	ErrInvalid  = errors.New("invalid API token")
	ErrNotFound = errors.New("API token not found")
)

// encoding is lower-case base32 without padding: no "_" (the separator), easy to copy.
var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Token is a stored token; the secret is never part of it.
type Token struct {
	TenantID       uuid.UUID
	ID             uuid.UUID
	Name           string
	Scopes         []string
	CreatedBy      uuid.UUID
	CreatedByEmail string
	CreatedAt      time.Time
	ExpiresAt      *time.Time
	LastUsedAt     *time.Time
	LastUsedIP     string
	RevokedAt      *time.Time
	RevokedBy      *uuid.UUID
}

// Status is "active", "expired" or "revoked" at now.
func (t Token) Status(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// Allows reports whether permission ("obj:act") is among the token's scopes.
func (t Token) Allows(permission string) bool { return slices.Contains(t.Scopes, permission) }

// Format builds the token string a client sends.
func Format(id uuid.UUID, secret []byte) string {
	return Prefix + encoding.EncodeToString(id[:]) + "_" + encoding.EncodeToString(secret)
}

// Parse splits a token string into its id and secret.
func Parse(s string) (uuid.UUID, []byte, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return uuid.Nil, nil, ErrInvalid
	}
	idPart, secretPart, ok := strings.Cut(rest, "_")
	if !ok {
		return uuid.Nil, nil, ErrInvalid
	}
	idBytes, err := encoding.DecodeString(idPart)
	if err != nil || len(idBytes) != 16 {
		return uuid.Nil, nil, ErrInvalid
	}
	secret, err := encoding.DecodeString(secretPart)
	if err != nil || len(secret) != 32 {
		return uuid.Nil, nil, ErrInvalid
	}
	return uuid.UUID(idBytes), secret, nil
}

func hashOf(secret []byte) []byte {
	h := sha256.Sum256(secret)
	return h[:]
}

// Grantable lists the permissions a token may carry at all: those of the tenant's own roles,
// except managing tokens (a token must not mint or revoke tokens), exporting all of the
// municipality's data, and anything of the platform or a regional operator.
func Grantable(perms []authz.Permission) []string {
	var out []string
	for _, p := range perms {
		s := p.String()
		if strings.HasPrefix(p.Object, "platform.") || strings.HasPrefix(p.Object, "operator.") ||
			p.Object == "tenant.tokens" || p.Object == "tenant.export" {
			continue
		}
		tenantRole := false
		for _, r := range p.Roles {
			if r == authz.RoleTenantAdmin || r == authz.RoleClerk || r == authz.RoleAuditor {
				tenantRole = true
			}
		}
		if tenantRole && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Store keeps the tokens. Tenant operations run in the tenant transaction (app role); finding
// a presented token by its id crosses tenants and reads through the platform role.
type Store struct {
	db       *tenants.Database
	platform *pgxpool.Pool
	audit    *audit.Log
	now      func() time.Time
}

// NewStore returns the store.
func NewStore(db *tenants.Database, platform *pgxpool.Pool, log *audit.Log) *Store {
	return &Store{db: db, platform: platform, audit: log, now: time.Now}
}

// Actor is who makes or revokes a token, for the row and the audit log.
type Actor struct {
	ID    uuid.UUID
	Email string
	IP    string
}

// NewToken is what Create needs; the caller has checked the scopes against what the creator
// may grant.
type NewToken struct {
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
}

const columns = `t.tenant_id, t.id, t.name, t.scopes, t.created_by, COALESCE(u.email, ''), t.created_at, t.expires_at,
	t.last_used_at, t.last_used_ip, t.revoked_at, t.revoked_by`

func scan(row pgx.Row) (Token, error) {
	var t Token
	err := row.Scan(&t.TenantID, &t.ID, &t.Name, &t.Scopes, &t.CreatedBy, &t.CreatedByEmail, &t.CreatedAt, &t.ExpiresAt,
		&t.LastUsedAt, &t.LastUsedIP, &t.RevokedAt, &t.RevokedBy)
	return t, err
}

// Create stores a token for the tenant in ctx and returns it with the token string, which is
// shown once and never again. The row and its audit entry commit together.
func (s *Store) Create(ctx context.Context, by Actor, n NewToken) (Token, string, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return Token{}, "", err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Token{}, "", fmt.Errorf("token secret: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	t := Token{TenantID: tid, ID: tenants.NewID(), Name: strings.TrimSpace(n.Name), Scopes: n.Scopes,
		CreatedBy: by.ID, CreatedByEmail: by.Email, CreatedAt: now, ExpiresAt: n.ExpiresAt}
	if t.ExpiresAt != nil {
		if !t.ExpiresAt.After(now) || t.ExpiresAt.Sub(now) > MaxLifetime {
			return Token{}, "", fmt.Errorf("%w: the expiry must be in the future and at most a year away", tenants.ErrInvalid)
		}
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := tenants.DB(ctx).Exec(`INSERT INTO api_tokens (tenant_id, id, name, secret_hash, scopes, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tid, t.ID, t.Name, hashOf(secret), pq.StringArray(t.Scopes), by.ID, now, t.ExpiresAt).Error; err != nil {
			return fmt.Errorf("create API token: %w", err)
		}
		details := map[string]string{"name": t.Name, "scopes": strings.Join(t.Scopes, " ")}
		if t.ExpiresAt != nil {
			details["expiresAt"] = t.ExpiresAt.UTC().Format(time.RFC3339)
		}
		return s.audit.Tenant(ctx, audit.Event{ActorID: &by.ID, Actor: by.Email, IP: by.IP, Action: "token-created",
			Target: "token:" + t.ID.String(), Details: details})
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, Format(t.ID, secret), nil
}

// List returns the tenant's tokens, newest first.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, err
	}
	var out []Token
	err = s.db.Read(ctx, func(b *pgx.Batch) {
		b.Queue(`SELECT `+columns+` FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
			WHERE t.tenant_id = $1 ORDER BY t.created_at DESC, t.id DESC LIMIT 500`, tid).Query(func(rows pgx.Rows) error {
			var err error
			out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) { return scan(r) })
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	return out, nil
}

// Revoke ends a token of the tenant in ctx. Revoking a revoked token changes nothing and
// records nothing.
func (s *Store) Revoke(ctx context.Context, by Actor, id uuid.UUID) (Token, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return Token{}, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		var name string
		err := tenants.DB(ctx).Raw(`UPDATE api_tokens SET revoked_at = ?, revoked_by = ?
			WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL RETURNING name`, s.now().UTC(), by.ID, tid, id).Row().Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			if err := tenants.DB(ctx).Raw(`SELECT count(*) FROM api_tokens WHERE tenant_id = ? AND id = ?`, tid, id).Row().Scan(&n); err != nil {
				return fmt.Errorf("revoke API token: %w", err)
			}
			if n == 0 {
				return ErrNotFound
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("revoke API token: %w", err)
		}
		return s.audit.Tenant(ctx, audit.Event{ActorID: &by.ID, Actor: by.Email, IP: by.IP, Action: "token-revoked",
			Target: "token:" + id.String(), Details: map[string]string{"name": name}})
	})
	if err != nil {
		return Token{}, err
	}
	return s.Get(ctx, id)
}

// Get returns one token of the tenant in ctx.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (Token, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return Token{}, err
	}
	var t Token
	found := false
	err = s.db.Read(ctx, func(b *pgx.Batch) {
		b.Queue(`SELECT `+columns+` FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
			WHERE t.tenant_id = $1 AND t.id = $2`, tid, id).Query(func(rows pgx.Rows) error {
			defer rows.Close()
			if rows.Next() {
				found = true
				var err error
				t, err = scan(rows)
				return err
			}
			return rows.Err()
		})
	})
	if err != nil {
		return Token{}, fmt.Errorf("get API token: %w", err)
	}
	if !found {
		return Token{}, ErrNotFound
	}
	return t, nil
}

// Authenticate finds the live token of a token string. The hashes are compared in constant
// time; every failure is ErrInvalid.
func (s *Store) Authenticate(ctx context.Context, raw string) (Token, error) {
	id, secret, err := Parse(raw)
	if err != nil {
		return Token{}, ErrInvalid
	}
	var hash []byte
	var t Token
	err = s.platform.QueryRow(ctx, `SELECT `+columns+`, t.secret_hash FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by
		WHERE t.id = $1`, id).Scan(&t.TenantID, &t.ID, &t.Name, &t.Scopes, &t.CreatedBy, &t.CreatedByEmail, &t.CreatedAt,
		&t.ExpiresAt, &t.LastUsedAt, &t.LastUsedIP, &t.RevokedAt, &t.RevokedBy, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// Hash anyway, so an unknown id costs what a known one does.
		subtle.ConstantTimeCompare(hashOf(secret), make([]byte, sha256.Size))
		return Token{}, ErrInvalid
	}
	if err != nil {
		return Token{}, fmt.Errorf("look up API token: %w", err)
	}
	if subtle.ConstantTimeCompare(hashOf(secret), hash) != 1 || t.Status(s.now()) != "active" {
		return Token{}, ErrInvalid
	}
	return t, nil
}

// Use is one request made with a token.
type Use struct {
	IP        string
	Operation string
	Status    int
	Write     bool
}

// Used records a request made with t in t's tenant: every write goes into the audit log, reads
// at most once per ReadAuditInterval per token. last_used_at decides, in one conditional
// UPDATE, so concurrent reads record one entry between them.
func (s *Store) Used(ctx context.Context, t Token, u Use) error {
	now := s.now().UTC()
	// The row as read at authentication already tells most reads there is nothing to record.
	if !u.Write && t.LastUsedAt != nil && now.Sub(*t.LastUsedAt) < ReadAuditInterval {
		return nil
	}
	ctx = tenants.WithTenant(ctx, tenants.Tenant{ID: t.TenantID})
	return s.db.InTx(ctx, func(ctx context.Context) error {
		res := tenants.DB(ctx).Exec(`UPDATE api_tokens SET last_used_at = ?, last_used_ip = ?
			WHERE tenant_id = ? AND id = ? AND (? OR last_used_at IS NULL OR last_used_at <= ?)`,
			now, u.IP, t.TenantID, t.ID, u.Write, now.Add(-ReadAuditInterval))
		if res.Error != nil {
			return fmt.Errorf("record API token use: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		kind := "read"
		if u.Write {
			kind = "write"
		}
		return s.audit.Tenant(ctx, audit.Event{ActorID: &t.CreatedBy, Actor: "token:" + t.ID.String(), IP: u.IP,
			Action: "token-used", Target: "token:" + t.ID.String(),
			Details: map[string]string{"operation": u.Operation, "status": fmt.Sprint(u.Status), "kind": kind}})
	})
}
