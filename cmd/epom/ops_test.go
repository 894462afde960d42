package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/modules/noticeboard"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs/jobstest"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

// TestServeMetricsPlacement wires the web server as `epom serve` does, on a private database
// and Redis: with EPOM_OPS_ADDR, /metrics is on the ops listener only (HTTP, pool, queue and
// outbox figures, as the public one had them); without it, on the public port as before.
func TestServeMetricsPlacement(t *testing.T) {
	nb := noticeboard.New(noticeboard.Deps{})
	env := tenanttest.New(t, tenants.MigrationSet{Name: string(nb.ID()), FS: nb.Migrations()})
	rds := jobstest.StartRedis(t)

	for _, tc := range []struct {
		name          string
		opsAddr       string
		publicMetrics int
	}{
		{"ops address set (the chart)", freeAddr(t), http.StatusNotFound},
		{"no ops address (dev, e2e)", "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg, err := config.Load(func(k string) string {
				return map[string]string{
					"EPOM_DATABASE_URL": env.AppDSN, "EPOM_PLATFORM_DATABASE_URL": env.PlatformDSN,
					"EPOM_REDIS_URL": rds.URL(), "EPOM_OPS_ADDR": tc.opsAddr, "EPOM_LOG_LEVEL": "error",
				}[k]
			})
			if err != nil {
				t.Fatal(err)
			}
			a, err := newApp(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.close()
			mounts, closeOps, err := a.jobsOps()
			if err != nil {
				t.Fatal(err)
			}
			defer closeOps()
			srv, err := a.server(ctx, mounts)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.serveOps(ctx); err != nil {
				t.Fatal(err)
			}

			public := func(path string) *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
				return w
			}
			if w := public("/livez"); w.Code != http.StatusOK {
				t.Fatalf("public /livez: %d", w.Code)
			}
			w := public("/metrics")
			if w.Code != tc.publicMetrics {
				t.Fatalf("public /metrics: %d, want %d\n%.500s", w.Code, tc.publicMetrics, w.Body)
			}
			body := w.Body.String()
			if tc.opsAddr != "" {
				if strings.Contains(body, "epom_") {
					t.Fatalf("the public 404 shows metrics:\n%s", body)
				}
				if code, _ := get(t, "http://"+tc.opsAddr+"/livez"); code != http.StatusOK {
					t.Fatalf("ops /livez: %d", code)
				}
				var code int
				if code, body = get(t, "http://"+tc.opsAddr+"/metrics"); code != http.StatusOK {
					t.Fatalf("ops /metrics: %d\n%.500s", code, body)
				}
				// The port is taken now: a second listener fails at once, not silently later.
				if err := a.serveOps(ctx); err == nil {
					t.Fatal("a second ops listener on a taken port started")
				}
			}
			for _, want := range []string{
				`epom_http_requests_total{method="GET",route="/livez",status="200"} 1`,
				`epom_db_pool_connections{pool="app"}`,
				`epom_jobs_queue_tasks{queue="critical",state="pending"}`,
				`epom_outbox_rows{state="due"}`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %s:\n%s", want, body)
				}
			}
		})
	}
}

// freeAddr is a loopback address with a port nobody listens on at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestMetricsURL: what `epom dev` prints follows EPOM_OPS_ADDR.
func TestMetricsURL(t *testing.T) {
	for _, tc := range []struct{ ops, want string }{
		{"", "http://localhost:8080/metrics"},
		{":9090", "http://localhost:9090/metrics"},
		{"127.0.0.1:9191", "http://127.0.0.1:9191/metrics"},
		{"[::]:9090", "http://localhost:9090/metrics"},
	} {
		cfg := config.Config{BaseURL: "http://localhost:8080", OpsAddr: tc.ops}
		if got := metricsURL(cfg); got != tc.want {
			t.Errorf("EPOM_OPS_ADDR %q: %s, want %s", tc.ops, got, tc.want)
		}
	}
}
