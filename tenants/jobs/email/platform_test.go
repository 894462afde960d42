package email_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/internal/mail/mailtest"
	"github.com/epom-cz/epom/tenants/jobs/email"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

func platformService(t *testing.T, sender mail.Sender) *email.Service {
	t.Helper()
	tpl, err := mail.LoadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	return email.NewService(nil, tpl, sender, email.Config{Logger: quiet})
}

func smtpSender(t *testing.T, s *mailtest.Server) mail.Sender {
	t.Helper()
	m, err := mail.NewSMTP(mail.Config{Host: s.Host, Port: s.Port, TLS: mail.TLSNone,
		FromAddress: "noreply@epom.test", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func resetMessage(to string) email.PlatformMessage {
	return email.PlatformMessage{To: to, Template: "notification", Ref: "account.reset",
		Data: &mail.Notification{Title: "Obnova hesla", Paragraphs: []string{"Heslo obnovíte odkazem."},
			ActionURL: "https://epom.test/app/obnova-hesla?token=secret-token"}}
}

type platformRow struct {
	Status, TextBody, LastError string
	Attempts                    int
}

func readPlatform(t *testing.T, env *tenanttest.Env, to string) platformRow {
	t.Helper()
	var r platformRow
	err := env.Owner.QueryRow(context.Background(), `SELECT status, text_body, last_error, attempts FROM platform_mail
		WHERE to_address = $1`, to).Scan(&r.Status, &r.TextBody, &r.LastError, &r.Attempts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPlatformMailIsSentAndItsLinkForgotten(t *testing.T) {
	env := tenanttest.New(t)
	srv := mailtest.Start(t)
	svc := platformService(t, smtpSender(t, srv))
	ctx := context.Background()

	if _, err := svc.QueuePlatform(ctx, env.App, resetMessage("jana@example.cz")); err != nil {
		t.Fatal(err)
	}
	if got := readPlatform(t, env, "jana@example.cz"); got.Status != "queued" || !strings.Contains(got.TextBody, "secret-token") {
		t.Fatalf("queued row = %+v", got)
	}
	n, err := svc.SendPlatformDue(ctx, env.Platform, email.PlatformSenderConfig{})
	if err != nil || n != 1 {
		t.Fatalf("SendPlatformDue = %d, %v", n, err)
	}
	msgs := srv.Wait(t, 1, 5*time.Second)
	body, _ := io.ReadAll(msgs[0].Msg.Body)
	if !strings.Contains(string(body), "secret-token") || msgs[0].To[0] != "jana@example.cz" {
		t.Fatalf("delivered %v: %s", msgs[0].To, body)
	}
	if from := msgs[0].Msg.Header.Get("From"); !strings.Contains(from, "epom") {
		t.Errorf("From = %q", from)
	}
	got := readPlatform(t, env, "jana@example.cz")
	if got.Status != "sent" || got.TextBody != "" {
		t.Fatalf("after sending = %+v, want sent with the body (and its link) cleared", got)
	}
	// Nothing is due any more: a second pass sends nothing twice.
	if n, err := svc.SendPlatformDue(ctx, env.Platform, email.PlatformSenderConfig{}); err != nil || n != 0 {
		t.Fatalf("second pass = %d, %v", n, err)
	}
}

func TestPlatformMailRolledBackIsNotSent(t *testing.T) {
	env := tenanttest.New(t)
	svc := platformService(t, mail.LogOnly{Log: quiet, MessageIDDomain: "epom.test"})
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, env.App, func(tx pgx.Tx) error {
		if _, err := svc.QueuePlatform(ctx, tx, resetMessage("rollback@example.cz")); err != nil {
			return err
		}
		return context.Canceled // the business change failed
	})
	if err == nil {
		t.Fatal("transaction committed")
	}
	var n int
	if err := env.Owner.QueryRow(ctx, `SELECT count(*) FROM platform_mail`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after rollback = %d, %v", n, err)
	}
}

func TestPlatformMailFailures(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		maxAttempt int
		wantStatus string
	}{
		{"mailbox unknown fails for good", 550, 12, "failed"},
		{"greylisting retries later", 451, 12, "queued"},
		{"out of attempts", 451, 1, "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tenanttest.New(t)
			srv := mailtest.Start(t)
			srv.Reject = func(string) error {
				return &smtp.SMTPError{Code: tt.code, EnhancedCode: smtp.EnhancedCode{tt.code / 100, 1, 1}, Message: "no"}
			}
			svc := platformService(t, smtpSender(t, srv))
			ctx := context.Background()
			if _, err := svc.QueuePlatform(ctx, env.App, resetMessage("x@example.cz")); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SendPlatformDue(ctx, env.Platform, email.PlatformSenderConfig{MaxAttempts: tt.maxAttempt}); err != nil {
				t.Fatal(err)
			}
			got := readPlatform(t, env, "x@example.cz")
			if got.Status != tt.wantStatus || got.Attempts != 1 || got.LastError == "" {
				t.Fatalf("row = %+v, want status %s after one attempt with the error kept", got, tt.wantStatus)
			}
			if tt.wantStatus == "queued" {
				// Backed off: not due again right away.
				if n, _ := svc.SendPlatformDue(ctx, env.Platform, email.PlatformSenderConfig{}); n != 0 {
					t.Fatalf("retried at once: %d", n)
				}
			}
		})
	}
}

func TestPlatformMailNotSentWithoutSMTPKeepsTheMessage(t *testing.T) {
	env := tenanttest.New(t)
	svc := platformService(t, mail.LogOnly{Log: quiet, MessageIDDomain: "epom.test"})
	ctx := context.Background()
	if _, err := svc.QueuePlatform(ctx, env.App, resetMessage("dev@example.cz")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendPlatformDue(ctx, env.Platform, email.PlatformSenderConfig{}); err != nil {
		t.Fatal(err)
	}
	if got := readPlatform(t, env, "dev@example.cz"); got.Status != "not_sent" || !strings.Contains(got.TextBody, "secret-token") {
		t.Fatalf("row = %+v", got)
	}
}

func TestQueuePlatformRefusesBadInput(t *testing.T) {
	env := tenanttest.New(t)
	svc := platformService(t, mail.LogOnly{Log: quiet})
	bad := []email.PlatformMessage{
		{To: "not an address", Template: "notification", Data: &mail.Notification{Title: "x"}},
		{To: "a@example.cz", Template: "notification"},
		{To: "a@example.cz", Template: "notification", Data: &mail.Notification{Title: "x", ActionURL: "javascript:alert(1)"}},
	}
	for i, m := range bad {
		if _, err := svc.QueuePlatform(context.Background(), env.App, m); err == nil {
			t.Errorf("message %d queued", i)
		}
	}
}
