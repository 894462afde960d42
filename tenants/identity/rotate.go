package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants/audit"
)

// RotateOptions steer RotateSecrets.
type RotateOptions struct {
	DryRun    bool   // report what would change, write nothing
	BatchSize int    // TOTP secrets per transaction; 0 is 200
	Actor     string // for the audit log: "cli:<OS user>"
}

// RotationReport is what RotateSecrets did (or, in a dry run, would do).
type RotationReport struct {
	DryRun         bool
	CurrentKeyID   string
	PreviousKeyIDs []string
	// Reencrypted TOTP secrets were under an earlier key and are now under the current one;
	// Labelled ones were already under the current key but written before keys were recorded.
	Reencrypted int
	Labelled    int
	// Undecryptable are the users whose TOTP secret no key of the ring opens: their
	// two-factor sign-in needs an operator reset (epom user reset-mfa).
	Undecryptable []uuid.UUID
	// RecoveryOldKeyAccounts have unused recovery codes hashed under an earlier or unknown
	// key. A hash cannot be re-keyed without the code, so they keep working only while that
	// key stays in EPOM_SECRET_KEY_PREVIOUS, until the user makes new codes.
	RecoveryOldKeyAccounts int
}

const defaultRotateBatch = 200

// RotateSecrets moves every TOTP secret not recorded under the current key to it, a batch
// per transaction with the rows locked, so it can be interrupted and run again: a row done is
// never touched twice, and a row no key opens is left as it is and reported. Unless it is a
// dry run, the platform's audit log gets a "secret-key-rotate" entry with the counts.
func (s *Service) RotateSecrets(ctx context.Context, log *audit.Log, opt RotateOptions) (RotationReport, error) {
	ring := s.keys()
	if !ring.Ready() {
		return RotationReport{}, ErrNoSecretKey
	}
	batch := opt.BatchSize
	if batch <= 0 {
		batch = defaultRotateBatch
	}
	cur := ring.CurrentID()
	rep := RotationReport{DryRun: opt.DryRun, CurrentKeyID: cur, PreviousKeyIDs: ring.IDs()[1:]}
	lock := " FOR UPDATE"
	if opt.DryRun {
		lock = ""
	}
	after := uuid.Nil
	for {
		var done RotationReport
		var seen int
		last := after
		err := pgx.BeginFunc(ctx, s.app, func(tx pgx.Tx) error {
			type row struct {
				user   uuid.UUID
				sealed []byte
			}
			rows, err := tx.Query(ctx, `SELECT user_id, secret_enc FROM user_totp
				WHERE key_id <> $1 AND user_id > $2 ORDER BY user_id LIMIT $3`+lock, cur, after, batch)
			if err != nil {
				return err
			}
			todo, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
				var x row
				return x, r.Scan(&x.user, &x.sealed)
			})
			if err != nil {
				return err
			}
			seen = len(todo)
			for _, r := range todo {
				last = r.user
				plain, keyID, err := s.open(r.user, r.sealed)
				if errors.Is(err, ErrSecretUndecryptable) {
					done.Undecryptable = append(done.Undecryptable, r.user)
					continue
				}
				if err != nil {
					return err
				}
				sealed := r.sealed
				if keyID == cur {
					done.Labelled++
				} else {
					done.Reencrypted++
					if sealed, _, err = s.seal(r.user, plain); err != nil {
						return err
					}
				}
				if opt.DryRun {
					continue
				}
				if _, err := tx.Exec(ctx, `UPDATE user_totp SET secret_enc = $2, key_id = $3 WHERE user_id = $1`,
					r.user, sealed, cur); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return RotationReport{}, fmt.Errorf("rotate totp secrets after user %s: %w", after, err)
		}
		rep.Reencrypted += done.Reencrypted
		rep.Labelled += done.Labelled
		rep.Undecryptable = append(rep.Undecryptable, done.Undecryptable...)
		after = last
		if seen < batch {
			break
		}
	}
	err := s.app.QueryRow(ctx, `SELECT count(DISTINCT user_id) FROM user_recovery_codes
		WHERE used_at IS NULL AND key_id <> $1`, cur).Scan(&rep.RecoveryOldKeyAccounts)
	if err != nil {
		return RotationReport{}, fmt.Errorf("count recovery codes: %w", err)
	}
	if opt.DryRun || log == nil {
		return rep, nil
	}
	actor := opt.Actor
	if actor == "" {
		actor = "cli"
	}
	if err := log.Platform(ctx, audit.Event{Actor: actor, Action: "secret-key-rotate", Target: "key:" + cur,
		Details: rep.details()}); err != nil {
		return RotationReport{}, fmt.Errorf("audit: %w", err)
	}
	return rep, nil
}

// details are the audit entry's counts; of the users needing a reset only the first 50 are
// named, the command's report lists them all.
func (r RotationReport) details() map[string]string {
	named := r.Undecryptable[:min(len(r.Undecryptable), 50)]
	ids := make([]string, 0, len(named))
	for _, id := range named {
		ids = append(ids, id.String())
	}
	return map[string]string{
		"current_key":              r.CurrentKeyID,
		"previous_keys":            strings.Join(r.PreviousKeyIDs, ","),
		"totp_reencrypted":         strconv.Itoa(r.Reencrypted),
		"totp_labelled":            strconv.Itoa(r.Labelled),
		"totp_undecryptable":       strconv.Itoa(len(r.Undecryptable)),
		"totp_undecryptable_users": strings.Join(ids, ","),
		"recovery_old_key_users":   strconv.Itoa(r.RecoveryOldKeyAccounts),
	}
}
