package server

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are Switchboard's Prometheus metrics, served on /metrics. The pipeline reports job
// outcomes through the JobFinished/JobsRunning methods.
type Metrics struct {
	registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	jobsFinished *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	jobsRunning  prometheus.Gauge

	webhooks          *prometheus.CounterVec
	inboundMessages   prometheus.Counter
	duplicateMessages prometheus.Counter
}

// NewMetrics registers every metric on a fresh registry (plus Go runtime and process metrics).
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total", Help: "HTTP requests by method, route and status class.",
		}, []string{"method", "route", "status"}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_jobs_finished_total", Help: "Job attempts by kind and outcome (done, retry, dead).",
		}, []string{"kind", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchboard_job_duration_seconds", Help: "Time to run one job attempt.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		jobsRunning: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_jobs_running", Help: "Jobs running in this process.",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_webhooks_total", Help: "Webhook deliveries from Meta by outcome (stored, dead_letter, bad_signature, too_large, ...).",
		}, []string{"outcome"}),
		inboundMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_inbound_messages_total", Help: "Customer messages stored.",
		}),
		duplicateMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_inbound_duplicates_total", Help: "Customer messages Meta delivered again (already stored).",
		}),
	}
	m.registry.MustRegister(m.httpRequests, m.jobsFinished, m.jobDuration, m.jobsRunning, m.webhooks, m.inboundMessages, m.duplicateMessages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds more collectors (other packages' metrics) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.registry.MustRegister(cs...) }

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// JobFinished records the outcome of one job attempt.
func (m *Metrics) JobFinished(kind, outcome string, d time.Duration) {
	m.jobsFinished.WithLabelValues(kind, outcome).Inc()
	m.jobDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// JobsRunning moves the running-jobs gauge.
func (m *Metrics) JobsRunning(delta int) { m.jobsRunning.Add(float64(delta)) }
