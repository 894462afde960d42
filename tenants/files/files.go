// Package files stores tenants' files: notice board PDFs, uploads of submissions, export
// archives. Content streams in and out a chunk at a time, so a file of any size costs a
// bounded amount of memory, and every file carries the SHA-256 of its content, computed while
// it is written and checked again whenever it is read to the end.
package files

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ChunkSize is how much content one chunk row holds. Large enough that the per-row overhead
// is negligible, small enough that a reader and a writer hold at most about this much.
const ChunkSize = 1 << 20

// Errors of the store.
var (
	ErrNotFound = errors.New("file not found")
	ErrInvalid  = errors.New("invalid file")
	// ErrCorrupt means stored content does not match the file's SHA-256 or size.
	ErrCorrupt = errors.New("file content does not match its checksum")
)

// File describes one stored file. The content itself is read with Store.Open.
type File struct {
	ID          uuid.UUID
	Name        string
	ContentType string
	Size        int64
	SHA256      [32]byte
	CreatedAt   time.Time
	// ExpiresAt is set on temporary files (export archives): they are deleted after it and
	// are not part of tenant exports.
	ExpiresAt *time.Time
}

// Store is the files of the tenant in the context. Every method needs a tenant in ctx and
// sees only that tenant's files.
//
// It is an interface because attachments may outgrow the database: an object-storage backend
// (S3-compatible, content under <tenant>/<id>, metadata still in the files table so RLS and
// the tenant export see it) can replace Postgres without changing its callers.
type Store interface {
	// Put stores the content read from r until EOF and returns the new file with its size
	// and SHA-256. It joins the caller's tenants.InTx if there is one, so a file and the
	// row that refers to it commit together.
	Put(ctx context.Context, name, contentType string, r io.Reader) (File, error)
	// PutTemporary is Put for a file that DeleteExpired removes after expiresAt.
	PutTemporary(ctx context.Context, name, contentType string, r io.Reader, expiresAt time.Time) (File, error)
	// Stat returns the file's description.
	Stat(ctx context.Context, id uuid.UUID) (File, error)
	// Open returns the file and a reader of its content, which fetches one chunk at a time.
	// Reading to EOF verifies the content against the file's SHA-256 (ErrCorrupt otherwise).
	Open(ctx context.Context, id uuid.UUID) (File, io.ReadCloser, error)
	// Delete removes the file and its content.
	Delete(ctx context.Context, id uuid.UUID) error
	// DeleteExpired removes the tenant's temporary files whose expiry is before now and
	// returns how many it removed.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}

// WriteChunks reads r to EOF in ChunkSize pieces and hands each to write in order (seq 0, 1,
// …), returning the total size and the SHA-256 of the content. Every piece but the last is
// exactly ChunkSize long, so the same content always gives the same chunk rows. write must
// not keep data: the buffer is reused for the next piece. Empty content makes no piece.
func WriteChunks(r io.Reader, write func(seq int, data []byte) error) (size int64, sum [32]byte, err error) {
	h := sha256.New()
	buf := make([]byte, ChunkSize)
	for seq := 0; ; seq++ {
		n, rerr := fill(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			size += int64(n)
			if err := write(seq, buf[:n]); err != nil {
				return 0, sum, err
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return 0, sum, fmt.Errorf("read file content: %w", rerr)
		}
	}
	copy(sum[:], h.Sum(nil))
	return size, sum, nil
}

// fill reads until buf is full or r fails. Unlike io.ReadFull it passes r's own errors
// through unchanged, so a source that ends too early (io.ErrUnexpectedEOF from a truncated
// archive) is not taken for the end of the content.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ValidName reports whether name can be a file's name: 1–255 characters, no control
// characters (it ends up in Content-Disposition headers and e-mails).
func ValidName(name string) bool {
	if name == "" || utf8.RuneCountInString(name) > 255 || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
