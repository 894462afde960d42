package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		name, pw string
		inputs   []string
		reason   string // "" = accepted
	}{
		{"long random passphrase", "modrý kůň skáče přes plot", []string{"jana@example.cz", "Jana Nováková"}, ""},
		{"exactly ten", "k7#Pq2!xZr", nil, ""},
		{"nine characters", "k7#Pq2!xZ", nil, WeakTooShort},
		{"ten runes, more bytes, counts as ten", "žžžžžžžžžř", nil, ""},
		{"empty", "", nil, WeakTooShort},
		{"too long", strings.Repeat("a1b2c3d4e5", 13), nil, WeakTooLong},
		{"128 is fine", strings.Repeat("Zq8#", 32), nil, ""},
		{"common", "1234567890", nil, WeakCommon},
		{"common, other case", "QWERTYUIOP", nil, WeakCommon},
		{"common from the zxcvbn list", "password123", nil, WeakCommon},
		{"common from the john list", "basketball", nil, WeakCommon},
		{"e-mail local part", "zx-novakova.jana-zx", []string{"novakova.jana@obec.cz"}, WeakPersonal},
		{"local part in other case", "XXNOVAKOVA.JANAxx", []string{"novakova.jana@obec.cz"}, WeakPersonal},
		{"word of the local part", "jana-je-nejlepsi-99", []string{"jana.novakova@obec.cz"}, WeakPersonal},
		{"surname of the name", "Prochazka 1977 zima!", []string{"x@y.cz", "Tomáš Prochazka"}, WeakPersonal},
		{"short name parts are chance", "ivo mele kafe pomalu", []string{"ivo@y.cz", "Ivo Bo"}, ""},
		{"domain does not count", "obec.cz je muj domov", []string{"novak@obec.cz"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPassword(tc.pw, tc.inputs...)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var we *WeakPasswordError
			if !errors.As(err, &we) || we.Reason != tc.reason || !errors.Is(err, ErrWeakPassword) {
				t.Fatalf("got %v, want reason %s", err, tc.reason)
			}
			if cs, en := we.Messages(); cs == "" || en == "" || cs == en {
				t.Fatalf("messages %q / %q", cs, en)
			}
			if we.Field != "/password" {
				t.Fatalf("field %q", we.Field)
			}
		})
	}
}

func TestCommonPasswordListIsSortedAndLarge(t *testing.T) {
	list := commonPasswords()
	if len(list) < 10000 {
		t.Fatalf("only %d common passwords", len(list))
	}
	for i := 1; i < len(list); i++ {
		if list[i-1] >= list[i] {
			t.Fatalf("not sorted or duplicate at %d: %q, %q", i, list[i-1], list[i])
		}
		if strings.ToLower(list[i]) != list[i] {
			t.Fatalf("not lower-case: %q", list[i])
		}
	}
}

func TestInFieldRenamesOnlyPasswordErrors(t *testing.T) {
	err := InField(CheckPassword("short"), "/newPassword")
	var we *WeakPasswordError
	if !errors.As(err, &we) || we.Field != "/newPassword" {
		t.Fatalf("got %v", err)
	}
	other := errors.New("x")
	if InField(other, "/newPassword") != other {
		t.Fatal("changed another error")
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	for b.Loop() {
		_ = CheckPassword("modrý kůň skáče přes plot", "jana@example.cz", "Jana Nováková")
	}
}
