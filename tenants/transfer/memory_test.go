package transfer_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/files"
	"github.com/epom-cz/epom/tenants/transfer"
)

// memoryBudget is the target for the process's peak resident memory during an export or
// import of a large tenant.
const memoryBudget = 200 << 20

// TestExportMemory measures export and import of a tenant with 100,000 rows and 1 GiB of
// attachments (1,024 files of 1 MiB of pseudo-random data), and the app's export job and
// download, and fails if the process's peak resident memory exceeds 200 MiB in any of them.
// It takes a few minutes and needs about 5 GiB of disk, so it runs only when asked:
//
//	EPOM_EXPORT_BENCH=1 go test -run TestExportMemory -v -timeout 30m ./tenants/transfer/
//
// EPOM_EXPORT_BENCH_ROWS and EPOM_EXPORT_BENCH_FILES change the sizes.
func TestExportMemory(t *testing.T) {
	if os.Getenv("EPOM_EXPORT_BENCH") == "" {
		t.Skip("set EPOM_EXPORT_BENCH=1 to measure export memory (minutes, ~5 GiB of disk)")
	}
	nRows, nFiles := envInt("EPOM_EXPORT_BENCH_ROWS", 100_000), envInt("EPOM_EXPORT_BENCH_FILES", 1024)
	e := newEnv(t)
	ctxA, _ := e.Two(t)
	tn, _ := tenants.FromContext(ctxA)

	start := time.Now()
	err := e.DB.InTx(ctxA, func(ctx context.Context) error {
		return tenants.DB(ctx).Exec(`INSERT INTO test_records (tenant_id, id, title, body, tags, amount, ratio, blob, at, day)
			SELECT ?, gen_random_uuid(), 'Záznam č. ' || g || ' ' || repeat('obsah ', 40),
			       jsonb_build_object('n', g, 'popis', md5(g::text), 'pole', jsonb_build_array(g, g * 2, 'x')),
			       ARRAY['a', 'b', g::text], g * 1.25, g / 7.0, decode(md5(g::text), 'hex'),
			       now() - make_interval(secs => g), current_date
			FROM generate_series(1, ?) g`, tn.ID, nRows).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	st := files.NewPostgres(e.DB)
	rng := rand.NewChaCha8([32]byte{42})
	for i := range nFiles {
		if _, err := st.Put(ctxA, fmt.Sprintf("příloha-%04d.bin", i), "application/octet-stream",
			io.LimitReader(rng, files.ChunkSize)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("generated %d rows and %d files of 1 MiB in %s", nRows, nFiles, time.Since(start).Round(time.Second))

	path := filepath.Join(t.TempDir(), "export.tar")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var m *transfer.Manifest
	exp := measure(t, "export", func() error {
		bw := bufio.NewWriterSize(out, 256<<10)
		var err error
		if m, err = transfer.NewExporter(e.App).Export(ctxA, bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	var rows int64
	for _, tb := range m.Tables {
		rows += tb.Rows
	}
	t.Logf("archive: %d bytes, %d rows in %d tables, %d files of %d bytes", fi.Size(), rows, len(m.Tables), m.Files.Count, m.Files.Bytes)
	exp.report(t, fi.Size())

	// The same export as the app's background job: streamed into the files store, then
	// downloaded from it.
	user := tenants.NewID()
	if _, err := e.App.Exec(context.Background(), `INSERT INTO users (id, email, name) VALUES ($1, 'bench@epom.test', 'Bench')`, user); err != nil {
		t.Fatal(err)
	}
	x := newExports(t, e)
	job, err := x.Request(ctxA, user)
	if err != nil {
		t.Fatal(err)
	}
	d := delivery(t, e, ctxA, 0)
	measure(t, "export job into the files store", func() error { return x.HandleExport(ctxA, d) }).report(t, fi.Size())
	measure(t, "download from the files store", func() error {
		_, _, rc, err := x.Open(ctxA, job.ID)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		return err
	}).report(t, fi.Size())

	e2 := newEnv(t)
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	imp := measure(t, "import", func() error {
		_, err := transfer.NewImporter(e2.Owner).Import(context.Background(), in, transfer.ImportOptions{})
		return err
	})
	imp.report(t, fi.Size())
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

type measurement struct {
	name                  string
	took                  time.Duration
	baseRSS, peakRSS      int64
	peakHeapInuse, maxSys uint64
}

// measure runs fn while sampling the Go heap, after resetting the kernel's record of the
// process's peak resident set (VmHWM), which afterwards is the peak during fn.
func measure(t *testing.T, name string, fn func() error) measurement {
	t.Helper()
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset the peak RSS (%v); it includes the set-up", err)
	}
	m := measurement{name: name, baseRSS: procStatus(t, "VmRSS")}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			m.peakHeapInuse = max(m.peakHeapInuse, ms.HeapInuse)
			m.maxSys = max(m.maxSys, ms.Sys)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	start := time.Now()
	err := fn()
	m.took = time.Since(start)
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	m.peakRSS = procStatus(t, "VmHWM")
	return m
}

func (m measurement) report(t *testing.T, bytes int64) {
	t.Helper()
	const mib = 1 << 20
	t.Logf("%s: %s (%.0f MiB/s); process RSS before %.1f MiB, peak %.1f MiB; Go heap in use peak %.1f MiB, runtime Sys peak %.1f MiB",
		m.name, m.took.Round(100*time.Millisecond), float64(bytes)/mib/m.took.Seconds(),
		float64(m.baseRSS)/mib, float64(m.peakRSS)/mib, float64(m.peakHeapInuse)/mib, float64(m.maxSys)/mib)
	if m.peakRSS > memoryBudget {
		t.Errorf("%s: peak RSS %.1f MiB exceeds the budget of %d MiB", m.name, float64(m.peakRSS)/mib, memoryBudget/mib)
	}
}

// procStatus reads a "kB" field of /proc/self/status in bytes.
func procStatus(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
