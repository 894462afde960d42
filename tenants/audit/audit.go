// Package audit is the append-only security audit log: sign-ins, role, module and status
// changes, token use. Each tenant has its own hash chain and the platform has one; a changed,
// deleted or reordered entry, or a cut tail, breaks its chain and Verify reports where.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/epom-cz/epom/tenants"
)

// PlatformChain names the platform's chain in audit_heads.
const PlatformChain = "platform"

// Event is what happened. Details are strings only, so that an entry's hash can be
// recomputed exactly from what the database returns.
type Event struct {
	ActorID *uuid.UUID
	Actor   string // e-mail or "system"
	IP      string
	Action  string // sign-in, sign-in-failed, tenant-status, module-enabled, settings-changed, …
	Target  string
	Details map[string]string
}

// Entry is an event in its chain.
type Entry struct {
	Event
	Chain    string
	Seq      int64
	At       time.Time
	PrevHash []byte
	Hash     []byte
}

// Log appends and verifies entries.
type Log struct {
	db       *tenants.Database
	platform *pgxpool.Pool
	now      func() time.Time
}

// New returns the log. Tenant entries are written by the app role inside the caller's tenant
// transaction, so the change and its entry commit together; platform entries through the
// platform role.
func New(db *tenants.Database, platform *pgxpool.Pool) *Log {
	return &Log{db: db, platform: platform, now: time.Now}
}

var zeroHash = make([]byte, sha256.Size)

// canonical is the byte string an entry's hash covers.
func canonical(e Entry) []byte {
	actor := ""
	if e.ActorID != nil {
		actor = e.ActorID.String()
	}
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	// json.Marshal sorts map keys, which makes the encoding canonical for string maps.
	b, _ := json.Marshal([]any{e.Chain, e.Seq, e.At.UTC().Format(time.RFC3339Nano), actor, e.Actor, e.IP,
		e.Action, e.Target, details})
	return b
}

func hashOf(prev []byte, e Entry) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write([]byte{0})
	h.Write(canonical(e))
	return h.Sum(nil)
}

// head locks the chain's head (creating it on first use) and returns the last seq and hash.
type execer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) error
}

func (l *Log) next(ctx context.Context, q execer, chain string, e Event) (Entry, error) {
	if e.Action == "" {
		return Entry{}, errors.New("audit event without an action")
	}
	if err := q.Exec(ctx, `INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING`, chain, zeroHash); err != nil {
		return Entry{}, fmt.Errorf("audit head: %w", err)
	}
	var seq int64
	var prev []byte
	if err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_heads WHERE chain = $1 FOR UPDATE`, chain).Scan(&seq, &prev); err != nil {
		return Entry{}, fmt.Errorf("lock audit head: %w", err)
	}
	entry := Entry{Event: e, Chain: chain, Seq: seq + 1, At: l.now().UTC().Truncate(time.Microsecond), PrevHash: prev}
	if entry.Details == nil {
		entry.Details = map[string]string{}
	}
	entry.Hash = hashOf(prev, entry)
	if err := q.Exec(ctx, `UPDATE audit_heads SET seq = $2, hash = $3 WHERE chain = $1`, chain, entry.Seq, entry.Hash); err != nil {
		return Entry{}, fmt.Errorf("advance audit head: %w", err)
	}
	return entry, nil
}

// gormQ adapts the tenant transaction to execer.
type gormQ struct{ tx *gorm.DB }

func (g gormQ) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return gormRow{g.tx.WithContext(ctx).Raw(sql, args...).Row()}
}
func (g gormQ) Exec(ctx context.Context, sql string, args ...any) error {
	return g.tx.WithContext(ctx).Exec(sql, args...).Error
}

type gormRow struct {
	r interface{ Scan(...any) error }
}

func (r gormRow) Scan(dest ...any) error { return r.r.Scan(dest...) }

// pgxQ adapts a pgx transaction to execer.
type pgxQ struct{ tx pgx.Tx }

func (p pgxQ) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return p.tx.QueryRow(ctx, sql, args...)
}
func (p pgxQ) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := p.tx.Exec(ctx, sql, args...)
	return err
}

const insertTenant = `INSERT INTO tenant_audit_log (tenant_id, seq, at, actor_id, actor, ip, action, target, details, prev_hash, hash)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// Tenant appends e to the chain of the tenant in ctx, inside the caller's InTx if any.
func (l *Log) Tenant(ctx context.Context, e Event) error {
	id, err := tenants.IDFrom(ctx)
	if err != nil {
		return err
	}
	return l.db.InTx(ctx, func(ctx context.Context) error {
		q := gormQ{tenants.DB(ctx)}
		entry, err := l.next(ctx, q, id.String(), e)
		if err != nil {
			return err
		}
		details, _ := json.Marshal(entry.Details)
		return q.Exec(ctx, insertTenant, id, entry.Seq, entry.At, entry.ActorID, entry.Actor, entry.IP,
			entry.Action, entry.Target, string(details), entry.PrevHash, entry.Hash)
	})
}

// TenantByPlatform appends e to tenant id's chain through the platform role: for what the
// platform does to a tenant (status and module changes).
func (l *Log) TenantByPlatform(ctx context.Context, id uuid.UUID, e Event) error {
	return pgx.BeginFunc(ctx, l.platform, func(tx pgx.Tx) error { return l.TenantByPlatformTx(ctx, tx, id, e) })
}

// TenantByPlatformTx is TenantByPlatform inside the caller's transaction, so the change and
// its entry commit together: a platform transaction, or one of the app role with app.tenant_id
// set to id (its row-level security admits only that tenant's chain).
func (l *Log) TenantByPlatformTx(ctx context.Context, tx pgx.Tx, id uuid.UUID, e Event) error {
	entry, err := l.next(ctx, pgxQ{tx}, id.String(), e)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, insertTenant, id, entry.Seq, entry.At, entry.ActorID, entry.Actor, entry.IP,
		entry.Action, entry.Target, entry.Details, entry.PrevHash, entry.Hash)
	return err
}

// Platform appends e to the platform's chain.
func (l *Log) Platform(ctx context.Context, e Event) error {
	return pgx.BeginFunc(ctx, l.platform, func(tx pgx.Tx) error { return l.PlatformTx(ctx, tx, e) })
}

// PlatformTx appends e to the platform's chain inside tx (of the app or the platform role), so
// an account change and its entry commit together.
func (l *Log) PlatformTx(ctx context.Context, tx pgx.Tx, e Event) error {
	entry, err := l.next(ctx, pgxQ{tx}, PlatformChain, e)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO platform_audit_log (seq, at, actor_id, actor, ip, action, target, details, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, entry.Seq, entry.At, entry.ActorID, entry.Actor,
		entry.IP, entry.Action, entry.Target, entry.Details, entry.PrevHash, entry.Hash)
	return err
}

// Problem is one break in a chain.
type Problem struct {
	Chain  string
	Seq    int64
	Reason string
}

func (p Problem) String() string {
	return fmt.Sprintf("chain %s, entry %d: %s", p.Chain, p.Seq, p.Reason)
}

// Report is the result of Verify.
type Report struct {
	Chains   int
	Entries  int64
	Problems []Problem
}

// OK reports whether every chain verified.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Verify recomputes every chain (or only tenant's, when it is not uuid.Nil) and compares it
// with the stored hashes and heads. It reads through the platform role.
func (l *Log) Verify(ctx context.Context, tenant uuid.UUID) (Report, error) {
	var rep Report
	heads := map[string]struct {
		seq  int64
		hash []byte
	}{}
	rows, err := l.platform.Query(ctx, `SELECT chain, seq, hash FROM audit_heads`)
	if err != nil {
		return rep, fmt.Errorf("read audit heads: %w", err)
	}
	for rows.Next() {
		var c string
		var h struct {
			seq  int64
			hash []byte
		}
		if err := rows.Scan(&c, &h.seq, &h.hash); err != nil {
			rows.Close()
			return rep, err
		}
		heads[c] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}

	type cursor struct {
		chain string
		seq   int64
		prev  []byte
	}
	var cur *cursor
	finish := func() {
		if cur == nil {
			return
		}
		rep.Chains++
		h, ok := heads[cur.chain]
		switch {
		case !ok:
			rep.Problems = append(rep.Problems, Problem{cur.chain, cur.seq, "the chain has no head"})
		case h.seq != cur.seq || !bytes.Equal(h.hash, cur.prev):
			rep.Problems = append(rep.Problems, Problem{cur.chain, cur.seq,
				fmt.Sprintf("the chain ends at entry %d but its head says %d: entries at the end were removed or the head altered", cur.seq, h.seq)})
		}
		delete(heads, cur.chain)
	}
	check := func(e Entry) {
		if cur == nil || cur.chain != e.Chain {
			finish()
			cur = &cursor{chain: e.Chain, prev: zeroHash}
		}
		rep.Entries++
		switch {
		case e.Seq != cur.seq+1:
			rep.Problems = append(rep.Problems, Problem{e.Chain, e.Seq, fmt.Sprintf("expected entry %d: entries are missing", cur.seq+1)})
		case !bytes.Equal(e.PrevHash, cur.prev):
			rep.Problems = append(rep.Problems, Problem{e.Chain, e.Seq, "it does not follow the previous entry"})
		case !bytes.Equal(hashOf(cur.prev, e), e.Hash):
			rep.Problems = append(rep.Problems, Problem{e.Chain, e.Seq, "its content does not match its hash: the entry was altered"})
		}
		cur.seq, cur.prev = e.Seq, e.Hash
	}

	scan := func(sql string, args ...any) error {
		rows, err := l.platform.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e Entry
			if err := rows.Scan(&e.Chain, &e.Seq, &e.At, &e.ActorID, &e.Actor, &e.IP, &e.Action, &e.Target,
				&e.Details, &e.PrevHash, &e.Hash); err != nil {
				return err
			}
			check(e)
		}
		return rows.Err()
	}
	cols := `seq, at, actor_id, actor, ip, action, target, details, prev_hash, hash`
	if tenant == uuid.Nil {
		if err := scan(`SELECT '` + PlatformChain + `', ` + cols + ` FROM platform_audit_log ORDER BY seq`); err != nil {
			return rep, err
		}
		finish()
		cur = nil
		if err := scan(`SELECT tenant_id::text, ` + cols + ` FROM tenant_audit_log ORDER BY tenant_id, seq`); err != nil {
			return rep, err
		}
	} else if err := scan(`SELECT tenant_id::text, `+cols+` FROM tenant_audit_log WHERE tenant_id = $1 ORDER BY seq`, tenant); err != nil {
		return rep, err
	}
	finish()
	// A head without a single entry left means the whole chain was deleted.
	for chain, h := range heads {
		if h.seq == 0 || (tenant != uuid.Nil && chain != tenant.String()) {
			continue
		}
		rep.Chains++
		rep.Problems = append(rep.Problems, Problem{chain, h.seq, "the head has entries but none are left"})
	}
	return rep, nil
}

// Recent lists the newest entries of the tenant in ctx, newest first.
func (l *Log) Recent(ctx context.Context, limit int) ([]Entry, error) {
	id, err := tenants.IDFrom(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	err = l.db.Read(ctx, func(b *pgx.Batch) {
		b.Queue(`SELECT seq, at, actor_id, actor, ip, action, target, details, prev_hash, hash
			FROM tenant_audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT $2`, [16]byte(id), limit).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				e := Entry{Chain: id.String()}
				if err := rows.Scan(&e.Seq, &e.At, &e.ActorID, &e.Actor, &e.IP, &e.Action, &e.Target, &e.Details, &e.PrevHash, &e.Hash); err != nil {
					return err
				}
				out = append(out, e)
			}
			return rows.Err()
		})
	})
	return out, err
}
