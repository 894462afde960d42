package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants/audit"
)

// Errors of the account self-service the API maps to problems.
var (
	ErrEmailNotVerified = errors.New("e-mail address not verified")
	ErrLinkInvalid      = errors.New("unknown link")
	ErrLinkExpired      = errors.New("link expired")
	ErrLinkUsed         = errors.New("link already used")
	ErrWrongPassword    = errors.New("current password is wrong")
)

// Token purposes (account_tokens.purpose).
const (
	purposeVerify = "verify-email"
	purposeReset  = "reset-password"
)

// AccountMail is one e-mail to an account holder, rendered by the platform's "notification"
// template. Account mail is sent by the deployment, not by a municipality.
type AccountMail struct {
	To, ToName  string
	Lang        string // "cs" or "en"
	Subject     string // the notification's title
	Paragraphs  []string
	ActionURL   string
	ActionLabel string
	Note        string
	Ref         string // what the mail is about, without personal data
}

// Mailer queues account mail inside tx, so that a rollback sends nothing.
type Mailer interface {
	QueueAccountMail(ctx context.Context, tx pgx.Tx, m AccountMail) error
}

// AccountsConfig is the policy of the self-service links.
type AccountsConfig struct {
	BaseURL   string        // links in e-mails point here (EPOM_BASE_URL)
	VerifyTTL time.Duration // how long an address verification link works [48h]
	ResetTTL  time.Duration // how long a password reset link works [1h] (EPOM_RESET_TTL)
}

// Accounts is the self-service of account holders: citizen registration and address
// verification, password reset by e-mail, and password change. Each operation writes its
// change, its audit entry and its e-mail in one transaction of the app role.
type Accounts struct {
	users  *Service
	mailer Mailer
	audit  *audit.Log
	cfg    AccountsConfig
	now    func() time.Time
}

// NewAccounts builds the self-service on the user registry.
func NewAccounts(users *Service, mailer Mailer, log *audit.Log, cfg AccountsConfig) *Accounts {
	if cfg.VerifyTTL <= 0 {
		cfg.VerifyTTL = 48 * time.Hour
	}
	if cfg.ResetTTL <= 0 {
		cfg.ResetTTL = time.Hour
	}
	return &Accounts{users: users, mailer: mailer, audit: log, cfg: cfg, now: time.Now}
}

// SetClock replaces the clock, for tests of expiry.
func (a *Accounts) SetClock(now func() time.Time) { a.now = now }

// inTx runs fn in one transaction of the app role.
func (a *Accounts) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, a.users.app, fn)
}

// account is what the self-service needs to know about a user.
type account struct {
	User
	Verified bool
	Disabled bool
}

// accountByEmail finds the account of an address; ok is false when there is none.
func accountByEmail(ctx context.Context, tx pgx.Tx, email string) (account, bool, error) {
	var acc account
	err := tx.QueryRow(ctx, `SELECT id, email, name, email_verified_at IS NOT NULL, disabled_at IS NOT NULL
		FROM users WHERE email = $1 FOR UPDATE`, NormalizeEmail(email)).
		Scan(&acc.ID, &acc.Email, &acc.Name, &acc.Verified, &acc.Disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return account{}, false, nil
	}
	if err != nil {
		return account{}, false, fmt.Errorf("look up account: %w", err)
	}
	return acc, true, nil
}

// issueToken stores a new single-use token for the user and returns it (the link's secret).
func (a *Accounts) issueToken(ctx context.Context, tx pgx.Tx, userID uuid.UUID, purpose string, ttl time.Duration) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	now := a.now()
	// Tokens long past their expiry only served to tell "used" from "unknown"; a day later
	// nobody opens them any more.
	if _, err := tx.Exec(ctx, `DELETE FROM account_tokens WHERE user_id = $1 AND expires_at < $2`,
		userID, now.Add(-24*time.Hour)); err != nil {
		return "", fmt.Errorf("prune tokens: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, tokenHash(token), userID, purpose, now, now.Add(ttl)); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return token, nil
}

// redeemToken marks a token used and returns its user. Unknown, expired and used tokens each
// have their own error, so the person learns whether to ask for a new link.
func (a *Accounts) redeemToken(ctx context.Context, tx pgx.Tx, token, purpose string) (account, error) {
	var acc account
	var expires time.Time
	var used *time.Time
	err := tx.QueryRow(ctx, `SELECT u.id, u.email, u.name, u.email_verified_at IS NOT NULL, u.disabled_at IS NOT NULL,
			t.expires_at, t.used_at
		FROM account_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.purpose = $2 FOR UPDATE OF t, u`, tokenHash(token), purpose).
		Scan(&acc.ID, &acc.Email, &acc.Name, &acc.Verified, &acc.Disabled, &expires, &used)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return account{}, ErrLinkInvalid
	case err != nil:
		return account{}, fmt.Errorf("look up token: %w", err)
	case used != nil:
		return account{}, ErrLinkUsed
	case !a.now().Before(expires):
		return account{}, ErrLinkExpired
	case acc.Disabled:
		return account{}, ErrLinkInvalid
	}
	if _, err := tx.Exec(ctx, `UPDATE account_tokens SET used_at = $2 WHERE token_hash = $1`, tokenHash(token), a.now()); err != nil {
		return account{}, fmt.Errorf("use token: %w", err)
	}
	return acc, nil
}

// link is an absolute URL of the app with the token.
func (a *Accounts) link(path, token string) string {
	return a.cfg.BaseURL + path + "?token=" + token
}

// hours formats a link's lifetime for the e-mail text.
func hours(d time.Duration, lang string) string {
	if d < time.Hour {
		m := int(d.Minutes())
		if lang == "en" {
			return fmt.Sprintf("%d minutes", m)
		}
		return fmt.Sprintf("%d minut", m)
	}
	h := int(d.Hours())
	if lang == "en" {
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", h)
	}
	switch {
	case h == 1:
		return "1 hodinu"
	case h < 5:
		return fmt.Sprintf("%d hodiny", h)
	}
	return fmt.Sprintf("%d hodin", h)
}

func pickLang(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "cs"
}

// endSessions signs the user out everywhere except the session whose token hash is keep.
func endSessions(ctx context.Context, tx pgx.Tx, userID uuid.UUID, keep []byte) (int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
