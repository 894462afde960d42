// Package metrics holds the Prometheus instruments of the HTTP server and the database pools.
// It has no knowledge of tenants: labels are routes and statuses, never tenant ids, so the
// series count does not grow with the number of municipalities.
package metrics

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// HTTP counts requests and their latency by route pattern, method and status.
type HTTP struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewHTTP registers the HTTP instruments with reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "epom_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "epom_http_request_duration_seconds",
			Help:    "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(h.requests, h.latency)
	return h
}

// Middleware observes every request. Unmatched paths share one label so scanners cannot
// create series.
func (h *HTTP) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		h.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		h.latency.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

// PoolCollector exposes pgxpool statistics of named pools.
type PoolCollector struct {
	pools    map[string]*pgxpool.Pool
	total    *prometheus.Desc
	idle     *prometheus.Desc
	inUse    *prometheus.Desc
	max      *prometheus.Desc
	waits    *prometheus.Desc
	waitTime *prometheus.Desc
}

// NewPoolCollector describes pools by name ("app", "platform").
func NewPoolCollector(pools map[string]*pgxpool.Pool) *PoolCollector {
	l := []string{"pool"}
	return &PoolCollector{
		pools:    pools,
		total:    prometheus.NewDesc("epom_db_pool_connections", "Open connections.", l, nil),
		idle:     prometheus.NewDesc("epom_db_pool_idle_connections", "Idle connections.", l, nil),
		inUse:    prometheus.NewDesc("epom_db_pool_acquired_connections", "Connections in use.", l, nil),
		max:      prometheus.NewDesc("epom_db_pool_max_connections", "Pool size limit.", l, nil),
		waits:    prometheus.NewDesc("epom_db_pool_empty_acquire_total", "Acquires that had to wait for a connection.", l, nil),
		waitTime: prometheus.NewDesc("epom_db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection.", l, nil),
	}
}

// Describe implements prometheus.Collector.
func (p *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.total, p.idle, p.inUse, p.max, p.waits, p.waitTime} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (p *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, pool := range p.pools {
		s := pool.Stat()
		ch <- prometheus.MustNewConstMetric(p.total, prometheus.GaugeValue, float64(s.TotalConns()), name)
		ch <- prometheus.MustNewConstMetric(p.idle, prometheus.GaugeValue, float64(s.IdleConns()), name)
		ch <- prometheus.MustNewConstMetric(p.inUse, prometheus.GaugeValue, float64(s.AcquiredConns()), name)
		ch <- prometheus.MustNewConstMetric(p.max, prometheus.GaugeValue, float64(s.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(p.waits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(p.waitTime, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds(), name)
	}
}
