package noticeboard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/calendar"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/jobs"
)

// Proof of posting (důkaz vyvěšení): a daily, immutable, hash-chained record of what hung
// on the board, so the municipality can prove what was posted when.

// SnapshotFormat names the layout of a snapshot's JSON; a changed layout gets a new name.
const SnapshotFormat = "epom.noticeboard.snapshot/1"

// snapshotAction is the audit action that anchors each day's hash in the audit chain.
const snapshotAction = "noticeboard.snapshot-taken"

// SnapshotContent is a snapshot's JSON. Its field order is fixed by the struct and notices
// and attachments are sorted, so the same board always gives the same bytes.
type SnapshotContent struct {
	Format  string           `json:"format"`
	Tenant  uuid.UUID        `json:"tenant"`
	Day     string           `json:"day"`
	TakenAt time.Time        `json:"takenAt"`
	Notices []SnapshotNotice `json:"notices"`
}

// SnapshotNotice is one notice as it hung: the revision on the board.
type SnapshotNotice struct {
	ID              uuid.UUID            `json:"id"`
	Revision        int                  `json:"revision"`
	Title           string               `json:"title"`
	ReferenceNumber string               `json:"referenceNumber"`
	PostedAt        time.Time            `json:"postedAt"`
	RelevantUntil   *time.Time           `json:"relevantUntil"`
	Attachments     []SnapshotAttachment `json:"attachments"`
}

// SnapshotAttachment is one document of a notice by its content hash.
type SnapshotAttachment struct {
	ID     uuid.UUID `json:"id"`
	Name   string    `json:"name"`
	SHA256 string    `json:"sha256"` // hex
}

// Snapshot is one day's stored record.
type Snapshot struct {
	Day           calendar.Date
	TakenAt       time.Time
	NoticeCount   int
	Content       []byte // canonical JSON
	ContentSHA256 []byte
	PrevHash      []byte
	Hash          []byte
}

// chainHash is a day's link: SHA-256(previous day's hash || SHA-256(content)).
func chainHash(prev, contentSum []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(contentSum)
	return h.Sum(nil)
}

// genesis is the previous hash of a tenant's first day.
func genesis() []byte { return make([]byte, sha256.Size) }

// TakeSnapshot records what hangs on the board now as the snapshot of day (a day in
// Prague). It is idempotent: if day already has a snapshot, that one is returned and
// created is false. The row and its audit entry commit together.
func (s *Service) TakeSnapshot(ctx context.Context, day calendar.Date) (snap Snapshot, created bool, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		// One writer per tenant chain: a second run of the same day waits, then finds it.
		if err := tenants.DB(ctx).Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`,
			"noticeboard_snapshots:"+tid.String()).Error; err != nil {
			return fmt.Errorf("lock snapshots: %w", err)
		}
		existing, err := s.store.Snapshot(ctx, day)
		if err == nil {
			snap = existing
			return nil
		}
		if !errors.Is(err, modules.ErrNotFound) {
			return err
		}
		prev, err := s.store.lastSnapshotHash(ctx)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		notices, err := s.store.hanging(ctx, now)
		if err != nil {
			return err
		}
		content, err := json.Marshal(SnapshotContent{Format: SnapshotFormat, Tenant: tid, Day: day.String(),
			TakenAt: now, Notices: notices})
		if err != nil {
			return err
		}
		sum := sha256.Sum256(content)
		snap = Snapshot{Day: day, TakenAt: now, NoticeCount: len(notices), Content: content,
			ContentSHA256: sum[:], PrevHash: prev, Hash: chainHash(prev, sum[:])}
		if err := s.store.insertSnapshot(ctx, snap); err != nil {
			return err
		}
		created = true
		return s.audit.Tenant(ctx, audit.Event{Actor: "system", Action: snapshotAction,
			Target: "noticeboard.snapshot:" + day.String(), Details: map[string]string{"day": day.String(),
				"hash": hex.EncodeToString(snap.Hash), "notices": fmt.Sprint(len(notices))}})
	})
	return snap, created, err
}

// Snapshots lists the tenant's snapshots, newest first, without their content.
func (s *Service) Snapshots(ctx context.Context) ([]Snapshot, error) { return s.store.Snapshots(ctx) }

// Snapshot returns one day's snapshot with its content.
func (s *Service) Snapshot(ctx context.Context, day calendar.Date) (Snapshot, error) {
	return s.store.Snapshot(ctx, day)
}

// ChainCheck is the result of verifying the snapshots.
type ChainCheck struct {
	Intact  bool
	Days    int
	Day     *calendar.Date // the first day found wrong
	Problem string         // in English, for the log and the API
}

// VerifySnapshots recomputes every day's hashes in order and compares each with the hash
// written to the audit log when the day was taken. It finds an altered content or hash, a
// day removed from the middle (the next day's link breaks) and a removed day of any
// position (its audit entry has no row).
func (s *Service) VerifySnapshots(ctx context.Context) (ChainCheck, error) {
	var out ChainCheck
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		snaps, err := s.store.snapshotsAsc(ctx)
		if err != nil {
			return err
		}
		anchors, err := s.store.snapshotAnchors(ctx)
		if err != nil {
			return err
		}
		out = ChainCheck{Intact: true, Days: len(snaps)}
		fail := func(d calendar.Date, problem string) {
			day := d
			out.Intact, out.Day, out.Problem = false, &day, problem
		}
		prev := genesis()
		seen := map[string]bool{}
		for _, sn := range snaps {
			seen[sn.Day.String()] = true
		}
		for _, sn := range snaps {
			sum := sha256.Sum256(sn.Content)
			switch {
			case !bytes.Equal(sum[:], sn.ContentSHA256):
				fail(sn.Day, "the content does not match its hash")
			case !bytes.Equal(sn.PrevHash, prev):
				fail(sn.Day, "the link to the previous day is broken (a day removed or altered)")
			case !bytes.Equal(chainHash(prev, sum[:]), sn.Hash):
				fail(sn.Day, "the day's hash is wrong")
			case anchors[sn.Day.String()] != "" && anchors[sn.Day.String()] != hex.EncodeToString(sn.Hash):
				fail(sn.Day, "the day's hash differs from the one in the audit log")
			}
			if !out.Intact {
				break
			}
			prev = sn.Hash
		}
		// A day the audit log knows but the table lacks; the earliest wrong day is reported.
		for day := range anchors {
			if !seen[day] {
				d, err := calendar.ParseDate(day)
				if err != nil {
					return err
				}
				if out.Intact || d.Before(*out.Day) {
					fail(d, "the audit log records a snapshot that is missing")
				}
			}
		}
		return nil
	})
	return out, err
}

// hanging returns the notices on the board at now, each as its current revision.
func (s *Store) hanging(ctx context.Context, now time.Time) ([]SnapshotNotice, error) {
	out := []SnapshotNotice{}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		rows, err := tenants.DB(ctx).Raw(`SELECT n.id, r.revision, r.title, r.reference_number, n.posted_at,
				r.relevant_until, r.attachments
			FROM noticeboard_notices n
			JOIN noticeboard_revisions r ON r.tenant_id = n.tenant_id AND r.notice_id = n.id AND r.revision = n.revision
			WHERE n.tenant_id = ? AND n.state = 'posted' AND n.posted_at <= ?
			ORDER BY n.posted_at, n.id`, tid, now).Rows()
		if err != nil {
			return fmt.Errorf("hanging notices: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var n SnapshotNotice
			var atts []byte
			if err := rows.Scan(&n.ID, &n.Revision, &n.Title, &n.ReferenceNumber, &n.PostedAt, &n.RelevantUntil, &atts); err != nil {
				return err
			}
			var as []Attachment
			if err := json.Unmarshal(atts, &as); err != nil {
				return fmt.Errorf("revision attachments: %w", err)
			}
			n.PostedAt = n.PostedAt.UTC()
			if n.RelevantUntil != nil {
				u := n.RelevantUntil.UTC()
				n.RelevantUntil = &u
			}
			n.Attachments = make([]SnapshotAttachment, len(as))
			for i, a := range as {
				n.Attachments[i] = SnapshotAttachment{ID: a.ID, Name: a.Name, SHA256: hex.EncodeToString(a.SHA256)}
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	return out, err
}

func (s *Store) insertSnapshot(ctx context.Context, sn Snapshot) error {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return err
	}
	err = tenants.DB(ctx).Exec(`INSERT INTO noticeboard_snapshots (tenant_id, day, taken_at, notice_count, content,
		content_sha256, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		tid, sn.Day.String(), sn.TakenAt, sn.NoticeCount, string(sn.Content), sn.ContentSHA256, sn.PrevHash, sn.Hash).Error
	if err != nil {
		return fmt.Errorf("insert snapshot: %w", err)
	}
	return nil
}

func (s *Store) lastSnapshotHash(ctx context.Context) ([]byte, error) {
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, err
	}
	var h []byte
	err = tenants.DB(ctx).Raw(`SELECT hash FROM noticeboard_snapshots WHERE tenant_id = ? ORDER BY day DESC LIMIT 1`, tid).
		Row().Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return genesis(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("last snapshot: %w", err)
	}
	return h, nil
}

const snapshotColumns = `to_char(day, 'YYYY-MM-DD'), taken_at, notice_count, content_sha256, prev_hash, hash`

func scanSnapshot(r scanner, extra ...any) (Snapshot, error) {
	var sn Snapshot
	var day string
	if err := r.Scan(append([]any{&day, &sn.TakenAt, &sn.NoticeCount, &sn.ContentSHA256, &sn.PrevHash, &sn.Hash}, extra...)...); err != nil {
		return Snapshot{}, err
	}
	d, err := calendar.ParseDate(day)
	if err != nil {
		return Snapshot{}, err
	}
	sn.Day = d
	return sn, nil
}

func (s *Store) listSnapshots(ctx context.Context, order string, withContent bool) ([]Snapshot, error) {
	out := []Snapshot{}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		cols := snapshotColumns
		if withContent {
			cols += ", content"
		}
		rows, err := tenants.DB(ctx).Raw(`SELECT `+cols+` FROM noticeboard_snapshots WHERE tenant_id = ? ORDER BY day `+order, tid).Rows()
		if err != nil {
			return fmt.Errorf("snapshots: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var content string
			var extra []any
			if withContent {
				extra = []any{&content}
			}
			sn, err := scanSnapshot(rows, extra...)
			if err != nil {
				return err
			}
			sn.Content = []byte(content)
			out = append(out, sn)
		}
		return rows.Err()
	})
	return out, err
}

// Snapshots lists the tenant's snapshots, newest first, without content.
func (s *Store) Snapshots(ctx context.Context) ([]Snapshot, error) {
	return s.listSnapshots(ctx, "DESC", false)
}

func (s *Store) snapshotsAsc(ctx context.Context) ([]Snapshot, error) {
	return s.listSnapshots(ctx, "ASC", true)
}

// Snapshot returns one day's snapshot with its content.
func (s *Store) Snapshot(ctx context.Context, day calendar.Date) (Snapshot, error) {
	var sn Snapshot
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tid, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		var content string
		sn, err = scanSnapshot(tenants.DB(ctx).Raw(`SELECT `+snapshotColumns+`, content FROM noticeboard_snapshots
			WHERE tenant_id = ? AND day = ?`, tid, day.String()).Row(), &content)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("snapshot of %s: %w", day, modules.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read snapshot: %w", err)
		}
		sn.Content = []byte(content)
		return nil
	})
	return sn, err
}

// snapshotAnchors are the days and hashes the audit log recorded when each day was taken.
func (s *Store) snapshotAnchors(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := tenants.DB(ctx).Raw(`SELECT details->>'day', details->>'hash' FROM tenant_audit_log
		WHERE tenant_id = ? AND action = ?`, tid, snapshotAction).Rows()
	if err != nil {
		return nil, fmt.Errorf("snapshot anchors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, hash sql.NullString
		if err := rows.Scan(&day, &hash); err != nil {
			return nil, err
		}
		if day.Valid {
			out[day.String] = hash.String
		}
	}
	return out, rows.Err()
}

// taskSnapshot takes the day's snapshot of one tenant's board.
const taskSnapshot = "noticeboard:snapshot"

type snapshotPayload struct {
	Day string `json:"day"` // YYYY-MM-DD in Prague
}

// handleSnapshot takes the snapshot of the payload's day (today in Prague without one).
func (m *Module) handleSnapshot(ctx context.Context, d jobs.Delivery) error {
	var p snapshotPayload
	if err := d.Decode(&p); err != nil {
		return err
	}
	day := calendar.DateOf(m.svc.now(), m.prague)
	if p.Day != "" {
		var err error
		if day, err = calendar.ParseDate(p.Day); err != nil {
			return fmt.Errorf("snapshot day: %w", err)
		}
	}
	_, _, err := m.svc.TakeSnapshot(ctx, day)
	return err
}

// snapshotSpec runs shortly after midnight in Prague (the scheduler reads cron there), so
// each day's snapshot shows the board as it hung when the day began.
func (m *Module) snapshotSpec() jobs.PeriodicSpec {
	return jobs.PeriodicSpec{
		Name:    taskSnapshot,
		Cron:    "5 0 * * *",
		Queue:   jobs.QueueDefault,
		CatchUp: 12 * time.Hour,
		Task: func(_ uuid.UUID, window time.Time) jobs.Task {
			payload, _ := json.Marshal(snapshotPayload{Day: calendar.DateOf(window, m.prague).String()})
			return jobs.Task{Type: taskSnapshot, Payload: payload, MaxRetry: 5, Timeout: 5 * time.Minute}
		},
	}
}

// demoSnapshot gives a demo board today's proof of posting, so the page is not empty before
// the first midnight.
func (m *Module) demoSnapshot(ctx context.Context, now time.Time) error {
	_, _, err := m.svc.TakeSnapshot(ctx, calendar.DateOf(now, m.prague))
	return err
}
