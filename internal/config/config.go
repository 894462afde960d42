// Package config reads the process configuration from EPOM_* environment variables, with
// defaults that work on a developer machine set up by scripts/services.sh, and validates it
// at start so a mistake is reported by name rather than as a failure later.
package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/epom-cz/epom/internal/keyring"
)

// Config is everything the binary reads from the environment.
type Config struct {
	HTTPAddr            string
	OpsAddr             string
	BaseURL             string
	DatabaseURL         string
	PlatformDatabaseURL string
	OwnerDatabaseURL    string
	RedisURL            string
	DBMaxConns          int32
	MaxBodyBytes        int64
	TenantCacheTTL      time.Duration
	SessionIdle         time.Duration
	// Argon2 cost of new password hashes; every hash records its own, so raising them
	// leaves old hashes valid.
	Argon2MemoryKiB   int
	Argon2Iterations  int
	Argon2Parallelism int
	SessionMaxAge     time.Duration
	CookieSecure      bool
	HSTS              bool
	TrustedProxies    []string
	LogLevel          string
	LogFormat         string
	AccessLogAll      bool
	ShutdownTimeout   time.Duration
	SMTPURL           string
	MailFrom          string
	// accounts: self-registration, password reset and sign-in throttling.
	VerifyTTL          time.Duration
	ResetTTL           time.Duration
	SignInIPMax        int
	SignInIPWindow     time.Duration
	SignInAccountMax   int
	SignInLock         time.Duration
	SignInLockMax      time.Duration
	AccountMailPerIP   int
	AccountMailPerAddr int
	// oidc: external identity providers (oidc.go).
	OIDCProviders []OIDCProvider
	// mfa: the key that encrypts TOTP secrets (nil when unset; serve and worker refuse to
	// start without it, see RequireSecretKey) and the staff two-factor policy.
	SecretKey []byte
	// SecretKeysPrevious are keys EPOM_SECRET_KEY replaced, newest first: values made under
	// them are still read (see KeyRing) until `epom secrets rotate` has moved them over.
	SecretKeysPrevious [][]byte
	MFAStaffOptional   bool
}

// Var documents one environment variable.
type Var struct {
	Name    string
	Default string
	Help    string
	set     func(c *Config, v string) error
}

func str(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

func dur(dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 30s or 2h, got %q", v)
		}
		*dst(c) = d
		return nil
	}
}

func positive(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("want a positive whole number, got %q", v)
		}
		*dst(c) = n
		return nil
	}
}

// atLeast refuses numbers below min: a cost parameter set too low weakens every new hash.
func atLeast(min int, dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return fmt.Errorf("want a whole number of at least %d, got %q", min, v)
		}
		*dst(c) = n
		return nil
	}
}

func boolean(dst func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*dst(c) = b
		return nil
	}
}

func postgresURL(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return fmt.Errorf("want postgres://user:password@host:port/database, got %q", redact(v))
		}
		*dst(c) = v
		return nil
	}
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.String()
}

// Vars lists every variable with its default, in the order --help shows them.
func Vars() []Var {
	return []Var{
		{"EPOM_HTTP_ADDR", "127.0.0.1:8080", "address the web server listens on", func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port, got %q", v)
			}
			c.HTTPAddr = v
			return nil
		}},
		{"EPOM_OPS_ADDR", "", "serve, worker and scheduler: address of the ops listener with /livez and /metrics (empty: none, and serve answers /metrics on EPOM_HTTP_ADDR)", func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port or :port, got %q", v)
			}
			c.OpsAddr = v
			return nil
		}},
		{"EPOM_BASE_URL", "http://localhost:8080", "public URL of the deployment (links in e-mails, feeds, open data)", func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return fmt.Errorf("want an absolute http(s) URL without a path, got %q", v)
			}
			c.BaseURL = strings.TrimSuffix(v, "/")
			return nil
		}},
		{"EPOM_DATABASE_URL", "postgres://epom_app:epom_app@127.0.0.1:5432/epom?sslmode=disable", "PostgreSQL as the app role (no superuser, no BYPASSRLS)", postgresURL(func(c *Config) *string { return &c.DatabaseURL })},
		{"EPOM_PLATFORM_DATABASE_URL", "postgres://epom_platform:epom_platform@127.0.0.1:5432/epom?sslmode=disable", "PostgreSQL as the platform role (tenant registry, relay)", postgresURL(func(c *Config) *string { return &c.PlatformDatabaseURL })},
		{"EPOM_OWNER_DATABASE_URL", "postgres://epom_owner:epom_owner@127.0.0.1:5432/epom?sslmode=disable", "PostgreSQL as the owner role; only `migrate` and `dev` use it", postgresURL(func(c *Config) *string { return &c.OwnerDatabaseURL })},
		{"EPOM_REDIS_URL", "redis://127.0.0.1:6379/0", "Redis for jobs and cache invalidation", func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
				return fmt.Errorf("want redis://host:port/db, got %q", redact(v))
			}
			c.RedisURL = v
			return nil
		}},
		{"EPOM_DB_MAX_CONNS", "20", "connections per pool", func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return fmt.Errorf("want 1–1000, got %q", v)
			}
			c.DBMaxConns = int32(n)
			return nil
		}},
		{"EPOM_MAX_BODY_BYTES", "1048576", "largest accepted JSON request body", func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return fmt.Errorf("want at least 1024, got %q", v)
			}
			c.MaxBodyBytes = n
			return nil
		}},
		{"EPOM_TENANT_CACHE_TTL", "30s", "how long a replica caches a resolved tenant (changes also invalidate through Redis)", dur(func(c *Config) *time.Duration { return &c.TenantCacheTTL })},
		{"EPOM_ARGON2_MEMORY_KIB", "19456", "argon2id memory of new password hashes in KiB (OWASP minimum 19456)", atLeast(19456, func(c *Config) *int { return &c.Argon2MemoryKiB })},
		{"EPOM_ARGON2_ITERATIONS", "2", "argon2id passes of new password hashes", atLeast(1, func(c *Config) *int { return &c.Argon2Iterations })},
		{"EPOM_ARGON2_PARALLELISM", "1", "argon2id lanes of new password hashes (1–16)", func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 16 {
				return fmt.Errorf("want 1 to 16, got %q", v)
			}
			c.Argon2Parallelism = n
			return nil
		}},
		{"EPOM_SESSION_IDLE", "2h", "a session unused this long ends", dur(func(c *Config) *time.Duration { return &c.SessionIdle })},
		{"EPOM_SESSION_MAX_AGE", "12h", "a session ends this long after sign-in", dur(func(c *Config) *time.Duration { return &c.SessionMaxAge })},
		{"EPOM_COOKIE_SECURE", "auto", "Secure flag on cookies: true, false, or auto (true when EPOM_BASE_URL is https)", func(c *Config, v string) error {
			if v == "auto" {
				c.CookieSecure = strings.HasPrefix(c.BaseURL, "https://")
				return nil
			}
			return boolean(func(c *Config) *bool { return &c.CookieSecure })(c, v)
		}},
		{"EPOM_HSTS", "auto", "send Strict-Transport-Security: true, false, or auto (when EPOM_BASE_URL is https)", func(c *Config, v string) error {
			if v == "auto" {
				c.HSTS = strings.HasPrefix(c.BaseURL, "https://")
				return nil
			}
			return boolean(func(c *Config) *bool { return &c.HSTS })(c, v)
		}},
		{"EPOM_TRUSTED_PROXIES", "127.0.0.1,::1", "comma-separated proxies whose X-Forwarded-For is believed", func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				if net.ParseIP(p) == nil {
					if _, _, err := net.ParseCIDR(p); err != nil {
						return fmt.Errorf("%q is neither an IP address nor a CIDR range", p)
					}
				}
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
			return nil
		}},
		{"EPOM_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("want debug, info, warn or error, got %q", v)
		}},
		{"EPOM_LOG_FORMAT", "json", "json or text", func(c *Config, v string) error {
			if v != "json" && v != "text" {
				return fmt.Errorf("want json or text, got %q", v)
			}
			c.LogFormat = v
			return nil
		}},
		{"EPOM_ACCESS_LOG", "errors", "access log lines: errors (failed or slow requests only) or all", func(c *Config, v string) error {
			if v != "errors" && v != "all" {
				return fmt.Errorf("want errors or all, got %q", v)
			}
			c.AccessLogAll = v == "all"
			return nil
		}},
		{"EPOM_SHUTDOWN_TIMEOUT", "20s", "how long to drain requests and jobs on SIGTERM", dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
		{"EPOM_SMTP_URL", "", "outgoing mail server, smtp://user:pass@host:587 (empty: mail is logged, not sent)", str(func(c *Config) *string { return &c.SMTPURL })},
		{"EPOM_MAIL_FROM", "epom <noreply@epom.localhost>", "platform default sender", str(func(c *Config) *string { return &c.MailFrom })},
		// accounts:
		{"EPOM_VERIFY_TTL", "48h", "how long an e-mail verification link of a new account works", dur(func(c *Config) *time.Duration { return &c.VerifyTTL })},
		{"EPOM_RESET_TTL", "1h", "how long a password reset link works", dur(func(c *Config) *time.Duration { return &c.ResetTTL })},
		{"EPOM_SIGNIN_IP_MAX", "20", "failed sign-ins from one client address before it must wait …", positive(func(c *Config) *int { return &c.SignInIPMax })},
		{"EPOM_SIGNIN_IP_WINDOW", "15m", "… counted in this window", dur(func(c *Config) *time.Duration { return &c.SignInIPWindow })},
		{"EPOM_SIGNIN_ACCOUNT_MAX", "5", "failed sign-ins of one account before it locks", positive(func(c *Config) *int { return &c.SignInAccountMax })},
		{"EPOM_SIGNIN_LOCK", "1m", "the first lock of an account; each further failure doubles it …", dur(func(c *Config) *time.Duration { return &c.SignInLock })},
		{"EPOM_SIGNIN_LOCK_MAX", "1h", "… up to this", dur(func(c *Config) *time.Duration { return &c.SignInLockMax })},
		{"EPOM_ACCOUNT_MAIL_PER_IP", "20", "registration, verification and reset requests per client address per hour", positive(func(c *Config) *int { return &c.AccountMailPerIP })},
		{"EPOM_ACCOUNT_MAIL_PER_ADDRESS", "3", "account e-mails to one address per hour (more are silently not sent)", positive(func(c *Config) *int { return &c.AccountMailPerAddr })},
		{"EPOM_OIDC_PROVIDERS", "", `external sign-in over OpenID Connect, a JSON array: [{"id":"nia","name":"Identita občana","issuer":"https://…","clientId":"…","clientSecretEnv":"EPOM_OIDC_NIA_SECRET","scopes":["openid","email","profile"],"trustMfa":true}]; each secret comes from the variable clientSecretEnv names`, parseOIDCProviders},
		{"EPOM_SECRET_KEY", "", "base64 of 32 random bytes (openssl rand -base64 32) encrypting TOTP secrets; `serve` refuses to start without it", func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			k, err := base64.StdEncoding.DecodeString(v)
			if err != nil || len(k) != 32 {
				return errors.New("want the base64 of exactly 32 bytes, e.g. from `openssl rand -base64 32`")
			}
			c.SecretKey = k
			return nil
		}},
		{"EPOM_SECRET_KEY_PREVIOUS", "", "comma-separated earlier values of EPOM_SECRET_KEY, newest first, still accepted while `epom secrets rotate` moves TOTP secrets to the current key and old unsubscribe links are in use", parsePreviousKeys},
		{"EPOM_MFA_STAFF", "required", "two-factor sign-in for staff (any municipality or platform role): required or optional", func(c *Config, v string) error {
			if v != "required" && v != "optional" {
				return fmt.Errorf("want required or optional, got %q", v)
			}
			c.MFAStaffOptional = v == "optional"
			return nil
		}},
	}
}

// parsePreviousKeys reads EPOM_SECRET_KEY_PREVIOUS; it runs after EPOM_SECRET_KEY, so it can
// refuse the current key given again (a rotation that rotated nothing).
func parsePreviousKeys(c *Config, v string) error {
	c.SecretKeysPrevious = nil
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var errs []error
	for i, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		k, err := base64.StdEncoding.DecodeString(p)
		switch {
		case p == "":
			errs = append(errs, fmt.Errorf("key %d is empty", i+1))
		case err != nil || len(k) != keyring.KeySize:
			errs = append(errs, fmt.Errorf("key %d: want the base64 of exactly 32 bytes", i+1))
		case bytes.Equal(k, c.SecretKey):
			errs = append(errs, fmt.Errorf("key %d is the current EPOM_SECRET_KEY; list only the keys it replaced", i+1))
		case slices.ContainsFunc(c.SecretKeysPrevious, func(o []byte) bool { return bytes.Equal(o, k) }):
			errs = append(errs, fmt.Errorf("key %d is listed twice", i+1))
		default:
			c.SecretKeysPrevious = append(c.SecretKeysPrevious, k)
		}
	}
	if len(errs) > 0 {
		c.SecretKeysPrevious = nil
		return errors.Join(errs...)
	}
	return nil
}

// KeyRing is EPOM_SECRET_KEY with the keys of EPOM_SECRET_KEY_PREVIOUS, current first.
func (c Config) KeyRing() keyring.Ring {
	return keyring.Ring{Current: c.SecretKey, Previous: c.SecretKeysPrevious}
}

// Load reads the configuration from getenv (os.Getenv in production) and reports every bad
// variable at once.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	for _, v := range Vars() {
		val := getenv(v.Name)
		if val == "" {
			val = v.Default
		}
		if err := v.set(&c, val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.Name, err))
		}
	}
	if err := resolveOIDCSecrets(&c, getenv); err != nil {
		errs = append(errs, fmt.Errorf("EPOM_OIDC_PROVIDERS: %w", err))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// ErrNoSecretKey is returned by RequireSecretKey.
var ErrNoSecretKey = errors.New("EPOM_SECRET_KEY is not set: generate one with `openssl rand -base64 32` and keep it with the database backups")

// RequireSecretKey reports a missing EPOM_SECRET_KEY; the commands that serve users call it,
// so a deployment never runs with TOTP secrets it could not read back.
func (c Config) RequireSecretKey() error {
	if len(c.SecretKey) != 32 {
		return ErrNoSecretKey
	}
	return nil
}

// FromEnv loads from the process environment.
func FromEnv() (Config, error) { return Load(os.Getenv) }

// Help writes the table of variables for `epom --help`.
func Help() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
	for _, v := range Vars() {
		fmt.Fprintf(w, "  %s\t%s\t(default %q)\n", v.Name, v.Help, redact(v.Default))
	}
	_ = w.Flush()
	return b.String()
}

// Redacted returns a DSN with its password masked, for logs.
func Redacted(dsn string) string { return redact(dsn) }
