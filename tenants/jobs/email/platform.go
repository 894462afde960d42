package email

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants"
)

// Execer is a pgx.Tx or a *pgxpool.Pool. Pass the transaction that writes the business
// change (the reset token, the subscription request), so that a rollback sends nothing.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// PlatformMessage is a message the deployment sends in its own name, to a person who need
// not belong to any municipality: account verification, password reset, the steps of an
// online subscription.
type PlatformMessage struct {
	To       string
	ToName   string
	Template string // "notification" or "invitation"
	Lang     string // "cs" (default) or "en"
	Data     mail.Data
	Ref      string // what it is about, for the log; no personal data
}

// PlatformSenderName is who platform mail is from when its data names no municipality.
const PlatformSenderName = "epom"

// QueuePlatform renders msg and stores it in platform_mail through q; the worker's platform
// sender delivers it. It returns the message's id.
func (s *Service) QueuePlatform(ctx context.Context, q Execer, msg PlatformMessage) (uuid.UUID, error) {
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
	if b := msg.Data.Base(); b.Municipality == "" {
		b.Municipality = PlatformSenderName
	}
	r, err := s.templates.Render(msg.Template, msg.Lang, msg.Data)
	if err != nil {
		return uuid.Nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	id := tenants.NewID()
	_, err = q.Exec(ctx, `INSERT INTO platform_mail (id, template, lang, ref, to_address, to_name, subject, text_body, html_body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, msg.Template, msg.Lang, msg.Ref, to.Address, msg.ToName, r.Subject, r.Text, r.HTML)
	if err != nil {
		return uuid.Nil, fmt.Errorf("queue platform mail: %w", err)
	}
	return id, nil
}

// PlatformSenderConfig tunes the platform sender.
type PlatformSenderConfig struct {
	Poll        time.Duration // how often due mail is looked for without a notification [30s]
	Lease       time.Duration // how long a claimed message is not claimed again [5m]
	Batch       int           // messages claimed at once [20]
	MaxAttempts int           // transient failures before a message fails for good [12]
}

func (c *PlatformSenderConfig) defaults() {
	if c.Poll <= 0 {
		c.Poll = 30 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
}

// RunPlatformSender delivers platform mail until ctx ends: on every insert (LISTEN) and
// every Poll, and once an hour it prunes old rows. Several workers may run it: a claim
// moves next_attempt_at past the lease, under SKIP LOCKED, so no message goes out twice
// unless a worker dies between the SMTP server's acceptance and the status update.
func (s *Service) RunPlatformSender(ctx context.Context, pool *pgxpool.Pool, cfg PlatformSenderConfig) error {
	cfg.defaults()
	wake := make(chan struct{}, 1)
	go s.listenPlatform(ctx, pool, wake)
	tick := time.NewTicker(cfg.Poll)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		for {
			n, err := s.SendPlatformDue(ctx, pool, cfg)
			if err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "platform mail", "err", err)
			}
			if err != nil || n < cfg.Batch {
				break
			}
		}
		if time.Since(lastPrune) > time.Hour {
			if err := s.PrunePlatform(ctx, pool); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "prune platform mail", "err", err)
			}
			lastPrune = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-wake:
		}
	}
}

// listenPlatform turns the insert trigger's notifications into wake-ups; if the connection
// drops it retries, and polling covers the gap.
func (s *Service) listenPlatform(ctx context.Context, pool *pgxpool.Pool, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, `LISTEN epom_platform_mail`); err != nil {
				return err
			}
			for {
				if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
					return err
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}()
		if ctx.Err() != nil {
			return
		}
		s.log.WarnContext(ctx, "platform mail listener", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

type platformRow struct {
	id                        uuid.UUID
	lang, to, toName, subject string
	text, html                string
	attempts                  int
}

// SendPlatformDue claims and sends the messages that are due, and reports how many it
// claimed.
func (s *Service) SendPlatformDue(ctx context.Context, pool *pgxpool.Pool, cfg PlatformSenderConfig) (int, error) {
	cfg.defaults()
	rows, err := pool.Query(ctx, `UPDATE platform_mail SET next_attempt_at = now() + $2 * interval '1 second'
		WHERE id IN (SELECT id FROM platform_mail WHERE status = 'queued' AND next_attempt_at <= now()
			ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING id, lang, to_address, to_name, subject, text_body, html_body, attempts`,
		cfg.Batch, cfg.Lease.Seconds())
	if err != nil {
		return 0, fmt.Errorf("claim platform mail: %w", err)
	}
	claimed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (platformRow, error) {
		var m platformRow
		err := r.Scan(&m.id, &m.lang, &m.to, &m.toName, &m.subject, &m.text, &m.html, &m.attempts)
		return m, err
	})
	if err != nil {
		return 0, fmt.Errorf("claim platform mail: %w", err)
	}
	for _, m := range claimed {
		if err := s.sendPlatform(ctx, pool, m, cfg); err != nil {
			return len(claimed), err
		}
	}
	return len(claimed), nil
}

func (s *Service) sendPlatform(ctx context.Context, pool *pgxpool.Pool, m platformRow, cfg PlatformSenderConfig) error {
	messageID, sendErr := s.sender.Send(ctx, mail.Message{
		ID: m.id.String(), To: m.to, ToName: m.toName, FromName: PlatformSenderName,
		Subject: m.subject, Text: m.text, HTML: m.html, Lang: m.lang,
	})
	uctx := context.WithoutCancel(ctx)
	var err error
	switch {
	case sendErr == nil:
		// The bodies may hold single-use links: once delivered, the log keeps only who, what
		// and when.
		_, err = pool.Exec(uctx, `UPDATE platform_mail SET status = 'sent', attempts = attempts + 1, sent_at = now(),
			message_id = $2, last_error = '', text_body = '', html_body = '' WHERE id = $1`, m.id, messageID)
		if err == nil {
			s.log.InfoContext(ctx, "platform mail sent", "mail", m.id)
		}
	case errors.Is(sendErr, mail.ErrDisabled):
		// No SMTP server (development): nothing left the system, so the message stays readable
		// for whoever runs it.
		_, err = pool.Exec(uctx, `UPDATE platform_mail SET status = 'not_sent', attempts = attempts + 1, message_id = $2
			WHERE id = $1`, m.id, messageID)
	case mail.IsPermanent(sendErr) || m.attempts+1 >= cfg.MaxAttempts:
		_, err = pool.Exec(uctx, `UPDATE platform_mail SET status = 'failed', attempts = attempts + 1,
			last_error = left($2, 2000) WHERE id = $1`, m.id, sendErr.Error())
		s.log.WarnContext(ctx, "platform mail failed", "mail", m.id, "err", sendErr)
	default:
		// Back off exponentially from a minute, at most six hours between attempts.
		backoff := min(time.Minute<<min(m.attempts, 9), 6*time.Hour)
		_, err = pool.Exec(uctx, `UPDATE platform_mail SET attempts = attempts + 1, last_error = left($2, 2000),
			next_attempt_at = now() + $3 * interval '1 second' WHERE id = $1`, m.id, sendErr.Error(), backoff.Seconds())
	}
	if err != nil {
		if sendErr == nil {
			s.log.ErrorContext(ctx, "platform mail sent but not recorded", "mail", m.id, "err", err)
		}
		return fmt.Errorf("record platform mail status: %w", err)
	}
	return nil
}

// PrunePlatform clears the bodies of platform mail older than a week (their links have long
// expired) and deletes rows older than the log retention.
func (s *Service) PrunePlatform(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `UPDATE platform_mail SET text_body = '', html_body = ''
		WHERE created_at < now() - interval '7 days' AND status <> 'queued' AND text_body <> ''`); err != nil {
		return fmt.Errorf("prune platform mail: %w", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM platform_mail WHERE created_at < now() - $1 * interval '1 second' AND status <> 'queued'`,
		s.cfg.LogRetention.Seconds()); err != nil {
		return fmt.Errorf("prune platform mail: %w", err)
	}
	return nil
}
