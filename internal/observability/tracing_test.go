package observability

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestSetup(t *testing.T) {
	off, err := Setup(context.Background(), "serve", "test", func(string) string { return "" })
	if err != nil || off.Enabled {
		t.Fatalf("without an endpoint tracing must be off: %+v %v", off, err)
	}

	// A stand-in OTLP/HTTP collector counts what it receives.
	var got atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" && r.Method == http.MethodPost {
			got.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_SERVICE_NAME": "epom-test"}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL) // the exporter reads the environment itself
	on, err := Setup(context.Background(), "serve", "test", func(k string) string { return env[k] })
	if err != nil || !on.Enabled {
		t.Fatalf("with an endpoint tracing must be on: %+v %v", on, err)
	}
	_, span := on.Provider.Tracer("test").Start(context.Background(), "request")
	span.End()
	if err := on.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got.Load() == 0 {
		t.Fatal("the collector received no spans")
	}
}
