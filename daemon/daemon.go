package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/jobstore"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/source"
	"github.com/scmon/scmon/usage"
	"github.com/spf13/pflag"
)

// Options configure a Daemon.
type Options struct {
	// ConfigPath is the configuration file, read again on reload; empty
	// means no file (defaults and environment only).
	ConfigPath string
	// Flags are the command's flags, bound again on reload where they
	// override configuration keys (FlagKeys); nil means none.
	Flags *pflag.FlagSet
	// Logger receives the daemon's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Version and Revision label the build.
	Version, Revision string
	// Sources builds the sources of a configuration; nil means
	// BuildSources. Tests inject stand-ins here.
	Sources func(*Config, *Runtime) ([]source.JobSource, []source.NodeSource, error)
	// LockCheck is how often the writer lock of a PostgreSQL store is
	// checked between writes (each write checks it too); 0 means
	// DefaultLockCheck.
	LockCheck time.Duration
}

// DefaultLockCheck is how often the daemon checks, between writes, that it
// still holds the writer lock of its PostgreSQL store, so that a lost lock
// shows in readiness and is taken again without waiting for a poll.
const DefaultLockCheck = 10 * time.Second

// Runtime is what a configuration turns into: immutable, swapped whole on
// reload.
type Runtime struct {
	Config    *Config
	Hash      string
	Inventory *capacity.Inventory
	Table     *accel.Table
	Rules     *classify.RuleSet
	Classer   *classify.RuleClassifier
	// Context holds the confident decisions of the records stored so far,
	// which the context and learned stages of later records draw on.
	Context  *classify.Context
	Location *time.Location
	// Shift is how far the built-in sample was moved to end at start.
	Shift time.Duration
	// SampleEnd is the end of the shifted sample.
	SampleEnd time.Time

	now    func() time.Time
	logger *slog.Logger
}

// Daemon collects, stores and publishes.
type Daemon struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time

	store    jobstore.Store
	tempDir  string
	lock     storeLock
	rt       atomic.Pointer[Runtime]
	snap     atomic.Pointer[snapshot.Snapshot]
	ready    atomic.Bool
	notReady atomic.Value // string
	// lockLost says why the store's writer lock is not held ("" while it
	// is): nothing is written then, and the daemon is not ready.
	lockLost atomic.Value // string

	// mu guards the in-memory engine and the per-source state below.
	mu       sync.RWMutex
	mem      *usage.Store
	pending  map[string][]*job.Record
	complete map[string]time.Time
	done     map[string]bool // sources that will deliver nothing more
	origin   time.Time
	// countedTo is the time up to which the counters were last published:
	// it never moves back, whatever a source added by a reload or an older
	// dump file claims (see publish.go).
	countedTo time.Time
	nodes     *nodeLedger
	health    map[string]*sourceHealth
	lastRule  map[string]string // source -> rules hash of its classification

	// quarantined are the stored records the engine could not load, by
	// key: skipped (the daemon starts anyway), counted and logged once.
	quarantined map[string]bool

	pub        publisher // the snapshot builder and what it carries between publishes
	rebuild    chan struct{}
	reloadReq  chan chan error
	lastReload snapshot.ConfigState
	cancelSrc  context.CancelFunc
	srcDone    sync.WaitGroup
	// jobSrc and nodeSrc are the sources of the runtime in force, built
	// with it.
	jobSrc  []source.JobSource
	nodeSrc []source.NodeSource
}

type sourceHealth struct {
	kind        string
	up          bool
	lastSuccess time.Time
	lastRecord  time.Time
	records     map[string]float64
	pollSeconds float64
	polls       float64
	failures    float64
	lastError   string
}

// New prepares a daemon from its configuration; Run starts it.
func New(cfg *Config, raw []byte, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sources == nil {
		opts.Sources = BuildSources
	}
	d := &Daemon{
		opts: opts, log: opts.Logger, now: opts.Now,
		pending: map[string][]*job.Record{}, complete: map[string]time.Time{}, done: map[string]bool{},
		health: map[string]*sourceHealth{}, lastRule: map[string]string{}, quarantined: map[string]bool{},
		rebuild:   make(chan struct{}, 1),
		reloadReq: make(chan chan error),
	}
	d.notReady.Store("starting")
	d.lockLost.Store("")
	next, err := d.prepare(cfg, raw)
	if err != nil {
		return nil, err
	}
	rt := next.rt
	d.rt.Store(rt)
	d.jobSrc, d.nodeSrc = next.jobs, next.nodes
	d.lastReload = snapshot.ConfigState{LastReloadSuccess: true, LastReload: d.now(), Hash: rt.Hash}
	return d, nil
}

// Runtime returns the configuration in force.
func (d *Daemon) Runtime() *Runtime { return d.rt.Load() }

// Snapshot returns the figures last published (never nil after Run has
// published the first one).
func (d *Daemon) Snapshot() *snapshot.Snapshot { return d.snap.Load() }

// Ready reports whether the daemon serves figures, and why not.
func (d *Daemon) Ready() (bool, string) {
	if why := d.lockLost.Load().(string); why != "" {
		return false, "no record is written: " + why
	}
	if d.ready.Load() {
		return true, ""
	}
	return false, d.notReady.Load().(string)
}

// Run opens the store, rebuilds the figures from it, starts the sources and
// serves until ctx ends. It returns the first fatal error.
func (d *Daemon) Run(ctx context.Context) error {
	rt := d.rt.Load()
	if err := d.openStore(ctx, rt.Config.Store); err != nil {
		if d.tempDir != "" {
			os.RemoveAll(d.tempDir)
		}
		return err
	}
	defer d.closeStore()
	if w, ok := d.lock.(watchedLock); ok {
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { d.watchLock(wctx, w) })
		// Runs before closeStore: the watch ends before the lock is released.
		defer func() { stop(); wg.Wait() }()
	}
	d.notReady.Store("loading the job store")
	start := d.now()
	n, err := d.rebuildMemory(ctx, rt)
	if err != nil {
		return err
	}
	d.log.Info("job store loaded", "records", n, "seconds", d.now().Sub(start).Seconds())
	if rt.Config.Sample {
		// The sample is read in memory: serve it from the first answer on.
		d.notReady.Store("loading the built-in sample")
		for _, s := range d.jobSrc {
			if _, err := d.pollOnce(ctx, s); err != nil {
				return fmt.Errorf("built-in sample: %w", err)
			}
		}
	}
	d.publish()
	d.startSources(ctx, rt)
	if w := d.waitingFor(); !d.ready.Load() && w != "" {
		d.notReady.Store(w)
	}
	for {
		select {
		case <-ctx.Done():
			d.stopSources()
			return nil
		case <-d.rebuild:
			d.publish()
		case reply := <-d.reloadReq:
			reply <- d.reload(ctx)
		}
	}
}

// Reload reads the configuration file again and applies it. A bad
// configuration is refused and the one in force kept.
func (d *Daemon) Reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case d.reloadReq <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reload builds the whole new runtime first (configuration, capacity,
// rules, sources, and the in-memory engine when the rules changed) and
// swaps it in whole; when any part fails, nothing is applied: the runtime
// in force keeps its capacity, rules and running sources.
func (d *Daemon) reload(ctx context.Context) error {
	err := d.tryReload(ctx)
	d.mu.Lock()
	if err != nil {
		d.lastReload.LastReloadSuccess = false
		d.log.Error("config reload refused", "err", err)
	} else {
		d.lastReload = snapshot.ConfigState{LastReloadSuccess: true, LastReload: d.now(), Hash: d.rt.Load().Hash}
		d.log.Info("config reloaded", "hash", d.lastReload.Hash)
	}
	d.mu.Unlock()
	d.publish()
	return err
}

func (d *Daemon) tryReload(ctx context.Context) error {
	cfg, raw, err := LoadConfig(d.opts.ConfigPath, d.opts.Flags)
	if err != nil {
		return err
	}
	next, err := d.prepare(cfg, raw)
	if err != nil {
		return err
	}
	old := d.rt.Load()
	if next.rt.Config.Store != old.Config.Store {
		return fmt.Errorf("store: changing the job store needs a restart (in force: %s)", redact(old.Config.Store))
	}
	// Everything that can be refused was checked: stop the sources so that
	// the engine is rebuilt from a store nobody writes to.
	d.stopSources()
	if next.rt.Rules != old.Rules {
		if _, err := d.rebuildMemory(ctx, next.rt); err != nil {
			// The store could not be read: go on as before.
			d.startSources(ctx, old)
			return err
		}
	}
	d.rt.Store(next.rt)
	d.jobSrc, d.nodeSrc = next.jobs, next.nodes
	d.startSources(ctx, next.rt)
	return nil
}

// prepared is a runtime with the sources of its configuration, built but
// not started.
type prepared struct {
	rt    *Runtime
	jobs  []source.JobSource
	nodes []source.NodeSource
}

// prepare builds everything a configuration needs before anything runs:
// capacity, rules, classifier, and the sources, after opening what they
// name. A start and a reload go through it, and so does Check, so that
// --config.check fails exactly when they would.
func (d *Daemon) prepare(cfg *Config, raw []byte) (*prepared, error) {
	p, err := d.prepareRuntime(cfg, raw)
	if err != nil {
		where := d.opts.ConfigPath
		if where == "" {
			where = "environment"
		}
		return nil, fmt.Errorf("config %s: %w", where, err)
	}
	return p, nil
}

func (d *Daemon) prepareRuntime(cfg *Config, raw []byte) (*prepared, error) {
	rt, err := d.newRuntime(cfg, raw)
	if err != nil {
		return nil, err
	}
	if err := checkSources(cfg); err != nil {
		return nil, err
	}
	jobs, nodes, err := d.opts.Sources(cfg, rt)
	if err != nil {
		return nil, err
	}
	return &prepared{rt: rt, jobs: jobs, nodes: nodes}, nil
}

// Check prepares a configuration read from path as a start would
// (capacity, rules, sources and the files they name) without opening the
// store or starting anything, and returns the first error a start would
// meet.
func Check(cfg *Config, raw []byte, path string) error {
	d, err := New(cfg, raw, Options{ConfigPath: path})
	if err != nil {
		return err
	}
	for _, s := range d.jobSrc {
		if c, ok := s.(io.Closer); ok {
			c.Close()
		}
	}
	return nil
}

// redact drops the credentials of a database URL for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return dsn
}

func (d *Daemon) openStore(ctx context.Context, dsn string) error {
	if dsn == "memory" {
		removeStaleMemoryStores(os.TempDir(), d.log)
		dir, err := os.MkdirTemp("", memoryPrefix)
		if err != nil {
			return fmt.Errorf("memory store: %w", err)
		}
		d.tempDir = dir
		if d.lock, err = lockDir(dir); err != nil {
			return fmt.Errorf("memory store: %w", err)
		}
		dsn = "sqlite://" + filepath.Join(dir, "scmon.db")
	} else if !isPostgres(dsn) {
		path := filepath.Dir(trimSQLite(dsn))
		if err := os.MkdirAll(path, 0o750); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		// One daemon per data directory: a second one would poll the same
		// sources into the same store.
		l, err := lockDir(path)
		if err != nil {
			return err
		}
		d.lock = l
	} else {
		// One daemon per database (and schema) too.
		l, err := lockDatabase(ctx, dsn, d.log)
		if err != nil {
			return err
		}
		d.lock = l
	}
	st, err := jobstore.Open(ctx, dsn)
	if err != nil {
		d.releaseLock()
		return err
	}
	d.store = st
	return nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// trimSQLite returns the file of a SQLite data source name.
func trimSQLite(dsn string) string {
	path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "sqlite://"), "?")
	return path
}

func (d *Daemon) closeStore() {
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			d.log.Error("close job store", "err", err)
		}
	}
	if d.tempDir != "" {
		os.RemoveAll(d.tempDir)
	}
	d.releaseLock()
}

// checkLock returns nil when the store's lock is held (always for a lock
// that cannot be lost), and records a change of its state for readiness
// and the next publish.
func (d *Daemon) checkLock(ctx context.Context) error {
	w, ok := d.lock.(watchedLock)
	if !ok {
		return nil
	}
	err := w.check(ctx)
	why := ""
	if err != nil {
		why = err.Error()
	}
	if prev := d.lockLost.Swap(why); (prev.(string) == "") != (why == "") {
		d.requestRebuild()
	}
	return err
}

// watchLock checks the store's lock every Options.LockCheck until ctx
// ends, so that its loss shows (and it is taken again) between polls.
func (d *Daemon) watchLock(ctx context.Context, w watchedLock) {
	every := d.opts.LockCheck
	if every <= 0 {
		every = DefaultLockCheck
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = d.checkLock(ctx)
		}
	}
}

func (d *Daemon) releaseLock() {
	if d.lock != nil {
		d.lock.release()
	}
	d.lock = nil
}

// rebuildMemory loads every stored record into a new in-memory engine,
// classified with the runtime's rules; when a stored decision differs, the
// store is reclassified too so that job-level answers agree.
func (d *Daemon) rebuildMemory(ctx context.Context, rt *Runtime) (int, error) {
	mem := usage.NewStore(rt.Table)
	differ := 0
	var origin time.Time
	quarantined := map[string]bool{}
	// Records the per-record stages leave unsettled keep the decision they
	// got when they arrived (with the context of their time); it is
	// replayed when the store is reclassified.
	unsettled := map[string]classify.Decision{}
	rt.Context.Reset()
	err := d.store.Scan(ctx, func(r *job.Record, stored classify.Decision) error {
		// A record the engine refuses is not classified either (classifying
		// 70,000 generic resources takes minutes).
		err := usage.CheckRecord(r)
		if err == nil {
			dec, settled := rt.Classer.Restore(rt.Context, r, stored)
			if !settled {
				unsettled[r.Key()] = dec
			}
			if dec.Class != stored.Class || !equalRules(dec.Rules, stored.Rules) {
				differ++
			}
			err = mem.Add(r, dec)
		}
		if err != nil {
			// A stored record never stops a start: it is quarantined.
			quarantined[r.Key()] = true
			d.mu.RLock()
			seen := d.quarantined[r.Key()]
			d.mu.RUnlock()
			if !seen {
				d.log.Error("stored record quarantined: not counted", "job", r.JobID, "key", r.Key(), "err", err)
			}
			return nil
		}
		if !r.Start.IsZero() && (origin.IsZero() || r.Start.Before(origin)) {
			origin = r.Start
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("load job store: %w", err)
	}
	if len(quarantined) > 0 {
		d.log.Warn("stored records quarantined", "count", len(quarantined))
	}
	if differ > 0 {
		if err := d.checkLock(ctx); err != nil {
			return 0, fmt.Errorf("reclassify job store: %w", err)
		}
		n, err := d.store.Reclassify(ctx, func(r *job.Record) classify.Decision {
			if usage.CheckRecord(r) != nil {
				return classify.Decision{Class: classify.Unknown}
			}
			if dec, ok := unsettled[r.Key()]; ok {
				return dec
			}
			return rt.Classer.Classify(r)
		})
		if err != nil {
			return 0, fmt.Errorf("reclassify job store: %w", err)
		}
		d.log.Info("stored records reclassified with the rules in force", "changed", n)
	}
	d.mu.Lock()
	d.mem = mem
	d.quarantined = quarantined
	if d.origin.IsZero() || (!origin.IsZero() && origin.Before(d.origin)) {
		d.origin = origin
	}
	d.mu.Unlock()
	return mem.Len(), nil
}

func equalRules(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// startSources starts the sources built for rt (d.jobSrc, d.nodeSrc)
// under a context of their own, which stopSources cancels.
func (d *Daemon) startSources(ctx context.Context, rt *Runtime) {
	ctx, cancel := context.WithCancel(ctx)
	d.cancelSrc = cancel
	jobs, nodes := d.jobSrc, d.nodeSrc
	d.mu.Lock()
	d.forgetRemoved(jobs, nodes)
	for _, s := range jobs {
		d.healthOf(s.Name(), kindOf(s))
	}
	for _, s := range nodes {
		d.healthOf(s.Name(), "nodes")
	}
	if len(nodes) > 0 && d.nodes == nil {
		d.nodes = newNodeLedger(rt.Table)
	}
	d.mu.Unlock()
	for _, s := range jobs {
		d.srcDone.Add(1)
		go func() {
			defer d.srcDone.Done()
			d.runJobSource(ctx, s, intervalOf(rt.Config, s.Name()))
		}()
	}
	for _, s := range nodes {
		d.srcDone.Add(1)
		go func() {
			defer d.srcDone.Done()
			d.runNodeSource(ctx, s, intervalOf(rt.Config, s.Name()))
		}()
	}
}

// forgetRemoved drops the state of sources that a reload removed: their
// complete time would otherwise hold every counter back at the moment of
// the reload (completeTime is the minimum over the sources), their pending
// jobs would stay demand, and their health would be reported for good.
// Their records stay in the store and are still counted. d.mu is held.
func (d *Daemon) forgetRemoved(jobs []source.JobSource, nodes []source.NodeSource) {
	keep := map[string]bool{}
	for _, s := range jobs {
		keep[s.Name()] = true
	}
	for _, s := range nodes {
		keep[s.Name()] = true
	}
	for name := range d.health {
		if !keep[name] {
			delete(d.health, name)
			delete(d.complete, name)
			delete(d.pending, name)
			delete(d.done, name)
		}
	}
}

func (d *Daemon) stopSources() {
	if d.cancelSrc != nil {
		d.cancelSrc()
	}
	d.srcDone.Wait()
}

// kinder is implemented by sources that say what they are.
type kinder interface{ Kind() string }

func kindOf(s source.JobSource) string {
	if k, ok := s.(kinder); ok {
		return k.Kind()
	}
	return "jobs"
}

func (d *Daemon) requestRebuild() {
	select {
	case d.rebuild <- struct{}{}:
	default:
	}
}

func sleepCtx(ctx context.Context, dt time.Duration) bool {
	t := time.NewTimer(dt)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runJobSource polls a job source until ctx ends: poll, classify, commit
// records and cursor together, then follow in memory.
func (d *Daemon) runJobSource(ctx context.Context, s source.JobSource, every time.Duration) {
	name := s.Name()
	if c, ok := s.(io.Closer); ok {
		// A dump keeps the file it imports open between polls.
		defer c.Close()
	}
	failures := 0
	for {
		more, err := d.pollOnce(ctx, s)
		if ctx.Err() != nil {
			return
		}
		wait := every
		switch {
		case err != nil:
			failures++
			wait = retryWait(failures, every)
			d.log.Warn("poll failed", "source", name, "err", err, "retry_in", wait.String())
		case more:
			wait = 0
			failures = 0
		default:
			failures = 0
		}
		if wait > 0 && !sleepCtx(ctx, wait) {
			return
		}
	}
}

// Retries of a failed poll start after RetryBase and double up to
// RetryMax, never waiting longer than the source's own interval: a full
// disk or a slurmdbd restart is usually over in minutes, and a source must
// not stay behind for hours after it is.
const (
	RetryBase = time.Second
	RetryMax  = time.Minute
)

// retryWait is the wait before retrying after the n-th failure in a row.
func retryWait(n int, every time.Duration) time.Duration {
	w := RetryBase
	for i := 1; i < n && w < RetryMax; i++ {
		w *= 2
	}
	return min(w, RetryMax, every)
}

// envelope wraps a source's cursor with the time up to which the source
// was complete, so that a restart resumes both.
type envelope struct {
	Complete time.Time `json:"complete"`
	Cursor   []byte    `json:"cursor,omitempty"`
}

func (d *Daemon) pollOnce(ctx context.Context, s source.JobSource) (more bool, err error) {
	name := s.Name()
	rt := d.rt.Load()
	raw, _, err := d.store.Cursor(ctx, name)
	if err != nil {
		return false, d.fail(ctx, name, fmt.Errorf("read cursor: %w", err), 0)
	}
	env, err := decodeEnvelope(raw)
	if err != nil {
		return false, d.fail(ctx, name, err, 0)
	}
	start := time.Now()
	b, err := s.Poll(ctx, env.Cursor)
	took := time.Since(start).Seconds()
	if err != nil {
		return false, d.fail(ctx, name, err, took)
	}
	// Records the engine must refuse are refused before they are stored.
	refused := 0
	kept := b.Records[:0]
	for _, r := range b.Records {
		if err := usage.CheckRecord(r); err != nil {
			d.log.Warn("record refused", "source", name, "job", r.JobID, "err", err)
			refused++
			continue
		}
		kept = append(kept, r)
	}
	b.Records = kept
	// Classified once, as they arrive, with the context of what is stored.
	decs := rt.Classer.ClassifyWith(rt.Context, b.Records)
	complete := b.Complete
	if complete.Before(env.Complete) {
		complete = env.Complete
	}
	cur, err := encodeEnvelope(envelope{Complete: complete, Cursor: b.Cursor})
	if err != nil {
		return false, d.fail(ctx, name, err, took)
	}
	// Nothing is written without the writer lock: another daemon may hold
	// it since this one's was lost. The batch is polled again from the
	// stored cursor once the lock is back.
	if err := d.checkLock(ctx); err != nil {
		return false, d.fail(ctx, name, fmt.Errorf("commit: %w", err), took)
	}
	res, err := d.store.Apply(ctx, jobstore.Batch{Source: name, Cursor: cur, Records: b.Records, Decisions: decs})
	if err != nil {
		return false, d.fail(ctx, name, fmt.Errorf("commit: %w", err), took)
	}
	// The time up to which this batch knows its running jobs ran: its own
	// claim (a dump file's latest time), else the source's.
	claim := b.Complete
	if claim.IsZero() {
		claim = env.Complete
	}
	var newest time.Time
	d.mu.Lock()
	for i, r := range b.Records {
		if c := capRunning(r, claim, d.countedTo); c != nil {
			r = c
		}
		if err := d.mem.Add(r, decs[i]); err != nil {
			d.log.Warn("record not counted", "source", name, "job", r.JobID, "err", err)
			d.quarantined[r.Key()] = true
		}
		for _, t := range []time.Time{r.Submit, r.Start, r.End} {
			if t.After(newest) {
				newest = t
			}
		}
		if !r.Start.IsZero() && (d.origin.IsZero() || r.Start.Before(d.origin)) {
			d.origin = r.Start
		}
	}
	if b.Pending != nil {
		d.pending[name] = b.Pending
	}
	d.complete[name] = complete
	d.done[name] = b.Done
	h := d.healthOf(name, kindOf(s))
	h.up, h.lastSuccess, h.lastError = true, d.now(), ""
	h.polls++
	h.pollSeconds += took
	if newest.After(h.lastRecord) {
		h.lastRecord = newest
	}
	h.records["stored"] += float64(res.Inserted + res.Updated)
	h.records["duplicate"] += float64(res.Unchanged + res.Merged)
	for reason, n := range b.Skipped {
		h.records["skipped_"+reason] += float64(n)
	}
	h.records["skipped_"+collector.ReasonTRES] += float64(refused)
	d.mu.Unlock()
	for _, e := range b.Errors {
		d.log.Warn("skipped line", "source", name, "err", e)
	}
	d.requestRebuild()
	return b.More, nil
}

// capRunning returns, for a running record of a batch that knows it ran
// only up to claim, a copy that ends there, when the counters were already
// published past claim (a source that a reload added, a dump file older
// than the files before it); nil otherwise. Counted up to countedTo
// instead, the job would count time the batch does not know it ran, and
// when a later record showed it ended earlier the counters would have to go
// down. Only the in-memory engine gets the copy: the store keeps the
// record as the source gave it.
func capRunning(r *job.Record, claim, countedTo time.Time) *job.Record {
	if r.Start.IsZero() || !r.End.IsZero() || !claim.Before(countedTo) {
		return nil
	}
	c := *r
	c.End = claim
	if c.End.Before(c.Start) {
		c.End = c.Start
	}
	return &c
}

// healthOf returns a source's health record, made on first use. d.mu must
// be held.
func (d *Daemon) healthOf(name, kind string) *sourceHealth {
	h := d.health[name]
	if h == nil {
		h = &sourceHealth{kind: kind, records: map[string]float64{}}
		d.health[name] = h
	}
	return h
}

// fail records a failed poll. A poll stopped because its context ended (a
// reload, a shutdown) is not a failure of the source and is not recorded.
func (d *Daemon) fail(ctx context.Context, name string, err error, took float64) error {
	if ctx.Err() != nil {
		return err
	}
	d.mu.Lock()
	h := d.healthOf(name, "jobs")
	h.up = false
	h.failures++
	h.polls++
	h.pollSeconds += took
	h.lastError = err.Error()
	d.mu.Unlock()
	d.requestRebuild()
	return err
}

func (d *Daemon) runNodeSource(ctx context.Context, s source.NodeSource, every time.Duration) {
	name := s.Name()
	for {
		start := time.Now()
		snap, err := s.Poll(ctx)
		took := time.Since(start).Seconds()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.log.Warn("node poll failed", "source", name, "err", err)
			_ = d.fail(ctx, name, err, took)
		} else {
			d.mu.Lock()
			cl := d.clusterOf(name)
			d.nodes.observe(cl, snap, d.weightsOf(cl))
			h := d.healthOf(name, "nodes")
			h.up, h.lastSuccess, h.lastError = true, d.now(), ""
			h.polls++
			h.pollSeconds += took
			h.lastRecord = snap.Time
			d.mu.Unlock()
			d.requestRebuild()
		}
		if !sleepCtx(ctx, every) {
			return
		}
	}
}

func (d *Daemon) clusterOf(nodeSource string) string {
	rt := d.rt.Load()
	if s := rt.Config.sourceConfig(nodeSource); s != nil {
		if n, ok := s.spec.(*ScontrolSource); ok && n.Cluster != "" {
			return n.Cluster
		}
	}
	if rt.Inventory != nil && len(rt.Inventory.Clusters) == 1 {
		return rt.Inventory.Clusters[0].Name
	}
	return rt.Config.Cluster
}

// weightsOf returns the billing weights of a cluster's partitions, from
// the inventory in force; nil when it has none.
func (d *Daemon) weightsOf(cluster string) func(string) capacity.Weights {
	rt := d.rt.Load()
	if rt.Inventory == nil {
		return nil
	}
	c := rt.Inventory.Cluster(cluster)
	if c == nil {
		return nil
	}
	return c.WeightsFor
}

func intervalOf(c *Config, name string) time.Duration {
	if s := c.sourceConfig(name); s != nil {
		return s.Interval
	}
	return DefaultDumpInterval
}
