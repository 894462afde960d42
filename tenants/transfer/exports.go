package transfer

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/jobs"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// Task types of the exports a tenant admin requests in the app (module "core": allowed for
// every active tenant).
const (
	TaskExport        = "core:tenant.export"
	TaskExportCleanup = "core:tenant.export-cleanup"
)

// Statuses of a requested export. Expired is not stored: it is a done export whose archive
// has been deleted.
const (
	ExportQueued  = "queued"
	ExportRunning = "running"
	ExportDone    = "done"
	ExportFailed  = "failed"
	ExportExpired = "expired"
)

// Errors of Exports.
var (
	ErrExportNotFound = errors.New("export not found")
	// ErrExportInProgress means the tenant has an export queued or running already.
	ErrExportInProgress = errors.New("an export of this tenant is already in progress")
	// ErrExportNotReady means the archive is not (or no longer) there to download.
	ErrExportNotReady = errors.New("export archive not available")
)

// ExportJob is one export requested in the app.
type ExportJob struct {
	ID          uuid.UUID
	RequestedBy uuid.UUID
	RequestedAt time.Time
	Status      string
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Size        *int64
	SHA256      string // hex, when done
	ExpiresAt   *time.Time
	Error       string
	fileID      *uuid.UUID
}

// Mailer queues e-mail in the caller's tenant transaction (*email.Service).
type Mailer interface {
	Queue(ctx context.Context, msg email.Message) (uuid.UUID, error)
}

// ExportsConfig configures Exports.
type ExportsConfig struct {
	// BaseURL is the deployment's public URL, for the download link in the e-mail.
	BaseURL string
	// Retention is how long an archive can be downloaded [7 days].
	Retention time.Duration
	// CleanupCron is when expired archives are deleted, Europe/Prague [41 4 * * *].
	CleanupCron string
	Logger      *slog.Logger
}

// Exports runs the exports a tenant admin requests: Request records the request and enqueues
// the task in one transaction; the task (HandleExport, in the worker) streams the archive
// from Exporter straight into a temporary file of the tenant's files and e-mails the
// requester a link; Open streams it back for the download.
type Exports struct {
	db       *tenants.Database
	files    files.Store
	exporter *Exporter
	mailer   Mailer
	cfg      ExportsConfig
	now      func() time.Time
}

// NewExports returns the service. mailer may be nil where no task runs (the web server).
func NewExports(db *tenants.Database, store files.Store, exporter *Exporter, mailer Mailer, cfg ExportsConfig) *Exports {
	if cfg.Retention <= 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.CleanupCron == "" {
		cfg.CleanupCron = "41 4 * * *"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("component", "export")
	return &Exports{db: db, files: store, exporter: exporter, mailer: mailer, cfg: cfg, now: time.Now}
}

type exportPayload struct {
	Export uuid.UUID `json:"export"`
}

// Request records an export of the tenant in ctx for user and enqueues it. One export at a
// time per tenant: an export reads the whole tenant, and a second one meanwhile would only
// repeat the work.
func (x *Exports) Request(ctx context.Context, user uuid.UUID) (ExportJob, error) {
	job := ExportJob{ID: tenants.NewID(), RequestedBy: user, Status: ExportQueued}
	err := x.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		db := tenants.DB(ctx)
		// Serialise requests of one tenant so two clicks cannot both pass the check.
		if err := db.Exec(`SELECT pg_advisory_xact_lock(hashtext('epom-export:' || ?))`, tenantID.String()).Error; err != nil {
			return err
		}
		// An export still queued or running after six hours lost its task (three attempts of
		// at most an hour each, plus waiting); it must not block the tenant for good.
		var busy int64
		if err := db.Raw(`SELECT count(*) FROM tenant_exports WHERE tenant_id = ? AND status IN ('queued', 'running')
			AND requested_at > now() - interval '6 hours'`, tenantID).Row().Scan(&busy); err != nil {
			return err
		}
		if busy > 0 {
			return ErrExportInProgress
		}
		if err := db.Raw(`INSERT INTO tenant_exports (tenant_id, id, requested_by) VALUES (?, ?, ?) RETURNING requested_at`,
			tenantID, job.ID, user).Row().Scan(&job.RequestedAt); err != nil {
			return fmt.Errorf("record export: %w", err)
		}
		task, err := jobs.NewTask(TaskExport, exportPayload{Export: job.ID})
		if err != nil {
			return err
		}
		// Exports belong in the low queue (ADR 0003); an hour is far more than 1 GiB needs.
		task.Queue, task.MaxRetry, task.Timeout = jobs.QueueLow, 2, time.Hour
		_, err = jobs.Enqueue(ctx, task)
		return err
	})
	if err != nil {
		return ExportJob{}, fmt.Errorf("request export: %w", err)
	}
	return job, nil
}

const exportColumns = `id, requested_by, requested_at, status, started_at, finished_at, size, sha256, expires_at, error, file_id`

func scanExport(row interface{ Scan(...any) error }) (ExportJob, error) {
	var j ExportJob
	var sum []byte
	err := row.Scan(&j.ID, &j.RequestedBy, &j.RequestedAt, &j.Status, &j.StartedAt, &j.FinishedAt, &j.Size, &sum,
		&j.ExpiresAt, &j.Error, &j.fileID)
	if errors.Is(err, sql.ErrNoRows) {
		return ExportJob{}, ErrExportNotFound
	}
	if err != nil {
		return ExportJob{}, err
	}
	if sum != nil {
		j.SHA256 = hex.EncodeToString(sum)
	}
	if j.Status == ExportDone && j.fileID == nil {
		j.Status = ExportExpired
	}
	return j, nil
}

// Get returns an export of the tenant in ctx.
func (x *Exports) Get(ctx context.Context, id uuid.UUID) (ExportJob, error) {
	var j ExportJob
	err := x.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		j, err = scanExport(tenants.DB(ctx).Raw(`SELECT `+exportColumns+` FROM tenant_exports WHERE tenant_id = ? AND id = ?`,
			tenantID, id).Row())
		return err
	})
	if err != nil {
		return ExportJob{}, fmt.Errorf("export %s: %w", id, err)
	}
	return j, nil
}

// List returns the tenant's most recent exports, newest first.
func (x *Exports) List(ctx context.Context, limit int) ([]ExportJob, error) {
	var out []ExportJob
	err := x.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		rows, err := tenants.DB(ctx).Raw(`SELECT `+exportColumns+` FROM tenant_exports WHERE tenant_id = ?
			ORDER BY requested_at DESC LIMIT ?`, tenantID, limit).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j, err := scanExport(rows)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list exports: %w", err)
	}
	return out, nil
}

// Open returns a finished export and a reader of its archive.
func (x *Exports) Open(ctx context.Context, id uuid.UUID) (ExportJob, files.File, io.ReadCloser, error) {
	j, err := x.Get(ctx, id)
	if err != nil {
		return ExportJob{}, files.File{}, nil, err
	}
	if j.Status != ExportDone {
		return j, files.File{}, nil, fmt.Errorf("export %s is %s: %w", id, j.Status, ErrExportNotReady)
	}
	f, rc, err := x.files.Open(ctx, *j.fileID)
	if errors.Is(err, files.ErrNotFound) {
		return j, files.File{}, nil, fmt.Errorf("export %s: %w", id, ErrExportNotReady)
	}
	if err != nil {
		return j, files.File{}, nil, err
	}
	return j, f, rc, nil
}

// RegisterTasks registers the export and cleanup handlers.
func (x *Exports) RegisterTasks(mux *jobs.Mux) error {
	r := mux.Module(jobs.CoreModule)
	if err := r.Handle(TaskExport, x.HandleExport); err != nil {
		return err
	}
	return r.Handle(TaskExportCleanup, x.HandleCleanup)
}

// Periodic is the daily deletion of each tenant's expired archives.
func (x *Exports) Periodic() []jobs.PeriodicSpec {
	return []jobs.PeriodicSpec{{
		Name: TaskExportCleanup, Cron: x.cfg.CleanupCron, Queue: jobs.QueueLow, CatchUp: 24 * time.Hour,
		Task: func(uuid.UUID, time.Time) jobs.Task { return jobs.Task{Type: TaskExportCleanup, Payload: []byte(`{}`)} },
	}}
}

// HandleCleanup deletes the tenant's expired temporary files, export archives among them.
func (x *Exports) HandleCleanup(ctx context.Context, _ jobs.Delivery) error {
	n, err := x.files.DeleteExpired(ctx, x.now())
	if err != nil {
		return err
	}
	if n > 0 {
		x.cfg.Logger.InfoContext(ctx, "expired files deleted", "files", n)
	}
	return nil
}

// HandleExport writes a requested export. It is idempotent: a finished or failed export is
// left alone, and a run that died midway committed nothing (the archive and the done mark
// commit together), so running it again starts over.
func (x *Exports) HandleExport(ctx context.Context, d jobs.Delivery) error {
	var p exportPayload
	if err := d.Decode(&p); err != nil {
		return err
	}
	j, err := x.Get(ctx, p.Export)
	if errors.Is(err, ErrExportNotFound) {
		// A restored tenant's outbox can hold the task of an export that is not in the archive.
		x.cfg.Logger.WarnContext(ctx, "export task without its export", "export", p.Export)
		return nil
	}
	if err != nil {
		return err
	}
	if j.Status != ExportQueued && j.Status != ExportRunning {
		return nil
	}
	if err := x.update(ctx, j.ID, `status = 'running', started_at = ?`, x.now()); err != nil {
		return fmt.Errorf("mark export running: %w", err)
	}
	err = x.write(ctx, j)
	if err != nil && (d.Attempt >= d.MaxRetry || jobs.IsPermanent(err)) {
		x.cfg.Logger.ErrorContext(ctx, "export failed", "export", j.ID, "err", err)
		if ferr := x.update(ctx, j.ID, `status = 'failed', finished_at = ?, error = ?`,
			x.now(), "the export failed; try again or ask the operator"); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

// write streams the archive into a temporary file and, in the same transaction, marks the
// export done and queues the e-mail, so the requester is told exactly when the archive is
// there.
func (x *Exports) write(ctx context.Context, j ExportJob) error {
	t, _ := tenants.FromContext(ctx)
	expires := x.now().Add(x.cfg.Retention).Truncate(time.Second)
	name := fmt.Sprintf("epom-export-%s-%s.tar", t.Slug, x.now().Format("2006-01-02"))
	pr, pw := io.Pipe()
	exported := make(chan error, 1)
	go func() {
		// The exporter reads its own snapshot on its own connection while the store writes
		// on another; the pipe passes the archive between them a buffer at a time.
		_, err := x.exporter.Export(ctx, pw)
		pw.CloseWithError(err)
		exported <- err
	}()
	return x.db.InTx(ctx, func(ctx context.Context) error {
		f, err := x.files.PutTemporary(ctx, name, "application/x-tar", pr, expires)
		if err != nil {
			// Unblock the exporter if the store gave up first.
			pr.CloseWithError(fmt.Errorf("archive not stored: %w", err))
		}
		if xerr := <-exported; xerr != nil {
			return fmt.Errorf("export: %w", xerr)
		}
		if err != nil {
			return err
		}
		if err := x.update(ctx, j.ID, `status = 'done', finished_at = ?, file_id = ?, size = ?, sha256 = ?, expires_at = ?`,
			x.now(), f.ID, f.Size, f.SHA256[:], expires); err != nil {
			return err
		}
		return x.notify(ctx, t, j, f, expires)
	})
}

// update sets columns of an export of the tenant in ctx (in the caller's InTx, if any).
func (x *Exports) update(ctx context.Context, id uuid.UUID, set string, args ...any) error {
	err := x.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		return tenants.DB(ctx).Exec(`UPDATE tenant_exports SET `+set+` WHERE tenant_id = ? AND id = ?`,
			append(args, tenantID, id)...).Error
	})
	if err != nil {
		return fmt.Errorf("update export %s: %w", id, err)
	}
	return nil
}

// notify e-mails the requester the download link.
func (x *Exports) notify(ctx context.Context, t tenants.Tenant, j ExportJob, f files.File, expires time.Time) error {
	if x.mailer == nil {
		return nil
	}
	var to struct {
		Email, Name string
	}
	if err := tenants.DB(ctx).Raw(`SELECT email, name FROM users WHERE id = ? AND disabled_at IS NULL`, j.RequestedBy).
		Scan(&to).Error; err != nil {
		return fmt.Errorf("look up requester: %w", err)
	}
	if to.Email == "" {
		return nil // the account is gone or disabled; the export is still listed in the app
	}
	ref := t.Slug
	if ref == "" {
		ref = t.ID.String()
	}
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		loc = time.UTC
	}
	_, err = x.mailer.Queue(ctx, email.Message{
		To: to.Email, ToName: to.Name, Template: "notification", Lang: "cs",
		Ref: "tenant.export:" + j.ID.String(),
		Data: &mail.Notification{
			Title: "Export dat obce je připraven",
			Paragraphs: []string{
				"export všech dat obce, o který jste požádali, je připraven ke stažení.",
				fmt.Sprintf("Archiv má %.1f MiB a lze ho stáhnout do %s. Obsahuje osobní údaje: uložte ho zabezpečeně a smažte, až ho nebudete potřebovat.",
					float64(f.Size)/(1<<20), expires.In(loc).Format("2. 1. 2006 15:04")),
			},
			ActionURL:   fmt.Sprintf("%s/api/v1/tenants/%s/exports/%s/download", x.cfg.BaseURL, ref, j.ID),
			ActionLabel: "Stáhnout export",
			Note:        "Tuto zprávu jste dostali, protože jste v epom požádali o export dat obce. Odkaz funguje jen po přihlášení.",
		},
	})
	if err != nil {
		return fmt.Errorf("queue export e-mail: %w", err)
	}
	return nil
}
