package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
)

// Registration is a citizen's self-registration (registrace).
type Registration struct {
	Email, Name, Password string
	Lang                  string // of the e-mails
	IP                    string
}

// Register creates an unverified citizen account and mails it a verification link. The
// answer is the same whether or not the address is taken, so registration does not reveal
// who has an account: for a verified account the owner gets a "somebody tried to register"
// note instead, for an unverified one a fresh link. Only a weak password is refused, and it
// says nothing about the address.
func (a *Accounts) Register(ctx context.Context, r Registration) error {
	if err := CheckPassword(r.Password, r.Email, r.Name); err != nil {
		return err
	}
	// Hash before looking anything up, so a taken address costs the same time.
	hash, err := HashPassword(r.Password, a.users.cfg.Argon2)
	if err != nil {
		return err
	}
	lang := pickLang(r.Lang)
	return a.inTx(ctx, func(tx pgx.Tx) error {
		acc, exists, err := accountByEmail(ctx, tx, r.Email)
		if err != nil {
			return err
		}
		switch {
		case exists && acc.Verified:
			return a.mailTaken(ctx, tx, acc, lang)
		case exists && !acc.Disabled:
			return a.sendVerification(ctx, tx, acc.User, lang)
		case exists:
			return nil
		}
		u := User{ID: tenants.NewID(), Email: NormalizeEmail(r.Email), Name: strings.TrimSpace(r.Name)}
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, email, name, password_hash, email_verified_at)
			VALUES ($1, $2, $3, $4, NULL)`, u.ID, u.Email, u.Name, hash); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		if err := a.audit.PlatformTx(ctx, tx, audit.Event{ActorID: &u.ID, Actor: u.Email, IP: r.IP,
			Action: "account-registered"}); err != nil {
			return err
		}
		return a.sendVerification(ctx, tx, u, lang)
	})
}

// ResendVerification mails a new verification link to an unverified account. It says nothing
// about whether the address has an account.
func (a *Accounts) ResendVerification(ctx context.Context, email, lang string) error {
	return a.inTx(ctx, func(tx pgx.Tx) error {
		acc, exists, err := accountByEmail(ctx, tx, email)
		if err != nil || !exists || acc.Verified || acc.Disabled {
			return err
		}
		return a.sendVerification(ctx, tx, acc.User, pickLang(lang))
	})
}

// VerifyEmail redeems a verification link: the account may sign in from now on.
func (a *Accounts) VerifyEmail(ctx context.Context, token, ip string) (User, error) {
	var u User
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		acc, err := a.redeemToken(ctx, tx, token, purposeVerify)
		if err != nil {
			return err
		}
		u = acc.User
		if acc.Verified {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET email_verified_at = $2 WHERE id = $1`, u.ID, a.now()); err != nil {
			return fmt.Errorf("verify e-mail: %w", err)
		}
		return a.audit.PlatformTx(ctx, tx, audit.Event{ActorID: &u.ID, Actor: u.Email, IP: ip, Action: "email-verified"})
	})
	return u, err
}

func (a *Accounts) sendVerification(ctx context.Context, tx pgx.Tx, u User, lang string) error {
	token, err := a.issueToken(ctx, tx, u.ID, purposeVerify, a.cfg.VerifyTTL)
	if err != nil {
		return err
	}
	m := AccountMail{To: u.Email, ToName: u.Name, Lang: lang, Ref: "account.verify:" + u.ID.String(),
		ActionURL: a.link("/app/overeni", token)}
	if lang == "en" {
		m.Subject = "Confirm your e-mail address"
		m.Paragraphs = []string{"Thank you for registering with epom, the online services of Czech municipalities.",
			"Confirm that this address is yours with the button below. The link works for " + hours(a.cfg.VerifyTTL, lang) + " and only once."}
		m.ActionLabel = "Confirm the address"
		m.Note = "If you did not register, ignore this message; without confirmation the account cannot be used."
	} else {
		m.Subject = "Potvrďte svou e-mailovou adresu"
		m.Paragraphs = []string{"děkujeme za registraci v epom, online službách obcí.",
			"Tlačítkem níže potvrďte, že tato adresa patří vám. Odkaz platí " + hours(a.cfg.VerifyTTL, lang) + " a jen jednou."}
		m.ActionLabel = "Potvrdit adresu"
		m.Note = "Pokud jste se neregistrovali, zprávu ignorujte; bez potvrzení účet nelze používat."
	}
	return a.mailer.QueueAccountMail(ctx, tx, m)
}

// mailTaken tells the owner of a verified account that somebody tried to register with it.
func (a *Accounts) mailTaken(ctx context.Context, tx pgx.Tx, acc account, lang string) error {
	m := AccountMail{To: acc.Email, ToName: acc.Name, Lang: lang, Ref: "account.register-taken:" + acc.ID.String()}
	if lang == "en" {
		m.Subject = "Somebody tried to register with your address"
		m.Paragraphs = []string{"Somebody just tried to create an epom account with this e-mail address, which already has an account.",
			"If it was you, sign in instead; if you forgot your password, ask for a new one on the sign-in page."}
		m.ActionURL, m.ActionLabel = a.cfg.BaseURL+"/app/zapomenute-heslo", "Forgotten password"
		m.Note = "If it was not you, you need not do anything: your account has not changed."
	} else {
		m.Subject = "Někdo se pokusil registrovat s vaší adresou"
		m.Paragraphs = []string{"někdo se právě pokusil založit účet v epom s touto e-mailovou adresou, ke které už účet existuje.",
			"Pokud jste to byli vy, přihlaste se; pokud jste zapomněli heslo, požádejte o nové na přihlašovací stránce."}
		m.ActionURL, m.ActionLabel = a.cfg.BaseURL+"/app/zapomenute-heslo", "Zapomenuté heslo"
		m.Note = "Pokud jste to nebyli vy, nemusíte nic dělat: váš účet se nezměnil."
	}
	return a.mailer.QueueAccountMail(ctx, tx, m)
}
