package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

func TestPutOpenRoundTrip(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	s := files.NewPostgres(e.DB)

	for _, size := range []int{0, 1, files.ChunkSize - 1, files.ChunkSize, files.ChunkSize + 1, 3*files.ChunkSize + 12345} {
		content := randomBytes(size, uint64(size))
		f, err := s.Put(ctxA, "příloha.pdf", "application/pdf", bytes.NewReader(content))
		if err != nil {
			t.Fatalf("put %d bytes: %v", size, err)
		}
		if f.Size != int64(size) || f.SHA256 != sha256.Sum256(content) {
			t.Fatalf("put %d bytes: size %d, sha %x", size, f.Size, f.SHA256)
		}
		got, rc, err := s.Open(ctxA, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		// A small buffer makes the reader cross chunk boundaries in the middle of a Read.
		var out bytes.Buffer
		if _, err := io.CopyBuffer(&out, struct{ io.Reader }{rc}, make([]byte, 7777)); err != nil {
			t.Fatalf("read %d bytes: %v", size, err)
		}
		_ = rc.Close()
		if !bytes.Equal(out.Bytes(), content) {
			t.Fatalf("content of %d bytes differs after the round trip", size)
		}
		if got.Name != "příloha.pdf" || got.ContentType != "application/pdf" || got.CreatedAt.IsZero() || got.ExpiresAt != nil {
			t.Fatalf("stat: %+v", got)
		}
		var chunks int
		if err := e.DB.InTx(ctxA, func(ctx context.Context) error {
			return tenants.DB(ctx).Raw(`SELECT count(*) FROM file_chunks WHERE file_id = ?`, f.ID).Row().Scan(&chunks)
		}); err != nil {
			t.Fatal(err)
		}
		if want := (size + files.ChunkSize - 1) / files.ChunkSize; chunks != want {
			t.Fatalf("%d bytes in %d chunks, want %d", size, chunks, want)
		}
	}
}

func TestPutJoinsTransactionAndRollsBack(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	s := files.NewPostgres(e.DB)
	var id uuid.UUID
	boom := errors.New("boom")
	err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		f, err := s.Put(ctx, "a.txt", "text/plain", strings.NewReader("hello"))
		if err != nil {
			return err
		}
		id = f.ID
		// Inside the same transaction the file is there.
		if _, rc, err := s.Open(ctx, f.ID); err != nil {
			return err
		} else if b, err := io.ReadAll(rc); err != nil || string(b) != "hello" {
			return errors.New("content inside the transaction: " + string(b))
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctxA, id); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("file of a rolled-back transaction: %v", err)
	}
}

func TestReaderFailsOnCorruptContent(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	a, _ := tenants.FromContext(ctxA)
	s := files.NewPostgres(e.DB)
	f, err := s.Put(ctxA, "a.bin", "", bytes.NewReader(randomBytes(2*files.ChunkSize, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if f.ContentType != "application/octet-stream" {
		t.Fatalf("default content type %q", f.ContentType)
	}
	// Flip a byte behind the store's back (the owner, bound to the tenant).
	err = pgx.BeginFunc(context.Background(), e.Owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), `SELECT set_config('app.tenant_id', $1, true)`, a.ID.String()); err != nil {
			return err
		}
		_, err := tx.Exec(context.Background(), `UPDATE file_chunks SET data = set_byte(data, 10, get_byte(data, 10) # 1)
			WHERE file_id = $1 AND seq = 1`, f.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, rc, err := s.Open(ctxA, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); !errors.Is(err, files.ErrCorrupt) {
		t.Fatalf("reading corrupt content: %v, want ErrCorrupt", err)
	}
}

func TestDeleteAndExpiry(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	s := files.NewPostgres(e.DB)
	keep, err := s.Put(ctxA, "keep.txt", "text/plain", strings.NewReader("keep"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old, err := s.PutTemporary(ctxA, "export.tar", "application/x-tar", bytes.NewReader(randomBytes(files.ChunkSize+1, 2)), now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := s.PutTemporary(ctxA, "export2.tar", "application/x-tar", strings.NewReader("x"), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.ExpiresAt == nil {
		t.Fatal("temporary file without expiry")
	}
	n, err := s.DeleteExpired(ctxA, now)
	if err != nil || n != 1 {
		t.Fatalf("delete expired: %d, %v", n, err)
	}
	if _, err := s.Stat(ctxA, old.ID); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("expired file: %v", err)
	}
	for _, id := range []uuid.UUID{keep.ID, fresh.ID} {
		if _, err := s.Stat(ctxA, id); err != nil {
			t.Fatalf("file %s: %v", id, err)
		}
	}
	if err := s.Delete(ctxA, keep.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctxA, keep.ID); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	var chunks int
	if err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Raw(`SELECT count(*) FROM file_chunks WHERE file_id IN (?, ?)`, keep.ID, old.ID).Row().Scan(&chunks)
	}); err != nil {
		t.Fatal(err)
	}
	if chunks != 0 {
		t.Fatalf("%d chunks left of deleted files", chunks)
	}
}

func TestInvalidNames(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, _ := e.Two(t)
	s := files.NewPostgres(e.DB)
	for _, name := range []string{"", "a\nb", strings.Repeat("x", 256)} {
		if _, err := s.Put(ctxA, name, "text/plain", strings.NewReader("x")); !errors.Is(err, files.ErrInvalid) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if _, err := s.Put(context.Background(), "a", "text/plain", strings.NewReader("x")); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("no tenant: %v", err)
	}
}

func TestIsolation(t *testing.T) {
	e := tenanttest.New(t)
	ctxA, ctxB := e.Two(t)
	s := files.NewPostgres(e.DB)
	tenanttest.RunIsolation(t, e, ctxA, ctxB, tenanttest.Isolation{
		Create: func(ctx context.Context) (string, error) {
			f, err := s.Put(ctx, "a.pdf", "application/pdf", bytes.NewReader(randomBytes(files.ChunkSize+10, 3)))
			return f.ID.String(), err
		},
		Get: func(ctx context.Context, id string) error {
			_, rc, err := s.Open(ctx, uuid.MustParse(id))
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(io.Discard, rc)
			return err
		},
		List: func(ctx context.Context) ([]string, error) {
			var ids []string
			err := e.DB.InTx(ctx, func(ctx context.Context) error {
				return tenants.DB(ctx).Raw(`SELECT id::text FROM files`).Scan(&ids).Error
			})
			return ids, err
		},
		Delete:     func(ctx context.Context, id string) error { return s.Delete(ctx, uuid.MustParse(id)) },
		IsNotFound: func(err error) bool { return errors.Is(err, files.ErrNotFound) },
		Tables:     []string{"files", "file_chunks"},
	})
	// B cannot read A's chunks even by asking for them directly.
	t.Run("chunks from B", func(t *testing.T) {
		var n int
		if err := e.DB.InTx(ctxB, func(ctx context.Context) error {
			return tenants.DB(ctx).Raw(`SELECT count(*) FROM file_chunks`).Row().Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("B sees %d chunks", n)
		}
	})
}
