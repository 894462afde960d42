package noticeboard

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/internal/clientaddr"
	"github.com/epom-cz/epom/modules"
)

// The subscription form sends an e-mail to whatever address it is given, so one client could
// use it to flood other people's mailboxes. Its POSTs are counted per client IP in Redis (shared
// by every process) in fixed windows.
const (
	subscribeLimit  = 10
	subscribeWindow = time.Hour
)

// subscribeLimiter counts the form's POSTs per client IP across every board: one address
// trying many municipalities is the same flood.
type subscribeLimiter struct {
	redis  *redis.Client // nil: no limit (tests and single-process runs without Redis)
	limit  int64
	window time.Duration
}

func newSubscribeLimiter(rdb *redis.Client) *subscribeLimiter {
	return &subscribeLimiter{redis: rdb, limit: subscribeLimit, window: subscribeWindow}
}

// allow counts one POST from ip at now and says whether it is within the limit and, if not,
// how long until the window ends. Redis being down lets the request through: citizens keep
// subscribing, and the form token and honeypot still stand.
func (l *subscribeLimiter) allow(ctx context.Context, ip string, now time.Time) (bool, time.Duration) {
	if l == nil || l.redis == nil || ip == "" {
		return true, 0
	}
	start := now.Truncate(l.window)
	key := fmt.Sprintf("epom:noticeboard:subscribe:%s:%d", clientaddr.Key(ip), start.Unix())
	var incr *redis.IntCmd
	_, err := l.redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, key)
		p.Expire(ctx, key, l.window)
		return nil
	})
	if err != nil {
		slog.WarnContext(ctx, "notice board subscription limit", "err", err)
		return true, 0
	}
	if incr.Val() > l.limit {
		return false, start.Add(l.window).Sub(now)
	}
	return true, 0
}

// serveTooMany answers a POST over the limit with a readable page (429) and Retry-After.
func (m *Module) serveTooMany(w http.ResponseWriter, v subscriptionView, p modules.PublicRequest, wait time.Duration) {
	v.Form, v.Heading, v.Text = false, v.S["tooManyT"], v.S["tooManyText"]
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
	m.renderSubscription(w, v, p, http.StatusTooManyRequests, v.Heading+" – "+p.Profile.DisplayName)
}
