package noticeboard

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
)

// Store reads and writes the board's tables for the tenant in the context. Every method runs
// in the caller's tenants.InTx, or opens its own; row-level security confines it to the
// tenant even where a query forgot its tenant_id.
type Store struct {
	db       *tenants.Database
	onChange func(context.Context, uuid.UUID) // after a commit that changed the public board
}

// NewStore returns the store over the app role's database.
func NewStore(db *tenants.Database) *Store { return &Store{db: db} }

// InTx runs fn in one tenant transaction (joining the caller's).
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.inTx(ctx, fn) // invalidates the public cache after the commit
}

const noticeColumns = `id, state, title, body, category, origin, origin_name, reference_number, file_mark,
	posting_at, relevant_until, posted_at, taken_down_at, take_down_reason, revision, author_id,
	approved_by, approved_at, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanNotice(r scanner, extra ...any) (Notice, error) {
	var n Notice
	var state string
	dest := append([]any{&n.ID, &state, &n.Title, &n.Body, &n.Category, &n.Origin, &n.OriginName,
		&n.ReferenceNumber, &n.FileMark, &n.PostingAt, &n.RelevantUntil, &n.PostedAt, &n.TakenDownAt,
		&n.TakeDownReason, &n.Revision, &n.AuthorID, &n.ApprovedBy, &n.ApprovedAt, &n.CreatedAt, &n.UpdatedAt}, extra...)
	if err := r.Scan(dest...); err != nil {
		return Notice{}, err
	}
	n.State = State(state)
	return n, nil
}

func notFound(what string, id uuid.UUID) error {
	return fmt.Errorf("%s %s: %w", what, id, modules.ErrNotFound)
}

// Insert writes a new notice.
func (s *Store) Insert(ctx context.Context, n Notice) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		err = tenants.DB(ctx).Exec(`INSERT INTO noticeboard_notices (tenant_id, `+noticeColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tid, n.ID, string(n.State), n.Title, n.Body, n.Category, n.Origin, n.OriginName, n.ReferenceNumber,
			n.FileMark, n.PostingAt, n.RelevantUntil, n.PostedAt, n.TakenDownAt, n.TakeDownReason, n.Revision,
			n.AuthorID, n.ApprovedBy, n.ApprovedAt, n.CreatedAt, n.UpdatedAt).Error
		if err != nil {
			return fmt.Errorf("insert notice: %w", err)
		}
		return nil
	})
}

// Update writes every mutable column of n.
func (s *Store) Update(ctx context.Context, n Notice) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		publicChange(ctx, n)
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		res := tenants.DB(ctx).Exec(`UPDATE noticeboard_notices SET state = ?, title = ?, body = ?, category = ?,
			origin = ?, origin_name = ?, reference_number = ?, file_mark = ?, posting_at = ?, relevant_until = ?,
			posted_at = ?, taken_down_at = ?, take_down_reason = ?, revision = ?, approved_by = ?, approved_at = ?,
			updated_at = ?
			WHERE tenant_id = ? AND id = ?`,
			string(n.State), n.Title, n.Body, n.Category, n.Origin, n.OriginName, n.ReferenceNumber, n.FileMark,
			n.PostingAt, n.RelevantUntil, n.PostedAt, n.TakenDownAt, n.TakeDownReason, n.Revision, n.ApprovedBy,
			n.ApprovedAt, n.UpdatedAt, tid, n.ID)
		if res.Error != nil {
			return fmt.Errorf("update notice: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return notFound("notice", n.ID)
		}
		return nil
	})
}

// Get returns the notice with its current attachments. forUpdate locks the row until the
// transaction ends, so concurrent state changes (a clerk and the posting job) serialise.
func (s *Store) Get(ctx context.Context, id uuid.UUID, forUpdate bool) (Notice, error) {
	var n Notice
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		q := `SELECT ` + noticeColumns + ` FROM noticeboard_notices WHERE tenant_id = ? AND id = ?`
		if forUpdate {
			q += ` FOR UPDATE`
		}
		n, err = scanNotice(tenants.DB(ctx).Raw(q, tid, id).Row())
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("notice", id)
		}
		if err != nil {
			return fmt.Errorf("read notice: %w", err)
		}
		n.Attachments, err = s.Attachments(ctx, id)
		return err
	})
	return n, err
}

// List returns one page of the tenant's notices, newest first, and how many match in all.
func (s *Store) List(ctx context.Context, f Filter) ([]Notice, int, error) {
	var out []Notice
	total := 0
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		where := []string{"tenant_id = ?"}
		args := []any{tid}
		if f.State != "" {
			where = append(where, "state = ?")
			args = append(args, f.State)
		}
		if f.Category != "" {
			where = append(where, "category = ?")
			args = append(args, f.Category)
		}
		where, args = searchWhere(f.Query, where, args) // search in the clerk's list
		const date = "COALESCE(posted_at, posting_at, created_at)"
		if f.From != nil {
			where = append(where, date+" >= ?")
			args = append(args, *f.From)
		}
		if f.To != nil {
			where = append(where, date+" < ?")
			args = append(args, *f.To)
		}
		limit := f.Limit
		if limit <= 0 || limit > 200 {
			limit = 50
		}
		args = append(args, limit, max(f.Offset, 0))
		rows, err := tenants.DB(ctx).Raw(`SELECT `+noticeColumns+`, count(*) OVER ()
			FROM noticeboard_notices WHERE `+strings.Join(where, " AND ")+`
			ORDER BY `+date+` DESC, id DESC LIMIT ? OFFSET ?`, args...).Rows()
		if err != nil {
			return fmt.Errorf("list notices: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNotice(rows, &total)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	return out, total, err
}

// Due returns the ids of scheduled notices whose posting time has come and of posted notices
// whose take-down time has come.
func (s *Store) Due(ctx context.Context, now time.Time) (post, takeDown []uuid.UUID, err error) {
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		rows, err := tenants.DB(ctx).Raw(`SELECT id, state FROM noticeboard_notices
			WHERE tenant_id = ? AND ((state = 'scheduled' AND posting_at <= ?) OR (state = 'posted' AND relevant_until <= ?))
			ORDER BY id`, tid, now, now).Rows()
		if err != nil {
			return fmt.Errorf("due notices: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id uuid.UUID
			var state string
			if err := rows.Scan(&id, &state); err != nil {
				return err
			}
			if State(state) == StateScheduled {
				post = append(post, id)
			} else {
				takeDown = append(takeDown, id)
			}
		}
		return rows.Err()
	})
	return post, takeDown, err
}

// InsertRevision records a version of a posted notice.
func (s *Store) InsertRevision(ctx context.Context, r Revision) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		atts := r.Attachments
		if atts == nil {
			atts = []Attachment{}
		}
		ab, err := json.Marshal(atts)
		if err != nil {
			return err
		}
		err = tenants.DB(ctx).Exec(`INSERT INTO noticeboard_revisions (tenant_id, notice_id, revision, title, body,
			category, origin, origin_name, reference_number, file_mark, relevant_until, attachments, note,
			created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tid, r.NoticeID, r.Revision, r.Title, r.Body, r.Category, r.Origin, r.OriginName, r.ReferenceNumber,
			r.FileMark, r.RelevantUntil, string(ab), r.Note, r.CreatedAt, r.CreatedBy).Error
		if err != nil {
			return fmt.Errorf("insert revision: %w", err)
		}
		return nil
	})
}

const revisionColumns = `notice_id, revision, title, body, category, origin, origin_name, reference_number,
	file_mark, relevant_until, attachments, note, created_at, created_by`

func scanRevision(r scanner) (Revision, error) {
	var v Revision
	var atts []byte
	if err := r.Scan(&v.NoticeID, &v.Revision, &v.Title, &v.Body, &v.Category, &v.Origin, &v.OriginName,
		&v.ReferenceNumber, &v.FileMark, &v.RelevantUntil, &atts, &v.Note, &v.CreatedAt, &v.CreatedBy); err != nil {
		return Revision{}, err
	}
	if err := json.Unmarshal(atts, &v.Attachments); err != nil {
		return Revision{}, fmt.Errorf("revision attachments: %w", err)
	}
	return v, nil
}

// Revisions lists a notice's revisions, oldest first.
func (s *Store) Revisions(ctx context.Context, noticeID uuid.UUID) ([]Revision, error) {
	var out []Revision
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		rows, err := tenants.DB(ctx).Raw(`SELECT `+revisionColumns+` FROM noticeboard_revisions
			WHERE tenant_id = ? AND notice_id = ? ORDER BY revision`, tid, noticeID).Rows()
		if err != nil {
			return fmt.Errorf("list revisions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanRevision(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// Revision returns one revision of a notice.
func (s *Store) Revision(ctx context.Context, noticeID uuid.UUID, rev int) (Revision, error) {
	var v Revision
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		v, err = scanRevision(tenants.DB(ctx).Raw(`SELECT `+revisionColumns+` FROM noticeboard_revisions
			WHERE tenant_id = ? AND notice_id = ? AND revision = ?`, tid, noticeID, rev).Row())
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revision %d of notice %s: %w", rev, noticeID, modules.ErrNotFound)
		}
		return err
	})
	return v, err
}

// InsertAttachment records an attachment whose file is already stored.
func (s *Store) InsertAttachment(ctx context.Context, a Attachment) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		err = tenants.DB(ctx).Exec(`INSERT INTO noticeboard_attachments (tenant_id, id, notice_id, name, content_type,
			size, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			tid, a.ID, a.NoticeID, a.Name, a.ContentType, a.Size, a.SHA256, a.CreatedAt).Error
		if err != nil {
			return fmt.Errorf("insert attachment: %w", err)
		}
		return nil
	})
}

const attachmentColumns = `id, notice_id, name, content_type, size, sha256, created_at`

// Attachments lists a notice's current attachments in upload order.
func (s *Store) Attachments(ctx context.Context, noticeID uuid.UUID) ([]Attachment, error) {
	out := []Attachment{}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		rows, err := tenants.DB(ctx).Raw(`SELECT `+attachmentColumns+` FROM noticeboard_attachments
			WHERE tenant_id = ? AND notice_id = ? AND removed_at IS NULL ORDER BY created_at, id`, tid, noticeID).Rows()
		if err != nil {
			return fmt.Errorf("list attachments: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a Attachment
			if err := rows.Scan(&a.ID, &a.NoticeID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.CreatedAt); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// Attachment returns one attachment of a notice, including one removed later (an earlier
// revision still shows it).
func (s *Store) Attachment(ctx context.Context, noticeID, id uuid.UUID) (Attachment, error) {
	var a Attachment
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		err = tenants.DB(ctx).Raw(`SELECT `+attachmentColumns+` FROM noticeboard_attachments
			WHERE tenant_id = ? AND notice_id = ? AND id = ?`, tid, noticeID, id).Row().
			Scan(&a.ID, &a.NoticeID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.CreatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("attachment", id)
		}
		return err
	})
	return a, err
}

// DeleteAttachment removes an attachment row (only ever of a notice never posted, which no
// revision refers to).
func (s *Store) DeleteAttachment(ctx context.Context, noticeID, id uuid.UUID) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		res := tenants.DB(ctx).Exec(`DELETE FROM noticeboard_attachments WHERE tenant_id = ? AND notice_id = ? AND id = ?`,
			tid, noticeID, id)
		if res.Error != nil {
			return fmt.Errorf("delete attachment: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return notFound("attachment", id)
		}
		return nil
	})
}

// Settings returns the board's settings (defaults when never saved).
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	var st Settings
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		err = tenants.DB(ctx).Raw(`SELECT approval_required, updated_at FROM noticeboard_settings WHERE tenant_id = ?`, tid).
			Row().Scan(&st.ApprovalRequired, &st.UpdatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return st, err
}

// PutSettings saves the board's settings.
func (s *Store) PutSettings(ctx context.Context, st Settings, by uuid.UUID, at time.Time) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		return tenants.DB(ctx).Exec(`INSERT INTO noticeboard_settings (tenant_id, approval_required, updated_at, updated_by)
			VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE
			SET approval_required = EXCLUDED.approval_required, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
			tid, st.ApprovalRequired, at, by).Error
	})
}

// PublicFilter selects what citizens see: notices on the board, or in its archive.
type PublicFilter struct {
	Archive  bool
	Category string
	Query    string // words that must all occur in the title, text or reference numbers
	Limit    int
	Offset   int
}

// PublicList returns one page of posted (or, for the archive, taken-down) notices, newest
// first, with their documents, and the total.
func (s *Store) PublicList(ctx context.Context, f PublicFilter) ([]Notice, int, error) {
	var out []Notice
	total := 0
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		state, order := StatePosted, "posted_at DESC, id DESC"
		if f.Archive {
			state, order = StateArchived, "taken_down_at DESC, id DESC"
		}
		where := []string{"tenant_id = ?", "state = ?"}
		args := []any{tid, string(state)}
		if f.Category != "" {
			where = append(where, "category = ?")
			args = append(args, f.Category)
		}
		where, args = searchWhere(f.Query, where, args)
		limit := f.Limit
		if limit <= 0 || limit > 100 {
			limit = 20
		}
		args = append(args, limit, max(f.Offset, 0))
		rows, err := tenants.DB(ctx).Raw(`SELECT `+noticeColumns+`, count(*) OVER ()
			FROM noticeboard_notices WHERE `+strings.Join(where, " AND ")+`
			ORDER BY `+order+` LIMIT ? OFFSET ?`, args...).Rows()
		if err != nil {
			return fmt.Errorf("public notices: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNotice(rows, &total)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return s.attachAll(ctx, out)
	})
	return out, total, err
}

// attachAll fills the current attachments of ns in one query.
func (s *Store) attachAll(ctx context.Context, ns []Notice) error {
	if len(ns) == 0 {
		return nil
	}
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, len(ns))
	index := make(map[uuid.UUID]int, len(ns))
	for i, n := range ns {
		ids[i] = n.ID.String()
		index[n.ID] = i
		ns[i].Attachments = []Attachment{}
	}
	rows, err := tenants.DB(ctx).Raw(`SELECT `+attachmentColumns+` FROM noticeboard_attachments
		WHERE tenant_id = ? AND notice_id = ANY(?::uuid[]) AND removed_at IS NULL ORDER BY created_at, id`,
		tid, "{"+strings.Join(ids, ",")+"}").Rows()
	if err != nil {
		return fmt.Errorf("attachments of notices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.ID, &a.NoticeID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.CreatedAt); err != nil {
			return err
		}
		if i, ok := index[a.NoticeID]; ok {
			ns[i].Attachments = append(ns[i].Attachments, a)
		}
	}
	return rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
