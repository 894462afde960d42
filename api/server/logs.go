package server

import (
	"context"
	"errors"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// The logs a tenant admin reads: what epom mailed on the municipality's behalf, and the
// security audit log.

func mailEntryBody(e email.Entry) gen.MailLogEntry {
	return gen.MailLogEntry{
		Id: openapi_types.UUID(e.ID), CreatedAt: e.CreatedAt, Template: e.Template, Lang: e.Lang, Ref: e.Ref,
		To: e.ToAddress, ToName: optional(e.ToName), FromName: optional(e.FromName), ReplyTo: optional(e.ReplyTo),
		Subject: e.Subject, Status: gen.MailLogEntryStatus(e.Status), Attempts: e.Attempts, SentAt: e.SentAt,
		MessageId: optional(e.MessageID), LastError: optional(e.LastError),
	}
}

// ListMailLog implements listMailLog.
func (k *Kernel) ListMailLog(ctx context.Context, req gen.ListMailLogRequestObject) (gen.ListMailLogResponseObject, error) {
	f := email.LogFilter{To: deref(req.Params.To), Ref: deref(req.Params.Ref), Limit: 50}
	if req.Params.Status != nil {
		f.Status = string(*req.Params.Status)
	}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	if req.Params.Offset != nil {
		f.Offset = *req.Params.Offset
	}
	entries, total, err := k.Mail.Log(ctx, f)
	if err != nil {
		return nil, err
	}
	items := make([]gen.MailLogEntry, 0, len(entries))
	for _, e := range entries {
		items = append(items, mailEntryBody(e))
	}
	return gen.ListMailLog200JSONResponse{Items: items, Total: int(total)}, nil
}

// GetMailLogEntry implements getMailLogEntry.
func (k *Kernel) GetMailLogEntry(ctx context.Context, req gen.GetMailLogEntryRequestObject) (gen.GetMailLogEntryResponseObject, error) {
	e, err := k.Mail.Get(ctx, req.Id)
	if errors.Is(err, email.ErrNotFound) {
		return nil, problem.New(problem.NotFound, "No such message in this municipality's mail log.")
	}
	if err != nil {
		return nil, err
	}
	body := mailEntryBody(e)
	return gen.GetMailLogEntry200JSONResponse{
		Id: body.Id, CreatedAt: body.CreatedAt, Template: body.Template, Lang: body.Lang, Ref: body.Ref, To: body.To,
		ToName: body.ToName, FromName: body.FromName, ReplyTo: body.ReplyTo, Subject: body.Subject,
		Status: gen.MailLogMessageStatus(body.Status), Attempts: body.Attempts, SentAt: body.SentAt,
		MessageId: body.MessageId, LastError: body.LastError,
		// members: the admin who reads the log must not be able to accept an invitation in
		// the invitee's name.
		TextBody: identity.RedactInvitationLinks(e.TextBody), HtmlBody: identity.RedactInvitationLinks(e.HTMLBody),
	}, nil
}

// ListAuditLog implements listAuditLog.
func (k *Kernel) ListAuditLog(ctx context.Context, req gen.ListAuditLogRequestObject) (gen.ListAuditLogResponseObject, error) {
	limit := 50
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	entries, err := k.Audit.Recent(ctx, limit)
	if err != nil {
		return nil, err
	}
	items := make([]gen.AuditEntry, 0, len(entries))
	for _, e := range entries {
		details := e.Details
		if details == nil {
			details = map[string]string{}
		}
		items = append(items, gen.AuditEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Ip: e.IP, Action: e.Action,
			Target: e.Target, Details: details})
	}
	return gen.ListAuditLog200JSONResponse{Items: items}, nil
}
