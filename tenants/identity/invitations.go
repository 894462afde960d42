package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lib/pq"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/authz"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// Errors of invitations and role changes; the API maps each to its own problem type.
var (
	ErrInvitationNotFound = errors.New("invitation not found")
	ErrInvitationExpired  = errors.New("invitation expired")
	ErrInvitationRevoked  = errors.New("invitation revoked")
	ErrInvitationUsed     = errors.New("invitation already used")
	// ErrWrongAccount: the signed-in account is not the invited address.
	ErrWrongAccount = errors.New("invitation is for another e-mail address")
	// ErrAccountExists: the invited address has an account, which must sign in to accept (an
	// invitation link never sets the password of an existing account).
	ErrAccountExists = errors.New("an account with this e-mail exists; sign in first")
	ErrAlreadyMember = errors.New("already a member of the municipality")
	ErrNotMember     = errors.New("not a member of the municipality")
	// ErrLastAdmin: the change would leave the municipality without a tenant-admin.
	ErrLastAdmin = errors.New("the municipality must keep at least one administrator")
)

// InputError is a bad value in one field of the request, with a message in Czech and English.
type InputError struct {
	Field string // the request body's field: email, name, roles, password
	CS    string
	EN    string
}

func (e *InputError) Error() string { return "invalid " + e.Field + ": " + e.EN }

var invitationToken = regexp.MustCompile(`(/app/pozvanka\?token=)[A-Za-z0-9_%-]+`)

// RedactInvitationLinks hides the secret of every invitation link in s (a logged e-mail), so
// whoever reads the mail log cannot accept an invitation in the invitee's name.
func RedactInvitationLinks(s string) string {
	return invitationToken.ReplaceAllString(s, "${1}…")
}

// Invitation statuses.
const (
	InvitationPending  = "pending"
	InvitationExpired  = "expired"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
)

// TenantRoles are the role templates a municipality assigns to its staff, in display order.
func TenantRoles() []string {
	return []string{authz.RoleTenantAdmin, authz.RoleClerk, authz.RoleAuditor}
}

var roleNames = map[string][2]string{
	authz.RoleTenantAdmin: {"Správce obce", "Municipality administrator"},
	authz.RoleClerk:       {"Úředník", "Clerk"},
	authz.RoleAuditor:     {"Auditor", "Auditor"},
}

// RoleName is the role's name for people, in lang ("cs" unless "en").
func RoleName(role, lang string) string {
	n, ok := roleNames[role]
	if !ok {
		return role
	}
	if lang == "en" {
		return n[1]
	}
	return n[0]
}

// normalizeRoles checks roles against the tenant role templates and returns them without
// duplicates, in display order.
func normalizeRoles(roles []string, allowEmpty bool) ([]string, error) {
	var out []string
	for _, r := range TenantRoles() {
		if slices.Contains(roles, r) {
			out = append(out, r)
		}
	}
	for _, r := range roles {
		if !slices.Contains(out, r) {
			return nil, &InputError{Field: "roles", CS: "Neznámá role " + r + ".", EN: "Unknown role " + r + "."}
		}
	}
	if len(out) == 0 && !allowEmpty {
		return nil, &InputError{Field: "roles", CS: "Vyberte alespoň jednu roli.", EN: "Choose at least one role."}
	}
	return out, nil
}

func checkEmail(s string) (string, error) {
	addr := NormalizeEmail(s)
	a, err := netmail.ParseAddress(addr)
	if err != nil || a.Address != addr || len(addr) > 254 {
		return "", &InputError{Field: "email", CS: "Neplatná e-mailová adresa.", EN: "Not a valid e-mail address."}
	}
	return addr, nil
}

func checkName(s string, required bool) (string, error) {
	name := strings.TrimSpace(s)
	switch {
	case required && name == "":
		return "", &InputError{Field: "name", CS: "Vyplňte jméno.", EN: "Enter a name."}
	case utf8.RuneCountInString(name) > 200:
		return "", &InputError{Field: "name", CS: "Nejvýše 200 znaků.", EN: "At most 200 characters."}
	}
	return name, nil
}

// Reloader is told that role assignments changed (*authz.Authorizer: every replica reloads).
type Reloader interface {
	Changed(ctx context.Context) error
}

// StaffConfig configures Staff.
type StaffConfig struct {
	// BaseURL of the deployment; invitation links are BaseURL/app/pozvanka?token=….
	BaseURL string
	// InvitationTTL is how long an invitation link works [7 days].
	InvitationTTL time.Duration
}

// Staff manages who works for a municipality: invitations (pozvánky) and the roles of its
// members. Every change and its audit entries (and the invitation e-mail) commit in one
// tenant transaction; afterwards the authorizer reloads.
type Staff struct {
	users  *Service
	db     *tenants.Database
	mail   *email.Service
	audit  *audit.Log
	authz  Reloader
	cfg    StaffConfig
	now    func() time.Time
	logger *slog.Logger
}

// NewStaff builds the staff service.
func NewStaff(users *Service, db *tenants.Database, mail *email.Service, log *audit.Log, authz Reloader, cfg StaffConfig) *Staff {
	if cfg.InvitationTTL <= 0 {
		cfg.InvitationTTL = 7 * 24 * time.Hour
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Staff{users: users, db: db, mail: mail, audit: log, authz: authz, cfg: cfg, now: time.Now, logger: slog.Default()}
}

// Now is the service's clock, for telling pending from expired invitations.
func (s *Staff) Now() time.Time { return s.now() }

// Actor is who makes a change, for the audit log.
type Actor struct {
	ID    *uuid.UUID // nil for the system
	Email string     // "" means "system"
	IP    string
}

func (a Actor) event(action, target string, details map[string]string) audit.Event {
	name := a.Email
	if name == "" {
		name = "system"
	}
	return audit.Event{ActorID: a.ID, Actor: name, IP: a.IP, Action: action, Target: target, Details: details}
}

// InviteParams is one invitation.
type InviteParams struct {
	Email string
	Name  string   // how the invitee is addressed; they may change it when accepting
	Roles []string // tenant role templates: tenant-admin, clerk, auditor
	// InvitedBy is the inviting account (a tenant admin, or the operator setting the
	// municipality up); nil for the system. Its e-mail is the audit entry's actor.
	InvitedBy   *uuid.UUID
	InviterName string // shown in the e-mail: "Jana Nováková vás zve…"
	Lang        string // of the e-mail: "cs" (default) or "en"
	IP          string // of the request, for the audit log
}

// Invitation is an invitation of the tenant in ctx.
type Invitation struct {
	ID         uuid.UUID
	TenantID   uuid.UUID
	Email      string
	Name       string
	Roles      []string
	InvitedBy  *uuid.UUID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	AcceptedBy *uuid.UUID
	RevokedAt  *time.Time
	// Link is the accept link with its secret token; only Invite returns it (the database
	// keeps the token's hash). Do not show it to the inviter: the e-mail proves the address.
	Link string
}

// Status is pending, expired, accepted or revoked at time now.
func (i Invitation) Status(now time.Time) string {
	switch {
	case i.AcceptedAt != nil:
		return InvitationAccepted
	case i.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(i.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

func (i Invitation) check(now time.Time) error {
	switch i.Status(now) {
	case InvitationAccepted:
		return ErrInvitationUsed
	case InvitationRevoked:
		return ErrInvitationRevoked
	case InvitationExpired:
		return ErrInvitationExpired
	}
	return nil
}

const invitationColumns = `id, tenant_id, email, name, roles, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at`

// scanInvitation reads invitationColumns; roles is a *pq.StringArray through gorm, a
// *[]string through pgx.
func scanInvitation(row interface{ Scan(...any) error }, pgxRow bool) (Invitation, error) {
	var i Invitation
	var roles pq.StringArray
	var dest any = &roles
	if pgxRow {
		dest = &i.Roles
	}
	err := row.Scan(&i.ID, &i.TenantID, &i.Email, &i.Name, dest, &i.InvitedBy, &i.CreatedAt, &i.ExpiresAt,
		&i.AcceptedAt, &i.AcceptedBy, &i.RevokedAt)
	if !pgxRow {
		i.Roles = []string(roles)
	}
	return i, err
}

// invitationMail is the e-mail's data: one role goes into Role, several into Roles (the
// Czech sentence differs).
func invitationMail(inv Invitation, inviter, lang string) *mail.Invitation {
	data := &mail.Invitation{InviterName: inviter, AcceptURL: inv.Link, ExpiresAt: inv.ExpiresAt}
	for _, r := range inv.Roles {
		data.Roles = append(data.Roles, RoleName(r, lang))
	}
	if len(data.Roles) == 1 {
		data.Role, data.Roles = data.Roles[0], nil
	}
	return data
}

// Invite invites p.Email into the tenant of ctx (tenants.WithTenant) with p.Roles. It
// replaces an open invitation of the same address, e-mails the link through the tenant's
// mail (the mail log shows it) and writes "invitation-sent" to the tenant's audit log, all
// in one transaction. An address that is already a member gets ErrAlreadyMember.
func (s *Staff) Invite(ctx context.Context, p InviteParams) (Invitation, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return Invitation{}, err
	}
	addr, err := checkEmail(p.Email)
	if err != nil {
		return Invitation{}, err
	}
	name, err := checkName(p.Name, false)
	if err != nil {
		return Invitation{}, err
	}
	roles, err := normalizeRoles(p.Roles, false)
	if err != nil {
		return Invitation{}, err
	}
	lang := "cs"
	if p.Lang == "en" {
		lang = "en"
	}
	token, err := randomToken()
	if err != nil {
		return Invitation{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	inv := Invitation{ID: tenants.NewID(), TenantID: tid, Email: addr, Name: name, Roles: roles, InvitedBy: p.InvitedBy,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.InvitationTTL),
		Link: s.cfg.BaseURL + "/app/pozvanka?token=" + url.QueryEscape(token)}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		db := tenants.DB(ctx)
		var members int64
		if err := db.Raw(`SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.tenant_id = ? AND u.email = ?`, tid, addr).Row().Scan(&members); err != nil {
			return fmt.Errorf("check membership: %w", err)
		}
		if members > 0 {
			return ErrAlreadyMember
		}
		actor := Actor{ID: p.InvitedBy, IP: p.IP}
		if p.InvitedBy != nil {
			u, err := s.users.User(ctx, *p.InvitedBy)
			if err != nil {
				return fmt.Errorf("inviter: %w", err)
			}
			actor.Email = u.Email
		}
		replaced := db.Exec(`UPDATE invitations SET revoked_at = ? WHERE tenant_id = ? AND email = ?
			AND accepted_at IS NULL AND revoked_at IS NULL`, now, tid, addr)
		if replaced.Error != nil {
			return fmt.Errorf("replace invitation: %w", replaced.Error)
		}
		if err := db.Exec(`INSERT INTO invitations (tenant_id, id, email, name, roles, token_hash, invited_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tid, inv.ID, addr, name, pq.StringArray(roles), tokenHash(token),
			p.InvitedBy, now, inv.ExpiresAt).Error; err != nil {
			return fmt.Errorf("save invitation: %w", err)
		}
		if _, err := s.mail.Queue(ctx, email.Message{To: addr, ToName: name, Template: "invitation", Lang: lang,
			Data: invitationMail(inv, p.InviterName, lang),
			Ref:  "invitation:" + inv.ID.String(), Secrets: []string{token}}); err != nil {
			return fmt.Errorf("queue invitation mail: %w", err)
		}
		return s.audit.Tenant(ctx, actor.event("invitation-sent", addr, map[string]string{
			"invitationId": inv.ID.String(), "roles": strings.Join(roles, " "),
			"replaced": fmt.Sprint(replaced.RowsAffected)}))
	})
	if err != nil {
		return Invitation{}, err
	}
	return inv, nil
}

// Invitations lists the open invitations (pending or expired, neither accepted nor revoked)
// of the tenant in ctx, newest first.
func (s *Staff) Invitations(ctx context.Context) ([]Invitation, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, err
	}
	var out []Invitation
	err = s.db.Read(ctx, func(b *pgx.Batch) {
		b.Queue(`SELECT `+invitationColumns+` FROM invitations
			WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL
			ORDER BY created_at DESC`, tid).Query(func(rows pgx.Rows) error {
			var err error
			out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invitation, error) { return scanInvitation(r, true) })
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return out, nil
}

// Revoke withdraws an open invitation of the tenant in ctx; its link stops working.
// Revoking a revoked invitation does nothing; an accepted one gives ErrInvitationUsed.
func (s *Staff) Revoke(ctx context.Context, id uuid.UUID, by Actor) error {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		db := tenants.DB(ctx)
		inv, err := scanInvitation(db.Raw(`SELECT `+invitationColumns+` FROM invitations
			WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, id).Row(), false)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrInvitationNotFound
		}
		if err != nil {
			return fmt.Errorf("read invitation: %w", err)
		}
		switch {
		case inv.AcceptedAt != nil:
			return ErrInvitationUsed
		case inv.RevokedAt != nil:
			return nil
		}
		if err := db.Exec(`UPDATE invitations SET revoked_at = ? WHERE tenant_id = ? AND id = ?`, s.now(), tid, id).Error; err != nil {
			return fmt.Errorf("revoke invitation: %w", err)
		}
		return s.audit.Tenant(ctx, by.event("invitation-revoked", inv.Email, map[string]string{
			"invitationId": inv.ID.String(), "roles": strings.Join(inv.Roles, " ")}))
	})
}

// InvitationPreview is what the accept page shows to whoever holds the link.
type InvitationPreview struct {
	Invitation
	Tenant       tenants.Tenant // ID, Slug, Name (the display name), Status
	Expired      bool
	HasAccount   bool // the address has an account: sign in to accept
	InviterName  string
	InviterEmail string
}

// lookup finds the invitation of token across tenants: the link names no tenant, so it reads
// through the platform role (which may only read invitations).
func (s *Staff) lookup(ctx context.Context, token string) (InvitationPreview, error) {
	if token == "" {
		return InvitationPreview{}, ErrInvitationNotFound
	}
	var p InvitationPreview
	var status string
	err := s.users.platform.QueryRow(ctx, `SELECT i.id, i.tenant_id, i.email, i.name, i.roles, i.invited_by,
			i.created_at, i.expires_at, i.accepted_at, i.accepted_by, i.revoked_at,
			t.slug, t.status, COALESCE(NULLIF(st.display_name, ''), c.nazev),
			EXISTS (SELECT 1 FROM users u WHERE u.email = i.email),
			COALESCE(inv.name, ''), COALESCE(inv.email, '')
		FROM invitations i
		JOIN tenants t ON t.id = i.tenant_id
		JOIN catalogue_municipalities c ON c.kod_obce = t.kod_obce
		LEFT JOIN tenant_settings st ON st.tenant_id = t.id
		LEFT JOIN users inv ON inv.id = i.invited_by
		WHERE i.token_hash = $1`, tokenHash(token)).Scan(&p.ID, &p.TenantID, &p.Email, &p.Name, &p.Roles, &p.InvitedBy,
		&p.CreatedAt, &p.ExpiresAt, &p.AcceptedAt, &p.AcceptedBy, &p.RevokedAt,
		&p.Tenant.Slug, &status, &p.Tenant.Name, &p.HasAccount, &p.InviterName, &p.InviterEmail)
	if errors.Is(err, pgx.ErrNoRows) {
		return InvitationPreview{}, ErrInvitationNotFound
	}
	if err != nil {
		return InvitationPreview{}, fmt.Errorf("look up invitation: %w", err)
	}
	p.Tenant.ID, p.Tenant.Status = p.TenantID, tenants.Status(status)
	// A municipality being set up (pending) takes on its first admin; a suspended or closed
	// one takes nobody.
	if p.Tenant.Status != tenants.StatusActive && p.Tenant.Status != tenants.StatusPending {
		return InvitationPreview{}, ErrInvitationNotFound
	}
	p.Expired = p.Status(s.now()) == InvitationExpired
	return p, nil
}

// Preview tells the holder of an invitation link what it is for. A revoked or used link
// gives its error; an expired one is shown with Expired set, so the page can say whom to ask.
func (s *Staff) Preview(ctx context.Context, token string) (InvitationPreview, error) {
	p, err := s.lookup(ctx, token)
	if err != nil {
		return InvitationPreview{}, err
	}
	if err := p.check(s.now()); err != nil && !errors.Is(err, ErrInvitationExpired) {
		return InvitationPreview{}, err
	}
	return p, nil
}

// AcceptParams is who accepts an invitation.
type AcceptParams struct {
	// User is the signed-in account; it must be the invited address. Nil: a new account is
	// created from Name and Password (the address counts as verified: the link reached it).
	User     *User
	Name     string
	Password string
	IP       string
}

// Accepted is the outcome of Accept.
type Accepted struct {
	User       User
	Tenant     tenants.Tenant
	Roles      []string // the roles the invitation gave
	NewAccount bool
}

// Accept redeems the invitation of token: the account (the signed-in one, or a new one)
// becomes a member of the invitation's municipality with its roles. Expired, revoked and
// used links give their own errors; an address that already has an account must sign in
// first (ErrAccountExists). The account, the memberships, the invitation's state and the
// audit entries ("invitation-accepted", one "role-granted" per new role) commit together.
func (s *Staff) Accept(ctx context.Context, token string, p AcceptParams) (Accepted, error) {
	pre, err := s.lookup(ctx, token)
	if err != nil {
		return Accepted{}, err
	}
	if err := pre.check(s.now()); err != nil {
		return Accepted{}, err
	}
	out := Accepted{Tenant: pre.Tenant, Roles: pre.Roles}
	var hash string
	if p.User != nil {
		if NormalizeEmail(p.User.Email) != pre.Email {
			return Accepted{}, ErrWrongAccount
		}
		out.User = *p.User
	} else {
		if pre.HasAccount {
			return Accepted{}, ErrAccountExists
		}
		name, err := checkName(p.Name, true)
		if err != nil {
			return Accepted{}, err
		}
		if err := CheckPassword(p.Password, pre.Email, name); err != nil {
			return Accepted{}, err
		}
		if hash, err = HashPassword(p.Password, s.users.cfg.Argon2); err != nil {
			return Accepted{}, err
		}
		out.User, out.NewAccount = User{ID: tenants.NewID(), Email: pre.Email, Name: name}, true
	}
	ctx = tenants.WithTenant(ctx, pre.Tenant)
	actor := Actor{ID: &out.User.ID, Email: out.User.Email, IP: p.IP}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		db := tenants.DB(ctx)
		// Lock the invitation: of two tabs accepting at once, the second sees it used.
		inv, err := scanInvitation(db.Raw(`SELECT `+invitationColumns+` FROM invitations
			WHERE tenant_id = ? AND id = ? FOR UPDATE`, pre.TenantID, pre.ID).Row(), false)
		if err != nil {
			return fmt.Errorf("lock invitation: %w", err)
		}
		if err := inv.check(s.now()); err != nil {
			return err
		}
		if out.NewAccount {
			err := db.Exec(`INSERT INTO users (id, email, name, password_hash) VALUES (?, ?, ?, ?)`,
				out.User.ID, out.User.Email, out.User.Name, hash).Error
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return ErrAccountExists
			}
			if err != nil {
				return fmt.Errorf("create account: %w", err)
			}
		}
		granted, err := strings0(db.Raw(`INSERT INTO memberships (tenant_id, user_id, role)
			SELECT ?, ?, r FROM unnest(?::text[]) AS r
			ON CONFLICT DO NOTHING RETURNING role`, pre.TenantID, out.User.ID, pq.StringArray(inv.Roles)).Rows())
		if err != nil {
			return fmt.Errorf("add memberships: %w", err)
		}
		if err := db.Exec(`UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE tenant_id = ? AND id = ?`,
			s.now(), out.User.ID, pre.TenantID, pre.ID).Error; err != nil {
			return fmt.Errorf("mark invitation accepted: %w", err)
		}
		details := map[string]string{"invitationId": inv.ID.String(), "roles": strings.Join(inv.Roles, " ")}
		if out.NewAccount {
			details["newAccount"] = "true"
		}
		if err := s.audit.Tenant(ctx, actor.event("invitation-accepted", out.User.Email, details)); err != nil {
			return err
		}
		return s.auditRoles(ctx, actor, out.User, granted, "role-granted", inv.ID)
	})
	if err != nil {
		return Accepted{}, err
	}
	s.changed(ctx)
	return out, nil
}

// auditRoles writes one entry per role.
func (s *Staff) auditRoles(ctx context.Context, by Actor, target User, roles []string, action string, invitation uuid.UUID) error {
	for _, r := range roles {
		details := map[string]string{"role": r, "userId": target.ID.String()}
		if invitation != uuid.Nil {
			details["invitationId"] = invitation.String()
		}
		if err := s.audit.Tenant(ctx, by.event(action, target.Email, details)); err != nil {
			return err
		}
	}
	return nil
}

// changed reloads the authorizer after a committed change. A failure is logged, not
// returned: the change stands, and every replica reloads on its timer anyway.
func (s *Staff) changed(ctx context.Context) {
	if s.authz == nil {
		return
	}
	if err := s.authz.Changed(context.WithoutCancel(ctx)); err != nil {
		s.logger.ErrorContext(ctx, "reload authorization after a role change", "err", err)
	}
}

// strings0 collects a one-column text result.
func strings0(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
