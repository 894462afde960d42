package server

import (
	"context"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/api/gen"
	"github.com/epom-cz/epom/api/problem"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/identity"
)

// actor is the signed-in user of the request as the author of a change.
func actor(ctx context.Context) identity.Actor {
	p, _ := principalFrom(ctx)
	return identity.Actor{ID: &p.User.ID, Email: p.User.Email, IP: clientFrom(ctx).IP}
}

func roleStrings(rs []gen.TenantRole) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// SetMemberRoles implements setMemberRoles.
func (k *Kernel) SetMemberRoles(ctx context.Context, req gen.SetMemberRolesRequestObject) (gen.SetMemberRolesResponseObject, error) {
	m, err := k.Staff.SetRoles(ctx, uuid.UUID(req.UserId), roleStrings(req.Body.Roles), actor(ctx))
	if err != nil {
		return nil, err
	}
	return gen.SetMemberRoles200JSONResponse{UserId: m.ID, Email: m.Email, Name: m.Name, Roles: m.Roles}, nil
}

// ResetMemberMfa implements resetMemberMfa.
func (k *Kernel) ResetMemberMfa(ctx context.Context, req gen.ResetMemberMfaRequestObject) (gen.ResetMemberMfaResponseObject, error) {
	p, _ := principalFrom(ctx)
	// Weakening a person's sign-in needs a person who answers for it, not a machine credential.
	if p.APIToken != nil {
		return nil, problem.New(problem.TokenNotAllowed, "Resetting two-factor sign-in needs a signed-in person, not an API token.")
	}
	params := identity.MFAResetParams{Reason: req.Body.Reason, By: actor(ctx), ByName: p.User.Name}
	if req.Body.Lang != nil {
		params.Lang = string(*req.Body.Lang)
	}
	if _, err := k.Staff.ResetMFA(ctx, uuid.UUID(req.UserId), params); err != nil {
		return nil, err
	}
	return gen.ResetMemberMfa204Response{}, nil
}

func (k *Kernel) invitationBody(i identity.Invitation) gen.Invitation {
	status := gen.InvitationStatus(i.Status(k.Staff.Now()))
	return gen.Invitation{Id: i.ID, Email: i.Email, Name: i.Name, Roles: i.Roles, Status: status,
		InvitedBy: i.InvitedBy, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt}
}

// ListInvitations implements listInvitations.
func (k *Kernel) ListInvitations(ctx context.Context, _ gen.ListInvitationsRequestObject) (gen.ListInvitationsResponseObject, error) {
	list, err := k.Staff.Invitations(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Invitation, 0, len(list))
	for _, i := range list {
		items = append(items, k.invitationBody(i))
	}
	return gen.ListInvitations200JSONResponse{Items: items}, nil
}

// CreateInvitation implements createInvitation.
func (k *Kernel) CreateInvitation(ctx context.Context, req gen.CreateInvitationRequestObject) (gen.CreateInvitationResponseObject, error) {
	p, _ := principalFrom(ctx)
	b := req.Body
	params := identity.InviteParams{Email: b.Email, Name: deref(b.Name), Roles: roleStrings(b.Roles),
		InvitedBy: &p.User.ID, InviterName: p.User.Name, IP: clientFrom(ctx).IP}
	if b.Lang != nil {
		params.Lang = string(*b.Lang)
	}
	inv, err := k.Staff.Invite(ctx, params)
	if err != nil {
		return nil, err
	}
	return gen.CreateInvitation201JSONResponse(k.invitationBody(inv)), nil
}

// RevokeInvitation implements revokeInvitation.
func (k *Kernel) RevokeInvitation(ctx context.Context, req gen.RevokeInvitationRequestObject) (gen.RevokeInvitationResponseObject, error) {
	if err := k.Staff.Revoke(ctx, uuid.UUID(req.InvitationId), actor(ctx)); err != nil {
		return nil, err
	}
	return gen.RevokeInvitation204Response{}, nil
}

// GetInvitation implements getInvitation.
func (k *Kernel) GetInvitation(ctx context.Context, req gen.GetInvitationRequestObject) (gen.GetInvitationResponseObject, error) {
	p, err := k.Staff.Preview(ctx, req.Token)
	if err != nil {
		return nil, err
	}
	return gen.GetInvitation200JSONResponse{TenantSlug: p.Tenant.Slug, TenantName: p.Tenant.Name, Email: p.Email,
		Name: p.Name, Roles: p.Roles, ExpiresAt: p.ExpiresAt, Expired: p.Expired, HasAccount: p.HasAccount,
		InviterName: optional(p.InviterName)}, nil
}

// AcceptInvitation implements acceptInvitation: a signed-in invitee becomes a member; anyone
// else gets a new account, signed in like after signIn.
func (k *Kernel) AcceptInvitation(ctx context.Context, req gen.AcceptInvitationRequestObject) (gen.AcceptInvitationResponseObject, error) {
	cl := clientFrom(ctx)
	params := identity.AcceptParams{IP: cl.IP}
	p, signedIn := principalFrom(ctx)
	if signedIn {
		params.User = &p.User
	} else {
		params.Name, params.Password = deref(req.Body.Name), deref(req.Body.Password)
	}
	got, err := k.Staff.Accept(ctx, req.Token, params)
	if err != nil {
		return nil, err
	}
	if signedIn {
		me, err := k.me(ctx, p.User, p.Session)
		if err != nil {
			return nil, err
		}
		return gen.AcceptInvitation200JSONResponse{Body: me}, nil
	}
	if err := k.Audit.Platform(ctx, audit.Event{ActorID: &got.User.ID, Actor: got.User.Email, IP: cl.IP,
		Action: "account-created", Details: map[string]string{"via": "invitation", "tenant": got.Tenant.Slug}}); err != nil {
		return nil, err
	}
	// A new account has a password only: staff still enrol a second factor before they work.
	me, cookie, err := k.startSession(ctx, got.User, cl, signInMethod{Name: "invitation", Assurance: identity.AssurancePassword})
	if err != nil {
		return nil, err
	}
	return gen.AcceptInvitation200JSONResponse{Body: me, Headers: gen.AcceptInvitation200ResponseHeaders{SetCookie: &cookie}}, nil
}
