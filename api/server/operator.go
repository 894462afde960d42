package server

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/onboarding"
)

// The regional operator's console (/api/v1/operator/{kraj}/…, authorized in the domain
// "kraj:<kraj>") and the public online subscription. The handlers translate; the work is in
// tenants/onboarding.

func operatorActor(ctx context.Context) onboarding.Actor {
	p, _ := principalFrom(ctx)
	return onboarding.Actor{ID: p.User.ID, Email: p.User.Email, Name: p.User.Name, IP: clientFrom(ctx).IP}
}

func operatorTenantBody(u onboarding.Usage) gen.OperatorTenant {
	mods := u.Modules
	if mods == nil {
		mods = []string{}
	}
	return gen.OperatorTenant{Id: u.ID, Slug: u.Slug, Name: u.DisplayName, KodObce: u.KodObce, KrajNuts: u.KrajNUTS,
		Status: gen.TenantStatus(u.Status), Modules: mods, Staff: u.Staff, CreatedAt: u.CreatedAt,
		StatusChangedAt: u.StatusChangedAt, LastSignInAt: u.LastSignIn}
}

func requestBody(q onboarding.Request) gen.SubscriptionRequest {
	mods := q.Modules
	if mods == nil {
		mods = []string{}
	}
	return gen.SubscriptionRequest{Id: q.ID, KodObce: q.KodObce, Municipality: q.Municipality, KrajNuts: q.KrajNUTS,
		Ico: q.ICO, ContactName: q.ContactName, Email: q.Email, Phone: optional(q.Phone), Modules: mods,
		Note: optional(q.Note), Status: gen.SubscriptionRequestStatus(q.Status), Reason: optional(q.Reason),
		CreatedAt: q.CreatedAt, DecidedAt: q.DecidedAt, TenantId: q.TenantID, TenantSlug: optional(q.TenantSlug)}
}

// OperatorListMunicipalities implements operatorListMunicipalities.
func (k *Kernel) OperatorListMunicipalities(ctx context.Context, req gen.OperatorListMunicipalitiesRequestObject) (gen.OperatorListMunicipalitiesResponseObject, error) {
	f := onboarding.MunicipalityFilter{Q: deref(req.Params.Q), Limit: 50}
	if req.Params.Status != nil {
		f.Status = string(*req.Params.Status)
	}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	if req.Params.Offset != nil {
		f.Offset = *req.Params.Offset
	}
	list, total, err := k.Onboarding.Municipalities(ctx, req.Kraj, f)
	if err != nil {
		return nil, err
	}
	items := make([]gen.OperatorMunicipality, 0, len(list))
	for _, m := range list {
		it := gen.OperatorMunicipality{KodObce: m.KodObce, Name: m.Name, Type: m.Type, Okres: m.Okres, Orp: m.ORP,
			Ico: optional(m.ICO), Population: m.Population, PendingRequest: m.PendingRequest}
		if m.TenantID != nil {
			it.Tenant = &gen.TenantSummary{Id: *m.TenantID, Slug: m.TenantSlug, Status: gen.TenantStatus(m.TenantStatus)}
		}
		items = append(items, it)
	}
	return gen.OperatorListMunicipalities200JSONResponse{Items: items, Total: total}, nil
}

// OperatorOnboardTenant implements operatorOnboardTenant.
func (k *Kernel) OperatorOnboardTenant(ctx context.Context, req gen.OperatorOnboardTenantRequestObject) (gen.OperatorOnboardTenantResponseObject, error) {
	b := req.Body
	res, err := k.Onboarding.Onboard(ctx, operatorActor(ctx), req.Kraj, onboarding.OnboardParams{
		KodObce: b.KodObce, Slug: deref(b.Slug), Modules: b.Modules, AdminEmail: b.AdminEmail, AdminName: b.AdminName})
	if err != nil && res.Tenant.ID == uuid.Nil {
		return nil, err
	}
	// The tenant exists even when the invitation failed: answer 201 and say so.
	if err != nil {
		slog.ErrorContext(ctx, "onboarding: the tenant was created but its first admin not invited", "err", err)
	}
	u, uerr := k.Onboarding.Tenant(ctx, req.Kraj, res.Tenant.ID)
	if uerr != nil {
		return nil, uerr
	}
	body := operatorTenantBody(u)
	body.AdminInvited = ptr(res.Invited)
	return gen.OperatorOnboardTenant201JSONResponse(body), nil
}

// OperatorGetTenant implements operatorGetTenant.
func (k *Kernel) OperatorGetTenant(ctx context.Context, req gen.OperatorGetTenantRequestObject) (gen.OperatorGetTenantResponseObject, error) {
	u, err := k.Onboarding.Tenant(ctx, req.Kraj, uuid.UUID(req.TenantId))
	if err != nil {
		return nil, err
	}
	return gen.OperatorGetTenant200JSONResponse(operatorTenantBody(u)), nil
}

// OperatorSetTenantModules implements operatorSetTenantModules.
func (k *Kernel) OperatorSetTenantModules(ctx context.Context, req gen.OperatorSetTenantModulesRequestObject) (gen.OperatorSetTenantModulesResponseObject, error) {
	u, err := k.Onboarding.SetModules(ctx, operatorActor(ctx), req.Kraj, uuid.UUID(req.TenantId), req.Body.Modules)
	if err != nil {
		return nil, err
	}
	return gen.OperatorSetTenantModules200JSONResponse(operatorTenantBody(u)), nil
}

// OperatorSetTenantStatus implements operatorSetTenantStatus.
func (k *Kernel) OperatorSetTenantStatus(ctx context.Context, req gen.OperatorSetTenantStatusRequestObject) (gen.OperatorSetTenantStatusResponseObject, error) {
	u, err := k.Onboarding.SetStatus(ctx, operatorActor(ctx), req.Kraj, uuid.UUID(req.TenantId),
		tenants.Status(req.Body.Status), deref(req.Body.Reason))
	if err != nil {
		return nil, err
	}
	return gen.OperatorSetTenantStatus200JSONResponse(operatorTenantBody(u)), nil
}

// OperatorListSubscriptionRequests implements operatorListSubscriptionRequests.
func (k *Kernel) OperatorListSubscriptionRequests(ctx context.Context, req gen.OperatorListSubscriptionRequestsRequestObject) (gen.OperatorListSubscriptionRequestsResponseObject, error) {
	status := ""
	if req.Params.Status != nil {
		status = string(*req.Params.Status)
	}
	list, err := k.Onboarding.Requests(ctx, req.Kraj, status)
	if err != nil {
		return nil, err
	}
	items := make([]gen.SubscriptionRequest, 0, len(list))
	for _, q := range list {
		items = append(items, requestBody(q))
	}
	return gen.OperatorListSubscriptionRequests200JSONResponse{Items: items}, nil
}

// OperatorApproveSubscriptionRequest implements operatorApproveSubscriptionRequest.
func (k *Kernel) OperatorApproveSubscriptionRequest(ctx context.Context, req gen.OperatorApproveSubscriptionRequestRequestObject) (gen.OperatorApproveSubscriptionRequestResponseObject, error) {
	slug := ""
	if req.Body != nil {
		slug = deref(req.Body.Slug)
	}
	q, err := k.Onboarding.Approve(ctx, operatorActor(ctx), req.Kraj, uuid.UUID(req.RequestId), slug)
	if err != nil {
		return nil, err
	}
	return gen.OperatorApproveSubscriptionRequest200JSONResponse(requestBody(q)), nil
}

// OperatorRejectSubscriptionRequest implements operatorRejectSubscriptionRequest.
func (k *Kernel) OperatorRejectSubscriptionRequest(ctx context.Context, req gen.OperatorRejectSubscriptionRequestRequestObject) (gen.OperatorRejectSubscriptionRequestResponseObject, error) {
	q, err := k.Onboarding.Reject(ctx, operatorActor(ctx), req.Kraj, uuid.UUID(req.RequestId), req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return gen.OperatorRejectSubscriptionRequest200JSONResponse(requestBody(q)), nil
}

// SubmitSubscriptionRequest implements submitSubscriptionRequest (public).
func (k *Kernel) SubmitSubscriptionRequest(ctx context.Context, req gen.SubmitSubscriptionRequestRequestObject) (gen.SubmitSubscriptionRequestResponseObject, error) {
	b := req.Body
	lang := "cs"
	if c := ginFrom(ctx); c != nil {
		lang = httpx.Lang(c.Request)
	}
	rc, err := k.Onboarding.Submit(ctx, onboarding.SubmitParams{ICO: b.Ico, ContactName: b.ContactName, Email: b.Email,
		Phone: deref(b.Phone), Modules: b.Modules, Note: deref(b.Note), Consent: b.Consent, Honeypot: deref(b.Website),
		IP: clientFrom(ctx).IP, Lang: lang})
	if err != nil {
		return nil, err
	}
	return gen.SubmitSubscriptionRequest201JSONResponse{Id: rc.ID, Municipality: rc.Municipality}, nil
}

// ginFrom returns the request's gin context (handlers receive it as ctx), or nil.
func ginFrom(ctx context.Context) *gin.Context {
	c, _ := ctx.(*gin.Context)
	return c
}
