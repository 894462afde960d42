package noticeboard

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/server"
	"github.com/epom-cz/epom/internal/calendar"
	"github.com/epom-cz/epom/modules"
)

// API implements the board's operations of the API spec; cmd/epom embeds it beside the
// kernel's handlers. Errors go back as the service returns them; api/problem maps them.
type API struct {
	svc    *Service
	prague *time.Location
	cal    *calendar.Calendar // legal dates
}

// NewAPI returns the handlers over svc; prague is Europe/Prague, where the filters' days
// begin and end.
func NewAPI(svc *Service, prague *time.Location) *API {
	return &API{svc: svc, prague: prague, cal: mustCalendar()}
}

// errNoUser should not happen: the operations need a signed-in user and the server checks
// that before any handler runs.
var errNoUser = errors.New("noticeboard: no signed-in user")

func actor(ctx context.Context) (Actor, error) {
	u, c, ok := server.RequestUser(ctx)
	if !ok {
		return Actor{}, errNoUser
	}
	return Actor{UserID: u.ID, Email: u.Email, IP: c.IP}, nil
}

func attachmentOut(a Attachment) gen.NoticeAttachment {
	return gen.NoticeAttachment{Id: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size,
		Sha256: hex.EncodeToString(a.SHA256), CreatedAt: a.CreatedAt}
}

func attachmentsOut(as []Attachment) []gen.NoticeAttachment {
	out := make([]gen.NoticeAttachment, len(as))
	for i, a := range as {
		out[i] = attachmentOut(a)
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func noticeOut(n Notice) gen.Notice {
	return gen.Notice{Id: n.ID, State: gen.NoticeState(n.State), Title: n.Title, Body: n.Body,
		Category: gen.NoticeCategory(n.Category), Origin: gen.NoticeOrigin(n.Origin), OriginName: n.OriginName,
		ReferenceNumber: n.ReferenceNumber, FileMark: n.FileMark, PostingAt: n.PostingAt, RelevantUntil: n.RelevantUntil,
		PostedAt: n.PostedAt, TakenDownAt: n.TakenDownAt, TakeDownReason: optional(n.TakeDownReason), Revision: n.Revision,
		AuthorId: n.AuthorID, ApprovedBy: n.ApprovedBy, ApprovedAt: n.ApprovedAt, CreatedAt: n.CreatedAt,
		UpdatedAt: n.UpdatedAt, Attachments: attachmentsOut(n.Attachments)}
}

func revisionOut(r Revision) gen.NoticeRevision {
	return gen.NoticeRevision{Revision: r.Revision, Title: r.Title, Body: r.Body, Category: gen.NoticeCategory(r.Category),
		Origin: gen.NoticeRevisionOrigin(r.Origin), OriginName: r.OriginName, ReferenceNumber: r.ReferenceNumber,
		FileMark: r.FileMark, RelevantUntil: r.RelevantUntil, Attachments: attachmentsOut(r.Attachments), Note: r.Note,
		CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func draftIn(in *gen.NoticeInput) Draft {
	d := Draft{Title: in.Title, Body: deref(in.Body), Category: string(in.Category), OriginName: deref(in.OriginName),
		ReferenceNumber: deref(in.ReferenceNumber), FileMark: deref(in.FileMark), PostingAt: in.PostingAt,
		RelevantUntil: in.RelevantUntil, Note: deref(in.Note)}
	if in.Origin != nil {
		d.Origin = string(*in.Origin)
	}
	return d
}

// day is the start of a calendar day in Prague.
func (h *API) day(d openapi_types.Date, plus int) *time.Time {
	t := time.Date(d.Year(), d.Month(), d.Day()+plus, 0, 0, 0, 0, h.prague)
	return &t
}

// ListNotices implements listNotices.
func (h *API) ListNotices(ctx context.Context, req gen.ListNoticesRequestObject) (gen.ListNoticesResponseObject, error) {
	f := Filter{}
	p := req.Params
	if p.State != nil {
		f.State = string(*p.State)
	}
	if p.Category != nil {
		f.Category = string(*p.Category)
	}
	if p.Q != nil {
		f.Query = *p.Q
	}
	if p.From != nil {
		f.From = h.day(*p.From, 0)
	}
	if p.To != nil {
		f.To = h.day(*p.To, 1)
	}
	if p.Limit != nil {
		f.Limit = *p.Limit
	}
	if p.Offset != nil {
		f.Offset = *p.Offset
	}
	ns, total, err := h.svc.List(ctx, f)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Notice, len(ns))
	for i, n := range ns {
		n.Attachments = []Attachment{} // the list shows no documents; the detail does
		items[i] = h.noticeOut(n)
	}
	return gen.ListNotices200JSONResponse{Items: items, Total: total}, nil
}

// CreateNotice implements createNotice.
func (h *API) CreateNotice(ctx context.Context, req gen.CreateNoticeRequestObject) (gen.CreateNoticeResponseObject, error) {
	by, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.Create(ctx, by, draftIn(req.Body))
	if err != nil {
		return nil, err
	}
	return gen.CreateNotice201JSONResponse(h.noticeOut(n)), nil
}

// GetNotice implements getNotice.
func (h *API) GetNotice(ctx context.Context, req gen.GetNoticeRequestObject) (gen.GetNoticeResponseObject, error) {
	n, err := h.svc.Get(ctx, req.NoticeId)
	if err != nil {
		return nil, err
	}
	return gen.GetNotice200JSONResponse(h.noticeOut(n)), nil
}

// UpdateNotice implements updateNotice.
func (h *API) UpdateNotice(ctx context.Context, req gen.UpdateNoticeRequestObject) (gen.UpdateNoticeResponseObject, error) {
	by, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.Update(ctx, by, req.NoticeId, draftIn(req.Body))
	if err != nil {
		return nil, err
	}
	return gen.UpdateNotice200JSONResponse(h.noticeOut(n)), nil
}

// step runs one state change of a notice for the signed-in user.
func (h *API) step(ctx context.Context, id uuid.UUID, do func(context.Context, Actor, uuid.UUID) (Notice, error)) (gen.Notice, error) {
	by, err := actor(ctx)
	if err != nil {
		return gen.Notice{}, err
	}
	n, err := do(ctx, by, id)
	if err != nil {
		return gen.Notice{}, err
	}
	return h.noticeOut(n), nil
}

// SubmitNotice implements submitNotice.
func (h *API) SubmitNotice(ctx context.Context, req gen.SubmitNoticeRequestObject) (gen.SubmitNoticeResponseObject, error) {
	n, err := h.step(ctx, req.NoticeId, h.svc.Submit)
	if err != nil {
		return nil, err
	}
	return gen.SubmitNotice200JSONResponse(n), nil
}

// ApproveNotice implements approveNotice.
func (h *API) ApproveNotice(ctx context.Context, req gen.ApproveNoticeRequestObject) (gen.ApproveNoticeResponseObject, error) {
	n, err := h.step(ctx, req.NoticeId, h.svc.Approve)
	if err != nil {
		return nil, err
	}
	return gen.ApproveNotice200JSONResponse(n), nil
}

// PublishNotice implements publishNotice.
func (h *API) PublishNotice(ctx context.Context, req gen.PublishNoticeRequestObject) (gen.PublishNoticeResponseObject, error) {
	n, err := h.step(ctx, req.NoticeId, h.svc.Publish)
	if err != nil {
		return nil, err
	}
	return gen.PublishNotice200JSONResponse(n), nil
}

// TakeDownNotice implements takeDownNotice.
func (h *API) TakeDownNotice(ctx context.Context, req gen.TakeDownNoticeRequestObject) (gen.TakeDownNoticeResponseObject, error) {
	n, err := h.step(ctx, req.NoticeId, func(ctx context.Context, by Actor, id uuid.UUID) (Notice, error) {
		return h.svc.TakeDown(ctx, by, id, req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return gen.TakeDownNotice200JSONResponse(n), nil
}

// ListNoticeRevisions implements listNoticeRevisions.
func (h *API) ListNoticeRevisions(ctx context.Context, req gen.ListNoticeRevisionsRequestObject) (gen.ListNoticeRevisionsResponseObject, error) {
	revs, err := h.svc.Revisions(ctx, req.NoticeId)
	if err != nil {
		return nil, err
	}
	items := make([]gen.NoticeRevision, len(revs))
	for i, r := range revs {
		items[i] = revisionOut(r)
	}
	return gen.ListNoticeRevisions200JSONResponse{Items: items}, nil
}

// GetNoticeRevision implements getNoticeRevision.
func (h *API) GetNoticeRevision(ctx context.Context, req gen.GetNoticeRevisionRequestObject) (gen.GetNoticeRevisionResponseObject, error) {
	r, err := h.svc.Revision(ctx, req.NoticeId, req.Revision)
	if err != nil {
		return nil, err
	}
	return gen.GetNoticeRevision200JSONResponse(revisionOut(r)), nil
}

// UploadNoticeAttachment implements uploadNoticeAttachment: the first part named "file".
func (h *API) UploadNoticeAttachment(ctx context.Context, req gen.UploadNoticeAttachmentRequestObject) (gen.UploadNoticeAttachmentResponseObject, error) {
	by, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	missing := &modules.InvalidError{Fields: []modules.FieldError{{Field: "file", CS: "Vyberte soubor.", EN: "Choose a file."}}}
	if req.Body == nil {
		return nil, missing
	}
	for {
		part, err := req.Body.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, missing
		}
		if err != nil {
			return nil, &modules.InvalidError{Fields: []modules.FieldError{{Field: "file",
				CS: "Soubor se nepodařilo přijmout.", EN: "The file could not be read."}}}
		}
		if part.FormName() != "file" {
			continue
		}
		// The server has already bounded the body (x-max-body-bytes); one byte over the
		// service's limit is enough for it to say the file is too large.
		content, err := io.ReadAll(io.LimitReader(part, h.svc.MaxAttachmentBytes()+1))
		if err != nil {
			return nil, err
		}
		a, err := h.svc.AddAttachment(ctx, by, req.NoticeId, part.FileName(), content)
		if err != nil {
			return nil, err
		}
		return gen.UploadNoticeAttachment201JSONResponse(attachmentOut(a)), nil
	}
}

// DownloadNoticeAttachment implements downloadNoticeAttachment.
func (h *API) DownloadNoticeAttachment(ctx context.Context, req gen.DownloadNoticeAttachmentRequestObject) (gen.DownloadNoticeAttachmentResponseObject, error) {
	a, rc, err := h.svc.OpenAttachment(ctx, req.NoticeId, req.AttachmentId)
	if err != nil {
		return nil, err
	}
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})
	sum := hex.EncodeToString(a.SHA256)
	return gen.DownloadNoticeAttachment200AsteriskResponse{Body: rc, ContentLength: a.Size, ContentType: a.ContentType,
		Headers: gen.DownloadNoticeAttachment200ResponseHeaders{ContentDisposition: &disposition, XContentSHA256: &sum}}, nil
}

// DeleteNoticeAttachment implements deleteNoticeAttachment.
func (h *API) DeleteNoticeAttachment(ctx context.Context, req gen.DeleteNoticeAttachmentRequestObject) (gen.DeleteNoticeAttachmentResponseObject, error) {
	by, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.svc.RemoveAttachment(ctx, by, req.NoticeId, req.AttachmentId); err != nil {
		return nil, err
	}
	return gen.DeleteNoticeAttachment204Response{}, nil
}

// GetNoticeboardSettings implements getNoticeboardSettings.
func (h *API) GetNoticeboardSettings(ctx context.Context, _ gen.GetNoticeboardSettingsRequestObject) (gen.GetNoticeboardSettingsResponseObject, error) {
	st, err := h.svc.Settings(ctx)
	if err != nil {
		return nil, err
	}
	return gen.GetNoticeboardSettings200JSONResponse{ApprovalRequired: st.ApprovalRequired}, nil
}

// UpdateNoticeboardSettings implements updateNoticeboardSettings.
func (h *API) UpdateNoticeboardSettings(ctx context.Context, req gen.UpdateNoticeboardSettingsRequestObject) (gen.UpdateNoticeboardSettingsResponseObject, error) {
	by, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	st, err := h.svc.PutSettings(ctx, by, Settings{ApprovalRequired: req.Body.ApprovalRequired})
	if err != nil {
		return nil, err
	}
	return gen.UpdateNoticeboardSettings200JSONResponse{ApprovalRequired: st.ApprovalRequired}, nil
}
