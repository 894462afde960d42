package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
)

// Errors the API maps to problems.
var (
	// ErrBadCredentials covers both an unknown e-mail and a wrong password, so the answer does
	// not reveal which accounts exist.
	ErrBadCredentials = errors.New("wrong e-mail or password")
	ErrNoSession      = errors.New("no valid session")
	ErrEmailTaken     = errors.New("e-mail already registered")
)

// User is an account.
type User struct {
	ID    uuid.UUID
	Email string
	Name  string
}

// Membership is a user's roles in one tenant.
type Membership struct {
	TenantID uuid.UUID
	Slug     string
	Name     string
	Roles    []string
}

// PlatformRole is a role outside any tenant: platform-admin in scope "platform", operator in
// scope "kraj:CZ051".
type PlatformRole struct {
	Role  string
	Scope string
}

// String is "platform-admin" or "operator:CZ051".
func (r PlatformRole) String() string {
	if r.Scope == "platform" {
		return r.Role
	}
	return r.Role + ":" + strings.TrimPrefix(r.Scope, "kraj:")
}

// Session is a signed-in browser.
type Session struct {
	UserID    uuid.UUID
	PublicID  uuid.UUID // names the session in "my sessions"; the token never leaves the cookie
	Assurance Assurance
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Config holds the sign-in and session policy.
type Config struct {
	Argon2      Argon2Params
	IdleTimeout time.Duration // a session unused this long ends
	MaxAge      time.Duration // a session ends this long after sign-in, used or not
	// SecretKey (32 bytes, EPOM_SECRET_KEY) encrypts TOTP secrets and keys recovery-code hashes.
	SecretKey []byte
	// PreviousKeys (EPOM_SECRET_KEY_PREVIOUS) are keys SecretKey replaced, newest first: secrets
	// and hashes made under them are still read, never written (see RotateSecrets).
	PreviousKeys [][]byte
	// RequireStaffMFA: staff (any tenant or platform role) must sign in with a second factor
	// before any permission-checked operation (EPOM_MFA_STAFF=required).
	RequireStaffMFA bool
	// PendingLoginTTL is how long the step between password and code may take.
	PendingLoginTTL time.Duration
}

// Service is the user registry. Accounts and sessions are not tenant data (one citizen account
// serves every municipality), so they use the app pool directly; memberships are tenant data
// and go through the tenant transaction, except the cross-tenant "my memberships" list, which
// reads through the platform role.
type Service struct {
	app      *pgxpool.Pool
	platform *pgxpool.Pool
	db       *tenants.Database
	cfg      Config
	now      func() time.Time
	dummy    string // a hash to verify against for unknown e-mails, so timing does not tell
}

// NewService builds the registry.
func NewService(app, platform *pgxpool.Pool, db *tenants.Database, cfg Config) (*Service, error) {
	if cfg.Argon2.MemoryKiB == 0 {
		cfg.Argon2 = DefaultArgon2()
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 2 * time.Hour
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 12 * time.Hour
	}
	if cfg.PendingLoginTTL == 0 {
		cfg.PendingLoginTTL = 5 * time.Minute
	}
	dummy, err := HashPassword("not a password anybody has", cfg.Argon2)
	if err != nil {
		return nil, err
	}
	return &Service{app: app, platform: platform, db: db, cfg: cfg, now: time.Now, dummy: dummy}, nil
}

// NormalizeEmail lower-cases and trims an address; accounts are unique by it.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CreateUser registers an account with a password.
func (s *Service) CreateUser(ctx context.Context, email, name, password string) (User, error) {
	hash, err := HashPassword(password, s.cfg.Argon2)
	if err != nil {
		return User{}, err
	}
	u := User{ID: tenants.NewID(), Email: NormalizeEmail(email), Name: strings.TrimSpace(name)}
	_, err = s.app.Exec(ctx, `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)`,
		u.ID, u.Email, u.Name, hash)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return User{}, ErrEmailTaken
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByEmail finds an account.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.app.QueryRow(ctx, `SELECT id, email, name FROM users WHERE email = $1`, NormalizeEmail(email)).
		Scan(&u.ID, &u.Email, &u.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrBadCredentials
	}
	return u, err
}

// Authenticate checks an e-mail and password. An unknown address costs the same hash as a
// known one and gives the same error. A self-registered account whose address is not yet
// verified gets ErrEmailNotVerified (with the user, for the audit log).
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	var u User
	var hash string
	var verified bool
	err := s.app.QueryRow(ctx, `SELECT id, email, name, password_hash, email_verified_at IS NOT NULL FROM users
		WHERE email = $1 AND disabled_at IS NULL`, NormalizeEmail(email)).Scan(&u.ID, &u.Email, &u.Name, &hash, &verified)
	if errors.Is(err, pgx.ErrNoRows) {
		_, _ = VerifyPassword(password, s.dummy)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := VerifyPassword(password, hash)
	if err != nil || !ok {
		return User{}, ErrBadCredentials
	}
	// Only after the right password: otherwise the refusal would tell who registered.
	if !verified {
		return u, ErrEmailNotVerified
	}
	return u, nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// EndSession signs the session out.
func (s *Service) EndSession(ctx context.Context, token string) error {
	_, err := s.app.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token))
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// User loads an account by id.
func (s *Service) User(ctx context.Context, id uuid.UUID) (User, error) {
	var u User
	err := s.app.QueryRow(ctx, `SELECT id, email, name FROM users WHERE id = $1`, id).Scan(&u.ID, &u.Email, &u.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNoSession
	}
	return u, err
}

// Memberships lists the tenants where the user has roles. It crosses tenants, so it reads
// through the platform role.
func (s *Service) Memberships(ctx context.Context, userID uuid.UUID) ([]Membership, error) {
	rows, err := s.platform.Query(ctx, `SELECT t.id, t.slug, COALESCE(NULLIF(st.display_name, ''), c.nazev),
			array_agg(m.role ORDER BY m.role)
		FROM memberships m
		JOIN tenants t ON t.id = m.tenant_id AND t.status = 'active'
		JOIN catalogue_municipalities c ON c.kod_obce = t.kod_obce
		LEFT JOIN tenant_settings st ON st.tenant_id = t.id
		WHERE m.user_id = $1
		GROUP BY t.id, t.slug, st.display_name, c.nazev
		ORDER BY t.slug`, userID)
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Membership, error) {
		var m Membership
		err := r.Scan(&m.TenantID, &m.Slug, &m.Name, &m.Roles)
		return m, err
	})
}

// PlatformRoles lists the user's roles outside tenants.
func (s *Service) PlatformRoles(ctx context.Context, userID uuid.UUID) ([]PlatformRole, error) {
	rows, err := s.app.Query(ctx, `SELECT role, scope FROM platform_roles WHERE user_id = $1 ORDER BY role, scope`, userID)
	if err != nil {
		return nil, fmt.Errorf("list platform roles: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlatformRole])
}

// GrantPlatformRole gives a user a role outside tenants (platform role connection).
func (s *Service) GrantPlatformRole(ctx context.Context, userID uuid.UUID, r PlatformRole) error {
	_, err := s.platform.Exec(ctx, `INSERT INTO platform_roles (user_id, role, scope) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, userID, r.Role, r.Scope)
	if err != nil {
		return fmt.Errorf("grant platform role: %w", err)
	}
	return nil
}

// Grant gives the user a role in the tenant of ctx.
func (s *Service) Grant(ctx context.Context, userID uuid.UUID, role string) error {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`INSERT INTO memberships (tenant_id, user_id, role) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, tid, userID, role).Error
	})
}

// Member is a user with their roles in the tenant of ctx.
type Member struct {
	User
	Roles []string
}

// Members lists the staff of the tenant in ctx.
func (s *Service) Members(ctx context.Context) ([]Member, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, err
	}
	var out []Member
	err = s.db.Read(ctx, func(b *pgx.Batch) {
		b.Queue(`SELECT u.id, u.email, u.name, array_agg(m.role ORDER BY m.role)
			FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.tenant_id = $1 GROUP BY u.id ORDER BY u.name, u.email`, tid).Query(func(rows pgx.Rows) error {
			var err error
			out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
				var m Member
				err := r.Scan(&m.ID, &m.Email, &m.Name, &m.Roles)
				return m, err
			})
			return err
		})
	})
	return out, err
}
