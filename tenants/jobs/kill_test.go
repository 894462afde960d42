package jobs_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/jobs"
)

// TestMain lets the test binary double as a worker process (`epom worker` in miniature) for
// TestWorkerKilledMidTask, which must SIGKILL a real process, not a goroutine.
func TestMain(m *testing.M) {
	if os.Getenv("EPOM_JOBS_TEST_HELPER") == "worker" {
		os.Exit(helperWorker())
	}
	os.Exit(m.Run())
}

// helperWorker runs a relay and a worker whose "noticeboard:slow" handler writes its effect,
// then keeps working for a while: the window in which the test kills it.
func helperWorker() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "helper:", err); return 1 }
	app, err := pgxpool.New(ctx, os.Getenv("EPOM_TEST_APP_DSN"))
	if err != nil {
		return fail(err)
	}
	defer app.Close()
	platform, err := pgxpool.New(ctx, os.Getenv("EPOM_TEST_PLATFORM_DSN"))
	if err != nil {
		return fail(err)
	}
	defer platform.Close()
	db, err := tenants.NewDatabase(app)
	if err != nil {
		return fail(err)
	}
	redisURL := os.Getenv("EPOM_TEST_REDIS_URL")
	mux := jobs.NewMux()
	effect := writeEffect(db)
	_ = mux.Handle("noticeboard:slow", func(ctx context.Context, d jobs.Delivery) error {
		if err := effect(ctx, d); err != nil {
			return err
		}
		select { // the rest of the work, e.g. a call to another system
		case <-time.After(3 * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	gate := jobs.ResolverGate(tenants.NewResolver(tenants.NewRegistry(platform), nil, 0))
	relay, err := jobs.NewRelay(platform, fastRelay(redisURL))
	if err != nil {
		return fail(err)
	}
	w, err := jobs.NewWorker(platform, gate, mux, fastWorker(redisURL))
	if err != nil {
		return fail(err)
	}
	go func() { _ = relay.Run(ctx) }()
	if err := w.Run(ctx); err != nil {
		return fail(err)
	}
	return 0
}

func startHelper(t *testing.T, r *rig) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"EPOM_JOBS_TEST_HELPER=worker",
		"EPOM_TEST_APP_DSN="+r.env.AppDSN,
		"EPOM_TEST_PLATFORM_DSN="+r.env.PlatformDSN,
		"EPOM_TEST_REDIS_URL="+r.redis.URL())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// TestWorkerKilledMidTask SIGKILLs the worker process after the handler wrote its effect but
// before the task finished. On restart the task runs again to completion and, the handler
// being idempotent, leaves one effect, not two.
//
// It takes about a minute: asynq gives up on a dead worker's task when its 30 s lease has
// expired plus a fixed 30 s margin for clock skew, checked once a minute; none of these is
// configurable. The test runs in parallel with the others.
func TestWorkerKilledMidTask(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a minute")
	}
	t.Parallel()
	r := newRig(t, "noticeboard")
	id := enqueue(t, r.env.DB, r.ctxA, jobs.Task{Type: "noticeboard:slow"})
	runsOf := func() int {
		return count(t, r.env.Platform, `SELECT count(*) FROM test_runs WHERE task = $1`, id.String())
	}
	first := startHelper(t, r)
	eventually(t, 30*time.Second, "the handler to write its effect", func() bool { return runsOf() == 1 })
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killed := time.Now()
	if s := outboxState(t, r, id.String()); s != "published" {
		t.Fatalf("after the kill the outbox row is %q, want published (unfinished)", s)
	}

	startHelper(t, r)
	eventually(t, 150*time.Second, "the task to finish after the restart", func() bool {
		return outboxState(t, r, id.String()) == "done"
	})
	t.Logf("finished %s after the kill", time.Since(killed).Round(time.Second))
	if n := runsOf(); n != 2 {
		t.Errorf("handler ran %d times, want 2 (killed once, then to completion)", n)
	}
	if n := count(t, r.env.Platform, `SELECT count(*) FROM test_effects WHERE task = $1`, id.String()); n != 1 {
		t.Errorf("%d effects, want 1", n)
	}
}

func outboxState(t testing.TB, r *rig, id string) string {
	t.Helper()
	var s string
	if err := r.env.Platform.QueryRow(context.Background(), `SELECT state FROM outbox WHERE id = $1`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
