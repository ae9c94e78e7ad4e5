package gateway

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are per Gateway (a private registry), so several gateways (tests,
// reloads) never collide. Label values are bounded: key ids only once
// verified (so from the config), reason codes from a fixed set.
type metrics struct {
	registry        *prometheus.Registry
	handler         http.Handler
	requests        *prometheus.CounterVec
	bytesIn         *prometheus.CounterVec
	bytesOut        *prometheus.CounterVec
	duration        *prometheus.HistogramVec
	upstreamLatency *prometheus.HistogramVec
	upstreamErrors  *prometheus.CounterVec
	secretUsed      *prometheus.CounterVec
	storeErrors     *prometheus.CounterVec
}

func (g *Gateway) getMetrics() *metrics {
	g.metricsMu.Do(func() { g.metrics = newMetrics() })
	return g.metrics
}

// Registry returns the Prometheus registry /metrics serves, to add
// collectors.
func (g *Gateway) Registry() *prometheus.Registry { return g.getMetrics().registry }

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_requests_total",
			Help: "Requests by key id (empty when not verified), scheme and outcome (ok or the reason code).",
		}, []string{"key_id", "scheme", "outcome"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_request_bytes_total",
			Help: "Request body bytes received, by key id.",
		}, []string{"key_id"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_response_bytes_total",
			Help: "Response body bytes sent, by key id.",
		}, []string{"key_id"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signet_request_duration_seconds",
			Help:    "Time from request to the end of the response, by scheme.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"scheme"}),
		upstreamLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signet_upstream_response_header_seconds",
			Help:    "Time from sending the request upstream to its response headers, by scheme.",
			Buckets: []float64{.005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"scheme"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_upstream_errors_total",
			Help: "Failed upstream round trips by kind: unreachable, timeout, forbidden_address, aborted, client_canceled.",
		}, []string{"kind"}),
		secretUsed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_secret_used_total",
			Help: "Verified requests by key id and index of the secret that matched (0 is the first listed); an old secret's series that stops growing can be removed.",
		}, []string{"key_id", "secret_index"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_store_errors_total",
			Help: "Store failures by store (replay, ratelimit, usage, keys) and action: refused (503), fail_open (served unchecked), logged.",
		}, []string{"store", "action"}),
	}
	reg.MustRegister(m.secretUsed, m.storeErrors, m.requests, m.bytesIn, m.bytesOut, m.duration, m.upstreamLatency, m.upstreamErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

func (m *metrics) observe(ex *exchange, status int, in int64, dur interface{ Seconds() float64 }) {
	switch ex.outcome {
	case "health", "metrics", "preflight":
		return
	}
	m.requests.WithLabelValues(ex.keyID, ex.scheme, ex.outcome).Inc()
	if ex.keyID != "" {
		m.bytesIn.WithLabelValues(ex.keyID).Add(float64(in))
		m.bytesOut.WithLabelValues(ex.keyID).Add(float64(ex.w.bytes))
	}
	m.duration.WithLabelValues(ex.scheme).Observe(dur.Seconds())
	if ex.upstreamDur > 0 {
		m.upstreamLatency.WithLabelValues(ex.scheme).Observe(ex.upstreamDur.Seconds())
	}
	if ex.upstreamErr != "" {
		m.upstreamErrors.WithLabelValues(ex.upstreamErr).Inc()
	}
}
