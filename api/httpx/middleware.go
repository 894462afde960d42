package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/epom-cz/epom/api/problem"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestIDKey is a gin key: handlers receive the *gin.Context as their context, whose Value
// finds string keys, and a key avoids copying the request for a new context.
const requestIDKey = "epom.request-id"

// RequestID takes a well-formed incoming X-Request-Id (from the ingress) or makes one, and
// puts it in the context, the response and every log line.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !validRequestID.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header(RequestIDHeader, id)
		c.Set(requestIDKey, id)
		c.Next()
	}
}

// RequestIDFrom returns the request id of ctx (the *gin.Context a handler receives).
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Abort ends the request with a problem.
func Abort(c *gin.Context, e *problem.Error) {
	if e.Type.Status >= 500 && e.Err != nil {
		slog.ErrorContext(c, "request failed", "err", e.Err, "path", c.Request.URL.Path, "request_id", RequestIDFrom(c))
	}
	problem.Write(c.Writer, e, RequestIDFrom(c), c.Request.URL.Path, Lang(c.Request))
	c.Abort()
}

// LogAttrs adds attributes (tenant, user) to the request's access log line.
func LogAttrs(c *gin.Context, attrs ...slog.Attr) {
	v, _ := c.Get("log.attrs")
	list, _ := v.([]slog.Attr)
	c.Set("log.attrs", append(list, attrs...))
}

// SlowRequest is logged even when only failures are.
const SlowRequest = time.Second

// AccessLog writes one structured line per request, or with all=false only per failed
// (status ≥ 400) or slow request: request counts and latencies by route are in the metrics,
// and at thousands of tenants a line per successful request is the ingress's job.
func AccessLog(log *slog.Logger, all bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		elapsed := time.Since(start)
		if !all && status < 400 && elapsed < SlowRequest {
			return
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400 || elapsed >= SlowRequest:
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("request_id", RequestIDFrom(c)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.String("route", c.FullPath()),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.Int("bytes", c.Writer.Size()),
		}
		if v, ok := c.Get("log.attrs"); ok {
			extra, _ := v.([]slog.Attr)
			attrs = append(attrs, extra...)
		}
		log.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

// Recover turns a panic into a 500 problem and logs the stack.
func Recover() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				slog.ErrorContext(c.Request.Context(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					Abort(c, problem.New(problem.Internal, ""))
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

const cspBase = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors "

// SecurityHeaders sets the CSP (no framing by default), HSTS when the request came over TLS or
// alwaysHSTS is set (TLS terminated at the ingress), and the usual hardening headers.
func SecurityHeaders(alwaysHSTS bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", cspBase+"'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if alwaysHSTS || c.Request.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		c.Next()
	}
}

// AllowFraming lets the listed origins (a tenant's own web site) frame this response; call it
// before writing the body of an embeddable page.
func AllowFraming(c *gin.Context, origins []string) {
	if len(origins) == 0 {
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", cspBase+strings.Join(origins, " "))
	h.Del("X-Frame-Options")
}
