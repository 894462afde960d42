package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/transfer"
)

// The tenant admin's data export (issue #6): the operations start an export in the
// background, report its status and stream the archive; tenants/transfer does the work.

func (k *Kernel) exportBody(ctx context.Context, j transfer.ExportJob) (gen.TenantExport, error) {
	out := gen.TenantExport{Id: openapi_types.UUID(j.ID), Status: gen.TenantExportStatus(j.Status),
		RequestedAt: j.RequestedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, Size: j.Size, ExpiresAt: j.ExpiresAt,
		Sha256: optional(j.SHA256), Error: optional(j.Error)}
	by := openapi_types.UUID(j.RequestedBy)
	out.RequestedBy = &by
	if j.Status == transfer.ExportDone {
		path, err := k.exportPath(ctx, j.ID)
		if err != nil {
			return gen.TenantExport{}, err
		}
		out.Download = ptr(path + "/download")
	}
	return out, nil
}

func (k *Kernel) exportPath(ctx context.Context, id uuid.UUID) (string, error) {
	t, err := k.current(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("/api/v1/tenants/%s/exports/%s", t.Slug, id), nil
}

// exportError maps the export service's errors to problems.
func exportError(err error) error {
	switch {
	case errors.Is(err, transfer.ErrExportNotFound):
		return problem.New(problem.NotFound, "No such export.")
	case errors.Is(err, transfer.ErrExportInProgress):
		return problem.New(problem.Conflict, "An export of this municipality is already in progress.")
	case errors.Is(err, transfer.ErrExportNotReady):
		return problem.New(problem.Conflict, "The export is not finished, failed or has expired.")
	}
	return err
}

// recordExport appends a tenant audit entry for what the signed-in user did with an export:
// taking all of a municipality's data out is a security event.
func (k *Kernel) recordExport(ctx context.Context, action string, id uuid.UUID) error {
	p, _ := principalFrom(ctx)
	return k.Audit.Tenant(ctx, audit.Event{ActorID: &p.User.ID, Actor: p.User.Email, IP: clientFrom(ctx).IP,
		Action: action, Target: "export:" + id.String()})
}

// ListTenantExports implements listTenantExports.
func (k *Kernel) ListTenantExports(ctx context.Context, _ gen.ListTenantExportsRequestObject) (gen.ListTenantExportsResponseObject, error) {
	list, err := k.Exports.List(ctx, 20)
	if err != nil {
		return nil, err
	}
	items := make([]gen.TenantExport, 0, len(list))
	for _, j := range list {
		b, err := k.exportBody(ctx, j)
		if err != nil {
			return nil, err
		}
		items = append(items, b)
	}
	return gen.ListTenantExports200JSONResponse{Items: items}, nil
}

// CreateTenantExport implements createTenantExport.
func (k *Kernel) CreateTenantExport(ctx context.Context, _ gen.CreateTenantExportRequestObject) (gen.CreateTenantExportResponseObject, error) {
	p, ok := principalFrom(ctx)
	if !ok {
		return nil, problem.New(problem.Unauthenticated, "")
	}
	j, err := k.Exports.Request(ctx, p.User.ID)
	if err != nil {
		return nil, exportError(err)
	}
	if err := k.recordExport(ctx, "export-requested", j.ID); err != nil {
		return nil, err
	}
	b, err := k.exportBody(ctx, j)
	if err != nil {
		return nil, err
	}
	loc, err := k.exportPath(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	return gen.CreateTenantExport202JSONResponse{Body: b, Headers: gen.CreateTenantExport202ResponseHeaders{Location: &loc}}, nil
}

// GetTenantExport implements getTenantExport.
func (k *Kernel) GetTenantExport(ctx context.Context, req gen.GetTenantExportRequestObject) (gen.GetTenantExportResponseObject, error) {
	j, err := k.Exports.Get(ctx, uuid.UUID(req.ExportId))
	if err != nil {
		return nil, exportError(err)
	}
	b, err := k.exportBody(ctx, j)
	if err != nil {
		return nil, err
	}
	return gen.GetTenantExport200JSONResponse(b), nil
}

// DownloadTenantExport implements downloadTenantExport: the archive streams from the files
// store a chunk at a time, checked against its SHA-256 on the way.
func (k *Kernel) DownloadTenantExport(ctx context.Context, req gen.DownloadTenantExportRequestObject) (gen.DownloadTenantExportResponseObject, error) {
	j, f, rc, err := k.Exports.Open(ctx, uuid.UUID(req.ExportId))
	if err != nil {
		return nil, exportError(err)
	}
	if err := k.recordExport(ctx, "export-downloaded", j.ID); err != nil {
		_ = rc.Close()
		return nil, err
	}
	// The server's write timeout is for API responses; an archive of a gigabyte needs longer
	// on a slow line. Allow 64 KiB/s, and never less than the usual two minutes.
	if c, ok := ctx.(*gin.Context); ok {
		_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(2*time.Minute + time.Duration(f.Size/(64<<10))*time.Second))
	}
	disposition := fmt.Sprintf(`attachment; filename="%s"`, f.Name)
	return gen.DownloadTenantExport200ApplicationxTarResponse{Body: rc, ContentLength: f.Size,
		Headers: gen.DownloadTenantExport200ResponseHeaders{ContentDisposition: &disposition, XContentSHA256: optional(j.SHA256)}}, nil
}
