package console

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/state"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promMetrics are the Prometheus series. Every label has a bounded set of
// values: channel names come from the configuration, paths are Graph's
// path templates, never a UPN, a DN or an id.
type promMetrics struct {
	reg *prometheus.Registry

	graphRequests  *prometheus.CounterVec
	graphLatency   *prometheus.HistogramVec
	graphRU        prometheus.Counter
	graphWrites    prometheus.Counter
	graphHTTP      *prometheus.CounterVec
	graphThrottled *prometheus.CounterVec
	graphRetries   *prometheus.CounterVec
	operations     *prometheus.CounterVec
	cycles         *prometheus.CounterVec
	cycleDuration  *prometheus.HistogramVec
	backlogOps     *prometheus.GaugeVec
	eta            *prometheus.GaugeVec
	signIns        *prometheus.CounterVec
	certs          *certCollector
}

func newPromMetrics(m *Monitor) *promMetrics {
	p := &promMetrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { p.reg.MustRegister(c) }
	p.graphRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "o365prov_graph_requests_total", Help: "Microsoft Graph requests answered, inner $batch requests included, by method, path template and status code.",
	}, []string{"method", "path", "code"})
	p.graphLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "o365prov_graph_request_duration_seconds", Help: "Time from sending a Graph request to its answer (a $batch's inner requests take the batch's).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"method"})
	p.graphRU = prometheus.NewCounter(prometheus.CounterOpts{Name: "o365prov_graph_resource_units_total", Help: "Graph resource units spent, as Graph's throttling counts them."})
	p.graphWrites = prometheus.NewCounter(prometheus.CounterOpts{Name: "o365prov_graph_writes_total", Help: "Successful Graph writes (POST, PATCH, PUT, DELETE): what the tenant's write budget counts."})
	p.graphHTTP = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "o365prov_graph_http_exchanges_total", Help: "HTTP exchanges with Graph: a $batch or a request sent alone, by status code (0: no answer).",
	}, []string{"type", "code"})
	p.graphThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "o365prov_graph_throttled_total", Help: "Graph requests refused with 429 Too Many Requests, by method and path template.",
	}, []string{"method", "path"})
	p.graphRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "o365prov_graph_retries_total", Help: "Graph requests sent again, by reason (throttled, transient, replication, auth, dependency).",
	}, []string{"reason"})
	p.operations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "o365prov_operations_total", Help: "Operations recorded in the audit log, by channel, operation and result (ok, failed, skipped).",
	}, []string{"channel", "operation", "result"})
	p.cycles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "o365prov_cycles_total", Help: "Finished cycles by channel, kind and result.",
	}, []string{"channel", "kind", "result"})
	p.cycleDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "o365prov_cycle_duration_seconds", Help: "How long cycles take, by channel and kind.",
		Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600},
	}, []string{"channel", "kind"})
	p.backlogOps = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "o365prov_sync_backlog_operations", Help: "Operations of the running apply not finished yet (0 when idle).",
	}, []string{"channel"})
	p.eta = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "o365prov_sync_eta_seconds", Help: "Estimated seconds until the running apply ends (0 when idle, -1 before an estimate).",
	}, []string{"channel"})
	p.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "o365prov_sso_signins_total", Help: "Federated sign-ins by result (success, bad_password, locked, error).",
	}, []string{"result"})
	p.certs = &certCollector{clock: m.clock, notAfter: map[string]time.Time{}}
	for _, c := range []prometheus.Collector{p.graphRequests, p.graphLatency, p.graphRU, p.graphWrites, p.graphHTTP, p.graphThrottled, p.graphRetries,
		p.operations, p.cycles, p.cycleDuration, p.backlogOps, p.eta, p.signIns, p.certs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "o365prov_graph_write_ceiling", Help: "Writes per second the client paces to (Graph's documented limit for one app in one tenant, or the configured one).",
	}, func() float64 { return m.ceiling }))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "o365prov_graph_write_budget_ratio", Help: "Share of the write budget spent over the last 150 s (Graph's window): 1 is the ceiling.",
	}, m.budgetShare))
	return p
}

func (p *promMetrics) observeRequest(method, path string, status int, dur time.Duration, ru int) {
	p.graphRequests.WithLabelValues(method, path, strconv.Itoa(status)).Inc()
	p.graphLatency.WithLabelValues(method).Observe(dur.Seconds())
	if ru > 0 {
		p.graphRU.Add(float64(ru))
	}
	if isWrite(method) && status < 400 {
		p.graphWrites.Inc()
	}
}

func (p *promMetrics) observeHTTP(batchSize, status int, _ time.Duration) {
	typ := "single"
	if batchSize > 0 {
		typ = "batch"
	}
	p.graphHTTP.WithLabelValues(typ, strconv.Itoa(status)).Inc()
}

func (p *promMetrics) throttled(method, path string) {
	p.graphThrottled.WithLabelValues(method, path).Inc()
}
func (p *promMetrics) retried(reason string) { p.graphRetries.WithLabelValues(reason).Inc() }
func (p *promMetrics) operation(channel, op, result string) {
	p.operations.WithLabelValues(channel, op, result).Inc()
}

func (p *promMetrics) cycle(c state.Cycle) {
	p.cycles.WithLabelValues(c.Channel, c.Kind, c.Result).Inc()
	if !c.Finished.IsZero() && !c.Started.IsZero() {
		p.cycleDuration.WithLabelValues(c.Channel, c.Kind).Observe(c.Finished.Sub(c.Started).Seconds())
	}
}

func (p *promMetrics) backlog(channel string, ops int, eta float64) {
	p.backlogOps.WithLabelValues(channel).Set(float64(ops))
	p.eta.WithLabelValues(channel).Set(eta)
}

// budgetShare is the last 150 s of writes over what the ceiling allows.
func (m *Monitor) budgetShare() float64 {
	if m.ceiling <= 0 {
		return 0
	}
	now := m.clock()
	n := 0
	for _, p := range m.perSecond(now.Add(-(budgetWindow-1)*time.Second), now) {
		n += p.Writes
	}
	return float64(n) / (m.ceiling * budgetWindow)
}

// signInResults are the values o365prov_sso_signins_total's result label
// takes; anything else counts as error, so the label stays bounded.
var signInResults = map[string]bool{
	"success": true, "bad_password": true, "locked": true, "disabled": true,
	"password_expired": true, "not_provisioned": true, "error": true,
}

// SignIn counts one federated sign-in by result (one of signInResults).
func (m *Monitor) SignIn(result string) {
	if !signInResults[result] {
		result = "error"
	}
	m.prom.signIns.WithLabelValues(result).Inc()
}

// CertificateExpiry records when one of the identity provider's signing
// certificates (use: current or next) expires; /metrics reports it and the
// days left at each scrape.
func (m *Monitor) CertificateExpiry(use string, notAfter time.Time) {
	m.prom.certs.set(use, notAfter)
}

var (
	certExpiryDesc = prometheus.NewDesc("o365prov_sso_certificate_expiry_timestamp_seconds",
		"When each of the identity provider's signing certificates expires (Unix time), by use (current, next).", []string{"use"}, nil)
	// Prometheus' conventions want seconds, not days: days left is this
	// divided by 86400.
	certLeftDesc = prometheus.NewDesc("o365prov_sso_certificate_remaining_seconds",
		"Seconds until each of the identity provider's signing certificates expires, by use (current, next); negative once expired. Divide by 86400 for days left.", []string{"use"}, nil)
)

// certCollector reports the signing certificates' expiry, working out the
// time left at each scrape so that the gauge falls as it should.
type certCollector struct {
	clock    func() time.Time
	mu       sync.Mutex
	notAfter map[string]time.Time
}

func (c *certCollector) set(use string, notAfter time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notAfter[use] = notAfter
}

func (c *certCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- certExpiryDesc
	ch <- certLeftDesc
}

func (c *certCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for use, t := range c.notAfter {
		ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(t.Unix()), use)
		ch <- prometheus.MustNewConstMetric(certLeftDesc, prometheus.GaugeValue, t.Sub(now).Seconds(), use)
	}
}

// DaysLeft is the whole days from now until notAfter, negative once past.
func DaysLeft(now, notAfter time.Time) int {
	d := notAfter.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// WatchObjects makes /metrics report the channels' objects by kind and
// state, read from the store at each scrape. Call it once.
func (m *Monitor) WatchObjects(st Store, channels []ChannelInfo) error {
	return m.prom.reg.Register(&objectsCollector{st: st, channels: channels, clock: m.clock, cache: m.counts})
}

// Registry is the monitor's Prometheus registry.
func (m *Monitor) Registry() *prometheus.Registry { return m.prom.reg }

var objectsDesc = prometheus.NewDesc("o365prov_objects", "Provisioned objects by channel, kind and state (in_sync, pending, failed).", []string{"channel", "kind", "state"}, nil)

// objectsCollector reads the object counts at scrape time: they live in
// the store, which other nodes of a cluster write too.
type objectsCollector struct {
	st       Store
	channels []ChannelInfo
	clock    func() time.Time
	cache    *countCache
}

func (c *objectsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- objectsDesc }

func (c *objectsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, info := range c.channels {
		users, groups, err := c.cache.get(ctx, c.st, info.Name, c.clock())
		if err != nil {
			ch <- prometheus.NewInvalidMetric(objectsDesc, err)
			continue
		}
		for kind, n := range map[string]Counts{"user": users, "group": groups} {
			ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(n.InSync), info.Name, kind, "in_sync")
			ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(n.Pending), info.Name, kind, "pending")
			ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(n.Failed), info.Name, kind, "failed")
		}
	}
}

// metrics serves /metrics.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.o.Monitor.prom.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}
