package files

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants"
)

// Postgres keeps files in the tenant tables files and file_chunks (1 MiB per chunk row), so
// they are covered by row-level security, backups and tenant export like every other row.
type Postgres struct {
	db *tenants.Database
}

var _ Store = (*Postgres)(nil)

// NewPostgres returns the store over the app role's database.
func NewPostgres(db *tenants.Database) *Postgres { return &Postgres{db: db} }

// Put implements Store.
func (s *Postgres) Put(ctx context.Context, name, contentType string, r io.Reader) (File, error) {
	return s.put(ctx, name, contentType, r, nil)
}

// PutTemporary implements Store.
func (s *Postgres) PutTemporary(ctx context.Context, name, contentType string, r io.Reader, expiresAt time.Time) (File, error) {
	if expiresAt.IsZero() {
		return File{}, fmt.Errorf("%w: a temporary file needs an expiry", ErrInvalid)
	}
	return s.put(ctx, name, contentType, r, &expiresAt)
}

func (s *Postgres) put(ctx context.Context, name, contentType string, r io.Reader, expiresAt *time.Time) (File, error) {
	if !ValidName(name) {
		return File{}, fmt.Errorf("%w: name %q", ErrInvalid, name)
	}
	contentType = strings.TrimSpace(contentType)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if len(contentType) > 255 || strings.ContainsAny(contentType, "\r\n") {
		return File{}, fmt.Errorf("%w: content type %q", ErrInvalid, contentType)
	}
	f := File{ID: tenants.NewID(), Name: name, ContentType: contentType, ExpiresAt: expiresAt}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		db := tenants.DB(ctx)
		// Chunks go first: the SHA-256 and size for the files row are known only at the end,
		// and the deferred foreign key is checked at commit.
		f.Size, f.SHA256, err = WriteChunks(r, func(seq int, data []byte) error {
			if err := db.Exec(`INSERT INTO file_chunks (tenant_id, file_id, seq, data) VALUES (?, ?, ?, ?)`,
				tenantID, f.ID, seq, data).Error; err != nil {
				return fmt.Errorf("store chunk %d: %w", seq, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return db.Raw(`INSERT INTO files (tenant_id, id, name, content_type, size, sha256, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING created_at`,
			tenantID, f.ID, f.Name, f.ContentType, f.Size, f.SHA256[:], f.ExpiresAt).Row().Scan(&f.CreatedAt)
	})
	if err != nil {
		return File{}, fmt.Errorf("put file: %w", err)
	}
	return f, nil
}

// Stat implements Store.
func (s *Postgres) Stat(ctx context.Context, id uuid.UUID) (File, error) {
	var f File
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		var sum []byte
		err = tenants.DB(ctx).Raw(`SELECT id, name, content_type, size, sha256, created_at, expires_at
			FROM files WHERE tenant_id = ? AND id = ?`, tenantID, id).Row().
			Scan(&f.ID, &f.Name, &f.ContentType, &f.Size, &sum, &f.CreatedAt, &f.ExpiresAt)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if len(sum) != len(f.SHA256) {
			return fmt.Errorf("%w: file %s has a %d-byte SHA-256", ErrCorrupt, id, len(sum))
		}
		copy(f.SHA256[:], sum)
		return nil
	})
	if err != nil {
		return File{}, fmt.Errorf("stat file: %w", err)
	}
	return f, nil
}

// Open implements Store. The reader keeps ctx for the chunk reads that follow; each chunk is
// read in its own short transaction (or the caller's tenants.InTx), so a slow download holds
// no transaction open. Files never change, so the chunks read at different times belong
// together; a file deleted in the middle of a read ends it with an error.
func (s *Postgres) Open(ctx context.Context, id uuid.UUID) (File, io.ReadCloser, error) {
	f, err := s.Stat(ctx, id)
	if err != nil {
		return File{}, nil, err
	}
	return f, &chunkReader{ctx: ctx, s: s, f: f, h: sha256.New()}, nil
}

func (s *Postgres) chunk(ctx context.Context, id uuid.UUID, seq int) ([]byte, error) {
	var data []byte
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		return tenants.DB(ctx).Raw(`SELECT data FROM file_chunks WHERE tenant_id = ? AND file_id = ? AND seq = ?`,
			tenantID, id, seq).Row().Scan(&data)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: file %s has no chunk %d (deleted while being read?)", ErrCorrupt, id, seq)
	}
	if err != nil {
		return nil, fmt.Errorf("read file %s chunk %d: %w", id, seq, err)
	}
	return data, nil
}

// chunkReader streams a file's chunks and checks the SHA-256 at the end.
type chunkReader struct {
	ctx     context.Context
	s       *Postgres
	f       File
	seq     int
	fetched int64  // bytes of content fetched so far
	buf     []byte // the unread rest of the current chunk
	h       hash.Hash
	err     error // sticky: io.EOF at the end, or what went wrong
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.fetched == r.f.Size {
			var sum [32]byte
			copy(sum[:], r.h.Sum(nil))
			if sum != r.f.SHA256 {
				r.err = fmt.Errorf("%w: file %s", ErrCorrupt, r.f.ID)
			} else {
				r.err = io.EOF
			}
			continue
		}
		data, err := r.s.chunk(r.ctx, r.f.ID, r.seq)
		if err != nil {
			r.err = err
			continue
		}
		if len(data) == 0 || r.fetched+int64(len(data)) > r.f.Size {
			r.err = fmt.Errorf("%w: file %s chunk %d is longer than the file", ErrCorrupt, r.f.ID, r.seq)
			continue
		}
		r.seq++
		r.fetched += int64(len(data))
		r.h.Write(data)
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *chunkReader) Close() error {
	r.buf = nil
	if r.err == nil {
		r.err = errors.New("file reader closed")
	}
	return nil
}

// Delete implements Store.
func (s *Postgres) Delete(ctx context.Context, id uuid.UUID) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		res := tenants.DB(ctx).Exec(`DELETE FROM files WHERE tenant_id = ? AND id = ?`, tenantID, id)
		if res.Error != nil {
			return fmt.Errorf("delete file %s: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("delete file: %w: %s", ErrNotFound, id)
		}
		return nil
	})
}

// DeleteExpired implements Store.
func (s *Postgres) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		tenantID, err := tenants.IDFrom(ctx)
		if err != nil {
			return err
		}
		res := tenants.DB(ctx).Exec(`DELETE FROM files WHERE tenant_id = ? AND expires_at < ?`, tenantID, now)
		n = int(res.RowsAffected)
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired files: %w", err)
	}
	return n, nil
}
