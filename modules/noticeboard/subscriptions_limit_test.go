package noticeboard_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/jobs/jobstest"
)

// TestSubscriptionFormIsLimitedPerIP: the eleventh POST in an hour from one address is
// refused with a readable Czech page and sends nothing, on every board; the next hour it works.
func TestSubscriptionFormIsLimitedPerIP(t *testing.T) {
	r := newSubRig(t)
	opts, err := redis.ParseURL(jobstest.StartRedis(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	mails := email.NewService(r.e.DB, tpl, mail.LogOnly{Log: slog.New(slog.DiscardHandler), MessageIDDomain: "epom.test"}, email.Config{})
	m := noticeboard.New(noticeboard.Deps{DB: r.e.DB, Files: files.NewPostgres(r.e.DB), Audit: audit.New(r.e.DB, r.e.Platform),
		Mail: mails, Cache: noticeboard.CacheConfig{Redis: rdb}, Config: noticeboard.Config{Now: r.clock.Now,
			BaseURL: "https://epom.test", SecretKey: []byte("0123456789abcdef0123456789abcdef")}})
	r.mod, r.svc = m, m.Service()
	// The window is the clock's hour: start at its beginning so the test does not cross it.
	r.clock.Add(r.clock.Now().Truncate(time.Hour).Add(time.Hour).Sub(r.clock.Now()))

	ctx := r.ctxA
	for i := range 10 {
		if status, body := r.subscribe(t, ctx, fmt.Sprintf("obcan%d@example.cz", i)); status != http.StatusOK || !strings.Contains(body, "Zkontrolujte") {
			t.Fatalf("subscription %d: %d %s", i+1, status, body)
		}
	}
	status, body := r.subscribe(t, ctx, "jedenacty@example.cz")
	if status != http.StatusTooManyRequests || !strings.Contains(body, "Příliš mnoho pokusů") || strings.Contains(body, "<form") {
		t.Fatalf("over the limit: %d %s", status, body)
	}
	if got := r.mailsTo(t, ctx, "jedenacty@example.cz", ""); len(got) != 0 {
		t.Fatalf("a refused subscription sent %d mails", len(got))
	}
	if got := r.mailsTo(t, ctx, "obcan9@example.cz", ""); len(got) != 1 {
		t.Fatalf("the tenth subscription sent %d mails, want 1", len(got))
	}
	if status, _ := r.subscribe(t, r.ctxB, "jinde@example.cz"); status != http.StatusTooManyRequests {
		t.Fatalf("another board from the same address: %d, want 429", status)
	}

	r.clock.Add(time.Hour)
	if status, body := r.subscribe(t, ctx, "jedenacty@example.cz"); status != http.StatusOK {
		t.Fatalf("the next hour: %d %s", status, body)
	}
}
