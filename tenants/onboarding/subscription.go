package onboarding

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/epom-cz/epom/tenants"
)

// Request statuses.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRejected = "rejected"
)

// Request is an online subscription request (žádost o připojení).
type Request struct {
	ID           uuid.UUID
	KodObce      string
	Municipality string
	KrajNUTS     string
	ICO          string
	ContactName  string
	Email        string
	Phone        string
	Modules      []string
	Note         string
	Lang         string
	Status       string
	Reason       string
	CreatedAt    time.Time
	DecidedBy    *uuid.UUID
	DecidedAt    *time.Time
	TenantID     *uuid.UUID
	TenantSlug   string
}

// SubmitParams is the public form.
type SubmitParams struct {
	ICO         string
	ContactName string
	Email       string
	Phone       string
	Modules     []string
	Note        string
	Consent     bool
	// Honeypot is a field people do not see; a bot that fills it gets a receipt and nothing
	// is stored.
	Honeypot string
	IP       string
	Lang     string
}

// Receipt is what the applicant learns: the request id and the municipality.
type Receipt struct {
	ID           uuid.UUID
	Municipality string
}

const requestSQL = `
SELECT r.id, r.kod_obce, c.nazev, r.kraj_nuts, r.ico, r.contact_name, r.email, r.phone, r.modules,
       r.note, r.lang, r.status, r.reason, r.created_at, r.decided_by, r.decided_at, r.approved_tenant_id,
       COALESCE(t.slug, '')
FROM subscription_requests r
JOIN catalogue_municipalities c ON c.kod_obce = r.kod_obce
LEFT JOIN tenants t ON t.id = r.approved_tenant_id
`

func scanRequest(r pgx.Row) (Request, error) {
	var q Request
	err := r.Scan(&q.ID, &q.KodObce, &q.Municipality, &q.KrajNUTS, &q.ICO, &q.ContactName, &q.Email, &q.Phone,
		&q.Modules, &q.Note, &q.Lang, &q.Status, &q.Reason, &q.CreatedAt, &q.DecidedBy, &q.DecidedAt,
		&q.TenantID, &q.TenantSlug)
	return q, err
}

// Submit records a request from the public form, mails the applicant a receipt and every
// operator of the municipality's kraj a notice, all in one transaction.
func (s *Service) Submit(ctx context.Context, p SubmitParams) (Receipt, error) {
	if p.Honeypot != "" {
		return Receipt{ID: tenants.NewID()}, nil
	}
	if !p.Consent {
		return Receipt{}, &FieldError{Field: "/consent", CS: "Bez souhlasu s podmínkami žádost nelze přijmout.",
			EN: "The request needs your consent to the terms."}
	}
	addr, err := netmail.ParseAddress(strings.TrimSpace(p.Email))
	if err != nil || !strings.Contains(addr.Address, ".") {
		return Receipt{}, &FieldError{Field: "/email", CS: "Zadejte platnou e-mailovou adresu.", EN: "Enter a valid e-mail address."}
	}
	p.Email = strings.ToLower(addr.Address)
	if strings.TrimSpace(p.ContactName) == "" {
		return Receipt{}, &FieldError{Field: "/contactName", CS: "Povinný údaj.", EN: "Required."}
	}
	if err := s.checkModules(p.Modules); err != nil {
		return Receipt{}, err
	}
	if p.Lang != "en" {
		p.Lang = "cs"
	}
	var rc Receipt
	err = pgx.BeginFunc(ctx, s.d.Platform, func(tx pgx.Tx) error {
		var recent int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM subscription_requests WHERE ip = $1 AND created_at > $2`,
			p.IP, s.now().Add(-s.d.RateWindow)).Scan(&recent); err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if recent >= s.d.RateLimit {
			return ErrRateLimited
		}
		var kod, kraj string
		var hasTenant, pending bool
		err := tx.QueryRow(ctx, `SELECT c.kod_obce, c.nazev, c.kraj_kod_nuts,
				EXISTS (SELECT 1 FROM tenants t WHERE t.kod_obce = c.kod_obce AND t.status <> 'closed'),
				EXISTS (SELECT 1 FROM subscription_requests r WHERE r.kod_obce = c.kod_obce AND r.status = 'pending')
			FROM catalogue_municipalities c WHERE c.ico = $1 AND c.ico <> '' ORDER BY c.kod_obce LIMIT 1`, p.ICO).
			Scan(&kod, &rc.Municipality, &kraj, &hasTenant, &pending)
		if errors.Is(err, pgx.ErrNoRows) {
			return &FieldError{Field: "/ico", CS: "Toto IČO nepatří žádné obci z katalogu ČSÚ.",
				EN: "This IČO belongs to no municipality of the ČSÚ catalogue."}
		}
		if err != nil {
			return fmt.Errorf("look up IČO: %w", err)
		}
		switch {
		case hasTenant:
			return ErrAlreadyTenant
		case pending:
			return ErrPendingRequest
		}
		rc.ID = tenants.NewID()
		mods := sortedCopy(p.Modules)
		if _, err := tx.Exec(ctx, `INSERT INTO subscription_requests (id, kod_obce, kraj_nuts, ico, contact_name,
				email, phone, modules, note, lang, ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			rc.ID, kod, kraj, p.ICO, strings.TrimSpace(p.ContactName), p.Email, strings.TrimSpace(p.Phone), mods,
			strings.TrimSpace(p.Note), p.Lang, p.IP); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return ErrPendingRequest // a concurrent request won the race
			}
			return fmt.Errorf("store subscription request: %w", err)
		}
		ref := "subscription-request:" + rc.ID.String()
		if err := s.d.Mail.Send(ctx, tx, receivedMail(p.Lang, p.Email, p.ContactName, rc.Municipality, ref)); err != nil {
			return err
		}
		ops, err := s.operators(ctx, tx, kraj)
		if err != nil {
			return err
		}
		for _, op := range ops {
			if err := s.d.Mail.Send(ctx, tx, operatorMail(op.email, op.name, rc.Municipality, kraj, s.d.BaseURL, ref)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Receipt{}, err
	}
	return rc, nil
}

type person struct{ email, name string }

// operators lists the active operators of kraj.
func (s *Service) operators(ctx context.Context, tx pgx.Tx, kraj string) ([]person, error) {
	rows, err := tx.Query(ctx, `SELECT u.email, u.name FROM platform_roles p JOIN users u ON u.id = p.user_id
		WHERE p.role = 'operator' AND p.scope = $1 AND u.disabled_at IS NULL ORDER BY u.email`, KrajDomain(kraj))
	if err != nil {
		return nil, fmt.Errorf("list operators of %s: %w", kraj, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (person, error) {
		var p person
		err := r.Scan(&p.email, &p.name)
		return p, err
	})
}

// Requests lists the kraj's requests, newest first; status "" lists all.
func (s *Service) Requests(ctx context.Context, kraj, status string) ([]Request, error) {
	rows, err := s.d.Platform.Query(ctx, requestSQL+`WHERE r.kraj_nuts = $1 AND ($2 = '' OR r.status = $2)
		ORDER BY r.created_at DESC LIMIT 500`, kraj, status)
	if err != nil {
		return nil, fmt.Errorf("list subscription requests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Request, error) { return scanRequest(r) })
	if err != nil {
		return nil, fmt.Errorf("list subscription requests: %w", err)
	}
	return out, nil
}

// lockRequest reads request id of kraj for update.
func lockRequest(ctx context.Context, tx pgx.Tx, kraj string, id uuid.UUID) (Request, error) {
	q, err := scanRequest(tx.QueryRow(ctx, requestSQL+`WHERE r.id = $1 FOR UPDATE OF r`, id))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && q.KrajNUTS != kraj) {
		return Request{}, fmt.Errorf("subscription request %s: %w", id, ErrNotInKraj)
	}
	if err != nil {
		return Request{}, fmt.Errorf("read subscription request: %w", err)
	}
	return q, nil
}

func (s *Service) request(ctx context.Context, id uuid.UUID) (Request, error) {
	q, err := scanRequest(s.d.Platform.QueryRow(ctx, requestSQL+`WHERE r.id = $1`, id))
	if err != nil {
		return Request{}, fmt.Errorf("read subscription request: %w", err)
	}
	return q, nil
}

// Approve creates the tenant with the requested modules, marks the request approved, audits
// and mails the applicant in one transaction, then invites the applicant as the tenant's
// first admin. Approving an approved request again only renews the invitation, so a failed
// invitation can be retried.
func (s *Service) Approve(ctx context.Context, by Actor, kraj string, id uuid.UUID, slug string) (Request, error) {
	var q Request
	var t tenants.Resolved
	err := pgx.BeginFunc(ctx, s.d.Platform, func(tx pgx.Tx) error {
		var err error
		if q, err = lockRequest(ctx, tx, kraj, id); err != nil {
			return err
		}
		switch q.Status {
		case RequestRejected:
			return ErrDecided
		case RequestApproved:
			return nil
		}
		var mods []string
		for _, m := range q.Modules {
			if s.d.HasModule(m) { // a module may have left the deployment since
				mods = append(mods, m)
			}
		}
		if t, err = s.createTx(ctx, tx, by, q.KodObce, slug, mods, map[string]string{"via": "subscription", "request": q.ID.String()}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE subscription_requests SET status = 'approved', decided_by = $2, ip = '',
			decided_at = now(), approved_tenant_id = $3 WHERE id = $1`, id, by.ID, t.ID); err != nil {
			return fmt.Errorf("approve subscription request: %w", err)
		}
		return s.d.Mail.Send(ctx, tx, approvedMail(q, t.Slug, s.d.BaseURL))
	})
	if err != nil {
		return Request{}, err
	}
	if t.ID == uuid.Nil { // approved before
		if q.TenantID == nil {
			return Request{}, fmt.Errorf("approved request %s without a tenant", id)
		}
		if t, err = s.d.Registry.BySlugOrID(ctx, q.TenantID.String()); err != nil {
			return Request{}, err
		}
	} else {
		s.afterCommit(ctx, t.ID)
	}
	if _, err := s.invite(ctx, by, t.Tenant, q.Email, q.ContactName, q.Lang); err != nil {
		return Request{}, err
	}
	return s.request(ctx, id)
}

// Reject closes the request with a reason and mails it to the applicant. Rejecting a rejected
// request again changes nothing.
func (s *Service) Reject(ctx context.Context, by Actor, kraj string, id uuid.UUID, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Request{}, &FieldError{Field: "/reason", CS: "Uveďte důvod zamítnutí.", EN: "Give the reason for the rejection."}
	}
	err := pgx.BeginFunc(ctx, s.d.Platform, func(tx pgx.Tx) error {
		q, err := lockRequest(ctx, tx, kraj, id)
		if err != nil {
			return err
		}
		switch q.Status {
		case RequestApproved:
			return ErrDecided
		case RequestRejected:
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE subscription_requests SET status = 'rejected', reason = $2, ip = '',
			decided_by = $3, decided_at = now() WHERE id = $1`, id, reason, by.ID); err != nil {
			return fmt.Errorf("reject subscription request: %w", err)
		}
		if err := s.d.Audit.PlatformTx(ctx, tx, by.event("subscription-rejected", q.KodObce,
			map[string]string{"request": id.String(), "reason": reason})); err != nil {
			return err
		}
		q.Reason = reason
		return s.d.Mail.Send(ctx, tx, rejectedMail(q))
	})
	if err != nil {
		return Request{}, err
	}
	return s.request(ctx, id)
}
