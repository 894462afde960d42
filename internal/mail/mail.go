// Package mail sends e-mail over SMTP and renders the platform's e-mail templates (Czech and
// English, HTML and plain text). It knows nothing of tenants: the caller says whose name
// the message goes out under and where replies go. Queueing, retries and the per-tenant log
// of what was sent live in tenants/jobs/email.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode says how the connection to the SMTP server is secured.
type TLSMode string

const (
	TLSStartTLS      TLSMode = "starttls"      // STARTTLS required (port 587)
	TLSImplicit      TLSMode = "tls"           // TLS from the first byte (port 465, smtps://)
	TLSOpportunistic TLSMode = "opportunistic" // STARTTLS when offered, plain otherwise
	TLSNone          TLSMode = "none"          // plain text: a relay on localhost, tests
)

// Config is the outgoing mail server and the platform's sender identity.
type Config struct {
	Host     string
	Port     int // 0: 587, or 465 with TLSImplicit
	Username string
	Password string
	TLS      TLSMode // "": starttls
	// InsecureSkipVerify accepts any server certificate; for test servers only.
	InsecureSkipVerify bool
	// FromAddress is the platform's sender address (e.g. noreply@epom.cz). Messages always
	// leave from it, so SPF and DMARC hold; a municipality appears as the display name.
	FromAddress string
	// FromName is the display name when the caller gives none [epom].
	FromName string
	// BounceAddress is the envelope sender (MAIL FROM), where delivery reports go; the
	// receiving server turns it into Return-Path [FromAddress].
	BounceAddress string
	// MessageIDDomain is the right-hand side of Message-IDs [the domain of FromAddress].
	MessageIDDomain string
	// HeloName is the name given in EHLO [the host name of FromAddress's domain].
	HeloName string
	// Timeout of connecting and of each SMTP command [30s].
	Timeout time.Duration
}

// ParseURL reads EPOM_SMTP_URL: smtp://user:password@host:587 (STARTTLS),
// smtps://user:password@host:465 (implicit TLS), with optional query parameters
// tls=starttls|tls|opportunistic|none, insecure=1, bounce=address, helo=name. The sender
// fields stay empty; set them from EPOM_MAIL_FROM (ParseSender).
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("SMTP URL: %w", err)
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.TLS = TLSStartTLS
	case "smtps":
		c.TLS = TLSImplicit
	default:
		return Config{}, fmt.Errorf("SMTP URL: scheme %q, want smtp or smtps", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, errors.New("SMTP URL: no host")
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port <= 0 || c.Port > 65535 {
			return Config{}, fmt.Errorf("SMTP URL: port %q", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	if m := q.Get("tls"); m != "" {
		switch TLSMode(m) {
		case TLSStartTLS, TLSImplicit, TLSOpportunistic, TLSNone:
			c.TLS = TLSMode(m)
		default:
			return Config{}, fmt.Errorf("SMTP URL: tls=%q, want starttls, tls, opportunistic or none", m)
		}
	}
	c.InsecureSkipVerify = q.Get("insecure") == "1" || q.Get("insecure") == "true"
	c.BounceAddress = q.Get("bounce")
	c.HeloName = q.Get("helo")
	return c, nil
}

// ParseSender splits EPOM_MAIL_FROM ("epom <noreply@epom.cz>" or a bare address).
func ParseSender(s string) (name, address string, err error) {
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return "", "", fmt.Errorf("sender %q: %w", s, err)
	}
	return a.Name, a.Address, nil
}

func (c *Config) defaults() error {
	if c.FromAddress == "" {
		return errors.New("mail: FromAddress is required")
	}
	if _, err := netmail.ParseAddress(c.FromAddress); err != nil {
		return fmt.Errorf("mail: FromAddress: %w", err)
	}
	if c.FromName == "" {
		c.FromName = "epom"
	}
	if c.BounceAddress == "" {
		c.BounceAddress = c.FromAddress
	}
	domain := c.FromAddress[strings.LastIndexByte(c.FromAddress, '@')+1:]
	if c.MessageIDDomain == "" {
		c.MessageIDDomain = domain
	}
	if c.HeloName == "" {
		c.HeloName = domain
	}
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		c.Port = 587
		if c.TLS == TLSImplicit {
			c.Port = 465
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return nil
}

// Message is one e-mail to one recipient.
type Message struct {
	// ID is stable across attempts (the mail log row's id): the Message-ID is derived from
	// it, so a message sent twice after a crash is recognisably the same message.
	ID       string
	To       string
	ToName   string
	FromName string // display name, e.g. the municipality's; the address is the platform's
	ReplyTo  string // where replies go, e.g. the municipality's office
	Subject  string
	Text     string
	HTML     string // optional alternative to Text
	Lang     string // Content-Language: cs or en
	// ListUnsubscribe is an https URL (one-click, RFC 8058) or a mailto: address, for
	// messages a recipient subscribed to.
	ListUnsubscribe string
}

// Sender sends messages; Send returns the Message-ID it used.
type Sender interface {
	Send(ctx context.Context, m Message) (messageID string, err error)
}

// ErrDisabled is returned by a sender that only logs (no SMTP server configured).
var ErrDisabled = errors.New("mail sending is not configured")

// ErrPermanent marks failures that a retry will not fix: the server rejected the recipient
// or the message (5xx), or the message itself is invalid.
var ErrPermanent = errors.New("permanent mail failure")

// IsPermanent reports whether err is not worth retrying.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// SMTP sends through an SMTP server, one connection per message: the worker runs many
// sends in parallel and messages are few, so pooling connections is not worth its failure modes.
type SMTP struct {
	cfg Config
}

// NewSMTP checks cfg and returns the sender.
func NewSMTP(cfg Config) (*SMTP, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Host == "" {
		return nil, errors.New("mail: SMTP host is required")
	}
	return &SMTP{cfg: cfg}, nil
}

// MessageID returns the Message-ID (without angle brackets) that message id gets.
func (s *SMTP) MessageID(id string) string { return id + "@" + s.cfg.MessageIDDomain }

// Build returns the message as it will be sent.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	return build(s.cfg, m)
}

func build(cfg Config, m Message) (*gomail.Msg, error) {
	if m.ID == "" || m.To == "" || m.Subject == "" || m.Text == "" {
		return nil, fmt.Errorf("%w: message needs an id, a recipient, a subject and a text", ErrPermanent)
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	name := m.FromName
	if name == "" {
		name = cfg.FromName
	}
	if err := msg.FromFormat(name, cfg.FromAddress); err != nil {
		return nil, fmt.Errorf("%w: from: %w", ErrPermanent, err)
	}
	if err := msg.EnvelopeFrom(cfg.BounceAddress); err != nil {
		return nil, fmt.Errorf("%w: envelope sender: %w", ErrPermanent, err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, fmt.Errorf("%w: recipient: %w", ErrPermanent, err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, fmt.Errorf("%w: reply-to: %w", ErrPermanent, err)
		}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID + "@" + cfg.MessageIDDomain)
	msg.SetDate()
	// Bounce-safe: auto-generated mail (RFC 3834) so vacation responders and ticket systems
	// do not answer it; Exchange honours its own header. Delivery reports still reach the
	// bounce address.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "OOF, AutoReply")
	if m.Lang != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, m.Lang)
	}
	switch {
	case strings.HasPrefix(m.ListUnsubscribe, "https://"):
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.ListUnsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	case strings.HasPrefix(m.ListUnsubscribe, "mailto:"):
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.ListUnsubscribe+">")
	case m.ListUnsubscribe != "":
		return nil, fmt.Errorf("%w: List-Unsubscribe must be an https URL or a mailto: address", ErrPermanent)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// Send delivers m and returns its Message-ID.
func (s *SMTP) Send(ctx context.Context, m Message) (string, error) {
	msg, err := s.build(m)
	if err != nil {
		return "", err
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithHELO(s.cfg.HeloName),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.cfg.Host, InsecureSkipVerify: s.cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}), //nolint:gosec // opt-in for test servers
	}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return "", fmt.Errorf("mail client: %w", err)
	}
	id := s.MessageID(m.ID)
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && se.ErrorCode() >= 500 {
			return id, fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return id, fmt.Errorf("send mail: %w", err)
	}
	return id, nil
}

// LogOnly is the sender when no SMTP server is configured (development, demo): it logs
// that a message would have gone out and returns ErrDisabled, so the mail log says "not
// sent" rather than pretending.
type LogOnly struct {
	Log             *slog.Logger
	MessageIDDomain string
}

// Send logs m without its content.
func (l LogOnly) Send(ctx context.Context, m Message) (string, error) {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	id := m.ID + "@" + l.MessageIDDomain
	log.InfoContext(ctx, "mail not sent: no SMTP server configured", "mail", m.ID, "subject", m.Subject)
	return id, ErrDisabled
}
