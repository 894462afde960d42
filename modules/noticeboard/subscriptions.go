package noticeboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// Mailer queues a tenant e-mail in the caller's transaction (email.Service).
type Mailer interface {
	Queue(ctx context.Context, msg email.Message) (uuid.UUID, error)
}

// taskNotify mails the subscribers about one posted notice.
const taskNotify = "noticeboard:notify"

const (
	// confirmValidity is how long a confirmation link works.
	confirmValidity = 7 * 24 * time.Hour
	// confirmResendAfter: a second request for the same address sooner sends no second
	// e-mail, so the form cannot be used to flood somebody's mailbox.
	confirmResendAfter = 10 * time.Minute
	// notifyBatch is how many subscribers one transaction of the fan-out mails.
	notifyBatch = 200
	// formTokenValidity is how long the subscription form stays submittable.
	formTokenValidity = 2 * time.Hour
)

// Subscription is a citizen's subscription to the board (odběr).
type Subscription struct {
	ID             uuid.UUID
	Email          string
	Categories     []string // empty: all
	Lang           string
	ConfirmedAt    *time.Time
	UnsubscribedAt *time.Time
}

// Subscriber is who asks to subscribe: an e-mail address and, for a signed-in citizen whose
// account address is verified, the account (subscribed at once, no confirmation e-mail).
type Subscriber struct {
	Email    string
	UserID   uuid.UUID // zero: anonymous
	Verified bool      // the account's e-mail is verified and equals Email
	IP       string
}

// SubscribeResult says what happened, for the page; it never says whether the address was
// already subscribed.
type SubscribeResult struct {
	Confirmed bool // subscribed at once (signed-in, verified); else a confirmation e-mail went out
}

func (s *Service) secretReady() error {
	if len(s.keys.Current) == 0 || s.mail == nil || s.baseURL == "" {
		return fmt.Errorf("%w: subscriptions need the secret key, mail and the base URL", modules.ErrConflict)
	}
	return nil
}

// cleanCategories checks the chosen categories and returns them sorted and unique; every
// category chosen means all (empty), so a category added later is included.
func cleanCategories(in []string) ([]string, error) {
	out := []string{}
	for _, c := range in {
		if _, ok := CategoryByCode(c); !ok {
			return nil, &modules.InvalidError{Fields: []modules.FieldError{{Field: "kategorie", CS: "Neznámá kategorie.", EN: "Unknown category."}}}
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	if len(out) == len(Categories()) {
		out = []string{}
	}
	return out, nil
}

// cleanEmail returns the bare address or an error naming the field.
func cleanEmail(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	a, err := netmail.ParseAddress(raw)
	if err != nil || a.Address != raw || len(raw) > 254 || !strings.Contains(raw[strings.LastIndexByte(raw, '@')+1:], ".") {
		return "", &modules.InvalidError{Fields: []modules.FieldError{{Field: "email",
			CS: "Zadejte platnou e-mailovou adresu, např. jana@example.cz.", EN: "Enter a valid e-mail address, e.g. jana@example.cz."}}}
	}
	return raw, nil
}

// Subscribe subscribes an address to the board. An anonymous request (or one for another
// address than the verified account's) stores the wish and mails a confirmation link; the
// subscription (or its changed categories) takes effect only when confirmed.
func (s *Service) Subscribe(ctx context.Context, who Subscriber, categories []string, lang string) (SubscribeResult, error) {
	addr, err := cleanEmail(who.Email)
	if err != nil {
		return SubscribeResult{}, err
	}
	cats, err := cleanCategories(categories)
	if err != nil {
		return SubscribeResult{}, err
	}
	if lang != "en" {
		lang = "cs"
	}
	if err := s.secretReady(); err != nil {
		return SubscribeResult{}, err
	}
	direct := who.UserID != uuid.Nil && who.Verified
	var res SubscribeResult
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		db := tenants.DB(ctx)
		var id uuid.UUID
		var sentAt *time.Time
		// An existing subscription keeps the address as first written.
		err = db.Raw(`SELECT id, email, confirm_sent_at FROM noticeboard_subscriptions WHERE tenant_id = ? AND lower(email) = lower(?) FOR UPDATE`,
			tid, addr).Row().Scan(&id, &addr, &sentAt)
		isNew := errors.Is(err, sql.ErrNoRows)
		if err != nil && !isNew {
			return fmt.Errorf("read subscription: %w", err)
		}
		if isNew {
			id = newID()
			if err := db.Exec(`INSERT INTO noticeboard_subscriptions (tenant_id, id, email, lang, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, tid, id, addr, lang, now, now).Error; err != nil {
				return fmt.Errorf("insert subscription: %w", err)
			}
		}
		var userID *uuid.UUID
		if who.UserID != uuid.Nil {
			u := who.UserID
			userID = &u
		}
		if direct {
			res.Confirmed = true
			if err := db.Exec(`UPDATE noticeboard_subscriptions SET categories = string_to_array(?, ','), pending_categories = NULL,
				lang = ?, user_id = ?, confirmed_at = coalesce(confirmed_at, ?), unsubscribed_at = NULL,
				confirm_token_hash = NULL, updated_at = ? WHERE tenant_id = ? AND id = ?`,
				strings.Join(cats, ","), lang, userID, now, now, tid, id).Error; err != nil {
				return fmt.Errorf("update subscription: %w", err)
			}
			return s.audit.Tenant(ctx, subscriptionEvent(who, "noticeboard.subscription-confirmed", id))
		}
		if sentAt != nil && now.Sub(*sentAt) < confirmResendAfter {
			return nil // the page says the same; the mailbox gets no second message yet
		}
		token, hash := newConfirmToken()
		if err := db.Exec(`UPDATE noticeboard_subscriptions SET pending_categories = string_to_array(?, ','), lang = ?,
			confirm_token_hash = ?, confirm_sent_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			strings.Join(cats, ","), lang, hash, now, now, tid, id).Error; err != nil {
			return fmt.Errorf("update subscription: %w", err)
		}
		if _, err := s.mail.Queue(ctx, s.confirmMail(ctx, addr, lang, token)); err != nil {
			return err
		}
		return s.audit.Tenant(ctx, subscriptionEvent(who, "noticeboard.subscription-requested", id))
	})
	return res, err
}

func subscriptionEvent(who Subscriber, action string, id uuid.UUID) audit.Event {
	e := audit.Event{Actor: "public", IP: who.IP, Action: action, Target: "noticeboard.subscription:" + id.String()}
	if who.UserID != uuid.Nil {
		u := who.UserID
		e.ActorID = &u
		e.Actor = who.Email
	}
	return e
}

func newConfirmToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	token := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, h[:]
}

func (s *Service) boardURL(ctx context.Context) string {
	t, _ := tenants.FromContext(ctx)
	return s.baseURL + "/o/" + t.Slug + "/" + publicPath
}

// langParam continues a query string (…?token=x&lang=en) in the subscriber's language.
func langParam(lang string) string {
	if lang == "en" {
		return "&lang=en"
	}
	return ""
}

func (s *Service) confirmMail(ctx context.Context, to, lang, token string) email.Message {
	link := s.boardURL(ctx) + "/odber/potvrdit?token=" + token + langParam(lang)
	n := &mail.Notification{Title: "Potvrďte odběr úřední desky",
		Paragraphs: []string{"Někdo (nejspíš vy) požádal o zasílání oznámení z úřední desky na tuto adresu. Odběr začne, až jej potvrdíte odkazem níže.",
			"Pokud jste o odběr nežádali, zprávu ignorujte: bez potvrzení vám nic chodit nebude."},
		ActionURL: link, ActionLabel: "Potvrdit odběr"}
	if lang == "en" {
		n = &mail.Notification{Title: "Confirm your notice board subscription",
			Paragraphs: []string{"Someone (probably you) asked for the notices of the official notice board to be sent to this address. The subscription starts once you confirm it with the link below.",
				"If you did not ask for it, ignore this message: without confirmation you will receive nothing."},
			ActionURL: link, ActionLabel: "Confirm the subscription"}
	}
	return email.Message{To: to, Template: "notification", Lang: lang, Data: n, Ref: "noticeboard.subscription",
		Secrets: []string{token}}
}

// Confirm confirms the subscription of a confirmation token: it starts, or takes the
// categories asked for last. An unknown or expired token is modules.ErrNotFound.
func (s *Service) Confirm(ctx context.Context, token, ip string) (Subscription, error) {
	h := sha256.Sum256([]byte(token))
	var out Subscription
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		var id uuid.UUID
		err = tenants.DB(ctx).Raw(`UPDATE noticeboard_subscriptions SET categories = coalesce(pending_categories, categories),
				pending_categories = NULL, confirm_token_hash = NULL, confirmed_at = coalesce(confirmed_at, ?),
				unsubscribed_at = NULL, updated_at = ?
			WHERE tenant_id = ? AND confirm_token_hash = ? AND confirm_sent_at > ? RETURNING id`,
			now, now, tid, h[:], now.Add(-confirmValidity)).Row().Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("confirmation token: %w", modules.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("confirm subscription: %w", err)
		}
		if out, err = s.subscription(ctx, id); err != nil {
			return err
		}
		return s.audit.Tenant(ctx, subscriptionEvent(Subscriber{IP: ip}, "noticeboard.subscription-confirmed", id))
	})
	return out, err
}

// ConfirmationValid reports whether a confirmation token would confirm (for the page that
// asks for the button press).
func (s *Service) ConfirmationValid(ctx context.Context, token string) (bool, error) {
	h := sha256.Sum256([]byte(token))
	var n int
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		return tenants.DB(ctx).Raw(`SELECT count(*) FROM noticeboard_subscriptions WHERE tenant_id = ? AND confirm_token_hash = ?
			AND confirm_sent_at > ?`, tid, h[:], s.nowUTC().Add(-confirmValidity)).Row().Scan(&n)
	})
	return n > 0, err
}

func (s *Service) subscription(ctx context.Context, id uuid.UUID) (Subscription, error) {
	var sub Subscription
	var cats string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		return tenants.DB(ctx).Raw(`SELECT id, email, array_to_string(categories, ','), lang, confirmed_at, unsubscribed_at
			FROM noticeboard_subscriptions WHERE tenant_id = ? AND id = ?`, tid, id).Row().
			Scan(&sub.ID, &sub.Email, &cats, &sub.Lang, &sub.ConfirmedAt, &sub.UnsubscribedAt)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, notFound("subscription", id)
	}
	sub.Categories = splitCategories(cats)
	return sub, err
}

func splitCategories(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// UnsubscribeToken is the token of the one-click unsubscribe link of a subscription: the id
// and an HMAC of it under the secret key, so it needs no storage and cannot be guessed.
func (s *Service) UnsubscribeToken(id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString(id[:]) + "." + base64.RawURLEncoding.EncodeToString(s.mac("noticeboard-unsubscribe", id[:]))
}

// mac is made under the current key and truncated to 16 bytes, to keep links short.
func (s *Service) mac(purpose string, msg []byte) []byte {
	return s.keys.Sign([]byte(purpose), []byte{0}, msg)[:16]
}

// macValid accepts a mac made under any key of the ring.
func (s *Service) macValid(mac []byte, purpose string, msg []byte) bool {
	_, ok := s.keys.Verify(mac, []byte(purpose), []byte{0}, msg)
	return ok
}

func (s *Service) parseUnsubscribeToken(token string) (uuid.UUID, bool) {
	rawID, rawMAC, ok := strings.Cut(token, ".")
	if !ok || len(s.keys.Current) == 0 {
		return uuid.Nil, false
	}
	idb, err1 := base64.RawURLEncoding.DecodeString(rawID)
	mac, err2 := base64.RawURLEncoding.DecodeString(rawMAC)
	if err1 != nil || err2 != nil || len(idb) != 16 {
		return uuid.Nil, false
	}
	if !s.macValid(mac, "noticeboard-unsubscribe", idb) {
		return uuid.Nil, false
	}
	return uuid.UUID(idb), true
}

// Unsubscribe ends the subscription of an unsubscribe token; doing it twice is fine. An
// invalid token, or one of another tenant's board, is modules.ErrNotFound.
func (s *Service) Unsubscribe(ctx context.Context, token, ip string) error {
	id, ok := s.parseUnsubscribeToken(token)
	if !ok {
		return fmt.Errorf("unsubscribe token: %w", modules.ErrNotFound)
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		var was *time.Time
		err = tenants.DB(ctx).Raw(`SELECT unsubscribed_at FROM noticeboard_subscriptions WHERE tenant_id = ? AND id = ? FOR UPDATE`,
			tid, id).Row().Scan(&was)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("subscription", id)
		}
		if err != nil || was != nil {
			return err
		}
		if err := tenants.DB(ctx).Exec(`UPDATE noticeboard_subscriptions SET unsubscribed_at = ?, confirm_token_hash = NULL,
			pending_categories = NULL, updated_at = ? WHERE tenant_id = ? AND id = ?`, now, now, tid, id).Error; err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
		return s.audit.Tenant(ctx, subscriptionEvent(Subscriber{IP: ip}, "noticeboard.unsubscribed", id))
	})
}

// UnsubscribeValid reports whether an unsubscribe token names a subscription of this board.
func (s *Service) UnsubscribeValid(ctx context.Context, token string) bool {
	id, ok := s.parseUnsubscribeToken(token)
	if !ok {
		return false
	}
	_, err := s.subscription(ctx, id)
	return err == nil
}

// SubscriberCount is how many confirmed, active subscriptions the board has (what the
// clerk sees: no addresses).
func (s *Service) SubscriberCount(ctx context.Context) (int, error) {
	var n int
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		return tenants.DB(ctx).Raw(`SELECT count(*) FROM noticeboard_subscriptions WHERE tenant_id = ?
			AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL`, tid).Row().Scan(&n)
	})
	return n, err
}

// enqueueNotify hands the mailing about a just-posted notice to the background, in the
// posting's transaction; the key makes it once per notice.
func enqueueNotify(ctx context.Context, id uuid.UUID) error {
	t, err := jobs.NewTask(taskNotify, taskPayload{Notice: id})
	if err != nil {
		return err
	}
	t.Queue = jobs.QueueDefault
	t.Key = taskNotify + ":" + id.String()
	if _, err := jobs.Enqueue(ctx, t); err != nil && !errors.Is(err, jobs.ErrDuplicate) {
		return fmt.Errorf("schedule %s: %w", taskNotify, err)
	}
	return nil
}

// Notify mails every confirmed subscriber whose categories include the notice's, in batches
// of one transaction each. A subscriber already mailed about the notice is skipped, so a
// retried task sends nobody a second message. It returns how many it mailed.
func (s *Service) Notify(ctx context.Context, noticeID uuid.UUID) (int, error) {
	if s.mail == nil {
		return 0, nil // a deployment without mail has no subscriptions to serve
	}
	total := 0
	for {
		sent := 0
		err := s.store.InTx(ctx, func(ctx context.Context) error {
			tid, err := tenants.IDFrom(ctx)
			if err != nil {
				return err
			}
			n, err := s.store.Get(ctx, noticeID, false)
			if errors.Is(err, modules.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if n.State != StatePosted {
				return nil // taken down before the mail went out: nothing to point to
			}
			rows, err := tenants.DB(ctx).Raw(`SELECT s.id, s.email, s.lang FROM noticeboard_subscriptions s
				WHERE s.tenant_id = ? AND s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL
				  AND (cardinality(s.categories) = 0 OR ? = ANY (s.categories))
				  AND NOT EXISTS (SELECT 1 FROM noticeboard_deliveries d
				      WHERE d.tenant_id = s.tenant_id AND d.notice_id = ? AND d.subscription_id = s.id)
				ORDER BY s.id LIMIT ?`, tid, n.Category, n.ID, notifyBatch).Rows()
			if err != nil {
				return fmt.Errorf("list subscribers: %w", err)
			}
			type rcpt struct {
				id          uuid.UUID
				email, lang string
			}
			var to []rcpt
			for rows.Next() {
				var r rcpt
				if err := rows.Scan(&r.id, &r.email, &r.lang); err != nil {
					rows.Close()
					return err
				}
				to = append(to, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range to {
				mailID, err := s.mail.Queue(ctx, s.noticeMail(ctx, n, r.id, r.email, r.lang))
				if err != nil {
					return err
				}
				if err := tenants.DB(ctx).Exec(`INSERT INTO noticeboard_deliveries (tenant_id, notice_id, subscription_id, mail_id)
					VALUES (?, ?, ?, ?)`, tid, n.ID, r.id, mailID).Error; err != nil {
					return fmt.Errorf("record delivery: %w", err)
				}
			}
			sent = len(to)
			return nil
		})
		total += sent
		if err != nil || sent < notifyBatch {
			return total, err
		}
	}
}

func (s *Service) noticeMail(ctx context.Context, n Notice, subID uuid.UUID, to, lang string) email.Message {
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		loc = time.UTC
	}
	board := s.boardURL(ctx)
	unsubToken := s.UnsubscribeToken(subID)
	unsub := board + "/odber/zrusit?token=" + unsubToken + langParam(lang)
	link := board + "/" + n.ID.String()
	posted := ""
	if n.PostedAt != nil {
		posted = n.PostedAt.In(loc).Format("2. 1. 2006 15:04")
	}
	cat := categoryName(n.Category, lang)
	data := &mail.Notification{Title: n.Title,
		Paragraphs: []string{"Na úřední desku bylo vyvěšeno nové oznámení: " + n.Title, "Kategorie: " + cat, "Vyvěšeno: " + posted},
		ActionURL:  link, ActionLabel: "Zobrazit oznámení",
		Note: "Tuto zprávu dostáváte, protože jste si objednali odběr úřední desky. Odhlásit se můžete jedním kliknutím: " + unsub}
	if lang == "en" {
		link += "?lang=en"
		data = &mail.Notification{Title: n.Title,
			Paragraphs: []string{"A new notice has been posted on the official notice board: " + n.Title, "Category: " + cat, "Posted: " + posted},
			ActionURL:  link, ActionLabel: "View the notice",
			Note: "You receive this message because you subscribed to the notice board. Unsubscribe with one click: " + unsub}
	}
	msg := email.Message{To: to, Template: "notification", Lang: lang, Data: data,
		Ref: "noticeboard.notice:" + n.ID.String(), Queue: jobs.QueueDefault, Secrets: []string{unsubToken}}
	// The mail sender accepts only https for the one-click header (RFC 8058); a plain-http
	// development deployment sends the link in the text only.
	if strings.HasPrefix(unsub, "https://") {
		msg.ListUnsubscribe = unsub
	}
	return msg
}

// formToken is the subscription form's hidden token: when it was issued and an HMAC binding
// it to the tenant, so a POST must come from a form this board served (no cookie needed).
func (s *Service) formToken(ctx context.Context, at time.Time) string {
	t, _ := tenants.FromContext(ctx)
	b := binary.BigEndian.AppendUint64(nil, uint64(at.Unix()))
	return base64.RawURLEncoding.EncodeToString(b) + "." +
		base64.RawURLEncoding.EncodeToString(s.mac("noticeboard-form", append(t.ID[:], b...)))
}

func (s *Service) formTokenValid(ctx context.Context, token string) bool {
	rawAt, rawMAC, ok := strings.Cut(token, ".")
	if !ok || len(s.keys.Current) == 0 {
		return false
	}
	b, err1 := base64.RawURLEncoding.DecodeString(rawAt)
	mac, err2 := base64.RawURLEncoding.DecodeString(rawMAC)
	if err1 != nil || err2 != nil || len(b) != 8 {
		return false
	}
	t, _ := tenants.FromContext(ctx)
	if !s.macValid(mac, "noticeboard-form", append(t.ID[:], b...)) {
		return false
	}
	age := s.now().Sub(time.Unix(int64(binary.BigEndian.Uint64(b)), 0))
	return age >= 0 && age < formTokenValidity
}

// handleNotify mails the subscribers about a posted notice.
func (m *Module) handleNotify(ctx context.Context, d jobs.Delivery) error {
	var p taskPayload
	if err := d.Decode(&p); err != nil {
		return err
	}
	_, err := m.svc.Notify(ctx, p.Notice)
	return err
}
