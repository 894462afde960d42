package noticeboard

import (
	"context"

	"github.com/epom-cz/epom/api/gen"
)

// GetNoticeboardSubscribers implements getNoticeboardSubscribers: the count only, the clerk
// needs no addresses.
func (h *API) GetNoticeboardSubscribers(ctx context.Context, _ gen.GetNoticeboardSubscribersRequestObject) (gen.GetNoticeboardSubscribersResponseObject, error) {
	n, err := h.svc.SubscriberCount(ctx)
	if err != nil {
		return nil, err
	}
	return gen.GetNoticeboardSubscribers200JSONResponse{Confirmed: n}, nil
}
