package email_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/internal/mail/mailtest"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/jobs/jobstest"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type rig struct {
	env        *tenanttest.Env
	smtp       *mailtest.Server
	svc        *email.Service
	ctxA, ctxB context.Context
}

// newRig runs the whole path: a real SMTP server, a Redis of the test's own, the relay and
// the worker.
func newRig(t *testing.T, sender func(*mailtest.Server) mail.Sender) *rig {
	t.Helper()
	e := tenanttest.New(t)
	r := &rig{env: e, smtp: mailtest.Start(t)}
	r.ctxA, r.ctxB = e.Two(t)
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	if sender == nil {
		sender = func(s *mailtest.Server) mail.Sender {
			m, err := mail.NewSMTP(mail.Config{Host: s.Host, Port: s.Port, TLS: mail.TLSNone,
				FromAddress: "noreply@epom.test", BounceAddress: "bounces@epom.test", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	r.svc = email.NewService(e.DB, tpl, sender(r.smtp), email.Config{Logger: quiet})
	mux := jobs.NewMux()
	if err := r.svc.RegisterTasks(mux); err != nil {
		t.Fatal(err)
	}
	redis := jobstest.StartRedis(t)
	relay, err := jobs.NewRelay(e.Platform, jobs.RelayConfig{RedisURL: redis.URL(), PollInterval: 100 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w, err := jobs.NewWorker(e.Platform, jobs.ResolverGate(tenants.NewResolver(e.Registry, nil, 0)), mux, jobs.Config{
		RedisURL: redis.URL(), Concurrency: 4, RetryDelay: func(int) time.Duration { return 200 * time.Millisecond }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{relay.Run, w.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run(ctx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

func notification(title string) *mail.Notification {
	return &mail.Notification{Title: title, Paragraphs: []string{"Na úřední desce byl zveřejněn nový dokument."},
		ActionURL: "https://epom.test/o/liberec/uredni-deska"}
}

func (r *rig) waitStatus(t *testing.T, ctx context.Context, id uuid.UUID, status string) email.Entry {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		e, err := r.svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status == status {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("mail %s is %s (%s), want %s", id, e.Status, e.LastError, status)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// TestQueueSendAndLog: mail queued in a committed transaction arrives through a real SMTP
// server with the tenant's sender name and reply-to and bounce-safe headers, and is in the
// tenant's log; mail queued in a rolled-back transaction is neither sent nor logged.
func TestQueueSendAndLog(t *testing.T) {
	r := newRig(t, nil)
	a, _ := tenants.IDFrom(r.ctxA)
	if err := r.env.DB.InTx(r.ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`INSERT INTO tenant_settings (tenant_id, display_name, contact_email)
			VALUES (?, 'Statutární město Liberec', 'posta@liberec.cz')`, a).Error
	}); err != nil {
		t.Fatal(err)
	}
	var idA uuid.UUID
	err := r.env.DB.InTx(r.ctxA, func(ctx context.Context) error {
		// ... the module's own business rows would be written here ...
		var err error
		idA, err = r.svc.Queue(ctx, email.Message{
			To: "jan.novak@example.cz", ToName: "Jan Novák", Template: "notification",
			Data: notification("Nová úřední deska"), ListUnsubscribe: "https://epom.test/odhlasit/x1",
			Ref: "noticeboard.notice:0196a1b2",
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	idB, err := r.svc.Queue(r.ctxB, email.Message{To: "eva@example.cz", Template: "invitation", Lang: "en",
		Data: &mail.Invitation{InviterName: "Starosta", Role: "clerk", AcceptURL: "https://epom.test/invite/abc",
			ExpiresAt: time.Now().Add(72 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	errRollback := errors.New("rollback")
	err = r.env.DB.InTx(r.ctxA, func(ctx context.Context) error {
		if _, err := r.svc.Queue(ctx, email.Message{To: "ghost@example.cz", Template: "notification", Data: notification("Nikdy")}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}

	msgs := r.smtp.Wait(t, 2, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := len(r.smtp.Messages()); n != 2 {
		t.Fatalf("%d messages arrived, want 2", n)
	}
	byTo := map[string]mailtest.Received{}
	for _, m := range msgs {
		byTo[m.To[0]] = m
	}
	m, ok := byTo["jan.novak@example.cz"]
	if !ok {
		t.Fatalf("no mail for jan.novak: %v", byTo)
	}
	entryA := r.waitStatus(t, r.ctxA, idA, email.StatusSent)
	from, _ := netmail.ParseAddress(m.Msg.Header.Get("From"))
	if from == nil || from.Name != "Statutární město Liberec" || from.Address != "noreply@epom.test" {
		t.Errorf("From %v: want the municipality's name at the platform's address", from)
	}
	for h, want := range map[string]string{
		"Reply-To":         "<posta@liberec.cz>",
		"Subject":          "Nová úřední deska",
		"Auto-Submitted":   "auto-generated",
		"Message-Id":       "<" + idA.String() + "@epom.test>",
		"List-Unsubscribe": "<https://epom.test/odhlasit/x1>",
		"Content-Language": "cs",
	} {
		if got := m.Header(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if m.From != "bounces@epom.test" {
		t.Errorf("envelope sender %q", m.From)
	}
	text, html, err := m.Bodies()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Dobrý den,") || !strings.Contains(text, "https://epom.test/o/liberec/uredni-deska") ||
		!strings.Contains(text, "Statutární město Liberec") {
		t.Errorf("text part:\n%s", text)
	}
	if !strings.Contains(html, `<html lang="cs">`) || !strings.Contains(html, "Nová úřední deska") {
		t.Errorf("HTML part:\n%s", html)
	}
	if entryA.MessageID != idA.String()+"@epom.test" || entryA.SentAt == nil || entryA.Attempts != 1 ||
		entryA.FromName != "Statutární město Liberec" || entryA.Ref != "noticeboard.notice:0196a1b2" {
		t.Errorf("log entry %+v", entryA)
	}

	// B has no settings: the catalogue name, no Reply-To; English invitation.
	mb := byTo["eva@example.cz"]
	if mb.Msg == nil {
		t.Fatal("no mail for eva")
	}
	if mb.Header("Reply-To") != "" || !strings.HasPrefix(mb.Header("Subject"), "Invitation to the portal") {
		t.Errorf("B's mail: reply-to %q subject %q", mb.Header("Reply-To"), mb.Header("Subject"))
	}
	r.waitStatus(t, r.ctxB, idB, email.StatusSent)

	// The log is the tenant's own.
	logA, total, err := r.svc.Log(r.ctxA, email.LogFilter{})
	if err != nil || total != 1 || len(logA) != 1 || logA[0].ID != idA || logA[0].TextBody != "" {
		t.Errorf("A's log: %d %+v %v", total, logA, err)
	}
	if _, err := r.svc.Get(r.ctxB, idA); !errors.Is(err, email.ErrNotFound) {
		t.Errorf("B reads A's mail: %v", err)
	}
	// No personal data in task payloads.
	if n := count(t, r, `SELECT count(*) FROM outbox WHERE position('@' in convert_from(payload, 'UTF8')) > 0`); n != 0 {
		t.Errorf("%d task payloads contain an address", n)
	}
	if n := count(t, r, `SELECT count(*) FROM outbox`); n != 2 {
		t.Errorf("%d outbox rows, want 2 (the rolled-back mail enqueued nothing)", n)
	}
}

func count(t *testing.T, r *rig, sql string) int {
	t.Helper()
	var n int
	if err := r.env.Platform.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSecretsLeaveTheLogWithTheMessage: the key in a message (here an invitation token and
// an unsubscribe token) reaches the recipient, and once the message is sent the log keeps
// the text with the key replaced; without a mail server the log keeps it whole, as it is
// the only copy a developer can follow.
func TestSecretsLeaveTheLogWithTheMessage(t *testing.T) {
	const token, unsub = "INVITE-TOKEN-7f3a9c", "UNSUB-TOKEN-51e2"
	msg := email.Message{To: "eva@example.cz", Template: "invitation", Lang: "cs",
		Data: &mail.Invitation{InviterName: "Starosta", Role: "clerk", AcceptURL: "https://epom.test/pozvanka/" + token,
			ExpiresAt: time.Now().Add(72 * time.Hour)},
		ListUnsubscribe: "https://epom.test/odber/zrusit?token=" + unsub, Secrets: []string{token, unsub, ""}}

	t.Run("sent", func(t *testing.T) {
		r := newRig(t, nil)
		id, err := r.svc.Queue(r.ctxA, msg)
		if err != nil {
			t.Fatal(err)
		}
		m := r.smtp.Wait(t, 1, 20*time.Second)[0]
		text, html, err := m.Bodies()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, token) || !strings.Contains(html, token) || !strings.Contains(m.Header("List-Unsubscribe"), unsub) {
			t.Fatalf("the recipient did not get the keys:\n%s", text)
		}
		e := r.waitStatus(t, r.ctxA, id, email.StatusSent)
		for name, v := range map[string]string{"text": e.TextBody, "html": e.HTMLBody, "list-unsubscribe": e.ListUnsubscribe} {
			if strings.Contains(v, token) || strings.Contains(v, unsub) {
				t.Errorf("the logged %s still holds a key: %s", name, v)
			}
		}
		if !strings.Contains(e.TextBody, "https://epom.test/pozvanka/"+email.RedactedSecret) || len(e.Secrets) != 0 {
			t.Errorf("logged text %q, secrets %v: want the link with the key replaced and no secrets left", e.TextBody, e.Secrets)
		}
	})
	t.Run("no mail server", func(t *testing.T) {
		r := newRig(t, func(*mailtest.Server) mail.Sender { return mail.LogOnly{Log: quiet, MessageIDDomain: "epom.test"} })
		id, err := r.svc.Queue(r.ctxA, msg)
		if err != nil {
			t.Fatal(err)
		}
		e := r.waitStatus(t, r.ctxA, id, email.StatusNotSent)
		if !strings.Contains(e.TextBody, token) {
			t.Errorf("logged text lost the link without a mail server: %s", e.TextBody)
		}
	})
}

// TestRejectionsAndRetries: a 5xx rejection fails the mail for good (logged, task archived);
// a 4xx is retried until the server accepts.
func TestRejectionsAndRetries(t *testing.T) {
	r := newRig(t, nil)
	var mu sync.Mutex
	busy := 2
	r.smtp.Reject = func(rcpt string) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(rcpt, "nobody@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case strings.HasPrefix(rcpt, "busy@") && busy > 0:
			busy--
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	}
	bad, err := r.svc.Queue(r.ctxA, email.Message{To: "nobody@example.cz", Template: "notification", Data: notification("A")})
	if err != nil {
		t.Fatal(err)
	}
	slow, err := r.svc.Queue(r.ctxA, email.Message{To: "busy@example.cz", Template: "notification", Data: notification("B")})
	if err != nil {
		t.Fatal(err)
	}
	e := r.waitStatus(t, r.ctxA, bad, email.StatusFailed)
	if !strings.Contains(e.LastError, "no such user") {
		t.Errorf("failure reason %q", e.LastError)
	}
	e = r.waitStatus(t, r.ctxA, slow, email.StatusSent)
	if e.Attempts != 3 {
		t.Errorf("sent after %d attempts, want 3", e.Attempts)
	}
	deadline := time.Now().Add(5 * time.Second)
	for count(t, r, `SELECT count(*) FROM outbox WHERE state = 'dead'`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the rejected mail's task is not archived")
		}
		time.Sleep(30 * time.Millisecond)
	}
	failed, total, err := r.svc.Log(r.ctxA, email.LogFilter{Status: email.StatusFailed})
	if err != nil || total != 1 || failed[0].ID != bad {
		t.Errorf("failed filter: %d %v", total, err)
	}
	if _, err := r.svc.Queue(r.ctxA, email.Message{To: "not an address", Template: "notification", Data: notification("C")}); !errors.Is(err, email.ErrInvalid) {
		t.Errorf("bad address: %v", err)
	}
	if _, err := r.svc.Queue(r.ctxA, email.Message{To: "a@b.cz", Template: "nonsense", Data: notification("C")}); !errors.Is(err, email.ErrInvalid) {
		t.Errorf("bad template: %v", err)
	}
}

// TestWithoutSMTP: with no SMTP server configured, mail is logged as not sent.
func TestWithoutSMTP(t *testing.T) {
	r := newRig(t, func(*mailtest.Server) mail.Sender { return mail.LogOnly{Log: quiet, MessageIDDomain: "epom.test"} })
	id, err := r.svc.Queue(r.ctxA, email.Message{To: "jan@example.cz", Template: "notification", Data: notification("X")})
	if err != nil {
		t.Fatal(err)
	}
	r.waitStatus(t, r.ctxA, id, email.StatusNotSent)
	if n := len(r.smtp.Messages()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

// TestMailLogPrune: the daily periodic prune removes the tenant's entries past retention.
func TestMailLogPrune(t *testing.T) {
	r := newRig(t, nil)
	old, err := r.svc.Queue(r.ctxA, email.Message{To: "jan@example.cz", Template: "notification", Data: notification("Old")})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := r.svc.Queue(r.ctxA, email.Message{To: "jan@example.cz", Template: "notification", Data: notification("New")})
	if err != nil {
		t.Fatal(err)
	}
	r.waitStatus(t, r.ctxA, old, email.StatusSent)
	r.waitStatus(t, r.ctxA, fresh, email.StatusSent)
	if err := r.env.DB.InTx(r.ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`UPDATE mail_log SET created_at = now() - interval '400 days' WHERE id = ?`, old).Error
	}); err != nil {
		t.Fatal(err)
	}
	s, err := jobs.NewScheduler(r.env.Platform, r.svc.Periodic(), jobs.SchedulerConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Tick(context.Background(), time.Now()); err != nil || n != 2 {
		t.Fatalf("prune fan-out: %d tasks, %v", n, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := r.svc.Get(r.ctxA, old)
		if errors.Is(err, email.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("old entry not pruned")
		}
		time.Sleep(30 * time.Millisecond)
	}
	if _, err := r.svc.Get(r.ctxA, fresh); err != nil {
		t.Errorf("fresh entry: %v", err)
	}
}

// TestMailLogIsolation: the mail log is a tenant table like any other.
func TestMailLogIsolation(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, ctxB := e.Two(t)
	tpl, _ := mail.LoadTemplates()
	svc := email.NewService(e.DB, tpl, mail.LogOnly{Log: quiet}, email.Config{Logger: quiet})
	tenanttest.RunIsolation(t, e, ctxA, ctxB, tenanttest.Isolation{
		Create: func(ctx context.Context) (string, error) {
			id, err := svc.Queue(ctx, email.Message{To: "x@example.cz", Template: "notification", Data: notification("I")})
			return id.String(), err
		},
		Get: func(ctx context.Context, id string) error {
			_, err := svc.Get(ctx, uuid.MustParse(id))
			return err
		},
		List: func(ctx context.Context) ([]string, error) {
			es, _, err := svc.Log(ctx, email.LogFilter{})
			var ids []string
			for _, x := range es {
				ids = append(ids, x.ID.String())
			}
			return ids, err
		},
		Update: func(ctx context.Context, id string) error {
			return e.DB.InTx(ctx, func(ctx context.Context) error {
				res := tenants.DB(ctx).Exec(`UPDATE mail_log SET status = 'sent' WHERE id = ?`, id)
				if res.Error == nil && res.RowsAffected == 0 {
					return email.ErrNotFound
				}
				return res.Error
			})
		},
		IsNotFound: func(err error) bool { return errors.Is(err, email.ErrNotFound) },
		Tables:     []string{"mail_log"},
	})
}
