package noticeboard

import (
	"context"
	"encoding/hex"

	"github.com/epom-cz/epom/api/gen"
)

// GetNoticePostingCertificate implements getNoticePostingCertificate. The legal dates come
// from the same legalDates as the notice detail, so the two never disagree.
func (h *API) GetNoticePostingCertificate(ctx context.Context, req gen.GetNoticePostingCertificateRequestObject) (gen.GetNoticePostingCertificateResponseObject, error) {
	c, err := h.svc.Certificate(ctx, req.NoticeId)
	if err != nil {
		return nil, err
	}
	n := c.Notice
	out := gen.GetNoticePostingCertificate200JSONResponse{NoticeId: n.ID, Title: n.Title,
		Category: gen.NoticeCategory(n.Category), Origin: gen.PostingCertificateOrigin(n.Origin), OriginName: n.OriginName,
		ReferenceNumber: n.ReferenceNumber, FileMark: n.FileMark, RevisionCount: n.Revision, PostedAt: *n.PostedAt,
		TakenDownAt: n.TakenDownAt, TakeDownReason: optional(n.TakeDownReason), RelevantUntil: n.RelevantUntil,
		Attachments: make([]gen.PostingCertificateAttachment, len(n.Attachments)), IssuedAt: c.IssuedAt,
		Evidence: gen.PostingEvidence{Days: c.Evidence.Days, ChainIntact: c.Evidence.ChainIntact}}
	out.Municipality.Name, out.Municipality.Ico = c.MunicipalityName, optional(c.ICO)
	if ld, ok := legalDates(h.cal, n, h.prague); ok {
		out.DeliveredOn, out.EarliestTakeDownOn = *dateOut(ld.DeliveredOn), *dateOut(ld.EarliestTakeDown)
		out.DeliveredOnRestDay = optional(ld.DeliveredOnRestDay)
	}
	for i, a := range n.Attachments {
		out.Attachments[i] = gen.PostingCertificateAttachment{Name: a.Name, Size: a.Size, Sha256: hex.EncodeToString(a.SHA256)}
	}
	if ev := c.Evidence; ev.Days > 0 {
		out.Evidence.FirstDay, out.Evidence.LastDay = dateOut(*ev.FirstDay), dateOut(*ev.LastDay)
		out.Evidence.LatestHash = optional(hex.EncodeToString(ev.LatestHash))
	}
	return out, nil
}
