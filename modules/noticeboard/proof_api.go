package noticeboard

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/internal/calendar"
)

// mustCalendar is the Czech calendar; its rules are embedded, so an error is a broken build.
func mustCalendar() *calendar.Calendar {
	cal, err := calendar.New()
	if err != nil {
		panic(fmt.Sprintf("noticeboard: %v", err))
	}
	return cal
}

func dateOut(d calendar.Date) *openapi_types.Date {
	return &openapi_types.Date{Time: d.Start(time.UTC)}
}

// noticeOut is the notice with its legal dates (see DeliveryDates).
func (h *API) noticeOut(n Notice) gen.Notice {
	out := noticeOut(n)
	if ld, ok := legalDates(h.cal, n, h.prague); ok {
		out.DeliveredOn, out.EarliestTakeDownOn = dateOut(ld.DeliveredOn), dateOut(ld.EarliestTakeDown)
		out.DeliveredOnRestDay = optional(ld.DeliveredOnRestDay)
	}
	return out
}

func snapshotSummary(sn Snapshot) gen.NoticeboardSnapshotSummary {
	return gen.NoticeboardSnapshotSummary{Day: *dateOut(sn.Day), TakenAt: sn.TakenAt, NoticeCount: sn.NoticeCount,
		Hash: hex.EncodeToString(sn.Hash)}
}

// ListNoticeboardSnapshots implements listNoticeboardSnapshots: the days and the verdict of
// verifying their chain, so the clerk sees at once whether the record still proves anything.
func (h *API) ListNoticeboardSnapshots(ctx context.Context, _ gen.ListNoticeboardSnapshotsRequestObject) (gen.ListNoticeboardSnapshotsResponseObject, error) {
	snaps, err := h.svc.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	check, err := h.svc.VerifySnapshots(ctx)
	if err != nil {
		return nil, err
	}
	out := gen.ListNoticeboardSnapshots200JSONResponse{Items: make([]gen.NoticeboardSnapshotSummary, len(snaps)),
		ChainIntact: check.Intact, Problem: optional(check.Problem)}
	for i, sn := range snaps {
		out.Items[i] = snapshotSummary(sn)
	}
	if check.Day != nil {
		out.BrokenDay = dateOut(*check.Day)
	}
	return out, nil
}

// GetNoticeboardSnapshot implements getNoticeboardSnapshot.
func (h *API) GetNoticeboardSnapshot(ctx context.Context, req gen.GetNoticeboardSnapshotRequestObject) (gen.GetNoticeboardSnapshotResponseObject, error) {
	sn, err := h.svc.Snapshot(ctx, calendar.NewDate(req.Day.Year(), req.Day.Month(), req.Day.Day()))
	if err != nil {
		return nil, err
	}
	return gen.GetNoticeboardSnapshot200JSONResponse{Day: *dateOut(sn.Day), TakenAt: sn.TakenAt,
		NoticeCount: sn.NoticeCount, Hash: hex.EncodeToString(sn.Hash), PrevHash: hex.EncodeToString(sn.PrevHash),
		ContentSha256: hex.EncodeToString(sn.ContentSHA256), Content: string(sn.Content)}, nil
}
