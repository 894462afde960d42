package onboarding

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants/identity"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// PlatformMail sends the subscription e-mails as platform mail (the deployment's own name).
type PlatformMail struct{ Service *email.Service }

// Send implements Mailer.
func (p PlatformMail) Send(ctx context.Context, tx pgx.Tx, m Mail) error {
	_, err := p.Service.QueuePlatform(ctx, tx, email.PlatformMessage{To: m.To, ToName: m.ToName, Template: "notification",
		Lang: m.Lang, Ref: m.Ref, Data: &mail.Notification{Title: m.Title, Paragraphs: m.Paragraphs,
			ActionURL: m.ActionURL, ActionLabel: m.ActionLabel, Note: m.Note}})
	return err
}

// StaffInviter invites first admins through the municipality's staff invitations.
type StaffInviter struct{ Staff *identity.Staff }

// Invite implements Inviter.
func (s StaffInviter) Invite(ctx context.Context, by Actor, addr, name, role, lang string) error {
	id := by.ID
	_, err := s.Staff.Invite(ctx, identity.InviteParams{Email: addr, Name: name, Roles: []string{role},
		InvitedBy: &id, InviterName: by.Name, Lang: lang, IP: by.IP})
	if errors.Is(err, identity.ErrAlreadyMember) {
		return nil // approved again after the admin accepted: nothing to renew
	}
	return err
}
