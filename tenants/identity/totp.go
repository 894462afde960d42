package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/internal/keyring"
)

// TOTP parameters (RFC 6238 with the defaults every authenticator app understands).
const (
	totpPeriod = 30 // seconds per step
	totpDigits = 6
	totpSkew   = 1 // steps accepted either side of now, for clocks that drift
	// TOTPIssuer names the account in authenticator apps.
	TOTPIssuer = "epom"
)

// Errors of two-factor sign-in.
var (
	ErrWrongCode       = errors.New("wrong or already used code")
	ErrTOTPNotEnabled  = errors.New("two-factor sign-in is not on")
	ErrTOTPEnabled     = errors.New("two-factor sign-in is already on")
	ErrNoEnrolment     = errors.New("no two-factor enrolment started")
	ErrMFAPolicy       = errors.New("staff must keep two-factor sign-in on")
	ErrNoSecretKey     = errors.New("no secret key configured (EPOM_SECRET_KEY)")
	ErrLoginExpired    = errors.New("the sign-in expired; enter the password again")
	ErrSessionNotFound = errors.New("no such session")
	// ErrSecretUndecryptable: the TOTP secret was encrypted under a key that is neither
	// EPOM_SECRET_KEY nor in EPOM_SECRET_KEY_PREVIOUS.
	ErrSecretUndecryptable = errors.New("the TOTP secret cannot be decrypted with EPOM_SECRET_KEY or any key of EPOM_SECRET_KEY_PREVIOUS: " +
		"put the key it was encrypted under back into EPOM_SECRET_KEY_PREVIOUS, or reset the user's two-factor sign-in (epom user reset-mfa)")
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpCode is HOTP(secret, step) truncated to six digits (RFC 4226 §5.3).
func totpCode(secret []byte, step uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], step)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000)
}

// TOTPCode is the code of secret (base32) at t; tests and the demo use it.
func TOTPCode(secretB32 string, t time.Time) (string, error) {
	secret, err := b32.DecodeString(strings.ToUpper(secretB32))
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return totpCode(secret, uint64(t.Unix()/totpPeriod)), nil
}

// matchStep returns the step within the skew window whose code is code, newest first.
func matchStep(secret []byte, code string, now time.Time) (int64, bool) {
	code = normalizeCode(code)
	if len(code) != totpDigits {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for d := int64(totpSkew); d >= -totpSkew; d-- {
		if subtle.ConstantTimeCompare([]byte(totpCode(secret, uint64(cur+d))), []byte(code)) == 1 {
			return cur + d, true
		}
	}
	return 0, false
}

func normalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// keys is the ring of EPOM_SECRET_KEY and EPOM_SECRET_KEY_PREVIOUS.
func (s *Service) keys() keyring.Ring {
	return keyring.Ring{Current: s.cfg.SecretKey, Previous: s.cfg.PreviousKeys}
}

// seal encrypts a TOTP secret with AES-GCM under the current key and returns the key's
// fingerprint with it; the user id is the additional data, so a ciphertext copied to another
// account does not decrypt.
func (s *Service) seal(userID uuid.UUID, plain []byte) ([]byte, string, error) {
	ring := s.keys()
	if !ring.Ready() {
		return nil, "", ErrNoSecretKey
	}
	aead, err := newAEAD(ring.Current)
	if err != nil {
		return nil, "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", err
	}
	return aead.Seal(nonce, nonce, plain, userID[:]), ring.CurrentID(), nil
}

// open decrypts a sealed TOTP secret with the first key of the ring whose GCM tag fits, and
// returns that key's fingerprint.
func (s *Service) open(userID uuid.UUID, sealed []byte) ([]byte, string, error) {
	ring := s.keys()
	if !ring.Ready() {
		return nil, "", ErrNoSecretKey
	}
	for _, k := range ring.Keys() {
		aead, err := newAEAD(k)
		if err != nil {
			return nil, "", err
		}
		if len(sealed) < aead.NonceSize() {
			break
		}
		if plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], userID[:]); err == nil {
			return plain, keyring.ID(k), nil
		}
	}
	return nil, "", fmt.Errorf("user %s: %w", userID, ErrSecretUndecryptable)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// TOTPEnrolment is what the user copies into an authenticator app.
type TOTPEnrolment struct {
	Secret string // base32, for typing in by hand
	URI    string // otpauth://totp/…, for the QR code
}

func otpauthURI(email, secret string) string {
	label := url.PathEscape(TOTPIssuer + ":" + email)
	q := url.Values{"secret": {secret}, "issuer": {TOTPIssuer}, "algorithm": {"SHA1"},
		"digits": {fmt.Sprint(totpDigits)}, "period": {fmt.Sprint(totpPeriod)}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// StartTOTP makes a new secret for the user and keeps it, unconfirmed, until ConfirmTOTP.
// Starting again replaces an unconfirmed secret; a confirmed one must be turned off first.
func (s *Service) StartTOTP(ctx context.Context, u User) (TOTPEnrolment, error) {
	secret := make([]byte, 20) // 160 bits, as RFC 4226 recommends
	if _, err := rand.Read(secret); err != nil {
		return TOTPEnrolment{}, err
	}
	sealed, keyID, err := s.seal(u.ID, secret)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	tag, err := s.app.Exec(ctx, `INSERT INTO user_totp (user_id, secret_enc, key_id) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, key_id = EXCLUDED.key_id, created_at = now(), last_step = 0
		WHERE user_totp.enabled_at IS NULL`, u.ID, sealed, keyID)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("start totp: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return TOTPEnrolment{}, ErrTOTPEnabled
	}
	enc := b32.EncodeToString(secret)
	return TOTPEnrolment{Secret: enc, URI: otpauthURI(u.Email, enc)}, nil
}

// EnrolTOTPWithSecret turns TOTP on with a given secret, without a confirming code: only for
// the demo seed, whose secret is published.
func (s *Service) EnrolTOTPWithSecret(ctx context.Context, u User, secretB32 string) error {
	secret, err := b32.DecodeString(strings.ToUpper(secretB32))
	if err != nil {
		return fmt.Errorf("totp secret: %w", err)
	}
	sealed, keyID, err := s.seal(u.ID, secret)
	if err != nil {
		return err
	}
	_, err = s.app.Exec(ctx, `INSERT INTO user_totp (user_id, secret_enc, key_id, enabled_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, key_id = EXCLUDED.key_id, enabled_at = now(), last_step = 0`,
		u.ID, sealed, keyID)
	if err != nil {
		return fmt.Errorf("enrol totp: %w", err)
	}
	return nil
}

// ConfirmTOTP turns two-factor sign-in on once the user shows a code from the new secret,
// and returns fresh recovery codes (shown once). The current session, which has just proved
// the second factor, is raised to password+totp.
func (s *Service) ConfirmTOTP(ctx context.Context, userID uuid.UUID, sessionToken, code string) ([]string, error) {
	var codes []string
	err := pgx.BeginFunc(ctx, s.app, func(tx pgx.Tx) error {
		var sealed []byte
		var enabled *time.Time
		var last int64
		err := tx.QueryRow(ctx, `SELECT secret_enc, enabled_at, last_step FROM user_totp WHERE user_id = $1 FOR UPDATE`, userID).
			Scan(&sealed, &enabled, &last)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoEnrolment
		}
		if err != nil {
			return fmt.Errorf("confirm totp: %w", err)
		}
		if enabled != nil {
			return ErrTOTPEnabled
		}
		secret, _, err := s.open(userID, sealed)
		if err != nil {
			return err
		}
		step, ok := matchStep(secret, code, s.now())
		if !ok || step <= last {
			return ErrWrongCode
		}
		if _, err := tx.Exec(ctx, `UPDATE user_totp SET enabled_at = $2, last_step = $3 WHERE user_id = $1`, userID, s.now(), step); err != nil {
			return fmt.Errorf("confirm totp: %w", err)
		}
		if codes, err = s.replaceRecoveryCodes(ctx, tx, userID); err != nil {
			return err
		}
		if sessionToken != "" {
			if _, err := tx.Exec(ctx, `UPDATE sessions SET assurance = $2 WHERE token_hash = $1`,
				tokenHash(sessionToken), AssurancePasswordTOTP); err != nil {
				return fmt.Errorf("raise session: %w", err)
			}
		}
		return nil
	})
	return codes, err
}

// checkTOTP accepts code for the user's enabled secret at most once: the step it matches must
// be newer than the last one used, and recording it is one conditional update, so two
// requests racing with the same code cannot both pass.
func (s *Service) checkTOTP(ctx context.Context, q querier, userID uuid.UUID, code string) error {
	var sealed []byte
	var last int64
	err := q.QueryRow(ctx, `SELECT secret_enc, last_step FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL`, userID).
		Scan(&sealed, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrTOTPNotEnabled
	}
	if err != nil {
		return fmt.Errorf("check totp: %w", err)
	}
	secret, _, err := s.open(userID, sealed)
	if err != nil {
		return err
	}
	step, ok := matchStep(secret, code, s.now())
	if !ok || step <= last {
		return ErrWrongCode
	}
	tag, err := q.Exec(ctx, `UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2`, userID, step)
	if err != nil {
		return fmt.Errorf("check totp: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrWrongCode
	}
	return nil
}

// CheckTOTP verifies a current code of the user (for changes that need one).
func (s *Service) CheckTOTP(ctx context.Context, userID uuid.UUID, code string) error {
	return s.checkTOTP(ctx, s.app, userID, code)
}

// MFAStatus is a user's two-factor state.
type MFAStatus struct {
	Enabled           bool
	EnabledAt         *time.Time
	RecoveryRemaining int
}

// MFA tells whether the user has two-factor sign-in on and how many recovery codes are left.
func (s *Service) MFA(ctx context.Context, userID uuid.UUID) (MFAStatus, error) {
	var st MFAStatus
	err := s.app.QueryRow(ctx, `SELECT t.enabled_at,
			(SELECT count(*) FROM user_recovery_codes r WHERE r.user_id = $1 AND r.used_at IS NULL)
		FROM users u LEFT JOIN user_totp t ON t.user_id = u.id WHERE u.id = $1`, userID).Scan(&st.EnabledAt, &st.RecoveryRemaining)
	if err != nil {
		return MFAStatus{}, fmt.Errorf("mfa status: %w", err)
	}
	st.Enabled = st.EnabledAt != nil
	return st, nil
}

// IsStaff tells whether the user holds any tenant or platform role, for whom the staff policy
// asks for two-factor sign-in.
func (s *Service) IsStaff(ctx context.Context, userID uuid.UUID) (bool, error) {
	var staff bool
	// memberships are tenant data behind RLS; the platform role reads across tenants.
	err := s.platform.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1)
		OR EXISTS (SELECT 1 FROM platform_roles WHERE user_id = $1)`, userID).Scan(&staff)
	if err != nil {
		return false, fmt.Errorf("is staff: %w", err)
	}
	return staff, nil
}

// StaffMFARequired tells the deployment's policy (EPOM_MFA_STAFF=required).
func (s *Service) StaffMFARequired() bool { return s.cfg.RequireStaffMFA }

// DisableTOTP turns two-factor sign-in off after a current code or the password. Staff cannot
// while the policy requires it.
func (s *Service) DisableTOTP(ctx context.Context, userID uuid.UUID, code, password string) error {
	if s.cfg.RequireStaffMFA {
		staff, err := s.IsStaff(ctx, userID)
		if err != nil {
			return err
		}
		if staff {
			return ErrMFAPolicy
		}
	}
	return pgx.BeginFunc(ctx, s.app, func(tx pgx.Tx) error {
		switch {
		case code != "":
			if err := s.checkTOTP(ctx, tx, userID, code); err != nil {
				return err
			}
		case password != "":
			var hash string
			if err := tx.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash); err != nil {
				return fmt.Errorf("disable totp: %w", err)
			}
			if ok, err := VerifyPassword(password, hash); err != nil || !ok {
				return ErrBadCredentials
			}
		default:
			return ErrWrongCode
		}
		tag, err := tx.Exec(ctx, `DELETE FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL`, userID)
		if err != nil {
			return fmt.Errorf("disable totp: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrTOTPNotEnabled
		}
		_, err = tx.Exec(ctx, `DELETE FROM user_recovery_codes WHERE user_id = $1`, userID)
		return err
	})
}
