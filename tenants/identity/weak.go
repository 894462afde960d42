package identity

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Password length limits. The maximum keeps argon2 work bounded per request.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 128
)

// ErrWeakPassword is the sentinel every *WeakPasswordError wraps.
var ErrWeakPassword = errors.New("weak password")

// Reasons a password is refused; stable, the UI may key on them.
const (
	WeakTooShort  = "too-short"
	WeakTooLong   = "too-long"
	WeakCommon    = "common"
	WeakPersonal  = "personal" // equals or contains the e-mail's local part or the name
	defaultPwdKey = "/password"
)

// WeakPasswordError says why a password is refused, in Czech and English, and which request
// field it came in (a JSON pointer; "/password" unless the caller sets another).
type WeakPasswordError struct {
	Reason string
	Field  string
}

func (e *WeakPasswordError) Error() string { return "weak password: " + e.Reason }
func (e *WeakPasswordError) Unwrap() error { return ErrWeakPassword }

// Messages returns the person-facing explanation in Czech and English.
func (e *WeakPasswordError) Messages() (cs, en string) {
	switch e.Reason {
	case WeakTooShort:
		return "Heslo musí mít alespoň 10 znaků.", "The password must have at least 10 characters."
	case WeakTooLong:
		return "Heslo může mít nejvýše 128 znaků.", "The password may have at most 128 characters."
	case WeakCommon:
		return "Toto heslo je mezi běžně používanými a uniklými hesly. Zvolte jiné, nejlépe několik nesouvisejících slov.",
			"This password is among commonly used and leaked passwords. Choose another one, ideally a few unrelated words."
	case WeakPersonal:
		return "Heslo nesmí obsahovat vaše jméno ani e-mailovou adresu.", "The password must not contain your name or e-mail address."
	}
	return "Heslo nevyhovuje.", "The password is not acceptable."
}

// InField returns err with its field set to field when it is a *WeakPasswordError.
func InField(err error, field string) error {
	var we *WeakPasswordError
	if errors.As(err, &we) {
		c := *we
		c.Field = field
		return &c
	}
	return err
}

//go:embed data/common-passwords.txt.gz
var commonPasswordsGz []byte

// commonPasswords is the embedded list, decompressed on first use: sorted, lower-case.
// A lazily built read-only table, not state: every caller sees the same immutable slice.
var commonPasswords = sync.OnceValue(func() []string {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		panic("identity: embedded password list: " + err.Error())
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		panic("identity: embedded password list: " + err.Error())
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
})

// IsCommonPassword reports whether pw (case-insensitive) is on the bundled list of common and
// breached passwords (see data/SOURCES.md).
func IsCommonPassword(pw string) bool {
	list := commonPasswords()
	p := strings.ToLower(pw)
	i := sort.SearchStrings(list, p)
	return i < len(list) && list[i] == p
}

// CheckPassword applies the password policy: 10 to 128 characters, not a common or breached
// password, and not equal to or containing what the user is known by (userInputs: the e-mail
// address, the name; for an address only its local part counts). It returns a
// *WeakPasswordError (wrapping ErrWeakPassword) or nil.
func CheckPassword(pw string, userInputs ...string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		return &WeakPasswordError{Reason: WeakTooShort, Field: defaultPwdKey}
	}
	if n > MaxPasswordLength {
		return &WeakPasswordError{Reason: WeakTooLong, Field: defaultPwdKey}
	}
	if IsCommonPassword(pw) || IsCommonPassword(strings.TrimSpace(pw)) {
		return &WeakPasswordError{Reason: WeakCommon, Field: defaultPwdKey}
	}
	lower := strings.ToLower(pw)
	for _, in := range userInputs {
		for _, part := range personalParts(in) {
			if strings.Contains(lower, part) {
				return &WeakPasswordError{Reason: WeakPersonal, Field: defaultPwdKey}
			}
		}
	}
	return nil
}

// personalParts are the pieces of a user input a password must not contain: an e-mail's local
// part, a name as a whole and each of its words. Pieces shorter than 4 characters are
// skipped; "Jan" inside a random passphrase is chance, not a weakness.
func personalParts(in string) []string {
	in = strings.ToLower(strings.TrimSpace(in))
	if local, _, ok := strings.Cut(in, "@"); ok {
		in = local
	}
	var out []string
	add := func(s string) {
		if utf8.RuneCountInString(s) >= 4 {
			out = append(out, s)
		}
	}
	add(in)
	fields := strings.FieldsFunc(in, func(r rune) bool { return strings.ContainsRune(" .-_+,", r) })
	if len(fields) > 1 {
		for _, f := range fields {
			add(f)
		}
	}
	return out
}
