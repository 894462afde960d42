package server

import (
	"context"
	"errors"
	netmail "net/mail"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/identity"
)

// langFrom is the language of the request's answers and e-mails.
func langFrom(ctx context.Context) string {
	if c, ok := ctx.(*gin.Context); ok {
		return httpx.Lang(c.Request)
	}
	return "cs"
}

// checkEmail refuses what cannot be an address, naming the field.
func checkEmail(s string) error {
	a, err := netmail.ParseAddress(s)
	if err == nil && a.Address == strings.TrimSpace(s) && strings.Contains(a.Address[strings.LastIndex(a.Address, "@"):], ".") {
		return nil
	}
	return problem.New(problem.Validation, "", problem.FieldError{Field: "/email",
		Message: "Zadejte platnou e-mailovou adresu.", MessageEN: "Enter a valid e-mail address."})
}

// mailAllowed throttles the requests that send account mail. addressOK false: answer as
// usual, send nothing.
func (k *Kernel) mailAllowed(ctx context.Context, email string) (bool, error) {
	if k.Limiter == nil {
		return true, nil
	}
	return k.Limiter.MailAllowed(ctx, email, clientFrom(ctx).IP)
}

// noAccounts answers the self-service operations of a server built without it.
func noAccounts() error {
	return problem.New(problem.Unavailable, "Account self-service is not configured.")
}

// RegisterAccount implements registerAccount.
func (k *Kernel) RegisterAccount(ctx context.Context, req gen.RegisterAccountRequestObject) (gen.RegisterAccountResponseObject, error) {
	if k.Accounts == nil {
		return nil, noAccounts()
	}
	b := req.Body
	if err := checkEmail(b.Email); err != nil {
		return nil, err
	}
	if strings.TrimSpace(b.Name) == "" {
		return nil, problem.New(problem.Validation, "", problem.FieldError{Field: "/name",
			Message: "Vyplňte své jméno.", MessageEN: "Enter your name."})
	}
	send, err := k.mailAllowed(ctx, b.Email)
	if err != nil {
		return nil, err
	}
	if !send {
		// The address had its share of mail: nothing is written or sent, but the answer
		// (including a weak password's refusal) is what it would have been.
		if err := identity.CheckPassword(b.Password, b.Email, b.Name); err != nil {
			return nil, err
		}
		return gen.RegisterAccount202Response{}, nil
	}
	err = k.Accounts.Register(ctx, identity.Registration{Email: b.Email, Name: b.Name, Password: b.Password,
		Lang: langFrom(ctx), IP: clientFrom(ctx).IP})
	if err != nil {
		return nil, err
	}
	return gen.RegisterAccount202Response{}, nil
}

// VerifyAccountEmail implements verifyAccountEmail.
func (k *Kernel) VerifyAccountEmail(ctx context.Context, req gen.VerifyAccountEmailRequestObject) (gen.VerifyAccountEmailResponseObject, error) {
	if k.Accounts == nil {
		return nil, noAccounts()
	}
	if _, err := k.Accounts.VerifyEmail(ctx, req.Body.Token, clientFrom(ctx).IP); err != nil {
		return nil, err
	}
	return gen.VerifyAccountEmail204Response{}, nil
}

// ResendAccountVerification implements resendAccountVerification.
func (k *Kernel) ResendAccountVerification(ctx context.Context, req gen.ResendAccountVerificationRequestObject) (gen.ResendAccountVerificationResponseObject, error) {
	if k.Accounts == nil {
		return nil, noAccounts()
	}
	if err := checkEmail(req.Body.Email); err != nil {
		return nil, err
	}
	send, err := k.mailAllowed(ctx, req.Body.Email)
	if err != nil {
		return nil, err
	}
	if send {
		if err := k.Accounts.ResendVerification(ctx, req.Body.Email, langFrom(ctx)); err != nil {
			return nil, err
		}
	}
	return gen.ResendAccountVerification202Response{}, nil
}

// RequestPasswordReset implements requestPasswordReset.
func (k *Kernel) RequestPasswordReset(ctx context.Context, req gen.RequestPasswordResetRequestObject) (gen.RequestPasswordResetResponseObject, error) {
	if k.Accounts == nil {
		return nil, noAccounts()
	}
	if err := checkEmail(req.Body.Email); err != nil {
		return nil, err
	}
	send, err := k.mailAllowed(ctx, req.Body.Email)
	if err != nil {
		return nil, err
	}
	if send {
		if err := k.Accounts.RequestReset(ctx, req.Body.Email, langFrom(ctx), clientFrom(ctx).IP); err != nil {
			return nil, err
		}
	}
	return gen.RequestPasswordReset202Response{}, nil
}

// ConfirmPasswordReset implements confirmPasswordReset.
func (k *Kernel) ConfirmPasswordReset(ctx context.Context, req gen.ConfirmPasswordResetRequestObject) (gen.ConfirmPasswordResetResponseObject, error) {
	if k.Accounts == nil {
		return nil, noAccounts()
	}
	u, err := k.Accounts.ConfirmReset(ctx, req.Body.Token, req.Body.Password, clientFrom(ctx).IP)
	if err != nil {
		return nil, err
	}
	// A new password is a fresh start for the throttle too.
	if err := k.signInSucceeded(ctx, u.Email); err != nil {
		return nil, err
	}
	return gen.ConfirmPasswordReset204Response{}, nil
}

// ChangeMyPassword implements changeMyPassword. A wrong current password counts as a failed
// sign-in: a stolen session must not become a way to guess the password.
func (k *Kernel) ChangeMyPassword(ctx context.Context, req gen.ChangeMyPasswordRequestObject) (gen.ChangeMyPasswordResponseObject, error) {
	if k.Accounts == nil {
		return nil, noAccounts()
	}
	p, _ := principalFrom(ctx)
	cl := clientFrom(ctx)
	if err := k.signInAllowed(ctx, p.User.Email, cl.IP); err != nil {
		return nil, err
	}
	err := k.Accounts.ChangePassword(ctx, p.User.ID, req.Body.CurrentPassword, req.Body.NewPassword, p.Token, cl.IP)
	if errors.Is(err, identity.ErrWrongPassword) {
		if lerr := k.signInFailed(ctx, p.User.Email, cl.IP); lerr != nil {
			return nil, lerr
		}
	}
	if err != nil {
		return nil, err
	}
	return gen.ChangeMyPassword204Response{}, nil
}

// signInAllowed asks the throttle before a password is checked.
func (k *Kernel) signInAllowed(ctx context.Context, email, ip string) error {
	if k.Limiter == nil {
		return nil
	}
	return k.Limiter.SignInAllowed(ctx, email, ip)
}

// signInFailed counts a wrong password and audits each lock once, when it starts.
func (k *Kernel) signInFailed(ctx context.Context, email, ip string) error {
	if k.Limiter == nil {
		return nil
	}
	lock, err := k.Limiter.SignInFailed(ctx, email, ip)
	if err != nil {
		return err
	}
	actor := identity.NormalizeEmail(email)
	if lock.Account > 0 {
		if err := k.Audit.Platform(ctx, audit.Event{Actor: actor, IP: ip, Action: "sign-in-locked",
			Details: map[string]string{"scope": "account", "duration": lock.Account.String()}}); err != nil {
			return err
		}
	}
	if lock.IP {
		if err := k.Audit.Platform(ctx, audit.Event{Actor: actor, IP: ip, Action: "sign-in-locked",
			Details: map[string]string{"scope": "ip"}}); err != nil {
			return err
		}
	}
	return nil
}

func (k *Kernel) signInSucceeded(ctx context.Context, email string) error {
	if k.Limiter == nil {
		return nil
	}
	return k.Limiter.SignInSucceeded(ctx, email)
}

// signInUnverified refuses a right password of an unverified account, and records it.
func (k *Kernel) signInUnverified(ctx context.Context, u identity.User, ip string, cause error) error {
	if err := k.signInSucceeded(ctx, u.Email); err != nil {
		return err
	}
	if err := k.Audit.Platform(ctx, audit.Event{ActorID: &u.ID, Actor: u.Email, IP: ip, Action: "sign-in-unverified"}); err != nil {
		return err
	}
	return cause
}
