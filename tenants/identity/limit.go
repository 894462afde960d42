package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/internal/clientaddr"
)

// ErrTooManyAttempts is the sentinel every *LimitedError wraps.
var ErrTooManyAttempts = errors.New("too many attempts")

// LimitedError refuses a request until RetryAfter has passed.
type LimitedError struct {
	RetryAfter time.Duration
	Scope      string // "account" or "ip", for logs; never shown, it would tell that an account exists
}

func (e *LimitedError) Error() string {
	return fmt.Sprintf("too many attempts (%s), retry after %s", e.Scope, e.RetryAfter)
}
func (e *LimitedError) Unwrap() error { return ErrTooManyAttempts }

// SignInLock tells which locks a failed sign-in started, so each lock is audited once.
type SignInLock struct {
	Account time.Duration // > 0: the account is now locked this long
	IP      bool          // the address has just reached its limit
}

// Limiter throttles guessing: sign-in per account and per client address, and the requests
// that send account mail (registration, verification, password reset). Accounts are keyed by
// the address as typed, known or not, so the throttle never tells whether an account exists.
type Limiter interface {
	// SignInAllowed returns a *LimitedError when the account or the address is locked.
	SignInAllowed(ctx context.Context, email, ip string) error
	// SignInFailed counts a wrong e-mail or password.
	SignInFailed(ctx context.Context, email, ip string) (SignInLock, error)
	// SignInSucceeded forgets the account's failures and its back-off.
	SignInSucceeded(ctx context.Context, email string) error
	// MailAllowed counts a request that may send account mail. It returns a *LimitedError
	// when the client address sent too many; addressOK is false when the e-mail address has
	// had enough mail for now, and the caller answers as usual but sends nothing.
	MailAllowed(ctx context.Context, email, ip string) (addressOK bool, err error)
}

// LimitConfig is the throttling policy.
type LimitConfig struct {
	IPMax        int           // failed sign-ins per client address … [20]
	IPWindow     time.Duration // … in this window [15m]
	AccountMax   int           // failed sign-ins of one account before it locks [5]
	LockBase     time.Duration // the first lock [1m]; each further failure locks twice as long …
	LockMax      time.Duration // … up to this [1h]
	Memory       time.Duration // failures are forgotten this long after the last one [24h]
	MailPerIP    int           // account-mail requests per client address per MailWindow [20]
	MailPerEmail int           // account mails per e-mail address per MailWindow [3]
	MailWindow   time.Duration // [1h]
	Prefix       string        // Redis key prefix ["epom:limit:"]
}

func (c LimitConfig) withDefaults() LimitConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.IPMax, 20)
	defd(&c.IPWindow, 15*time.Minute)
	def(&c.AccountMax, 5)
	defd(&c.LockBase, time.Minute)
	defd(&c.LockMax, time.Hour)
	defd(&c.Memory, 24*time.Hour)
	def(&c.MailPerIP, 20)
	def(&c.MailPerEmail, 3)
	defd(&c.MailWindow, time.Hour)
	if c.Prefix == "" {
		c.Prefix = "epom:limit:"
	}
	return c
}

// RedisLimiter keeps the counters in Redis, shared by every replica. Each step is one Lua
// script, so concurrent attempts cannot slip between a count and its lock.
type RedisLimiter struct {
	rdb     redis.UniversalClient
	cfg     LimitConfig
	check   *redis.Script
	fail    *redis.Script
	counter *redis.Script
}

// NewRedisLimiter returns the limiter on rdb.
func NewRedisLimiter(rdb redis.UniversalClient, cfg LimitConfig) *RedisLimiter {
	return &RedisLimiter{rdb: rdb, cfg: cfg.withDefaults(),
		// KEYS: account lock, ip counter. ARGV: ip max.
		check: redis.NewScript(`
local lock = redis.call('PTTL', KEYS[1])
if lock > 0 then return {1, lock} end
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
if n >= tonumber(ARGV[1]) then return {2, redis.call('PTTL', KEYS[2])} end
return {0, 0}`),
		// KEYS: account failures, account lock, account lock level, ip counter.
		// ARGV: account max, lock base ms, lock max ms, memory ms, ip max, ip window ms.
		fail: redis.NewScript(`
local ip = redis.call('INCR', KEYS[4])
if ip == 1 then redis.call('PEXPIRE', KEYS[4], ARGV[6]) end
local ipLocked = 0
if ip == tonumber(ARGV[5]) then ipLocked = 1 end
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local lock = 0
if n >= tonumber(ARGV[1]) then
  local lvl = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
  lock = tonumber(ARGV[2]) * 2 ^ (lvl - 1)
  if lock > tonumber(ARGV[3]) then lock = tonumber(ARGV[3]) end
  lock = math.floor(lock)
  redis.call('SET', KEYS[2], '1', 'PX', lock)
end
return {lock, ipLocked}`),
		// KEYS: counter. ARGV: window ms, max. Returns 0 when within the limit, else the
		// milliseconds until the window ends.
		counter: redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then
  local t = redis.call('PTTL', KEYS[1])
  if t <= 0 then t = tonumber(ARGV[1]) end
  return t
end
return 0`),
	}
}

// addressKey identifies an e-mail address without storing it.
func addressKey(email string) string {
	h := sha256.Sum256([]byte(NormalizeEmail(email)))
	return hex.EncodeToString(h[:16])
}

func (l *RedisLimiter) keys(email, ip string) (fails, lock, level, ipKey string) {
	a := addressKey(email)
	p := l.cfg.Prefix + "signin:"
	return p + "fails:" + a, p + "lock:" + a, p + "level:" + a, p + "ip:" + clientaddr.Key(ip)
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// SignInAllowed implements Limiter.
func (l *RedisLimiter) SignInAllowed(ctx context.Context, email, ip string) error {
	_, lock, _, ipKey := l.keys(email, ip)
	res, err := l.check.Run(ctx, l.rdb, []string{lock, ipKey}, l.cfg.IPMax).Int64Slice()
	if err != nil {
		return fmt.Errorf("sign-in limiter: %w", err)
	}
	wait := time.Duration(res[1]) * time.Millisecond
	switch res[0] {
	case 1:
		return &LimitedError{RetryAfter: wait, Scope: "account"}
	case 2:
		if wait <= 0 {
			wait = l.cfg.IPWindow
		}
		return &LimitedError{RetryAfter: wait, Scope: "ip"}
	}
	return nil
}

// SignInFailed implements Limiter.
func (l *RedisLimiter) SignInFailed(ctx context.Context, email, ip string) (SignInLock, error) {
	fails, lock, level, ipKey := l.keys(email, ip)
	res, err := l.fail.Run(ctx, l.rdb, []string{fails, lock, level, ipKey}, l.cfg.AccountMax, ms(l.cfg.LockBase),
		ms(l.cfg.LockMax), ms(l.cfg.Memory), l.cfg.IPMax, ms(l.cfg.IPWindow)).Int64Slice()
	if err != nil {
		return SignInLock{}, fmt.Errorf("sign-in limiter: %w", err)
	}
	return SignInLock{Account: time.Duration(res[0]) * time.Millisecond, IP: res[1] == 1}, nil
}

// SignInSucceeded implements Limiter.
func (l *RedisLimiter) SignInSucceeded(ctx context.Context, email string) error {
	fails, _, level, _ := l.keys(email, "")
	if err := l.rdb.Del(ctx, fails, level).Err(); err != nil {
		return fmt.Errorf("sign-in limiter: %w", err)
	}
	return nil
}

// MailAllowed implements Limiter.
func (l *RedisLimiter) MailAllowed(ctx context.Context, email, ip string) (bool, error) {
	p := l.cfg.Prefix + "mail:"
	wait, err := l.counter.Run(ctx, l.rdb, []string{p + "ip:" + clientaddr.Key(ip)}, ms(l.cfg.MailWindow), l.cfg.MailPerIP).Int64()
	if err != nil {
		return false, fmt.Errorf("mail limiter: %w", err)
	}
	if wait > 0 {
		return false, &LimitedError{RetryAfter: time.Duration(wait) * time.Millisecond, Scope: "ip"}
	}
	wait, err = l.counter.Run(ctx, l.rdb, []string{p + "to:" + addressKey(email)}, ms(l.cfg.MailWindow), l.cfg.MailPerEmail).Int64()
	if err != nil {
		return false, fmt.Errorf("mail limiter: %w", err)
	}
	return wait == 0, nil
}
