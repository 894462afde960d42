package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants/audit"
)

// RequestReset mails a password reset link (obnova hesla) to the account of email, if there
// is one. The caller answers the same either way.
func (a *Accounts) RequestReset(ctx context.Context, email, lang, ip string) error {
	lang = pickLang(lang)
	return a.inTx(ctx, func(tx pgx.Tx) error {
		acc, exists, err := accountByEmail(ctx, tx, email)
		if err != nil || !exists || acc.Disabled {
			return err
		}
		token, err := a.issueToken(ctx, tx, acc.ID, purposeReset, a.cfg.ResetTTL)
		if err != nil {
			return err
		}
		m := AccountMail{To: acc.Email, ToName: acc.Name, Lang: lang, Ref: "account.reset:" + acc.ID.String(),
			ActionURL: a.link("/app/obnova-hesla", token)}
		if lang == "en" {
			m.Subject = "Set a new password"
			m.Paragraphs = []string{"We received a request to set a new password for your epom account.",
				"Choose a new password with the button below. The link works for " + hours(a.cfg.ResetTTL, lang) +
					" and only once; setting the password signs you out on all devices."}
			m.ActionLabel = "Set a new password"
			m.Note = "If you did not ask for this, ignore this message: your password stays as it is."
		} else {
			m.Subject = "Nastavení nového hesla"
			m.Paragraphs = []string{"obdrželi jsme žádost o nastavení nového hesla k vašemu účtu v epom.",
				"Nové heslo zvolíte tlačítkem níže. Odkaz platí " + hours(a.cfg.ResetTTL, lang) +
					" a jen jednou; nastavením hesla se odhlásíte na všech zařízeních."}
			m.ActionLabel = "Nastavit nové heslo"
			m.Note = "Pokud jste o nové heslo nežádali, zprávu ignorujte: vaše heslo zůstává beze změny."
		}
		if err := a.mailer.QueueAccountMail(ctx, tx, m); err != nil {
			return err
		}
		return a.audit.PlatformTx(ctx, tx, audit.Event{ActorID: &acc.ID, Actor: acc.Email, IP: ip,
			Action: "password-reset-requested"})
	})
}

// ConfirmReset sets a new password with a reset link. The link is used up, every other reset
// link of the account with it, and every session of the account ends. Opening the link
// proves the address, so an unverified account becomes verified. A weak password leaves the
// link usable.
func (a *Accounts) ConfirmReset(ctx context.Context, token, password, ip string) (User, error) {
	var u User
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		acc, err := a.redeemToken(ctx, tx, token, purposeReset)
		if err != nil {
			return err
		}
		u = acc.User
		if err := CheckPassword(password, acc.Email, acc.Name); err != nil {
			return err
		}
		hash, err := HashPassword(password, a.users.cfg.Argon2)
		if err != nil {
			return err
		}
		now := a.now()
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, email_verified_at = COALESCE(email_verified_at, $3)
			WHERE id = $1`, u.ID, hash, now); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE account_tokens SET used_at = $2
			WHERE user_id = $1 AND purpose = 'reset-password' AND used_at IS NULL`, u.ID, now); err != nil {
			return fmt.Errorf("use other reset links: %w", err)
		}
		ended, err := endSessions(ctx, tx, u.ID, nil)
		if err != nil {
			return err
		}
		return a.audit.PlatformTx(ctx, tx, audit.Event{ActorID: &u.ID, Actor: u.Email, IP: ip, Action: "password-reset",
			Details: map[string]string{"sessionsEnded": strconv.FormatInt(ended, 10)}})
	})
	return u, err
}

// ChangePassword replaces a signed-in user's password after checking the current one, and
// ends the user's other sessions; keepToken is the cookie token of the session that asked.
func (a *Accounts) ChangePassword(ctx context.Context, userID uuid.UUID, current, next, keepToken, ip string) error {
	var hash string
	var u User
	err := a.users.app.QueryRow(ctx, `SELECT id, email, name, password_hash FROM users WHERE id = $1 AND disabled_at IS NULL`, userID).
		Scan(&u.ID, &u.Email, &u.Name, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("load account: %w", err)
	}
	if ok, err := VerifyPassword(current, hash); err != nil || !ok {
		return ErrWrongPassword
	}
	if err := CheckPassword(next, u.Email, u.Name); err != nil {
		return InField(err, "/newPassword")
	}
	newHash, err := HashPassword(next, a.users.cfg.Argon2)
	if err != nil {
		return err
	}
	return a.inTx(ctx, func(tx pgx.Tx) error {
		// The hash compared above must still be the stored one: two changes at once do not
		// both win.
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`, u.ID, hash, newHash)
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return ErrWrongPassword
		}
		var keep []byte
		if keepToken != "" {
			keep = tokenHash(keepToken)
		}
		ended, err := endSessions(ctx, tx, u.ID, keep)
		if err != nil {
			return err
		}
		return a.audit.PlatformTx(ctx, tx, audit.Event{ActorID: &u.ID, Actor: u.Email, IP: ip, Action: "password-changed",
			Details: map[string]string{"sessionsEnded": strconv.FormatInt(ended, 10)}})
	})
}
