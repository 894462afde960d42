package modules

import (
	"errors"
	"strings"
)

// Errors a module's service returns; api/problem maps them to HTTP, so modules never speak
// status codes. Wrap them with the detail a person can act on:
// fmt.Errorf("%w: the notice is already taken down", modules.ErrConflict).
var (
	// ErrNotFound: no such record in this tenant (another tenant's id is not found too).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the record's state does not allow the operation.
	ErrConflict = errors.New("conflict")
	// ErrForbidden: a rule of the agenda forbids this user the operation, beyond the role
	// check the API already made (e.g. approving one's own notice).
	ErrForbidden = errors.New("forbidden")
)

// FieldError is one invalid field of a request, said in Czech and English. Field is a JSON
// pointer into the body ("/title") or the name of a form field or parameter.
type FieldError struct {
	Field string
	CS    string
	EN    string
}

// InvalidError is bad input: every field at fault, so a form can mark them all at once.
type InvalidError struct {
	Fields []FieldError
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.EN
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a field error.
func (e *InvalidError) Add(field, cs, en string) {
	e.Fields = append(e.Fields, FieldError{field, cs, en})
}

// Err returns e if any field is at fault, else nil.
func (e *InvalidError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}
