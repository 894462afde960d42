package identity

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/internal/mail"
	"github.com/epom-cz/epom/tenants/jobs/email"
)

// PlatformMail sends account mail as the deployment's platform mail (not in a municipality's
// name): the message is written in the caller's transaction and the worker delivers it.
type PlatformMail struct{ Mail *email.Service }

// QueueAccountMail implements Mailer.
func (p PlatformMail) QueueAccountMail(ctx context.Context, tx pgx.Tx, m AccountMail) error {
	_, err := p.Mail.QueuePlatform(ctx, tx, email.PlatformMessage{To: m.To, ToName: m.ToName, Template: "notification",
		Lang: m.Lang, Ref: m.Ref, Data: &mail.Notification{Title: m.Subject, Paragraphs: m.Paragraphs,
			ActionURL: m.ActionURL, ActionLabel: m.ActionLabel, Note: m.Note}})
	return err
}
