package noticeboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/keyring"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/jobs"
)

// DefaultMaxAttachmentBytes is the largest attachment the board accepts.
const DefaultMaxAttachmentBytes = 20 << 20

// Limits of text fields (in characters).
const (
	maxTitle = 300
	maxBody  = 20000
	maxShort = 200
	maxNote  = 1000
)

// Config of the service.
type Config struct {
	// Now is the clock [time.Now]; tests and the end-to-end run drive it.
	Now func() time.Time
	// MaxAttachmentBytes [DefaultMaxAttachmentBytes].
	MaxAttachmentBytes int64
	// The deployment's base URL (links in e-mails) and secret key (unsubscribe and
	// form tokens); without them and Deps.Mail there are no subscriptions. Tokens made under
	// PreviousKeys (EPOM_SECRET_KEY_PREVIOUS) are still accepted, so the unsubscribe links of
	// mails sent before a key rotation keep working.
	BaseURL      string
	SecretKey    []byte
	PreviousKeys [][]byte
}

// Service is the board's agenda: the rules of posting, approving, revising and taking down,
// each change in one tenant transaction with its audit entry and follow-up tasks.
type Service struct {
	store    *Store
	files    files.Store
	audit    *audit.Log
	now      func() time.Time
	maxBytes int64
	// Subscriptions (subscriptions.go).
	mail    Mailer
	baseURL string
	keys    keyring.Ring
}

// NewService returns the service.
func NewService(store *Store, fs files.Store, log *audit.Log, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAttachmentBytes <= 0 {
		cfg.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	return &Service{store: store, files: fs, audit: log, now: cfg.Now, maxBytes: cfg.MaxAttachmentBytes,
		baseURL: strings.TrimSuffix(cfg.BaseURL, "/"), keys: keyring.Ring{Current: cfg.SecretKey, Previous: cfg.PreviousKeys}}
}

// Store returns the service's store (for reads that need no rules).
func (s *Service) Store() *Store { return s.store }

// MaxAttachmentBytes is the size limit of one attachment.
func (s *Service) MaxAttachmentBytes() int64 { return s.maxBytes }

// Actor is who does something: a clerk, or the system (a job) with a zero UserID.
type Actor struct {
	UserID uuid.UUID
	Email  string
	IP     string
}

// system is the actor of the posting and take-down jobs.
func system() Actor { return Actor{Email: "system"} }

func (a Actor) event(action string, n Notice, details map[string]string) audit.Event {
	e := audit.Event{Actor: a.Email, IP: a.IP, Action: action, Target: "noticeboard.notice:" + n.ID.String(), Details: details}
	if a.UserID != uuid.Nil {
		id := a.UserID
		e.ActorID = &id
	}
	if e.Details == nil {
		e.Details = map[string]string{}
	}
	e.Details["title"] = n.Title
	return e
}

// Draft is what a clerk writes: the content and the plan of a notice.
type Draft struct {
	Title           string
	Body            string
	Category        string
	Origin          string
	OriginName      string
	ReferenceNumber string
	FileMark        string
	PostingAt       *time.Time
	RelevantUntil   *time.Time
	// Note says why a posted notice changed; it is kept with the new revision.
	Note string
}

func (s *Service) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// clean sanitises d and checks it; from is when the notice goes (or went) up.
func (d Draft) clean() Draft {
	d.Title = singleLine(d.Title)
	d.Body = plainText(d.Body)
	d.OriginName = singleLine(d.OriginName)
	d.ReferenceNumber = singleLine(d.ReferenceNumber)
	d.FileMark = singleLine(d.FileMark)
	d.Note = singleLine(d.Note)
	if d.Origin == "" {
		d.Origin = OriginOwn
	}
	if d.Origin == OriginOwn {
		d.OriginName = ""
	}
	if d.PostingAt != nil {
		t := d.PostingAt.UTC().Truncate(time.Minute)
		d.PostingAt = &t
	}
	if d.RelevantUntil != nil {
		t := d.RelevantUntil.UTC().Truncate(time.Minute)
		d.RelevantUntil = &t
	}
	return d
}

func (d Draft) validate(from time.Time) error {
	inv := &modules.InvalidError{}
	tooLong := func(field string, v string, n int) {
		if utf8.RuneCountInString(v) > n {
			inv.Add(field, fmt.Sprintf("Nejvýše %d znaků.", n), fmt.Sprintf("At most %d characters.", n))
		}
	}
	if d.Title == "" {
		inv.Add("/title", "Vyplňte název oznámení.", "Enter the notice's title.")
	}
	tooLong("/title", d.Title, maxTitle)
	tooLong("/body", d.Body, maxBody)
	if _, ok := CategoryByCode(d.Category); !ok {
		inv.Add("/category", "Neznámá kategorie.", "Unknown category.")
	}
	switch d.Origin {
	case OriginOwn:
	case OriginOther:
		if d.OriginName == "" {
			inv.Add("/originName", "Uveďte, který úřad oznámení vydal.", "Name the body that issued the notice.")
		}
	default:
		inv.Add("/origin", "Původce je vlastní úřad (own) nebo jiný (other).", "The origin is own or other.")
	}
	tooLong("/originName", d.OriginName, maxShort)
	tooLong("/referenceNumber", d.ReferenceNumber, maxShort)
	tooLong("/fileMark", d.FileMark, maxShort)
	tooLong("/note", d.Note, maxNote)
	if d.RelevantUntil != nil && !d.RelevantUntil.After(from) {
		inv.Add("/relevantUntil", "Sejmutí musí být později než vyvěšení.", "The take-down must come after the posting.")
	}
	return inv.Err()
}

func (d Draft) apply(n *Notice) {
	n.Title, n.Body, n.Category = d.Title, d.Body, d.Category
	n.Origin, n.OriginName = d.Origin, d.OriginName
	n.ReferenceNumber, n.FileMark = d.ReferenceNumber, d.FileMark
	n.RelevantUntil = d.RelevantUntil
}

// Create writes a new draft.
func (s *Service) Create(ctx context.Context, by Actor, d Draft) (Notice, error) {
	d = d.clean()
	now := s.nowUTC()
	from := now
	if d.PostingAt != nil {
		from = *d.PostingAt
	}
	if err := d.validate(from); err != nil {
		return Notice{}, err
	}
	n := Notice{ID: newID(), State: StateDraft, AuthorID: by.UserID, PostingAt: d.PostingAt,
		CreatedAt: now, UpdatedAt: now, Attachments: []Attachment{}}
	d.apply(&n)
	if err := s.store.Insert(ctx, n); err != nil {
		return Notice{}, err
	}
	return n, nil
}

// Get returns a notice.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Notice, error) {
	return s.store.Get(ctx, id, false)
}

// List returns a page of notices and the total.
func (s *Service) List(ctx context.Context, f Filter) ([]Notice, int, error) {
	if f.State != "" && !ValidState(f.State) {
		return nil, 0, &modules.InvalidError{Fields: []modules.FieldError{{Field: "state", CS: "Neznámý stav.", EN: "Unknown state."}}}
	}
	if f.Category != "" {
		if _, ok := CategoryByCode(f.Category); !ok {
			return nil, 0, &modules.InvalidError{Fields: []modules.FieldError{{Field: "category", CS: "Neznámá kategorie.", EN: "Unknown category."}}}
		}
	}
	return s.store.List(ctx, f)
}

// Update changes a notice. Before posting it simply changes; a posted notice gets a new
// revision (the earlier ones stay), and its posting time can no longer move. A notice waiting
// for approval, or approved and scheduled, returns to draft when approval is required: the
// approval was for the old text.
func (s *Service) Update(ctx context.Context, by Actor, id uuid.UUID, d Draft) (Notice, error) {
	d = d.clean()
	var out Notice
	err := s.locked(ctx, id, func(ctx context.Context, n Notice) error {
		now := s.nowUTC()
		switch n.State {
		case StateArchived:
			return fmt.Errorf("%w: a taken-down notice cannot change", modules.ErrConflict)
		case StatePosted:
			if err := d.validate(*n.PostedAt); err != nil {
				return err
			}
			d.apply(&n)
			n.Revision++
			n.UpdatedAt = now
			if err := s.store.Update(ctx, n); err != nil {
				return err
			}
			if err := s.store.InsertRevision(ctx, revisionOf(n, by, d.Note, now)); err != nil {
				return err
			}
			if err := s.scheduleTakeDown(ctx, n); err != nil {
				return err
			}
			out = n
			return s.audit.Tenant(ctx, by.event("noticeboard.notice-revised", n, map[string]string{"revision": strconv.Itoa(n.Revision)}))
		}
		from := now
		if d.PostingAt != nil {
			from = *d.PostingAt
		}
		if err := d.validate(from); err != nil {
			return err
		}
		d.apply(&n)
		n.PostingAt = d.PostingAt
		n.UpdatedAt = now
		st, err := s.store.Settings(ctx)
		if err != nil {
			return err
		}
		if st.ApprovalRequired && (n.State == StatePendingApproval || n.State == StateScheduled) {
			n.State, n.ApprovedBy, n.ApprovedAt = StateDraft, nil, nil
		}
		if n.State == StateScheduled && (n.PostingAt == nil || !n.PostingAt.After(now)) {
			// The planned time was cleared or moved into the past: it goes up now.
			out, err = s.post(ctx, by, n, now)
			return err
		}
		if n.State == StateScheduled {
			if err := s.schedulePost(ctx, n); err != nil {
				return err
			}
		}
		if err := s.store.Update(ctx, n); err != nil {
			return err
		}
		out = n
		return nil
	})
	return out, err
}

// Submit asks for approval (when the tenant requires it).
func (s *Service) Submit(ctx context.Context, by Actor, id uuid.UUID) (Notice, error) {
	var out Notice
	err := s.locked(ctx, id, func(ctx context.Context, n Notice) error {
		if n.State != StateDraft {
			return fmt.Errorf("%w: only a draft can be submitted for approval", modules.ErrConflict)
		}
		n.State, n.UpdatedAt = StatePendingApproval, s.nowUTC()
		if err := s.store.Update(ctx, n); err != nil {
			return err
		}
		out = n
		return s.audit.Tenant(ctx, by.event("noticeboard.notice-submitted", n, nil))
	})
	return out, err
}

// Approve approves a notice waiting for approval and sends it on to be posted as planned. The
// approver is never the author: the point of the step is a second pair of eyes.
func (s *Service) Approve(ctx context.Context, by Actor, id uuid.UUID) (Notice, error) {
	var out Notice
	err := s.locked(ctx, id, func(ctx context.Context, n Notice) error {
		if n.State != StatePendingApproval {
			return fmt.Errorf("%w: the notice is not waiting for approval", modules.ErrConflict)
		}
		if n.AuthorID == by.UserID {
			return fmt.Errorf("%w: a notice must be approved by someone other than its author", modules.ErrForbidden)
		}
		now := s.nowUTC()
		uid := by.UserID
		n.ApprovedBy, n.ApprovedAt = &uid, &now
		if err := s.audit.Tenant(ctx, by.event("noticeboard.notice-approved", n, nil)); err != nil {
			return err
		}
		var err error
		out, err = s.release(ctx, by, n, now)
		return err
	})
	return out, err
}

// Publish posts a notice now, or schedules it for its posting time. Where approval is
// required, only an approved notice gets this far (Approve releases it).
func (s *Service) Publish(ctx context.Context, by Actor, id uuid.UUID) (Notice, error) {
	var out Notice
	err := s.locked(ctx, id, func(ctx context.Context, n Notice) error {
		if n.State != StateDraft {
			return fmt.Errorf("%w: only a draft can be published", modules.ErrConflict)
		}
		st, err := s.store.Settings(ctx)
		if err != nil {
			return err
		}
		if st.ApprovalRequired {
			return fmt.Errorf("%w: this board requires approval; submit the notice for approval", modules.ErrConflict)
		}
		out, err = s.release(ctx, by, n, s.nowUTC())
		return err
	})
	return out, err
}

// locked runs fn on notice id in one tenant transaction, the notice's row locked against
// concurrent changes until the commit.
func (s *Service) locked(ctx context.Context, id uuid.UUID, fn func(ctx context.Context, n Notice) error) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		n, err := s.store.Get(ctx, id, true)
		if err != nil {
			return err
		}
		return fn(ctx, n)
	})
}

// release posts n now if its time has come, or schedules it.
func (s *Service) release(ctx context.Context, by Actor, n Notice, now time.Time) (Notice, error) {
	if n.PostingAt != nil && n.PostingAt.After(now) {
		if n.RelevantUntil != nil && !n.RelevantUntil.After(*n.PostingAt) {
			return Notice{}, &modules.InvalidError{Fields: []modules.FieldError{{Field: "/relevantUntil",
				CS: "Sejmutí musí být později než vyvěšení.", EN: "The take-down must come after the posting."}}}
		}
		n.State, n.UpdatedAt = StateScheduled, now
		if err := s.store.Update(ctx, n); err != nil {
			return Notice{}, err
		}
		if err := s.schedulePost(ctx, n); err != nil {
			return Notice{}, err
		}
		return n, s.audit.Tenant(ctx, by.event("noticeboard.notice-scheduled", n,
			map[string]string{"postingAt": n.PostingAt.Format(time.RFC3339)}))
	}
	if n.RelevantUntil != nil && !n.RelevantUntil.After(now) {
		return Notice{}, &modules.InvalidError{Fields: []modules.FieldError{{Field: "/relevantUntil",
			CS: "Datum sejmutí už uplynulo.", EN: "The take-down time has passed."}}}
	}
	return s.post(ctx, by, n, now)
}

// post puts n on the board: its first revision is what hangs.
func (s *Service) post(ctx context.Context, by Actor, n Notice, now time.Time) (Notice, error) {
	n.State, n.PostedAt, n.Revision, n.UpdatedAt = StatePosted, &now, 1, now
	if n.PostingAt == nil {
		n.PostingAt = &now
	}
	if err := s.store.Update(ctx, n); err != nil {
		return Notice{}, err
	}
	if err := s.store.InsertRevision(ctx, revisionOf(n, by, "", now)); err != nil {
		return Notice{}, err
	}
	if err := s.scheduleTakeDown(ctx, n); err != nil {
		return Notice{}, err
	}
	if err := enqueueNotify(ctx, n.ID); err != nil { // mail the subscribers
		return Notice{}, err
	}
	return n, s.audit.Tenant(ctx, by.event("noticeboard.notice-posted", n, nil))
}

func revisionOf(n Notice, by Actor, note string, at time.Time) Revision {
	var creator *uuid.UUID
	if by.UserID != uuid.Nil {
		id := by.UserID
		creator = &id
	}
	return Revision{NoticeID: n.ID, Revision: n.Revision, Title: n.Title, Body: n.Body, Category: n.Category,
		Origin: n.Origin, OriginName: n.OriginName, ReferenceNumber: n.ReferenceNumber, FileMark: n.FileMark,
		RelevantUntil: n.RelevantUntil, Attachments: n.Attachments, Note: note, CreatedAt: at, CreatedBy: creator}
}

// TakeDown takes a posted notice down before its time; the reason is recorded and shown.
func (s *Service) TakeDown(ctx context.Context, by Actor, id uuid.UUID, reason string) (Notice, error) {
	reason = singleLine(reason)
	if reason == "" || utf8.RuneCountInString(reason) > maxNote {
		return Notice{}, &modules.InvalidError{Fields: []modules.FieldError{{Field: "/reason",
			CS: "Uveďte důvod sejmutí (nejvýše 1000 znaků).", EN: "Give the reason for taking it down (at most 1000 characters)."}}}
	}
	var out Notice
	err := s.locked(ctx, id, func(ctx context.Context, n Notice) error {
		if n.State != StatePosted {
			return fmt.Errorf("%w: only a posted notice can be taken down", modules.ErrConflict)
		}
		var err error
		out, err = s.takeDown(ctx, by, n, reason)
		return err
	})
	return out, err
}

func (s *Service) takeDown(ctx context.Context, by Actor, n Notice, reason string) (Notice, error) {
	now := s.nowUTC()
	n.State, n.TakenDownAt, n.TakeDownReason, n.UpdatedAt = StateArchived, &now, reason, now
	if err := s.store.Update(ctx, n); err != nil {
		return Notice{}, err
	}
	details := map[string]string{}
	if reason != "" {
		details["reason"] = reason
	}
	return n, s.audit.Tenant(ctx, by.event("noticeboard.notice-taken-down", n, details))
}

// PostDue posts notice id if it is scheduled and its time has come; otherwise it does
// nothing (a task can arrive early, late or twice).
func (s *Service) PostDue(ctx context.Context, id uuid.UUID) (bool, error) {
	done := false
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		n, err := s.store.Get(ctx, id, true)
		if errors.Is(err, modules.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.nowUTC()
		if n.State != StateScheduled || n.PostingAt == nil || n.PostingAt.After(now) {
			return nil
		}
		_, err = s.post(ctx, system(), n, now)
		done = err == nil
		return err
	})
	return done, err
}

// TakeDownDue takes notice id down if it is posted and its take-down time has come.
func (s *Service) TakeDownDue(ctx context.Context, id uuid.UUID) (bool, error) {
	done := false
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		n, err := s.store.Get(ctx, id, true)
		if errors.Is(err, modules.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if n.State != StatePosted || n.RelevantUntil == nil || n.RelevantUntil.After(s.nowUTC()) {
			return nil
		}
		_, err = s.takeDown(ctx, system(), n, "")
		done = err == nil
		return err
	})
	return done, err
}

// Sweep posts and takes down everything of the tenant whose time has come: the safety net
// under the per-notice tasks, run every minute.
func (s *Service) Sweep(ctx context.Context) (posted, takenDown int, err error) {
	post, down, err := s.store.Due(ctx, s.nowUTC())
	if err != nil {
		return 0, 0, err
	}
	for _, id := range post {
		ok, err := s.PostDue(ctx, id)
		if err != nil {
			return posted, takenDown, err
		}
		if ok {
			posted++
		}
	}
	for _, id := range down {
		ok, err := s.TakeDownDue(ctx, id)
		if err != nil {
			return posted, takenDown, err
		}
		if ok {
			takenDown++
		}
	}
	return posted, takenDown, nil
}

// AddAttachment stores a document of a notice. The type is sniffed from the content and must
// agree with the name's extension; empty, oversized and unknown files are refused with
// nothing stored. An attachment added to a posted notice makes a new revision.
func (s *Service) AddAttachment(ctx context.Context, by Actor, noticeID uuid.UUID, name string, content []byte) (Attachment, error) {
	name = singleLine(name)
	field := "file"
	inv := &modules.InvalidError{}
	typ, known := sniff(content)
	switch {
	case !files.ValidName(name):
		inv.Add(field, "Soubor musí mít název (nejvýše 255 znaků).", "The file needs a name (at most 255 characters).")
	case len(content) == 0:
		inv.Add(field, "Soubor je prázdný.", "The file is empty.")
	case int64(len(content)) > s.maxBytes:
		inv.Add(field, fmt.Sprintf("Soubor je větší než povolených %d MB.", s.maxBytes>>20),
			fmt.Sprintf("The file is larger than the allowed %d MB.", s.maxBytes>>20))
	case !known:
		inv.Add(field, "Tento typ souboru nelze přiložit (povoleno: "+allowedTypesText+").",
			"This type of file cannot be attached (allowed: "+allowedTypesText+").")
	case !extensionMatches(name, typ):
		inv.Add(field, "Přípona názvu souboru neodpovídá jeho obsahu ("+typ.Name+").",
			"The file name's extension does not match its content ("+typ.Name+").")
	}
	if err := inv.Err(); err != nil {
		return Attachment{}, err
	}
	var out Attachment
	err := s.locked(ctx, noticeID, func(ctx context.Context, n Notice) error {
		if n.State == StateArchived {
			return fmt.Errorf("%w: a taken-down notice cannot change", modules.ErrConflict)
		}
		f, err := s.files.Put(ctx, name, typ.ContentType, bytes.NewReader(content))
		if err != nil {
			return err
		}
		now := s.nowUTC()
		out = Attachment{ID: f.ID, NoticeID: noticeID, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
			SHA256: f.SHA256[:], CreatedAt: now}
		if err := s.store.InsertAttachment(ctx, out); err != nil {
			return err
		}
		if n.State != StatePosted {
			return s.unapprove(ctx, n, now)
		}
		n.Attachments = append(n.Attachments, out)
		n.Revision++
		n.UpdatedAt = now
		if err := s.store.Update(ctx, n); err != nil {
			return err
		}
		if err := s.store.InsertRevision(ctx, revisionOf(n, by, "Přidána příloha "+out.Name, now)); err != nil {
			return err
		}
		return s.audit.Tenant(ctx, by.event("noticeboard.notice-revised", n, map[string]string{
			"revision": strconv.Itoa(n.Revision), "attachment": out.Name}))
	})
	return out, err
}

// RemoveAttachment deletes an attachment of a notice that has not been posted yet; once
// posted, what hung must stay provable, so documents are only ever added.
func (s *Service) RemoveAttachment(ctx context.Context, by Actor, noticeID, id uuid.UUID) error {
	return s.locked(ctx, noticeID, func(ctx context.Context, n Notice) error {
		if n.Revision > 0 || (n.State != StateDraft && n.State != StatePendingApproval && n.State != StateScheduled) {
			return fmt.Errorf("%w: attachments of a posted notice stay; add a corrected one instead", modules.ErrConflict)
		}
		if err := s.store.DeleteAttachment(ctx, noticeID, id); err != nil {
			return err
		}
		if err := s.files.Delete(ctx, id); err != nil {
			return err
		}
		return s.unapprove(ctx, n, s.nowUTC())
	})
}

// unapprove returns a notice waiting for approval, or approved and scheduled, to draft when
// the board requires approval: its documents changed after the approver saw them.
func (s *Service) unapprove(ctx context.Context, n Notice, now time.Time) error {
	if n.State != StatePendingApproval && n.State != StateScheduled {
		return nil
	}
	st, err := s.store.Settings(ctx)
	if err != nil || !st.ApprovalRequired {
		return err
	}
	n.State, n.ApprovedBy, n.ApprovedAt, n.UpdatedAt = StateDraft, nil, nil, now
	return s.store.Update(ctx, n)
}

// OpenAttachment returns an attachment and its content.
func (s *Service) OpenAttachment(ctx context.Context, noticeID, id uuid.UUID) (Attachment, io.ReadCloser, error) {
	a, err := s.store.Attachment(ctx, noticeID, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	_, rc, err := s.files.Open(ctx, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	return a, rc, nil
}

// Revisions lists a notice's revisions (not found for another tenant's notice).
func (s *Service) Revisions(ctx context.Context, noticeID uuid.UUID) ([]Revision, error) {
	if _, err := s.store.Get(ctx, noticeID, false); err != nil {
		return nil, err
	}
	return s.store.Revisions(ctx, noticeID)
}

// Revision returns one revision.
func (s *Service) Revision(ctx context.Context, noticeID uuid.UUID, rev int) (Revision, error) {
	return s.store.Revision(ctx, noticeID, rev)
}

// Settings returns the board's settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) { return s.store.Settings(ctx) }

// PutSettings saves the board's settings and records the change.
func (s *Service) PutSettings(ctx context.Context, by Actor, st Settings) (Settings, error) {
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.PutSettings(ctx, st, by.UserID, s.nowUTC()); err != nil {
			return err
		}
		e := audit.Event{Actor: by.Email, IP: by.IP, Action: "noticeboard.settings-changed", Target: "noticeboard.settings",
			Details: map[string]string{"approvalRequired": strconv.FormatBool(st.ApprovalRequired)}}
		if by.UserID != uuid.Nil {
			id := by.UserID
			e.ActorID = &id
		}
		return s.audit.Tenant(ctx, e)
	})
	if err != nil {
		return Settings{}, err
	}
	return s.store.Settings(ctx)
}

// schedulePost hands the posting to the background at the minute it is due. The key makes
// one task per notice and time; a changed time adds another, and the one that finds the
// notice not due does nothing.
func (s *Service) schedulePost(ctx context.Context, n Notice) error {
	if n.PostingAt == nil {
		return nil
	}
	return enqueueAt(ctx, taskPost, n.ID, *n.PostingAt)
}

func (s *Service) scheduleTakeDown(ctx context.Context, n Notice) error {
	if n.RelevantUntil == nil {
		return nil
	}
	return enqueueAt(ctx, taskTakeDown, n.ID, *n.RelevantUntil)
}

func enqueueAt(ctx context.Context, typ string, id uuid.UUID, at time.Time) error {
	t, err := jobs.NewTask(typ, taskPayload{Notice: id})
	if err != nil {
		return err
	}
	t.At = at
	t.Queue = jobs.QueueCritical
	t.Key = fmt.Sprintf("%s:%s:%d", typ, id, at.Unix())
	if _, err := jobs.Enqueue(ctx, t); err != nil && !errors.Is(err, jobs.ErrDuplicate) {
		return fmt.Errorf("schedule %s: %w", typ, err)
	}
	return nil
}
