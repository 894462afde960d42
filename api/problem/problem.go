// Package problem writes RFC 9457 problem details, and is the one place where errors become
// HTTP statuses. Types are stable relative URIs (/problems/<name>) that the server also
// serves as human-readable pages.
package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/identity"
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
)

// Types lists every type, for the /problems pages and the docs.
func Types() []Type {
	return []Type{Validation, MalformedJSON, TooLarge, UnsupportedMedia, NotFound, TenantNotFound,
		TenantUnavailable, ModuleDisabled, Unauthenticated, BadCredentials, CSRF, Forbidden, Conflict,
		Unprocessable, MethodNotAllowed, Internal, Unavailable}
}

// FieldError names one invalid field: a JSON pointer into the body or a parameter's name.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
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
	Fields []FieldError
	Err    error
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
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, tenants.ErrNotFound):
		return New(TenantNotFound, "")
	case errors.Is(err, tenants.ErrUnavailable):
		return New(TenantUnavailable, "")
	case errors.Is(err, tenants.ErrUnknownMunicipality):
		return New(Unprocessable, "The municipality is not in the ČSÚ catalogue.", FieldError{"/kodObce", "unknown kód obce"})
	case errors.Is(err, tenants.ErrConflict):
		return &Error{Type: Conflict, Detail: detailAfter(err, tenants.ErrConflict), Err: err}
	case errors.Is(err, tenants.ErrInvalid):
		return &Error{Type: Unprocessable, Detail: detailAfter(err, tenants.ErrInvalid), Err: err}
	case errors.Is(err, identity.ErrBadCredentials):
		return New(BadCredentials, "")
	case errors.Is(err, identity.ErrNoSession):
		return New(Unauthenticated, "")
	}
	return &Error{Type: Internal, Err: err}
}

// detailAfter keeps the part of a kernel error message after the sentinel, which is written
// for people ("the slug is taken"), and drops the operation prefix.
func detailAfter(err, sentinel error) string {
	_, detail, _ := strings.Cut(err.Error(), sentinel.Error()+": ")
	return detail
}

// Body builds the response body of e; the title is Czech unless lang is "en".
func (e *Error) Body(requestID, instance, lang string) Problem {
	title := e.Type.TitleCS
	if lang == "en" {
		title = e.Type.Title
	}
	return Problem{Type: e.Type.URI(), Title: title, Status: e.Type.Status, Detail: e.Detail,
		Instance: instance, RequestID: requestID, Errors: e.Fields}
}

// Write sends e as problem+json.
func Write(w http.ResponseWriter, e *Error, requestID, instance, lang string) {
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Language", lang)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Type.Status)
	_ = json.NewEncoder(w).Encode(e.Body(requestID, instance, lang))
}
