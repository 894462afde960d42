package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// Errors of resetting someone else's two-factor sign-in; each has its own problem.
var (
	// ErrResetOwnMFA: an administrator does not reset their own second factor this way; they
	// sign in with a recovery code and enrol again, so that the reset always has a second
	// person behind it.
	ErrResetOwnMFA = errors.New("you cannot reset your own two-factor sign-in; use a recovery code")
	// ErrMFAResetElsewhere: the account is also staff of another municipality or of the
	// platform. An account is global, so only the platform operator may reset it.
	ErrMFAResetElsewhere = errors.New("the account is staff elsewhere too; ask the platform operator to reset it")
	// ErrUnknownAccount: no account has the address (the operator's reset).
	ErrUnknownAccount = errors.New("no account with this e-mail address")
)

// Reason length limits of a reset, in characters.
const (
	minResetReason = 3
	maxResetReason = 500
)

// checkReason trims the reason a reset is done for and checks its length.
func checkReason(s string) (string, error) {
	r := strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(r); {
	case n < minResetReason:
		return "", &InputError{Field: "reason", CS: "Uveďte důvod (alespoň 3 znaky).", EN: "Give a reason (at least 3 characters)."}
	case n > maxResetReason:
		return "", &InputError{Field: "reason", CS: "Nejvýše 500 znaků.", EN: "At most 500 characters."}
	}
	return r, nil
}

// MFAResetResult is what a reset removed.
type MFAResetResult struct {
	User                 User
	TOTPRemoved          bool  // a secret (enabled or still being enrolled) was removed
	RecoveryCodesRemoved int64 // unused recovery codes that stopped working
	SessionsEnded        int64
	MailID               uuid.UUID // the queued platform mail to the user
}

func (r MFAResetResult) details(reason string) map[string]string {
	return map[string]string{"userId": r.User.ID.String(), "reason": reason,
		"totpRemoved": strconv.FormatBool(r.TOTPRemoved), "recoveryCodesRemoved": strconv.FormatInt(r.RecoveryCodesRemoved, 10),
		"sessionsEnded": strconv.FormatInt(r.SessionsEnded, 10)}
}

// execFunc runs one statement in the caller's transaction and returns the rows it touched.
type execFunc func(ctx context.Context, sql string, args ...any) (int64, error)

func pgxExec(tx pgx.Tx) execFunc {
	return func(ctx context.Context, sql string, args ...any) (int64, error) {
		tag, err := tx.Exec(ctx, sql, args...)
		return tag.RowsAffected(), err
	}
}

func gormExec(db *gorm.DB) execFunc {
	return func(ctx context.Context, sql string, args ...any) (int64, error) {
		r := db.WithContext(ctx).Exec(sql, args...)
		return r.RowsAffected, r.Error
	}
}

// gormExecer lets the tenant transaction write platform mail (email.Execer).
type gormExecer struct{ db *gorm.DB }

func (g gormExecer) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r := g.db.WithContext(ctx).Exec(sql, args...)
	return pgconn.NewCommandTag("INSERT 0 " + strconv.FormatInt(r.RowsAffected, 10)), r.Error
}

// wipeSecondFactor removes the user's TOTP secret, recovery codes, pending sign-ins and every
// session, so the next sign-in is password only and leads to enrolment. The statements touch
// account tables only (no tenant data), so they run in either kind of transaction.
func wipeSecondFactor(ctx context.Context, exec execFunc, u User) (MFAResetResult, error) {
	res := MFAResetResult{User: u}
	n, err := exec(ctx, `DELETE FROM user_totp WHERE user_id = $1`, u.ID)
	if err != nil {
		return res, fmt.Errorf("remove totp: %w", err)
	}
	res.TOTPRemoved = n > 0
	if res.RecoveryCodesRemoved, err = exec(ctx, `DELETE FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL`, u.ID); err != nil {
		return res, fmt.Errorf("remove recovery codes: %w", err)
	}
	// Used codes are worthless; they go too, as when two-factor sign-in is turned off.
	if _, err := exec(ctx, `DELETE FROM user_recovery_codes WHERE user_id = $1`, u.ID); err != nil {
		return res, fmt.Errorf("remove recovery codes: %w", err)
	}
	if _, err := exec(ctx, `DELETE FROM pending_logins WHERE user_id = $1`, u.ID); err != nil {
		return res, fmt.Errorf("end pending sign-ins: %w", err)
	}
	if res.SessionsEnded, err = exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
		return res, fmt.Errorf("end sessions: %w", err)
	}
	return res, nil
}

// mfaResetMessage is the e-mail telling the user who reset their second factor and why.
func mfaResetMessage(u User, lang, resetBy, organisation, reason, baseURL string) email.PlatformMessage {
	if lang != "en" {
		lang = "cs"
	}
	return email.PlatformMessage{To: u.Email, ToName: u.Name, Template: "mfareset", Lang: lang, Ref: "account.mfa-reset:" + u.ID.String(),
		Data: &mail.MFAReset{Email: u.Email, ResetBy: resetBy, Organisation: organisation, Reason: reason,
			SignInURL: strings.TrimRight(baseURL, "/") + "/app/prihlaseni"}}
}

// staffTenants lists the municipalities where the user holds a role, read across tenants
// through the platform role.
func (s *Service) staffTenants(ctx context.Context, userID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := s.platform.Query(ctx, `SELECT DISTINCT tenant_id FROM memberships WHERE user_id = $1 ORDER BY tenant_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	return ids, nil
}

// StaffElsewhere tells whether the user holds a role outside tenant: in another municipality
// (whatever its status) or on the platform. It reads across tenants through the platform role.
func (s *Service) StaffElsewhere(ctx context.Context, userID, tenant uuid.UUID) (bool, error) {
	var elsewhere bool
	err := s.platform.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1 AND tenant_id <> $2)
		OR EXISTS (SELECT 1 FROM platform_roles WHERE user_id = $1)`, userID, tenant).Scan(&elsewhere)
	if err != nil {
		return false, fmt.Errorf("staff elsewhere: %w", err)
	}
	return elsewhere, nil
}

// MFAResetParams is a tenant admin's reset of a member's two-factor sign-in.
type MFAResetParams struct {
	Reason string
	Lang   string // of the e-mail: "cs" (default) or "en"
	By     Actor
	ByName string // the admin's name, shown in the e-mail
}

// ResetMFA removes the two-factor sign-in of a member of the tenant in ctx who lost their
// authenticator and recovery codes: the TOTP secret and recovery codes go, every session of
// the account ends, an "mfa-reset" entry goes to the tenant's audit log and an e-mail to the
// user, all in one transaction. Their next sign-in is by password and leads to enrolment.
//
// Refused: the admin's own account (ErrResetOwnMFA), a user who is not a member of this
// tenant (ErrNotMember, like SetRoles), and a user who is staff of another municipality or of
// the platform too (ErrMFAResetElsewhere): the account is global, and one municipality must
// not weaken another's staff.
func (s *Staff) ResetMFA(ctx context.Context, userID uuid.UUID, p MFAResetParams) (MFAResetResult, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok || t.ID == uuid.Nil {
		return MFAResetResult{}, tenants.ErrNoTenant
	}
	reason, err := checkReason(p.Reason)
	if err != nil {
		return MFAResetResult{}, err
	}
	if p.By.ID != nil && *p.By.ID == userID {
		return MFAResetResult{}, ErrResetOwnMFA
	}
	var res MFAResetResult
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		db := tenants.DB(ctx)
		var roles int64
		if err := db.Raw(`SELECT count(*) FROM memberships WHERE tenant_id = ? AND user_id = ?`, t.ID, userID).Row().Scan(&roles); err != nil {
			return fmt.Errorf("read membership: %w", err)
		}
		if roles == 0 {
			return ErrNotMember
		}
		var u User
		err := db.Raw(`SELECT id, email, name FROM users WHERE id = ?`, userID).Row().Scan(&u.ID, &u.Email, &u.Name)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotMember
		}
		if err != nil {
			return fmt.Errorf("read member: %w", err)
		}
		elsewhere, err := s.users.StaffElsewhere(ctx, userID, t.ID)
		if err != nil {
			return err
		}
		if elsewhere {
			return ErrMFAResetElsewhere
		}
		if res, err = wipeSecondFactor(ctx, gormExec(db), u); err != nil {
			return err
		}
		org := t.Name
		var display string
		if err := db.Raw(`SELECT display_name FROM tenant_settings WHERE tenant_id = ?`, t.ID).Row().Scan(&display); err == nil && display != "" {
			org = display
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read municipality name: %w", err)
		}
		byName := p.ByName
		if byName == "" {
			byName = p.By.Email
		}
		if res.MailID, err = s.mail.QueuePlatform(ctx, gormExecer{db}, mfaResetMessage(u, p.Lang, byName, org, reason, s.cfg.BaseURL)); err != nil {
			return fmt.Errorf("queue reset mail: %w", err)
		}
		return s.audit.Tenant(ctx, p.By.event("mfa-reset", u.Email, res.details(reason)))
	})
	if err != nil {
		return MFAResetResult{}, err
	}
	return res, nil
}

// OperatorMFAReset is the platform operator's reset (epom user reset-mfa), for the accounts a
// tenant admin may not reset.
type OperatorMFAReset struct {
	Email   string
	Reason  string
	Lang    string // of the e-mail: "cs" (default) or "en"
	Actor   string // who ran it, for the audit log: "cli:<OS user>"
	BaseURL string // the sign-in link in the e-mail points here
}

// ResetMFAByOperator removes the two-factor sign-in of the account of p.Email whatever its
// roles, ends its sessions, writes "mfa-reset" to the platform's audit log and to the log of
// every municipality the account is staff of (their admins answer for who works there and
// must see that its sign-in was weakened), and queues the e-mail to the user, all in one
// transaction of the app role.
func (s *Service) ResetMFAByOperator(ctx context.Context, mailer *email.Service, log *audit.Log, p OperatorMFAReset) (MFAResetResult, error) {
	reason, err := checkReason(p.Reason)
	if err != nil {
		return MFAResetResult{}, err
	}
	actor := p.Actor
	if actor == "" {
		actor = "cli"
	}
	resetBy := "provozovatel platformy epom"
	if p.Lang == "en" {
		resetBy = "the operator of the epom platform"
	}
	var res MFAResetResult
	err = pgx.BeginFunc(ctx, s.app, func(tx pgx.Tx) error {
		var u User
		err := tx.QueryRow(ctx, `SELECT id, email, name FROM users WHERE email = $1`, NormalizeEmail(p.Email)).Scan(&u.ID, &u.Email, &u.Name)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrUnknownAccount, NormalizeEmail(p.Email))
		}
		if err != nil {
			return fmt.Errorf("find account: %w", err)
		}
		if res, err = wipeSecondFactor(ctx, pgxExec(tx), u); err != nil {
			return err
		}
		if res.MailID, err = mailer.QueuePlatform(ctx, tx, mfaResetMessage(u, p.Lang, resetBy, "", reason, p.BaseURL)); err != nil {
			return fmt.Errorf("queue reset mail: %w", err)
		}
		ev := audit.Event{Actor: actor, Action: "mfa-reset", Target: u.Email, Details: res.details(reason)}
		if err := log.PlatformTx(ctx, tx, ev); err != nil {
			return err
		}
		staffOf, err := s.staffTenants(ctx, u.ID)
		if err != nil {
			return err
		}
		ev.Details["by"] = "platform-operator"
		for _, tid := range staffOf {
			// The app role appends to a tenant's chain only under that tenant's row-level
			// security, as in a tenant transaction; the setting ends with this transaction.
			if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, tid.String()); err != nil {
				return fmt.Errorf("audit in municipality %s: %w", tid, err)
			}
			if err := log.TenantByPlatformTx(ctx, tx, tid, ev); err != nil {
				return fmt.Errorf("audit in municipality %s: %w", tid, err)
			}
		}
		return nil
	})
	if err != nil {
		return MFAResetResult{}, err
	}
	return res, nil
}
