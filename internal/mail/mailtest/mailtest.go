// Package mailtest runs a real SMTP server inside a test (emersion/go-smtp) and keeps what it
// receives, parsed, so tests check the message a mail client would get.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message as the server got it.
type Received struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients
	Raw  []byte
	Msg  *netmail.Message // parsed headers; Msg.Body reads the body
}

// Server is an SMTP server on a free local port, without TLS or authentication.
type Server struct {
	Host string
	Port int

	// Reject, when set, is asked about every recipient; an error (use *smtp.SMTPError for a
	// specific code) refuses it.
	Reject func(rcpt string) error

	mu   sync.Mutex
	msgs []Received
	srv  *smtp.Server
}

// Start runs a server until t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "mx.test"
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.EnableSMTPUTF8 = true
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Messages returns what the server has received so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Wait waits until the server has received n messages and returns them.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP server received %d messages in %s, want %d", len(s.Messages()), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.Reject != nil {
		if err := x.s.Reject(to); err != nil {
			return err
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return errors.New("unparseable message")
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Received{From: x.from, To: x.to, Raw: raw, Msg: msg})
	x.s.mu.Unlock()
	return nil
}

// Header returns a header with RFC 2047 encoded words decoded.
func (r Received) Header(name string) string {
	v := r.Msg.Header.Get(name)
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// Bodies returns the decoded text/plain and text/html parts.
func (r Received) Bodies() (text, html string, err error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(r.Raw))
	if err != nil {
		return "", "", err
	}
	err = walk(textproto.MIMEHeader(msg.Header), msg.Body, func(ct string, body []byte) {
		switch ct {
		case "text/plain":
			text = string(body)
		case "text/html":
			html = string(body)
		}
	})
	return text, html, err
}

func walk(h textproto.MIMEHeader, body io.Reader, leaf func(ct string, body []byte)) error {
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct = "text/plain"
	}
	if strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header, p, leaf); err != nil {
				return err
			}
		}
	}
	var rd io.Reader = body
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		rd = quotedprintable.NewReader(body)
	case "base64":
		rd = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	leaf(ct, b)
	return nil
}
