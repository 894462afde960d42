// Package problem writes RFC 9457 problem details, and is the one place where errors become
// HTTP statuses. Types are stable relative URIs (/problems/<name>) that the server also
// serves as human-readable pages.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/apitokens"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/identity/oidc"
	"github.com/epom-cz/epom/tenants/onboarding"
)

// ContentType of every error response.
const ContentType = "application/problem+json"

// Type is a stable problem type.
type Type struct {
	Name    string // the last segment of the URI
	Status  int
	Title   string // English; the UI translates by Name
	TitleCS string
}

// URI is the type's identifier.
func (t Type) URI() string { return "/problems/" + t.Name }

// The problem types of the API. A name never changes meaning once published.
var (
	Validation        = Type{"validation", http.StatusBadRequest, "The request is not valid", "Požadavek není platný"}
	MalformedJSON     = Type{"malformed-json", http.StatusBadRequest, "The request body is not valid JSON", "Tělo požadavku není platný JSON"}
	TooLarge          = Type{"payload-too-large", http.StatusRequestEntityTooLarge, "The request body is too large", "Tělo požadavku je příliš velké"}
	UnsupportedMedia  = Type{"unsupported-media-type", http.StatusUnsupportedMediaType, "The request body must be JSON", "Tělo požadavku musí být JSON"}
	NotFound          = Type{"not-found", http.StatusNotFound, "Not found", "Nenalezeno"}
	TenantNotFound    = Type{"tenant-not-found", http.StatusNotFound, "No such municipality uses epom", "Tato obec epom nepoužívá"}
	TenantUnavailable = Type{"tenant-unavailable", http.StatusForbidden, "The municipality's service is suspended", "Služba obce je pozastavena"}
	ModuleDisabled    = Type{"module-disabled", http.StatusNotFound, "The municipality does not use this module", "Obec tento modul nepoužívá"}
	Unauthenticated   = Type{"unauthenticated", http.StatusUnauthorized, "Sign-in required", "Je třeba se přihlásit"}
	BadCredentials    = Type{"bad-credentials", http.StatusUnauthorized, "Wrong e-mail or password", "Nesprávný e-mail nebo heslo"}
	CSRF              = Type{"csrf", http.StatusForbidden, "Missing or wrong CSRF token", "Chybí nebo nesouhlasí CSRF token"}
	Forbidden         = Type{"forbidden", http.StatusForbidden, "You may not do this", "K této akci nemáte oprávnění"}
	Conflict          = Type{"conflict", http.StatusConflict, "The request conflicts with the current state", "Požadavek je v rozporu se stávajícím stavem"}
	Unprocessable     = Type{"unprocessable", http.StatusUnprocessableEntity, "The request cannot be carried out", "Požadavek nelze provést"}
	MethodNotAllowed  = Type{"method-not-allowed", http.StatusMethodNotAllowed, "Method not allowed", "Metoda není povolena"}
	Internal          = Type{"internal", http.StatusInternalServerError, "Internal error", "Vnitřní chyba"}
	Unavailable       = Type{"unavailable", http.StatusServiceUnavailable, "Service unavailable", "Služba je nedostupná"}
	// accounts:
	EmailNotVerified = Type{"email-not-verified", http.StatusForbidden, "The e-mail address is not verified yet", "E-mailová adresa zatím není ověřena"}
	WeakPassword     = Type{"weak-password", http.StatusUnprocessableEntity, "The password is too weak", "Heslo je příliš slabé"}
	TooManyAttempts  = Type{"too-many-attempts", http.StatusTooManyRequests, "Too many attempts", "Příliš mnoho pokusů"}
	LinkInvalid      = Type{"link-invalid", http.StatusBadRequest, "The link is not valid", "Odkaz není platný"}
	LinkExpired      = Type{"link-expired", http.StatusGone, "The link has expired", "Platnost odkazu vypršela"}
	LinkUsed         = Type{"link-used", http.StatusGone, "The link has already been used", "Odkaz už byl použit"}
	WrongPassword    = Type{"wrong-password", http.StatusForbidden, "The current password is wrong", "Současné heslo není správné"}
	// oidc:
	LastSignInMethod = Type{"last-sign-in-method", http.StatusConflict, "This is the account's only way to sign in", "Jde o jediný způsob přihlášení k účtu"}
	// API tokens (tenants/apitokens).
	InvalidToken    = Type{"invalid-token", http.StatusUnauthorized, "The API token is unknown, revoked or expired", "API token je neplatný, odvolaný nebo jeho platnost skončila"}
	TokenNotAllowed = Type{"token-not-allowed", http.StatusForbidden, "An API token cannot be used for this operation", "Tuto operaci nelze provést s API tokenem"}
	// mfa: two-factor sign-in. A wrong code is 400, not 401: on the account page the session
	// is fine, and 401 tells the app the session ended.
	WrongCode            = Type{"wrong-code", http.StatusBadRequest, "Wrong or already used code", "Nesprávný nebo již použitý kód"}
	MFALoginExpired      = Type{"mfa-login-expired", http.StatusUnauthorized, "The sign-in expired; enter your password again", "Přihlášení vypršelo, zadejte znovu heslo"}
	MFAEnrolmentRequired = Type{"mfa-enrolment-required", http.StatusForbidden, "Two-factor sign-in is required for staff", "Pro pracovníky je dvoufázové ověření povinné"}
	// Staff and invitations (members).
	InvitationNotFound     = Type{"invitation-not-found", http.StatusNotFound, "The invitation link is not valid", "Odkaz s pozvánkou není platný"}
	InvitationExpired      = Type{"invitation-expired", http.StatusGone, "The invitation has expired; ask for a new one", "Platnost pozvánky vypršela; požádejte o novou"}
	InvitationRevoked      = Type{"invitation-revoked", http.StatusGone, "The invitation has been withdrawn", "Pozvánka byla zrušena"}
	InvitationUsed         = Type{"invitation-used", http.StatusGone, "The invitation has already been used", "Pozvánka již byla použita"}
	InvitationWrongAccount = Type{"invitation-wrong-account", http.StatusForbidden, "The invitation is for another e-mail address; sign out first", "Pozvánka je určena pro jinou e-mailovou adresu; nejdříve se odhlaste"}
	AccountExists          = Type{"account-exists", http.StatusConflict, "An account with this e-mail exists: sign in first", "Účet s tímto e-mailem už existuje: nejdříve se přihlaste"}
	AlreadyMember          = Type{"already-member", http.StatusConflict, "This person already works for the municipality", "Tato osoba už je pracovníkem obce"}
	LastAdmin              = Type{"last-admin", http.StatusConflict, "The municipality must keep at least one administrator", "Obec musí mít alespoň jednoho správce"}
	// A tenant admin resets a member's lost second factor.
	MFAResetSelf      = Type{"mfa-reset-self", http.StatusConflict, "You cannot reset your own two-factor sign-in; sign in with a recovery code and set it up again", "Vlastní dvoufázové ověření takto zrušit nelze; přihlaste se záchranným kódem a nastavte si ho znovu"}
	MFAResetElsewhere = Type{"mfa-reset-elsewhere", http.StatusConflict, "The account also works for another municipality or the platform; ask the platform operator to reset it", "Účet pracuje i pro jinou obec nebo pro platformu; o zrušení požádejte provozovatele platformy"}
	// operator: onboarding and the online subscription.
	AlreadyTenant  = Type{"municipality-uses-epom", http.StatusConflict, "The municipality already uses epom", "Obec už epom používá"}
	RequestPending = Type{"subscription-pending", http.StatusConflict, "The municipality's request is already waiting for approval", "Žádost obce už čeká na vyřízení"}
	RequestDecided = Type{"subscription-decided", http.StatusConflict, "The request has already been decided", "O žádosti už bylo rozhodnuto"}
)

// Types lists every type, for the /problems pages and the docs.
func Types() []Type {
	return []Type{Validation, MalformedJSON, TooLarge, UnsupportedMedia, NotFound, TenantNotFound,
		TenantUnavailable, ModuleDisabled, Unauthenticated, BadCredentials, CSRF, Forbidden, Conflict,
		Unprocessable, MethodNotAllowed, Internal, Unavailable,
		EmailNotVerified, WeakPassword, TooManyAttempts, LinkInvalid, LinkExpired, LinkUsed, WrongPassword,
		LastSignInMethod,
		InvalidToken, TokenNotAllowed,
		WrongCode, MFALoginExpired, MFAEnrolmentRequired,
		InvitationNotFound, InvitationExpired, InvitationRevoked, InvitationUsed, InvitationWrongAccount,
		AccountExists, AlreadyMember, LastAdmin, MFAResetSelf, MFAResetElsewhere,
		AlreadyTenant, RequestPending, RequestDecided,
	}
}

// FieldError names one invalid field: a JSON pointer into the body or a parameter's name.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// MessageEN replaces Message for English answers when set (Message is then Czech).
	MessageEN string `json:"-"`
}

// Localized is a field error with its message in Czech and English; the answer carries the
// client's language.
func Localized(field, cs, en string) FieldError {
	return FieldError{Field: field, Message: cs, MessageEN: en}
}

// Problem is the response body.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"requestId,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// Error is an error that carries its problem.
type Error struct {
	Type   Type
	Detail string
	// DetailCS replaces Detail (English) for Czech answers when set.
	DetailCS string
	Fields   []FieldError
	// RetryAfter, when positive, is sent as the Retry-After header (whole seconds, rounded up).
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Type.Name + ": " + e.Detail
	}
	return e.Type.Name
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of type t.
func New(t Type, detail string, fields ...FieldError) *Error {
	return &Error{Type: t, Detail: detail, Fields: fields}
}

// From maps any error to a problem. Unknown errors become 500 without their text, which may
// hold database details.
func From(err error) *Error {
	var pe *Error
	var fe *onboarding.FieldError
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, tenants.ErrNotFound):
		return New(TenantNotFound, "")
	case errors.Is(err, tenants.ErrUnavailable):
		return New(TenantUnavailable, "")
	case errors.Is(err, tenants.ErrUnknownMunicipality):
		return New(Unprocessable, "The municipality is not in the ČSÚ catalogue.", Localized("/kodObce", "Obec s tímto kódem v katalogu ČSÚ není.", "unknown kód obce"))
	case errors.Is(err, tenants.ErrConflict):
		return &Error{Type: Conflict, Detail: detailAfter(err, tenants.ErrConflict), Err: err}
	case errors.Is(err, tenants.ErrInvalid):
		return &Error{Type: Unprocessable, Detail: detailAfter(err, tenants.ErrInvalid), Err: err}
	case errors.As(err, &fe):
		return &Error{Type: Validation, Detail: fe.EN, DetailCS: fe.CS, Fields: []FieldError{Localized(fe.Field, fe.CS, fe.EN)}, Err: err}
	case errors.Is(err, onboarding.ErrNotInKraj):
		return &Error{Type: NotFound, Err: err}
	case errors.Is(err, onboarding.ErrAlreadyTenant):
		return &Error{Type: AlreadyTenant, Err: err}
	case errors.Is(err, onboarding.ErrPendingRequest):
		return &Error{Type: RequestPending, Err: err}
	case errors.Is(err, onboarding.ErrDecided):
		return &Error{Type: RequestDecided, Err: err}
	case errors.Is(err, onboarding.ErrRateLimited):
		return &Error{Type: TooManyAttempts, Err: err, Detail: "Too many requests from your address; try again in an hour.",
			DetailCS: "Z vaší adresy přišlo příliš mnoho žádostí; zkuste to znovu za hodinu."}
	case errors.Is(err, identity.ErrBadCredentials):
		return New(BadCredentials, "")
	case errors.Is(err, identity.ErrNoSession):
		return New(Unauthenticated, "")
	// oidc:
	case errors.Is(err, oidc.ErrNotLinked), errors.Is(err, oidc.ErrUnknownProvider):
		return &Error{Type: NotFound, Err: err}
	case errors.Is(err, oidc.ErrLastSignIn):
		return &Error{Type: LastSignInMethod, Detail: "Set a password or link another identity first.", Err: err}
	case errors.Is(err, apitokens.ErrInvalid):
		return New(InvalidToken, "")
	case errors.Is(err, apitokens.ErrNotFound):
		return New(NotFound, "No such API token.")
	case errors.Is(err, identity.ErrWrongCode):
		return wrongCode(err)
	case errors.Is(err, identity.ErrLoginExpired):
		return New(MFALoginExpired, "")
	case errors.Is(err, identity.ErrMFAPolicy):
		return New(Conflict, "Staff must keep two-factor sign-in on.")
	case errors.Is(err, identity.ErrTOTPEnabled):
		return New(Conflict, "Two-factor sign-in is already on; turn it off first.")
	case errors.Is(err, identity.ErrTOTPNotEnabled):
		return New(Conflict, "Two-factor sign-in is not on.")
	case errors.Is(err, identity.ErrNoEnrolment):
		return New(Conflict, "Start the enrolment first (POST /api/v1/me/totp).")
	case errors.Is(err, identity.ErrSessionNotFound):
		return New(NotFound, "")
	}
	if pe := fromAccounts(err); pe != nil {
		return pe
	}
	if e := fromStaff(err); e != nil {
		return e
	}
	if pe := fromModule(err); pe != nil {
		return pe
	}
	return &Error{Type: Internal, Err: err}
}

// fromAccounts maps the errors of the account self-service.
func fromAccounts(err error) *Error {
	var weak *identity.WeakPasswordError
	var limited *identity.LimitedError
	switch {
	case errors.As(err, &weak):
		cs, en := weak.Messages()
		return &Error{Type: WeakPassword, Detail: en, DetailCS: cs, Err: err,
			Fields: []FieldError{{Field: weak.Field, Message: cs, MessageEN: en}}}
	case errors.As(err, &limited):
		wait := retrySeconds(limited.RetryAfter)
		return &Error{Type: TooManyAttempts, RetryAfter: limited.RetryAfter, Err: err,
			Detail:   fmt.Sprintf("Too many attempts. Try again in %s.", waitText(wait)),
			DetailCS: fmt.Sprintf("Příliš mnoho pokusů. Zkuste to znovu za %s.", waitText(wait))}
	case errors.Is(err, identity.ErrEmailNotVerified):
		return &Error{Type: EmailNotVerified, Err: err,
			Detail:   "Open the link we sent to your e-mail address, or ask for a new one.",
			DetailCS: "Otevřete odkaz, který jsme vám poslali e-mailem, nebo si nechte poslat nový."}
	case errors.Is(err, identity.ErrLinkInvalid):
		return &Error{Type: LinkInvalid, Err: err, Detail: "Check that you copied the whole link, or ask for a new one.",
			DetailCS: "Zkontrolujte, že jste zkopírovali celý odkaz, nebo si nechte poslat nový."}
	case errors.Is(err, identity.ErrLinkExpired):
		return &Error{Type: LinkExpired, Err: err, Detail: "Ask for a new link.", DetailCS: "Nechte si poslat nový odkaz."}
	case errors.Is(err, identity.ErrLinkUsed):
		return &Error{Type: LinkUsed, Err: err, Detail: "Each link works only once. Ask for a new one if you need it.",
			DetailCS: "Každý odkaz platí jen jednou. Pokud jej potřebujete, nechte si poslat nový."}
	case errors.Is(err, identity.ErrWrongPassword):
		return &Error{Type: WrongPassword, Err: err, Fields: []FieldError{{Field: "/currentPassword",
			Message: "Současné heslo není správné.", MessageEN: "The current password is wrong."}}}
	}
	return nil
}

// retrySeconds rounds a wait up to whole seconds, at least one.
func retrySeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// waitText says how long to wait: seconds up to a minute, then whole minutes (the same in
// Czech and English).
func waitText(secs int64) string {
	if secs <= 60 {
		return fmt.Sprintf("%d s", secs)
	}
	return fmt.Sprintf("%d min", (secs+59)/60)
}

// wrongCode tells how many tries are left on a pending sign-in.
func wrongCode(err error) *Error {
	var wc *identity.WrongCodeError
	if errors.As(err, &wc) {
		if wc.Left == 0 {
			return New(MFALoginExpired, "Too many wrong codes; enter your password again.")
		}
		return &Error{Type: WrongCode, Detail: fmt.Sprintf("%d tries left.", wc.Left), Err: err}
	}
	return New(WrongCode, "")
}

// detailAfter keeps the part of a kernel error message after the sentinel, which is written
// for people ("the slug is taken"), and drops the operation prefix.
func detailAfter(err, sentinel error) string {
	_, detail, _ := strings.Cut(err.Error(), sentinel.Error()+": ")
	return detail
}

// Body builds the response body of e; the title is Czech unless lang is "en".
func (e *Error) Body(requestID, instance, lang string) Problem {
	title, detail := e.Type.TitleCS, e.Detail
	if lang == "en" {
		title = e.Type.Title
	} else if e.DetailCS != "" {
		detail = e.DetailCS
	}
	fields := e.Fields
	if lang == "en" {
		fields = make([]FieldError, len(e.Fields))
		for i, f := range e.Fields {
			if f.MessageEN != "" {
				f.Message = f.MessageEN
			}
			fields[i] = f
		}
	}
	return Problem{Type: e.Type.URI(), Title: title, Status: e.Type.Status, Detail: detail,
		Instance: instance, RequestID: requestID, Errors: fields}
}

// Write sends e as problem+json.
func Write(w http.ResponseWriter, e *Error, requestID, instance, lang string) {
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Language", lang)
	w.Header().Set("Cache-Control", "no-store")
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(retrySeconds(e.RetryAfter), 10))
	}
	w.WriteHeader(e.Type.Status)
	_ = json.NewEncoder(w).Encode(e.Body(requestID, instance, lang))
}

// fromStaff maps the errors of invitations and role changes (identity.Staff).
func fromStaff(err error) *Error {
	var ie *identity.InputError
	if errors.As(err, &ie) {
		return &Error{Type: Validation, Err: err,
			Fields: []FieldError{{Field: "/" + ie.Field, Message: ie.CS, MessageEN: ie.EN}}}
	}
	for _, m := range []struct {
		err error
		t   Type
	}{
		{identity.ErrInvitationNotFound, InvitationNotFound},
		{identity.ErrInvitationExpired, InvitationExpired},
		{identity.ErrInvitationRevoked, InvitationRevoked},
		{identity.ErrInvitationUsed, InvitationUsed},
		{identity.ErrWrongAccount, InvitationWrongAccount},
		{identity.ErrAccountExists, AccountExists},
		{identity.ErrAlreadyMember, AlreadyMember},
		{identity.ErrLastAdmin, LastAdmin},
		{identity.ErrNotMember, NotFound},
		{identity.ErrResetOwnMFA, MFAResetSelf},
		{identity.ErrMFAResetElsewhere, MFAResetElsewhere},
		{identity.ErrUnknownAccount, NotFound},
	} {
		if errors.Is(err, m.err) {
			return &Error{Type: m.t, Err: err}
		}
	}
	return nil
}

// fromModule maps the errors every agenda module's service returns (modules.Err*).
func fromModule(err error) *Error {
	var inv *modules.InvalidError
	switch {
	case errors.As(err, &inv):
		e := &Error{Type: Validation, Err: err}
		for _, f := range inv.Fields {
			e.Fields = append(e.Fields, FieldError{Field: f.Field, Message: f.CS, MessageEN: f.EN})
		}
		return e
	case errors.Is(err, modules.ErrNotFound):
		return &Error{Type: NotFound, Err: err}
	case errors.Is(err, modules.ErrConflict):
		return &Error{Type: Conflict, Detail: detailAfter(err, modules.ErrConflict), Err: err}
	case errors.Is(err, modules.ErrForbidden):
		return &Error{Type: Forbidden, Detail: detailAfter(err, modules.ErrForbidden), Err: err}
	}
	return nil
}
