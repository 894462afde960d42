package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"rsc.io/qr"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/identity"
)

// SecondFactorCookie holds the pending sign-in between the password and the code. It is sent
// only to the second step, and never cross-site.
const SecondFactorCookie = "epom_mfa"

const secondFactorPath = "/api/v1/session/mfa"

func (k *Kernel) secondFactorCookie(value string, maxAge int) string {
	c := &http.Cookie{Name: SecondFactorCookie, Value: value, Path: secondFactorPath, MaxAge: maxAge,
		HttpOnly: true, Secure: k.CookieSecure, SameSite: http.SameSiteStrictMode}
	return c.String()
}

// beginSecondFactor answers a right password of an account with TOTP: no session, a pending
// sign-in instead.
func (k *Kernel) beginSecondFactor(ctx context.Context, u identity.User, cl Client) (gen.SignInResponseObject, error) {
	p, err := k.Identity.BeginSecondFactor(ctx, u.ID, cl.IP, cl.UserAgent)
	if err != nil {
		return nil, err
	}
	cookie := k.secondFactorCookie(p.Token, int(p.TTL.Seconds()))
	return gen.SignIn202JSONResponse{
		Body: gen.SecondFactorChallenge{MfaRequired: true, ExpiresAt: p.ExpiresAt,
			Methods: []gen.SecondFactorChallengeMethods{gen.Totp, gen.RecoveryCode}},
		Headers: gen.SignIn202ResponseHeaders{SetCookie: &cookie},
	}, nil
}

// signInMethod is how a user proved who they are.
type signInMethod struct {
	Name      string // password, password+totp, password+recovery-code, oidc
	Provider  string // the identity provider's id, for oidc
	Assurance identity.Assurance
}

// startSession is the end of every sign-in on this server, whatever the method: the session
// (with its CSRF token and assurance), its audit entry, the body of a signed-in answer and
// the Set-Cookie value.
func (k *Kernel) startSession(ctx context.Context, u identity.User, cl Client, m signInMethod) (gen.Me, string, error) {
	token, sess, err := k.Identity.StartSession(ctx, u.ID, cl.IP, cl.UserAgent, m.Assurance)
	if err != nil {
		return gen.Me{}, "", err
	}
	details := map[string]string{"method": m.Name, "assurance": string(m.Assurance)}
	if m.Provider != "" {
		details["provider"] = m.Provider
	}
	if err := k.Audit.Platform(ctx, audit.Event{ActorID: &u.ID, Actor: u.Email, IP: cl.IP, Action: "sign-in",
		Details: details}); err != nil {
		return gen.Me{}, "", err
	}
	me, err := k.me(ctx, u, sess)
	if err != nil {
		return gen.Me{}, "", err
	}
	return me, k.cookie(token, int(k.SessionMaxAge.Seconds())), nil
}

// SignInSecondFactor implements signInSecondFactor.
func (k *Kernel) SignInSecondFactor(ctx context.Context, req gen.SignInSecondFactorRequestObject) (gen.SignInSecondFactorResponseObject, error) {
	code, recovery := deref(req.Body.Code), deref(req.Body.RecoveryCode)
	if (code == "") == (recovery == "") {
		return nil, problem.New(problem.Validation, "Send either code or recoveryCode.",
			problem.FieldError{Field: "/code", Message: "send either code or recoveryCode"})
	}
	cl := clientFrom(ctx)
	var token string
	if c, ok := ctx.(*gin.Context); ok {
		token, _ = c.Cookie(SecondFactorCookie)
	}
	res, err := k.Identity.CompleteSecondFactor(ctx, token, code, recovery)
	var wrong *identity.WrongCodeError
	if errors.As(err, &wrong) {
		method := "totp"
		if recovery != "" {
			method = "recovery-code"
		}
		if aerr := k.Audit.Platform(ctx, audit.Event{ActorID: &wrong.User.ID, Actor: wrong.User.Email, IP: cl.IP,
			Action: "sign-in-code-failed", Details: map[string]string{"method": method, "triesLeft": strconv.Itoa(wrong.Left)}}); aerr != nil {
			return nil, aerr
		}
	}
	if err != nil {
		return nil, err
	}
	if res.Assurance == identity.AssurancePasswordRecovery {
		if err := k.Audit.Platform(ctx, audit.Event{ActorID: &res.User.ID, Actor: res.User.Email, IP: cl.IP,
			Action: "recovery-code-used", Details: map[string]string{"remaining": strconv.Itoa(res.RecoveryRemaining)}}); err != nil {
			return nil, err
		}
	}
	me, cookie, err := k.startSession(ctx, res.User, cl, signInMethod{Name: string(res.Assurance), Assurance: res.Assurance})
	if err != nil {
		return nil, err
	}
	return gen.SignInSecondFactor200JSONResponse{Body: me, Headers: gen.SignInSecondFactor200ResponseHeaders{SetCookie: &cookie}}, nil
}

// qrDataURL draws the otpauth URI as a PNG QR code, so the browser needs no QR library.
func qrDataURL(uri string) (string, error) {
	c, err := qr.Encode(uri, qr.M)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	c.Scale = 6
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG()), nil
}

// StartTotp implements startTotp.
func (k *Kernel) StartTotp(ctx context.Context, _ gen.StartTotpRequestObject) (gen.StartTotpResponseObject, error) {
	p, _ := principalFrom(ctx)
	e, err := k.Identity.StartTOTP(ctx, p.User)
	if err != nil {
		return nil, err
	}
	img, err := qrDataURL(e.URI)
	if err != nil {
		return nil, err
	}
	return gen.StartTotp200JSONResponse{Secret: e.Secret, OtpauthUri: e.URI, QrCode: img}, nil
}

// ConfirmTotp implements confirmTotp.
func (k *Kernel) ConfirmTotp(ctx context.Context, req gen.ConfirmTotpRequestObject) (gen.ConfirmTotpResponseObject, error) {
	p, _ := principalFrom(ctx)
	codes, err := k.Identity.ConfirmTOTP(ctx, p.User.ID, p.Token, req.Body.Code)
	if err != nil {
		return nil, err
	}
	if err := k.accountEvent(ctx, p, "mfa-enabled", nil); err != nil {
		return nil, err
	}
	return gen.ConfirmTotp200JSONResponse{Codes: codes}, nil
}

// RegenerateRecoveryCodes implements regenerateRecoveryCodes.
func (k *Kernel) RegenerateRecoveryCodes(ctx context.Context, req gen.RegenerateRecoveryCodesRequestObject) (gen.RegenerateRecoveryCodesResponseObject, error) {
	p, _ := principalFrom(ctx)
	codes, err := k.Identity.RegenerateRecoveryCodes(ctx, p.User.ID, req.Body.Code)
	if err != nil {
		return nil, err
	}
	if err := k.accountEvent(ctx, p, "recovery-codes-regenerated", nil); err != nil {
		return nil, err
	}
	return gen.RegenerateRecoveryCodes200JSONResponse{Codes: codes}, nil
}

// DisableTotp implements disableTotp.
func (k *Kernel) DisableTotp(ctx context.Context, req gen.DisableTotpRequestObject) (gen.DisableTotpResponseObject, error) {
	p, _ := principalFrom(ctx)
	code, password := deref(req.Body.Code), deref(req.Body.Password)
	if (code == "") == (password == "") {
		return nil, problem.New(problem.Validation, "Send either code or password.",
			problem.FieldError{Field: "/code", Message: "send either code or password"})
	}
	if err := k.Identity.DisableTOTP(ctx, p.User.ID, code, password); err != nil {
		return nil, err
	}
	if err := k.accountEvent(ctx, p, "mfa-disabled", nil); err != nil {
		return nil, err
	}
	return gen.DisableTotp204Response{}, nil
}

// ListMySessions implements listMySessions.
func (k *Kernel) ListMySessions(ctx context.Context, _ gen.ListMySessionsRequestObject) (gen.ListMySessionsResponseObject, error) {
	p, _ := principalFrom(ctx)
	list, err := k.Identity.Sessions(ctx, p.User.ID, p.Token)
	if err != nil {
		return nil, err
	}
	items := make([]gen.MySession, 0, len(list))
	for _, s := range list {
		items = append(items, gen.MySession{Id: s.PublicID, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt,
			ExpiresAt: s.ExpiresAt, Ip: s.IP, UserAgent: s.UserAgent, Method: gen.MySessionMethod(s.Assurance), Current: s.Current})
	}
	return gen.ListMySessions200JSONResponse{Items: items}, nil
}

// RevokeMySession implements revokeMySession.
func (k *Kernel) RevokeMySession(ctx context.Context, req gen.RevokeMySessionRequestObject) (gen.RevokeMySessionResponseObject, error) {
	p, _ := principalFrom(ctx)
	id := uuid.UUID(req.SessionId)
	if err := k.Identity.RevokeSession(ctx, p.User.ID, id); err != nil {
		return nil, err
	}
	if err := k.accountEvent(ctx, p, "session-revoked", map[string]string{"session": id.String()}); err != nil {
		return nil, err
	}
	return gen.RevokeMySession204Response{}, nil
}

// RevokeOtherSessions implements revokeOtherSessions.
func (k *Kernel) RevokeOtherSessions(ctx context.Context, _ gen.RevokeOtherSessionsRequestObject) (gen.RevokeOtherSessionsResponseObject, error) {
	p, _ := principalFrom(ctx)
	n, err := k.Identity.RevokeOtherSessions(ctx, p.User.ID, p.Token)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		if err := k.accountEvent(ctx, p, "session-revoked", map[string]string{"others": strconv.Itoa(n)}); err != nil {
			return nil, err
		}
	}
	return gen.RevokeOtherSessions200JSONResponse{Revoked: n}, nil
}

// accountEvent records a change the user made to their own account in the platform's chain.
func (k *Kernel) accountEvent(ctx context.Context, p Principal, action string, details map[string]string) error {
	return k.Audit.Platform(ctx, audit.Event{ActorID: &p.User.ID, Actor: p.User.Email, IP: clientFrom(ctx).IP,
		Action: action, Target: p.User.Email, Details: details})
}
