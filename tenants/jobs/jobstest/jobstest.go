// Package jobstest gives tests a Redis of their own: a redis-server on a free port, without
// persistence, that the test may kill and start again. Tests never touch the shared Redis.
package jobstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Redis is a redis-server owned by one test.
type Redis struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

// StartRedis starts a redis-server for t and stops it when t ends. It skips the test (or
// fails it, when EPOM_REQUIRE_DB is set, as in CI) if redis-server is not installed.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("EPOM_REQUIRE_DB") != "" {
			t.Fatalf("redis-server is required (run scripts/services.sh): %v", err)
		}
		t.Skipf("redis-server not installed: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &Redis{t: t, port: port}
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// URL is the server's redis:// URL.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// Start runs the server (again) on the same port and waits until it accepts connections.
// Without persistence, a restarted server is empty.
func (r *Redis) Start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("redis-server on port %d did not start", r.port)
}

// Kill stops the server with SIGKILL: whatever it held is gone.
func (r *Redis) Kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}
