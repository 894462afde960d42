// Package email is the tenants' outgoing e-mail: a module queues a message inside its
// transaction, the worker sends it, and the municipality's admin reads the log of what was
// sent to whom and when. The message is rendered and stored (mail_log) when it is queued, so
// the log shows exactly what went out, and the task carries only the row's id: recipients
// and content never pass through Redis.
package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
)

// Task types of this package (module "core": allowed for every active tenant).
const (
	TaskSend  = "core:mail.send"
	TaskPrune = "core:mail.prune"
)

// Statuses of a mail log entry.
const (
	StatusQueued  = "queued"
	StatusSent    = "sent"
	StatusFailed  = "failed"
	StatusNotSent = "not_sent"
)

// ErrNotFound means no such entry in the tenant's mail log.
var ErrNotFound = errors.New("mail not found")

// ErrInvalid means the message cannot be queued as given.
var ErrInvalid = errors.New("invalid mail")

// Message is one e-mail a module wants sent to one person.
type Message struct {
	To     string
	ToName string
	// Template is "notification" or "invitation"; Data is its data (*mail.Notification,
	// *mail.Invitation). Data's Municipality defaults to the tenant's display name.
	Template string
	Lang     string // "cs" (default) or "en"
	Data     mail.Data
	// SenderName and ReplyTo default to the tenant's display name and contact e-mail
	// (tenant_settings).
	SenderName string
	ReplyTo    string
	// ListUnsubscribe: an https URL or mailto: address, for mail the recipient subscribed to.
	ListUnsubscribe string
	// Ref says what the mail is about, for the log: e.g. "noticeboard.notice:<id>". No
	// personal data.
	Ref string
	// Queue of the sending task [critical]: e-mail is short and somebody waits for it.
	Queue string
	// Secrets are the values in the message that work as keys (an invitation or confirmation
	// token, an unsubscribe token). Once the message has been sent (or has failed for good)
	// they are replaced by RedactedSecret in the log, so neither the log nor a tenant export
	// holds a link that still works.
	Secrets []string
}

// RedactedSecret replaces a message's secrets in the log once it has left.
const RedactedSecret = "…"

// Config configures the service.
type Config struct {
	// LogRetention: entries older than this are deleted by the daily prune [365 days].
	LogRetention time.Duration
	// PruneCron is when the prune runs, Europe/Prague [17 3 * * *].
	PruneCron string
	Logger    *slog.Logger
}

// Service queues, sends and logs the tenants' e-mail.
type Service struct {
	db        *tenants.Database
	templates *mail.Templates
	sender    mail.Sender
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
}

// NewService returns the service. sender is a *mail.SMTP, or mail.LogOnly when no SMTP
// server is configured.
func NewService(db *tenants.Database, templates *mail.Templates, sender mail.Sender, cfg Config) *Service {
	if cfg.LogRetention <= 0 {
		cfg.LogRetention = 365 * 24 * time.Hour
	}
	if cfg.PruneCron == "" {
		cfg.PruneCron = "17 3 * * *"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{db: db, templates: templates, sender: sender, cfg: cfg, log: cfg.Logger.With("component", "email"), now: time.Now}
}

// RegisterTasks registers the sending and pruning handlers.
func (s *Service) RegisterTasks(mux *jobs.Mux) error {
	r := mux.Module(jobs.CoreModule)
	if err := r.Handle(TaskSend, s.send); err != nil {
		return err
	}
	return r.Handle(TaskPrune, s.prune)
}

// Periodic is the daily prune of each tenant's old log entries.
func (s *Service) Periodic() []jobs.PeriodicSpec {
	return []jobs.PeriodicSpec{{
		Name: TaskPrune, Cron: s.cfg.PruneCron, Queue: jobs.QueueLow, CatchUp: 24 * time.Hour,
		Task: func(uuid.UUID, time.Time) jobs.Task { return jobs.Task{Type: TaskPrune, Payload: []byte(`{}`)} },
	}}
}

type sendPayload struct {
	Mail uuid.UUID `json:"mail"`
}

// Queue renders msg, writes it to the tenant's mail log and enqueues its sending, in the
// caller's tenants.InTx (or a transaction of its own): if the caller's transaction rolls
// back, nothing is logged and nothing is sent. It returns the log entry's id.
func (s *Service) Queue(ctx context.Context, msg Message) (uuid.UUID, error) {
	tenant, ok := tenants.FromContext(ctx)
	if !ok || tenant.ID == uuid.Nil {
		return uuid.Nil, tenants.ErrNoTenant
	}
	to, err := netmail.ParseAddress(msg.To)
	if err != nil || to.Address != strings.TrimSpace(msg.To) {
		return uuid.Nil, fmt.Errorf("%w: recipient %q", ErrInvalid, msg.To)
	}
	if msg.Lang == "" {
		msg.Lang = "cs"
	}
	if msg.Data == nil {
		return uuid.Nil, fmt.Errorf("%w: no template data", ErrInvalid)
	}
	if msg.Queue == "" {
		msg.Queue = jobs.QueueCritical
	}
	id := tenants.NewID()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if msg.SenderName == "" || msg.ReplyTo == "" {
			var st struct {
				DisplayName  string
				ContactEmail string
			}
			// No settings row yet is fine: the catalogue name and no Reply-To.
			if err := tenants.DB(ctx).Raw(`SELECT display_name, contact_email FROM tenant_settings WHERE tenant_id = ?`,
				tenant.ID).Scan(&st).Error; err != nil {
				return fmt.Errorf("read sender settings: %w", err)
			}
			if msg.SenderName == "" {
				msg.SenderName = st.DisplayName
			}
			if msg.ReplyTo == "" {
				msg.ReplyTo = st.ContactEmail
			}
		}
		if msg.SenderName == "" {
			msg.SenderName = tenant.Name
		}
		if b := msg.Data.Base(); b.Municipality == "" {
			b.Municipality = msg.SenderName
		}
		r, err := s.templates.Render(msg.Template, msg.Lang, msg.Data)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := tenants.DB(ctx).Exec(`INSERT INTO mail_log (tenant_id, id, template, lang, ref, to_address, to_name,
				from_name, reply_to, list_unsubscribe, subject, text_body, html_body, secrets)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tenant.ID, id, msg.Template, msg.Lang, msg.Ref, to.Address, msg.ToName, msg.SenderName, msg.ReplyTo,
			msg.ListUnsubscribe, r.Subject, r.Text, r.HTML, pq.StringArray(nonEmpty(msg.Secrets))).Error; err != nil {
			return fmt.Errorf("write mail log: %w", err)
		}
		task, err := jobs.NewTask(TaskSend, sendPayload{Mail: id})
		if err != nil {
			return err
		}
		task.Queue = msg.Queue
		_, err = jobs.Enqueue(ctx, task)
		return err
	})
	if err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

// Entry is one line of the mail log.
type Entry struct {
	ID              uuid.UUID      `json:"id"`
	CreatedAt       time.Time      `json:"created_at"`
	Template        string         `json:"template"`
	Lang            string         `json:"lang"`
	Ref             string         `json:"ref"`
	ToAddress       string         `json:"to"`
	ToName          string         `json:"to_name"`
	FromName        string         `json:"from_name"`
	ReplyTo         string         `json:"reply_to"`
	ListUnsubscribe string         `json:"-"`
	Subject         string         `json:"subject"`
	TextBody        string         `json:"-"`
	HTMLBody        string         `json:"-"`
	Secrets         pq.StringArray `json:"-" gorm:"type:text[]"`
	Status          string         `json:"status"`
	Attempts        int            `json:"attempts"`
	SentAt          *time.Time     `json:"sent_at,omitempty"`
	MessageID       string         `json:"message_id"`
	LastError       string         `json:"last_error,omitempty"`
}

// TableName maps Entry to its table.
func (Entry) TableName() string { return "mail_log" }

const listColumns = `id, created_at, template, lang, ref, to_address, to_name, from_name, reply_to, subject,
	status, attempts, sent_at, message_id, last_error`

// LogFilter narrows Log.
type LogFilter struct {
	Status string // "" for all
	To     string // exact recipient address, "" for all
	Ref    string // exact ref, "" for all
	Limit  int    // [50], at most 500
	Offset int
}

// Log returns a page of the tenant's mail log, newest first, without the bodies, and how
// many entries match in all. It is what the tenant admin's "sent e-mail" page shows.
func (s *Service) Log(ctx context.Context, f LogFilter) ([]Entry, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, 0, err
	}
	var out []Entry
	var total int64
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		q := tenants.DB(ctx).Model(&Entry{}).Where("tenant_id = ?", tid)
		if f.Status != "" {
			q = q.Where("status = ?", f.Status)
		}
		if f.To != "" {
			q = q.Where("to_address = ?", f.To)
		}
		if f.Ref != "" {
			q = q.Where("ref = ?", f.Ref)
		}
		if err := q.Count(&total).Error; err != nil {
			return err
		}
		return q.Select(listColumns).Order("created_at DESC, id DESC").Limit(f.Limit).Offset(f.Offset).Find(&out).Error
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read mail log: %w", err)
	}
	return out, total, nil
}

// Get returns one entry of the tenant's mail log with its bodies.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Entry, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		return tenants.DB(ctx).Where("tenant_id = ? AND id = ?", tid, id).Take(&e).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("read mail: %w", err)
	}
	return e, nil
}

// send is the "core:mail.send" handler. It is idempotent: a message already sent (or failed
// for good) is not sent again. The SMTP conversation happens outside any transaction; a
// worker killed between the server's acceptance and the status update sends the message
// again on retry, with the same Message-ID, so mail clients can tell it is a duplicate.
func (s *Service) send(ctx context.Context, d jobs.Delivery) error {
	var p sendPayload
	if err := d.Decode(&p); err != nil {
		return err
	}
	e, err := s.Get(ctx, p.Mail)
	if errors.Is(err, ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	if e.Status != StatusQueued {
		return nil
	}
	messageID, sendErr := s.sender.Send(ctx, mail.Message{
		ID: e.ID.String(), To: e.ToAddress, ToName: e.ToName, FromName: e.FromName, ReplyTo: e.ReplyTo,
		Subject: e.Subject, Text: e.TextBody, HTML: e.HTMLBody, Lang: e.Lang, ListUnsubscribe: e.ListUnsubscribe,
	})
	status, lastErr := StatusSent, ""
	var sentAt *time.Time
	switch {
	case sendErr == nil:
		now := s.now()
		sentAt = &now
	case errors.Is(sendErr, mail.ErrDisabled):
		status = StatusNotSent
	case mail.IsPermanent(sendErr):
		status, lastErr = StatusFailed, sendErr.Error()
	default:
		status, lastErr = StatusQueued, sendErr.Error()
		if d.Attempt >= d.MaxRetry {
			status = StatusFailed // out of retries: the task goes to the archive
		}
	}
	uctx := context.WithoutCancel(ctx) // record the outcome even if the task's time ran out
	err = s.db.InTx(uctx, func(ctx context.Context) error {
		if err := tenants.DB(ctx).Exec(`UPDATE mail_log SET status = ?, attempts = attempts + 1, sent_at = COALESCE(?, sent_at),
				message_id = ?, last_error = left(?, 2000)
			WHERE tenant_id = ? AND id = ?`, status, sentAt, messageID, lastErr, d.TenantID, e.ID).Error; err != nil {
			return err
		}
		// A retry still needs the keys. Without a mail server (EPOM_SMTP_URL empty: development
		// and tests) the log is the only copy of the message, read to follow its links.
		if status == StatusQueued || status == StatusNotSent || len(e.Secrets) == 0 {
			return nil
		}
		return tenants.DB(ctx).Exec(`UPDATE mail_log SET text_body = ?, html_body = ?, list_unsubscribe = ?, secrets = '{}'
			WHERE tenant_id = ? AND id = ?`, redact(e.TextBody, e.Secrets), redact(e.HTMLBody, e.Secrets),
			redact(e.ListUnsubscribe, e.Secrets), d.TenantID, e.ID).Error
	})
	if err != nil {
		if sendErr == nil {
			// Sent, but not recorded: a retry would send it twice. Say so loudly; the status
			// stays queued and the retry resends with the same Message-ID.
			s.log.ErrorContext(ctx, "mail sent but not recorded", "mail", e.ID, "err", err)
		}
		return fmt.Errorf("record mail status: %w", err)
	}
	switch {
	case sendErr == nil:
		s.log.InfoContext(ctx, "mail sent", "mail", e.ID, "tenant", d.TenantID, "ref", e.Ref)
		return nil
	case status == StatusNotSent:
		return nil
	case status == StatusFailed:
		return jobs.Permanent(sendErr)
	}
	return sendErr
}

// prune deletes the tenant's log entries older than LogRetention.
func (s *Service) prune(ctx context.Context, d jobs.Delivery) error {
	cutoff := s.now().Add(-s.cfg.LogRetention)
	return s.db.InTx(ctx, func(ctx context.Context) error {
		res := tenants.DB(ctx).Exec(`DELETE FROM mail_log WHERE tenant_id = ? AND created_at < ? AND status <> 'queued'`,
			d.TenantID, cutoff)
		if res.Error != nil {
			return fmt.Errorf("prune mail log: %w", res.Error)
		}
		if res.RowsAffected > 0 {
			s.log.InfoContext(ctx, "mail log pruned", "tenant", d.TenantID, "rows", res.RowsAffected)
		}
		return nil
	})
}

// redact replaces every secret in s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, RedactedSecret)
	}
	return s
}

// nonEmpty drops empty strings: replacing "" would insert the mark between every rune.
func nonEmpty(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
