package identity

import (
	"encoding/base32"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The SHA-1 vectors of RFC 6238 appendix B, cut to six digits.
func TestTOTPCodeRFC6238(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		got, err := TOTPCode(secret, time.Unix(tc.unix, 0))
		if err != nil || got != tc.want {
			t.Errorf("T=%d: %q %v, want %q", tc.unix, got, err, tc.want)
		}
	}
}

func TestMatchStepWindow(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	step := now.Unix() / totpPeriod
	for _, tc := range []struct {
		name string
		at   int64
		ok   bool
	}{
		{"previous step", step - 1, true}, {"current", step, true}, {"next", step + 1, true},
		{"two back", step - 2, false}, {"two ahead", step + 2, false},
	} {
		got, ok := matchStep(secret, totpCode(secret, uint64(tc.at)), now)
		if ok != tc.ok || (ok && got != tc.at) {
			t.Errorf("%s: step %d %v", tc.name, got, ok)
		}
	}
	if _, ok := matchStep(secret, "12345", now); ok {
		t.Error("short code accepted")
	}
}

func TestSealBindsTheUser(t *testing.T) {
	s := &Service{cfg: Config{SecretKey: make([]byte, 32)}}
	a, b := uuid.New(), uuid.New()
	sealed, _, err := s.seal(a, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.open(a, sealed); err != nil || string(got) != "secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, _, err := s.open(b, sealed); err == nil {
		t.Fatal("another user's ciphertext opened")
	}
	if _, _, err := (&Service{}).seal(a, []byte("x")); err != ErrNoSecretKey {
		t.Fatalf("no key: %v", err)
	}
}

func TestRecoveryCodeShape(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		c, err := newRecoveryCode()
		if err != nil || len(c) != 11 || c[5] != '-' || seen[c] {
			t.Fatalf("code %q %v", c, err)
		}
		seen[c] = true
	}
}
