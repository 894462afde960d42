package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckReason(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"Ztracený telefon", "Ztracený telefon", true},
		{"  abc  ", "abc", true},
		{"žíř", "žíř", true}, // characters, not bytes
		{"ab", "", false},
		{"   a b   ", "a b", true},
		{"   ", "", false},
		{"", "", false},
		{strings.Repeat("č", 500), strings.Repeat("č", 500), true},
		{strings.Repeat("č", 501), "", false},
	}
	for _, c := range cases {
		got, err := checkReason(c.in)
		var ie *InputError
		switch {
		case c.ok && (err != nil || got != c.want):
			t.Errorf("checkReason(%q) = %q, %v; want %q", c.in, got, err, c.want)
		case !c.ok && (!errors.As(err, &ie) || ie.Field != "reason" || ie.CS == ""):
			t.Errorf("checkReason(%q): %v, want an InputError of the field reason", c.in, err)
		}
	}
}
