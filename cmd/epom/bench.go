package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/epom-cz/epom/internal/config"
)

// runBench is the load tool. `bench tenants` requests the landing page of every active tenant
// from a running server (so each is resolved and cached at least once) and reports the
// server's resident memory before and after, read from /proc of its process.
func runBench(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "noticeboard" {
		return runBenchNoticeboard(ctx, cfg, args[1:], out)
	}
	if len(args) == 0 || args[0] != "tenants" {
		return usagef("usage: epom bench tenants -url http://127.0.0.1:8080 -pid PID [-c 8]\n       epom bench noticeboard [-tenants 1000 -notices 200 -concurrency 32 -duration 20s -rounds 3]")
	}
	fs := flag.NewFlagSet("bench tenants", flag.ContinueOnError)
	fs.SetOutput(out)
	base := fs.String("url", "http://127.0.0.1:8080", "server to load")
	pid := fs.Int("pid", 0, "process id of the server, to read its memory")
	conc := fs.Int("c", 8, "concurrent requests")
	path := fs.String("path", "/o/%s", "page per tenant; %s is the slug")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	platform, err := openPool(ctx, cfg.PlatformDatabaseURL, 2, "platform")
	if err != nil {
		return err
	}
	rows, err := platform.Query(ctx, `SELECT slug FROM tenants WHERE status = 'active' ORDER BY slug`)
	if err != nil {
		platform.Close()
		return err
	}
	slugs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	platform.Close()
	if err != nil {
		return err
	}
	before, _ := rss(*pid)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	var next, failed atomic.Int64
	lat := make([]time.Duration, len(slugs))
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(slugs) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				resp, err := client.Get(*base + fmt.Sprintf(*path, slugs[i]))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				lat[i] = time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	after, hwm := rss(*pid)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Fprintf(out, "tenants: %d, failed: %d, time: %s, %.0f req/s, p50 %s, p99 %s\n", len(slugs), failed.Load(),
		elapsed.Round(time.Millisecond), float64(len(slugs))/elapsed.Seconds(), pct(0.5), pct(0.99))
	if *pid != 0 {
		fmt.Fprintf(out, "server RSS before: %.1f MiB, after: %.1f MiB, peak (VmHWM): %.1f MiB\n",
			float64(before)/1024, float64(after)/1024, float64(hwm)/1024)
	}
	if failed.Load() > 0 {
		return errors.New("some requests failed")
	}
	return nil
}

// rss reads VmRSS and VmHWM (KiB) of pid.
func rss(pid int) (cur, peak int64) {
	if pid == 0 {
		return 0, 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = n
		case "VmHWM:":
			peak = n
		}
	}
	return cur, peak
}
