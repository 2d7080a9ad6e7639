// Package web is scmon's HTTP face: the Prometheus /metrics endpoint, the
// health, readiness and reload endpoints, a JSON API for figures, jobs and
// rule hits, and a status page for people.
//
// The server only reads. Figures of the present come from the snapshot the
// daemon publishes after each poll; figures of any past range and job rows
// are computed by the daemon on request through the Backend interface. No
// request runs a command or reads a scheduler file.
//
// Listening goes through prometheus/exporter-toolkit, so that TLS, basic
// authentication and systemd socket activation are configured by the same
// --web.config.file and --web.listen-address flags as in every other
// Prometheus exporter.
//
// Routes (the API's documents are the types of package api/v1):
//
//	GET  /                   status page: self-contained HTML, no script, no external load
//	GET  /metrics            Options.Gatherer in the Prometheus exposition format
//	GET  /-/healthy          200 while the process serves
//	GET  /-/ready            200 when Backend.Ready, else 503 with the reason
//	POST /-/reload           Backend.Reload (PUT too): 200, or 500 with the error;
//	                         403 when a browser sends it from another site
//	GET  /api/v1/summary     Summary: headline, windows, jobs now, source health
//	GET  /api/v1/figures     Report for from, to [, every, by, tz]
//	GET  /api/v1/jobs        JobsPage for [from, to, cluster, partition, account,
//	                         user, class, state, limit, offset]
//	GET  /api/v1/rules/hits  RuleHits
//
// Times are RFC 3339. List parameters are repeated or comma-separated and
// match any of their values. A parameter the endpoint does not know is an
// error, so that a misspelt filter is never silently ignored. API errors
// are JSON objects {"error": "..."}: 400 when a parameter does not validate
// or the answer would pass a limit (MaxPoints, MaxCells, MaxFilterValues;
// the message names it), 405 for a method other than GET or HEAD, 503
// when the daemon is not ready or a query outlives Options.QueryTimeout,
// 500 otherwise.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	toolkit "github.com/prometheus/exporter-toolkit/web"
)

// Flag names and defaults shared by the daemon's command line and its
// configuration file, as the other Prometheus exporters spell them.
const (
	FlagListenAddress = "web.listen-address"
	FlagConfigFile    = "web.config.file"
	FlagSystemdSocket = "web.systemd-socket"
	// DefaultListenAddress is the address served when none is configured.
	DefaultListenAddress = ":9810"
)

// Defaults of Options.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 90 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultQueryTimeout      = 60 * time.Second
	DefaultShutdownTimeout   = 10 * time.Second
	DefaultMaxQueries        = 4
	DefaultChartDays         = 30
)

// Options configures a Server. The zero value of every field but Gatherer
// is usable.
type Options struct {
	// ListenAddresses are the TCP addresses to listen on (host:port);
	// empty means DefaultListenAddress. Ignored when SystemdSocket is set.
	ListenAddresses []string
	// SystemdSocket serves on the sockets systemd passes instead.
	SystemdSocket bool
	// ConfigFile is the exporter-toolkit web configuration (TLS, basic
	// authentication, HTTP/2, rate limit); empty serves plain HTTP without
	// authentication. The file is re-read on every new connection, so a
	// renewed certificate is taken without a restart.
	ConfigFile string

	// Gatherer is served on /metrics: the daemon's own registry, never
	// the global one. Nil serves an empty exposition.
	Gatherer prometheus.Gatherer
	// Registerer, when set, receives the server's own metrics (requests by
	// handler and code, their durations).
	Registerer prometheus.Registerer

	// Logger receives one record per request and the server's errors. Nil
	// discards them.
	Logger *slog.Logger

	// Location is the calendar of the status page's daily chart (days
	// start at its midnight). Nil means UTC. Set it to the daemon's
	// reporting location so that the page and `scmon report` agree.
	Location *time.Location
	// ChartDays is how many whole days the status page's chart covers;
	// zero means DefaultChartDays.
	ChartDays int
	// Title names the center on the status page; empty means "scmon".
	Title string
	// Version is shown in the status page's footer.
	Version string

	// Timeouts of the http.Server; zero means the Default* constant.
	// WriteTimeout must exceed QueryTimeout for a slow query to get its
	// error answer.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// QueryTimeout bounds one Figures or Jobs call; zero means
	// DefaultQueryTimeout.
	QueryTimeout time.Duration
	// MaxQueries bounds the API's Figures and Jobs calls running at once
	// (they can be CPU-heavy); requests beyond it wait. Zero means half the
	// CPUs Go may use, at least 1 and at most DefaultMaxQueries, so that
	// the rest stay free for /metrics, the status page and the daemon's
	// polls. The status page's chart has a lane of its own.
	MaxQueries int
	// ShutdownTimeout bounds the graceful shutdown when the context of
	// ListenAndServe or Serve ends; zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	// Now is the clock of the status page (which days are complete) and of
	// ages shown on it; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Server serves scmon's HTTP endpoints. Create it with New; it is safe for
// concurrent use.
type Server struct {
	b       Backend
	opts    Options
	log     *slog.Logger
	handler http.Handler
	page    *template.Template
	queries chan struct{}
	// pageQueries is the status page's own lane (one chart at a time; it
	// is cached per snapshot).
	pageQueries chan struct{}
	// origins refuses cross-site requests to /-/reload.
	origins *http.CrossOriginProtection

	// chart caches the status page's chart per snapshot and day range, so
	// that page views between two polls do not recompute 30 days.
	chartMu sync.Mutex
	chart   chartCache
}

// New returns a server for b. It panics when opts.Registerer refuses the
// server's metrics (a programming error: a duplicate registration).
func New(b Backend, opts Options) *Server {
	if len(opts.ListenAddresses) == 0 {
		opts.ListenAddresses = []string{DefaultListenAddress}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.ChartDays <= 0 {
		opts.ChartDays = DefaultChartDays
	}
	if opts.Title == "" {
		opts.Title = "scmon"
	}
	setDefault(&opts.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&opts.ReadTimeout, DefaultReadTimeout)
	setDefault(&opts.WriteTimeout, DefaultWriteTimeout)
	setDefault(&opts.IdleTimeout, DefaultIdleTimeout)
	setDefault(&opts.QueryTimeout, DefaultQueryTimeout)
	setDefault(&opts.ShutdownTimeout, DefaultShutdownTimeout)
	if opts.MaxQueries <= 0 {
		opts.MaxQueries = min(DefaultMaxQueries, max(1, runtime.GOMAXPROCS(0)/2))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Gatherer == nil {
		opts.Gatherer = prometheus.NewRegistry()
	}
	s := &Server{
		b:           b,
		opts:        opts,
		log:         opts.Logger,
		page:        pageTemplate,
		queries:     make(chan struct{}, opts.MaxQueries),
		pageQueries: make(chan struct{}, 1),
		origins:     http.NewCrossOriginProtection(),
	}
	s.handler = s.routes()
	return s
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// route is one endpoint: its ServeMux pattern, its handler and whether a
// request to it is routine (a scrape or a probe), logged at debug level
// only. The pattern, with "/{$}" shown as "/", names the handler in logs
// and metrics.
type route struct {
	pattern string
	h       http.Handler
	routine bool
}

func (s *Server) routes() http.Handler {
	rs := []route{
		{"/metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{
			ErrorLog:            slogPrinter{s.log},
			ErrorHandling:       promhttp.ContinueOnError,
			MaxRequestsInFlight: 4,
			Timeout:             max(s.opts.WriteTimeout-time.Second, s.opts.WriteTimeout/2),
		}), true},
		{"/-/healthy", http.HandlerFunc(s.healthy), true},
		{"/-/ready", http.HandlerFunc(s.ready), true},
		{"/-/reload", http.HandlerFunc(s.reload), false},
		{"/api/v1/summary", apiGet(s.summary), false},
		{"/api/v1/figures", apiGet(s.figures), false},
		{"/api/v1/jobs", apiGet(s.jobs), false},
		{"/api/v1/rules/hits", apiGet(s.ruleHits), false},
		{"/api/", http.HandlerFunc(apiNotFound), false},
		{"/{$}", http.HandlerFunc(s.statusPage), false},
	}
	var m *httpMetrics
	if s.opts.Registerer != nil {
		m = newHTTPMetrics(s.opts.Registerer)
	}
	mux := http.NewServeMux()
	for _, r := range rs {
		name := strings.TrimSuffix(r.pattern, "{$}")
		h := r.h
		if m != nil {
			h = m.instrument(name, h)
		}
		mux.Handle(r.pattern, s.logged(name, r.routine, h))
	}
	return mux
}

// Handler returns the server's routes, for embedding into another server
// or for tests. It adds neither TLS nor authentication: ListenAndServe and
// Serve do.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) flags() *toolkit.FlagConfig {
	addrs := append([]string(nil), s.opts.ListenAddresses...)
	sd := s.opts.SystemdSocket
	file := s.opts.ConfigFile
	return &toolkit.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &sd, WebConfigFile: &file}
}

// ListenAndServe listens on the configured addresses (or the systemd
// sockets) and serves until ctx ends, then shuts down gracefully within
// ShutdownTimeout. It returns nil after a shutdown caused by ctx, and the
// error otherwise (an address in use, a bad web configuration file).
func (s *Server) ListenAndServe(ctx context.Context) error {
	if s.opts.ConfigFile != "" {
		if err := toolkit.Validate(s.opts.ConfigFile); err != nil {
			return fmt.Errorf("web configuration %s: %w", s.opts.ConfigFile, err)
		}
	}
	srv := s.httpServer()
	flags := s.flags()
	return s.run(ctx, srv, func() error { return toolkit.ListenAndServe(srv, flags, s.log) })
}

// Serve serves on l until ctx ends, like ListenAndServe; it applies the web
// configuration file (TLS, authentication) to l. It closes l.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if s.opts.ConfigFile != "" {
		if err := toolkit.Validate(s.opts.ConfigFile); err != nil {
			l.Close()
			return fmt.Errorf("web configuration %s: %w", s.opts.ConfigFile, err)
		}
	}
	srv := s.httpServer()
	flags := s.flags()
	return s.run(ctx, srv, func() error { return toolkit.Serve(l, srv, flags, s.log) })
}

func (s *Server) run(ctx context.Context, srv *http.Server, serve func() error) error {
	done := make(chan error, 1)
	go func() { done <- serve() }()
	select {
	case err := <-done:
		// Serving stopped by itself: a listen error or a bad configuration.
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		// Connections still open after the grace period are cut.
		srv.Close()
	}
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	if err != nil {
		return fmt.Errorf("shut down web server: %w", err)
	}
	return nil
}

// slogPrinter adapts the logger to promhttp's error log.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("gathering metrics failed", "err", fmt.Sprint(v...))
}

// healthy answers 200 whenever the process serves HTTP at all.
func (s *Server) healthy(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	plain(w, http.StatusOK, "scmon is healthy.\n")
}

// ready answers 200 when the backend is ready and 503 with its reason
// otherwise, so that a load balancer or an orchestrator waits for the
// store to load.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	if ok, reason := s.b.Ready(); !ok {
		if reason == "" {
			reason = "not ready"
		}
		plain(w, http.StatusServiceUnavailable, "scmon is not ready: "+reason+"\n")
		return
	}
	plain(w, http.StatusOK, "scmon is ready.\n")
}

// reload asks the daemon to reload its configuration. Only POST and PUT
// are accepted, so that a crawler or a prefetching browser cannot trigger
// it, and only from the same origin: a page on another site that a
// browser with access to scmon opens must not be able to reload it with a
// form or a fetch. Browsers say where a request comes from (Sec-Fetch-Site,
// Origin) and a page cannot forge either; curl, Prometheus and scripts
// send neither and are accepted.
func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		plain(w, http.StatusMethodNotAllowed, "use POST or PUT to reload the configuration\n")
		return
	}
	if err := s.origins.Check(r); err != nil {
		s.log.Warn("cross-origin reload refused", "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "remote", r.RemoteAddr)
		plain(w, http.StatusForbidden, "reload refused: a request from another site (Origin "+strconv.Quote(r.Header.Get("Origin"))+") cannot reload scmon; POST without an Origin header, e.g. curl -X POST\n")
		return
	}
	if err := s.b.Reload(r.Context()); err != nil {
		s.log.Warn("reload refused", "err", err)
		plain(w, http.StatusInternalServerError, "reload failed: "+err.Error()+"\n")
		return
	}
	plain(w, http.StatusOK, "configuration reloaded\n")
}

// getOrHead refuses methods other than GET and HEAD with 405.
func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	plain(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed\n")
	return false
}

func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// statusRecorder remembers the status code and size of a response for the
// request log.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// flushing).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logged logs one record per request: routine requests at debug level,
// server errors at warning level, the rest at info level.
func (s *Server) logged(handler string, routine bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case rec.code >= 500:
			level = slog.LevelWarn
		case routine && rec.code < 400:
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "http request",
			slog.String("handler", handler),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.code),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("duration_seconds", time.Since(start).Seconds()),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// httpMetrics are the server's own metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scmon_http_requests_total",
			Help: "HTTP requests served, by handler and status code.",
		}, []string{"handler", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scmon_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by handler.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"handler"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) instrument(handler string, h http.Handler) http.Handler {
	l := prometheus.Labels{"handler": handler}
	return promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(l),
		promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(l), h))
}
