package web

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testNow is the clock of every test: the status page's chart covers the
// 30 days before 2025-03-15.
var testNow = time.Date(2025, 3, 15, 9, 30, 0, 0, time.UTC)

// nastyCluster is a cluster name that must print as written and never
// become markup.
const nastyCluster = `<script>alert("x")</script> & 'b'`

// fakeBackend is a Backend with canned answers that records what it was
// asked.
type fakeBackend struct {
	mu         sync.Mutex
	snap       *snapshot.Snapshot
	ready      bool
	reason     string
	reloadErr  error
	reloads    int
	figuresErr error
	jobsErr    error
	page       JobsPage
	figuresQs  []FiguresQuery
	jobsQs     []JobsQuery
}

func newFake() *fakeBackend {
	return &fakeBackend{snap: sampleSnapshot(), ready: true}
}

func (f *fakeBackend) Snapshot() *snapshot.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeBackend) Ready() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready, f.reason
}

func (f *fakeBackend) Reload(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloads++
	return f.reloadErr
}

func (f *fakeBackend) Figures(ctx context.Context, q FiguresQuery) (*report.Report, error) {
	f.mu.Lock()
	f.figuresQs = append(f.figuresQs, q)
	err := f.figuresErr
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("figures called without a deadline")
	}
	return fakeReport(q)
}

func (f *fakeBackend) Jobs(ctx context.Context, q JobsQuery) (JobsPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobsQs = append(f.jobsQs, q)
	if f.jobsErr != nil {
		return JobsPage{}, f.jobsErr
	}
	return f.page, nil
}

// figuresCalls returns the figures queries asked so far.
func (f *fakeBackend) figuresCalls() []FiguresQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FiguresQuery(nil), f.figuresQs...)
}

// dayFigures are the deterministic figures of day i of a fake series.
func dayFigures(i int) report.Figures {
	u := 0.55 + 0.3*math.Sin(float64(i)/3)
	a := 0.30 + 0.15*math.Cos(float64(i)/4)
	return report.Figures{
		CPU:         report.Resource{CapacityHours: 24 * 1000, AllocatedHours: 24 * 1000 * u, Utilization: u},
		AIShare:     report.Share{CPU: a, CPUUpper: a + 0.05},
		Classes:     map[string]report.Class{},
		HasCapacity: true,
	}
}

// fakeReport answers q with one bucket per period of q.
func fakeReport(q FiguresQuery) (*report.Report, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	spans, err := usage.Buckets(q.From, q.To, q.Every, loc)
	if err != nil {
		return nil, err
	}
	r := &report.Report{
		Title:    "fake",
		Window:   report.Window{From: q.From, To: q.To, Timezone: loc.String(), Hours: q.To.Sub(q.From).Hours()},
		Headline: report.Headline{Basis: capacity.BasisCores, Utilization: 0.5, AIShare: 0.25},
		Figures:  dayFigures(0),
		Every:    string(q.Every),
	}
	for _, k := range q.By {
		r.By = append(r.By, string(k))
	}
	for i, s := range spans {
		r.Series = append(r.Series, report.Period{From: s.From.In(loc), To: s.To.In(loc), Figures: dayFigures(i)})
	}
	return r, nil
}

// sampleSnapshot is a snapshot of two clusters, one of them with a name
// full of markup, and three sources in different states.
func sampleSnapshot() *snapshot.Snapshot {
	t := testNow.Add(-90 * time.Second)
	s := &snapshot.Snapshot{
		Time:     t,
		Clusters: []string{"alpha", nastyCluster},
		RuleHits: map[string]uint64{"torchrun": 120, "vllm-serve": 40, "gromacs": 40, "never": 0},
		Config:   snapshot.ConfigState{LastReloadSuccess: true, LastReload: testNow.Add(-2 * time.Hour), Hash: "0123456789abcdef0123"},
		Running: []snapshot.Current{
			{Cluster: "alpha", Partition: "gpu", Class: "ai_training", Jobs: 12, Cores: 768, Accel: []snapshot.AccelSeconds{{Kind: "gpu", Model: "a100", Seconds: 48}}},
			{Cluster: "alpha", Partition: "cpu", Class: "other", Jobs: 1300, Cores: 20480},
			{Cluster: nastyCluster, Partition: "p", Class: "unknown", Jobs: 3, Cores: 96},
		},
		Pending: []snapshot.Current{
			{Cluster: "alpha", Partition: "gpu", Class: "ai_training", Jobs: 7, Cores: 448, Accel: []snapshot.AccelSeconds{{Kind: "gpu", Model: "a100", Seconds: 28}}},
		},
		Sources: []snapshot.SourceHealth{
			{Name: "alpha-sacct", Kind: "sacct", Up: true, LastSuccess: testNow.Add(-95 * time.Second), LastRecord: testNow.Add(-3 * time.Minute),
				Records:     map[string]float64{"stored": 1234567, "duplicate": 42, "skipped_bad_time": 3, "skipped_no_start": 4},
				PollSeconds: 12.5, PollCount: 50, Failures: 1, Lag: 3 * time.Minute},
			{Name: "beta-jobcomp <tail>", Kind: "jobcomp", Up: false, LastSuccess: testNow.Add(-26 * time.Hour),
				Records: map[string]float64{"stored": 10}, PollSeconds: 0.2, PollCount: 4, Failures: 3,
				LastError: `open /var/log/slurm/jobcomp.log: permission denied <&>`, Lag: 26*time.Hour + 5*time.Minute},
			{Name: "pbs", Kind: "pbs", Up: true, Records: map[string]float64{}},
		},
	}
	for _, c := range s.Clusters {
		for i, w := range []string{"1h", "24h", "7d", "30d"} {
			u := 0.9 - 0.1*float64(i)
			a := 0.2 + 0.05*float64(i)
			if c != "alpha" {
				u, a = 1.0/3, 2.0/3
			}
			s.Headline = append(s.Headline, snapshot.Headline{Cluster: c, Window: w, Basis: "cpu", Utilization: u, AIShare: a})
			s.Windows = append(s.Windows, snapshot.Window{Cluster: c, Resource: "cpu", Window: w, Utilization: u, AIShare: a, AIShareUpper: a + 0.01})
		}
	}
	return s
}

// testLogger logs to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestServer returns a server for f on the test clock.
func newTestServer(t testing.TB, f Backend, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	return New(f, opts)
}
