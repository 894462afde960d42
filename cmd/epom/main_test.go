package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	cases := []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"--help"}, 0, "EPOM_DATABASE_URL"},
		{nil, 2, "Commands:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"migrate"}, 2, "usage: epom migrate up|down|status"},
		{[]string{"serve", "extra"}, 2, "serve takes no arguments"},
		{[]string{"tenant"}, 2, "epom tenant provision"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %s)", code, tc.code, errOut.String())
			}
			if all := out.String() + errOut.String(); !strings.Contains(all, tc.output) {
				t.Fatalf("output lacks %q:\n%s", tc.output, all)
			}
		})
	}
}
