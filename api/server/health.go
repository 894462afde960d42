package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// livez says the process is up. It never touches the database, so a database outage does not
// make the orchestrator restart every pod.
func (s *Server) livez(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz says the pod can serve: database and Redis reachable, migrations current.
func (s *Server) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	if err := s.deps.Ready(ctx); err != nil {
		// The endpoint is reachable from outside; the details (hosts, database errors) go to
		// the log, the answer names only which dependency failed.
		s.deps.Log.ErrorContext(c, "not ready", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": readinessReason(err)})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	return gin.WrapH(promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{}))
}

// readinessReason is the part of a readiness error that is safe to show: its first word
// ("database", "redis", "migrations").
func readinessReason(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, ": "); i >= 0 {
		return msg[:i]
	}
	return msg
}
