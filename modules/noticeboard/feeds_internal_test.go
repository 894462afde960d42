package noticeboard

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestICSText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Obec Kunžak", "Obec Kunžak"},
		{"a,b;c", `a\,b\;c`},
		{`C:\dokumenty`, `C:\\dokumenty`},
		{"řádek 1\nřádek 2\r\nřádek 3\r", `řádek 1\nřádek 2\nřádek 3\n`},
		{`\,`, `\\\,`}, // the backslash is escaped before the comma adds one
	} {
		if got := icsText(tc.in); got != tc.want {
			t.Errorf("icsText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestICSFolding(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
	}{
		{"short", "SUMMARY:Svoz odpadu"},
		{"exactly 75", "SUMMARY:" + strings.Repeat("x", 67)},
		{"ascii", "SUMMARY:" + strings.Repeat("abcdefghij", 30)},
		// Two-byte letters whose boundary falls on every possible octet.
		{"czech", "SUMMARY:" + strings.Repeat("Žluťoučký kůň úpěl ďábelské ódy, ", 8)},
		{"czech shifted", "SUMMARY:x" + strings.Repeat("ěščřžýáíé", 20)},
		{"three-byte", "DESCRIPTION:" + strings.Repeat("– ", 60)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w icsWriter
			w.line(tc.line)
			out := string(w.Bytes())
			if !strings.HasSuffix(out, "\r\n") {
				t.Fatalf("no CRLF at the end: %q", out)
			}
			physical := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
			for i, l := range physical {
				if len(l) > icsMaxOctets {
					t.Errorf("line %d has %d octets: %q", i, len(l), l)
				}
				if !utf8.ValidString(l) {
					t.Errorf("line %d splits a UTF-8 sequence: %q", i, l)
				}
				if i > 0 && !strings.HasPrefix(l, " ") {
					t.Errorf("continuation %d does not start with a space: %q", i, l)
				}
			}
			if len(tc.line) <= icsMaxOctets && len(physical) != 1 {
				t.Errorf("a short line was folded: %q", out)
			}
			if got := strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n ", ""); got != tc.line {
				t.Errorf("unfolded %q, want %q", got, tc.line)
			}
		})
	}
}
