package noticeboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/calendar"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
)

// The certificate of posting (doložka o vyvěšení a sejmutí): what a Czech office files with
// a document delivered by public notice (veřejná vyhláška, § 25 správního řádu) to show when
// it hung on the board. It is computed from the notice and the proof of posting, never stored.

// Certificate is one notice's certificate of posting, issued at IssuedAt.
type Certificate struct {
	Notice           Notice
	MunicipalityName string
	ICO              string // IČO from the catalogue; empty when unknown
	Evidence         PostingEvidence
	IssuedAt         time.Time
}

// PostingEvidence sums up the daily snapshots that contain a notice.
type PostingEvidence struct {
	Days              int
	FirstDay, LastDay *calendar.Date
	LatestHash        []byte // the chain hash of LastDay's snapshot
	ChainIntact       bool   // the whole chain verifies (VerifySnapshots)
}

// Certificate returns the certificate of notice id. A notice that never hung has nothing to
// certify: a conflict.
func (s *Service) Certificate(ctx context.Context, id uuid.UUID) (Certificate, error) {
	var c Certificate
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		n, err := s.store.Get(ctx, id, false)
		if err != nil {
			return err
		}
		if n.PostedAt == nil {
			return fmt.Errorf("%w: písemnost dosud nebyla vyvěšena, doložku o vyvěšení nelze vystavit "+
				"(the notice has never been posted, so there is no certificate of posting)", modules.ErrConflict)
		}
		ev, err := s.store.postingEvidence(ctx, id)
		if err != nil {
			return err
		}
		check, err := s.VerifySnapshots(ctx)
		if err != nil {
			return err
		}
		ev.ChainIntact = check.Intact
		c = Certificate{Notice: n, Evidence: ev, IssuedAt: s.nowUTC()}
		return nil
	})
	if err != nil {
		return Certificate{}, err
	}
	// Read after the transaction: the profile comes through its own pipelined connection.
	c.MunicipalityName, c.ICO, err = s.municipality(ctx)
	return c, err
}

// municipality is the display name and IČO of the tenant in ctx, as its public pages and
// open data (jsonld.go) show them. A tenant missing from the catalogue keeps its own name.
func (s *Service) municipality(ctx context.Context) (name, ico string, err error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return "", "", tenants.ErrNoTenant
	}
	p, err := tenants.NewSettingsStore(s.store.db).Profile(ctx, t)
	if errors.Is(err, tenants.ErrNotFound) {
		return t.Name, "", nil
	}
	if err != nil {
		return "", "", err
	}
	name = p.DisplayName
	if name == "" {
		name = t.Name
	}
	return name, p.ICO, nil
}

// postingEvidence finds the snapshots whose notices include id.
func (s *Store) postingEvidence(ctx context.Context, id uuid.UUID) (PostingEvidence, error) {
	var ev PostingEvidence
	tid, err := tenants.IDFrom(ctx)
	if err != nil {
		return ev, err
	}
	// content is the canonical JSON as text (hashed byte for byte); it is read as jsonb only here.
	rows, err := tenants.DB(ctx).Raw(`SELECT to_char(day, 'YYYY-MM-DD'), hash FROM noticeboard_snapshots
		WHERE tenant_id = ? AND content::jsonb -> 'notices' @> jsonb_build_array(jsonb_build_object('id', ?::text))
		ORDER BY day`, tid, id.String()).Rows()
	if err != nil {
		return ev, fmt.Errorf("posting evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day string
		var hash []byte
		if err := rows.Scan(&day, &hash); err != nil {
			return ev, err
		}
		d, err := calendar.ParseDate(day)
		if err != nil {
			return ev, err
		}
		if ev.FirstDay == nil {
			first := d
			ev.FirstDay = &first
		}
		ev.LastDay, ev.LatestHash = &d, hash
		ev.Days++
	}
	return ev, rows.Err()
}
