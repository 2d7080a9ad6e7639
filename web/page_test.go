package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/snapshot"
)

// shownPage is what a person reads on the status page, taken from the
// document by the data- attributes the template sets.
type shownPage struct {
	// headline maps "cluster|window|figure" to the cell's text.
	headline map[string]string
	// sources maps "source|field" to the cell's text.
	sources map[string]string
	// days are the data-day of the utilization points of the chart, and
	// chartDays the chart's data-days.
	days      []string
	chartDays string
	// svgTitles counts the <title> tooltips inside the chart.
	svgTitles int
	// text is the whole text of the page.
	text string
	// links are the hrefs of the footer.
	links []string
	// scripts counts <script> elements; external counts src/href
	// attributes that leave the page's own server.
	scripts, external int
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// readPage parses a status page.
func readPage(t *testing.T, doc []byte) *shownPage {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	p := &shownPage{headline: map[string]string{}, sources: map[string]string{}, text: textOf(root)}
	var walk func(n *html.Node, inChart, inLinks bool)
	walk = func(n *html.Node, inChart, inLinks bool) {
		if n.Type == html.ElementNode {
			id, _ := attr(n, "id")
			if id == "daily-chart" {
				inChart = true
				p.chartDays, _ = attr(n, "data-days")
			}
			if id == "links" {
				inLinks = true
			}
			if n.Data == "script" {
				p.scripts++
			}
			for _, k := range []string{"src", "href"} {
				if v, ok := attr(n, k); ok && (strings.Contains(v, "//") || strings.HasPrefix(v, "/")) {
					p.external++
				}
			}
			if inLinks && n.Data == "a" {
				href, _ := attr(n, "href")
				p.links = append(p.links, href)
			}
			if c, ok := attr(n, "data-cluster"); ok {
				if f, ok := attr(n, "data-figure"); ok {
					w, _ := attr(n, "data-window")
					p.headline[c+"|"+w+"|"+f] = textOf(n)
				}
			}
			if s, ok := attr(n, "data-source"); ok {
				if f, ok := attr(n, "data-field"); ok {
					p.sources[s+"|"+f] = textOf(n)
				}
			}
			if inChart && n.Data == "title" && n.Parent != nil && n.Parent.Data == "circle" {
				p.svgTitles++
			}
			if inChart && n.Data == "circle" && n.Parent != nil {
				if s, _ := attr(n.Parent, "data-series"); s == "utilization" {
					d, _ := attr(n, "data-day")
					p.days = append(p.days, d)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inChart, inLinks)
		}
	}
	walk(root, false, false)
	return p
}

// wantDays are the days of the chart at testNow: the 30 whole days before
// 2025-03-15.
func wantDays() []string {
	var out []string
	for d := time.Date(2025, 2, 13, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out
}

// checkPageAgainstSummary requires that the page shows the figures and
// source states of the summary, formatted as the page formats them.
func checkPageAgainstSummary(t *testing.T, p *shownPage, sum *apiv1.Summary) {
	t.Helper()
	if len(sum.Headline) == 0 || len(sum.Sources) == 0 {
		t.Fatal("the summary has no headline or no sources to compare")
	}
	for _, h := range sum.Headline {
		for fig, v := range map[string]float64{"utilization": h.Utilization, "ai_share": h.AIShare} {
			key := h.Cluster + "|" + h.Window + "|" + fig
			if got, want := p.headline[key], pct(v); got != want {
				t.Errorf("page shows %s = %q, the API says %q", key, got, want)
			}
		}
	}
	if len(p.headline) != 2*len(sum.Headline) {
		t.Errorf("page shows %d headline cells, the API has %d figures", len(p.headline), 2*len(sum.Headline))
	}
	for _, s := range sum.Sources {
		state := "down"
		if s.Up {
			state = "up"
		}
		if got := p.sources[s.Name+"|state"]; got != state {
			t.Errorf("page shows source %q %q, the API says %q", s.Name, got, state)
		}
		if got, want := p.sources[s.Name+"|skipped"], count(s.Skipped); got != want {
			t.Errorf("page shows source %q skipped %q, the API says %q", s.Name, got, want)
		}
		want := duration(time.Duration(s.LagSeconds * float64(time.Second)))
		if s.LastSuccess.IsZero() && s.LastRecord.IsZero() && s.LagSeconds == 0 {
			want = "–"
		}
		if got := p.sources[s.Name+"|lag"]; got != want {
			t.Errorf("page shows source %q lag %q, the API says %q", s.Name, got, want)
		}
		if s.LastSuccess.IsZero() != strings.HasPrefix(p.sources[s.Name+"|last_success"], "never") {
			t.Errorf("page shows source %q last success %q, the API says %v", s.Name, p.sources[s.Name+"|last_success"], s.LastSuccess)
		}
	}
}

func renderTestPage(t *testing.T, s *Server) *shownPage {
	t.Helper()
	res, body := call(t, s.Handler(), "GET", "/")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	return readPage(t, []byte(body))
}

func TestStatusPage(t *testing.T) {
	f := newFake()
	s := newTestServer(t, f, Options{Title: `Center <North> & "South"`, Version: "1.2.3"})
	res, body := call(t, s.Handler(), "GET", "/")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<North>") {
		t.Error("a name was written as markup")
	}
	p := readPage(t, []byte(body))
	sum := buildSummary(f.snap)
	checkPageAgainstSummary(t, p, sum)
	if p.headline[nastyCluster+"|24h|utilization"] != "33.3%" {
		t.Errorf("cluster name with markup: %q", p.headline)
	}
	if got := p.sources["beta-jobcomp <tail>|state"]; got != "down" {
		t.Errorf("source with markup: %q", got)
	}
	for _, want := range []string{`Center <North> & "South"`, "scmon 1.2.3", "1,312", "21,248 cores", "1 d 2 h", "permission denied <&>",
		"Snapshot 2025-03-15 09:28:30 +00:00 (1 min 30 s ago)", "last reload succeeded", "0123456789ab", "25 %", "Feb 15", "Mar 14"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("page does not show %q", want)
		}
	}
	if fmt.Sprint(p.days) != fmt.Sprint(wantDays()) || p.chartDays != "30" {
		t.Errorf("chart days %v (data-days %s), want %v", p.days, p.chartDays, wantDays())
	}
	if p.svgTitles != 3*30 {
		t.Errorf("%d tooltips, want %d", p.svgTitles, 3*30)
	}
	if p.scripts != 0 || p.external != 0 {
		t.Errorf("%d scripts, %d links off the page", p.scripts, p.external)
	}
	for _, l := range p.links {
		if res, body := call(t, s.Handler(), "GET", "/"+l); res.StatusCode != 200 {
			t.Errorf("link %s: status %d: %s", l, res.StatusCode, body)
		}
	}
	q := f.figuresQs[0]
	if !q.From.Equal(time.Date(2025, 2, 13, 0, 0, 0, 0, time.UTC)) || !q.To.Equal(time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)) || q.Every != "day" {
		t.Errorf("chart query %+v", q)
	}
}

func TestStatusPageStates(t *testing.T) {
	t.Run("starting", func(t *testing.T) {
		f := newFake()
		f.snap, f.ready, f.reason = nil, false, "loading the job store"
		f.figuresErr = fmt.Errorf("store: %w", ErrNotReady)
		p := renderTestPage(t, newTestServer(t, f, Options{}))
		for _, want := range []string{"not ready", "Not ready: loading the job store", "No figures published yet", "once the job store is loaded"} {
			if !strings.Contains(p.text, want) {
				t.Errorf("page does not show %q:\n%s", want, p.text)
			}
		}
		if len(p.headline) != 0 || len(p.days) != 0 {
			t.Errorf("figures shown without a snapshot: %v %v", p.headline, p.days)
		}
	})
	t.Run("chart fails", func(t *testing.T) {
		f := newFake()
		f.figuresErr = errors.New("database <gone>")
		p := renderTestPage(t, newTestServer(t, f, Options{}))
		if !strings.Contains(p.text, "The chart is unavailable: database <gone>") || len(p.headline) != 16 {
			t.Errorf("page:\n%s", p.text)
		}
	})
	t.Run("zone and length", func(t *testing.T) {
		f := newFake()
		loc, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Skip("no time zone database:", err)
		}
		// 2025-03-09 has 23 hours in New York; days still start at local
		// midnight.
		p := renderTestPage(t, newTestServer(t, f, Options{Location: loc, ChartDays: 7}))
		want := []string{"2025-03-08", "2025-03-09", "2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13", "2025-03-14"}
		if fmt.Sprint(p.days) != fmt.Sprint(want) {
			t.Errorf("days %v, want %v", p.days, want)
		}
		// Every time carries its UTC offset; no zone abbreviation (EDT,
		// EST) that a reader elsewhere could not place.
		for _, want := range []string{"Snapshot 2025-03-15 05:28:30 -04:00", "Page rendered 2025-03-15 05:30:00 -04:00",
			"2025-03-15 05:28:25 -04:00", "last reload succeeded at 2025-03-15 03:30:00 -04:00", "times in America/New_York, UTC-04:00",
			"midnight to midnight America/New_York, UTC-04:00"} {
			if !strings.Contains(p.text, want) {
				t.Errorf("page does not show %q:\n%s", want, p.text)
			}
		}
		if m := regexp.MustCompile(`\b(EDT|EST|UTC|GMT|CST)\b[^+-]`).FindString(p.text); m != "" {
			t.Errorf("a time labelled with an abbreviation (%q):\n%s", m, p.text)
		}
	})
	t.Run("head", func(t *testing.T) {
		res, body := call(t, newTestServer(t, newFake(), Options{}).Handler(), "HEAD", "/")
		if res.StatusCode != 200 || body != "" || res.Header.Get("Content-Length") == "" {
			t.Errorf("status %d, %d bytes, length %q", res.StatusCode, len(body), res.Header.Get("Content-Length"))
		}
	})
}

func TestChartCache(t *testing.T) {
	f := newFake()
	now := testNow
	s := newTestServer(t, f, Options{Now: func() time.Time { return now }})
	renderTestPage(t, s)
	renderTestPage(t, s)
	if len(f.figuresQs) != 1 {
		t.Errorf("%d figures queries for one snapshot, want 1", len(f.figuresQs))
	}
	f.mu.Lock()
	f.snap = sampleSnapshot()
	f.mu.Unlock()
	renderTestPage(t, s)
	if len(f.figuresQs) != 2 {
		t.Errorf("%d figures queries after a new snapshot, want 2", len(f.figuresQs))
	}
	now = now.Add(24 * time.Hour)
	renderTestPage(t, s)
	if len(f.figuresQs) != 3 || !f.figuresQs[2].To.Equal(time.Date(2025, 3, 16, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("queries after a day %+v", f.figuresQs)
	}
}

// BenchmarkStatusPage measures one render of the status page with the
// chart cached, as between two polls.
func BenchmarkStatusPage(b *testing.B) {
	s := newTestServer(b, newFake(), Options{Logger: testLogger(b)})
	var buf bytes.Buffer
	ctx := context.Background()
	if err := s.renderPage(ctx, &buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := s.renderPage(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
}

// plannerSnapshot is sampleSnapshot with what the planner's panels read:
// accelerator counters of two models of different origin, node states and
// waiting jobs. In alpha/gpu 8 A100 are idle while jobs of the partition
// wait for 28 (highlighted); in alpha/npu 4 Ascend are idle and nobody
// waits for them (not highlighted); alpha/cpu has idle cores and waiting
// jobs for cores (highlighted).
func plannerSnapshot() *snapshot.Snapshot {
	s := sampleSnapshot()
	a100 := func(x float64) []snapshot.AccelSeconds {
		return []snapshot.AccelSeconds{{Kind: "gpu", Model: "a100", Seconds: x}}
	}
	npu := func(x float64) []snapshot.AccelSeconds {
		return []snapshot.AccelSeconds{{Kind: "npu", Model: "Ascend 910B", Seconds: x}}
	}
	s.Origins = []snapshot.DeviceOrigin{{Kind: "gpu", Model: "a100", Origin: "imported"}, {Kind: "npu", Model: "Ascend 910B", Origin: "domestic"}}
	s.Allocated = []snapshot.Allocated{
		{Cluster: "alpha", Partition: "gpu", Class: "ai_training", Accel: a100(3 * 3600e3)},
		{Cluster: "alpha", Partition: "gpu", Class: "ai_inference", Accel: a100(1 * 3600e3)},
		{Cluster: "alpha", Partition: "gpu", Class: "other", Accel: a100(4 * 3600e3)},
		{Cluster: "alpha", Partition: "npu", Class: "ai_inference", Accel: npu(1 * 3600e3)},
	}
	s.Capacity = []snapshot.Capacity{
		{Cluster: "alpha", Partition: "gpu", State: "allocated", Accel: a100(8 * 3600e3)},
		{Cluster: "alpha", Partition: "gpu", State: "idle", Accel: a100(2 * 3600e3)},
		{Cluster: "alpha", Partition: "npu", State: "allocated", Accel: npu(1 * 3600e3)},
		{Cluster: "alpha", Partition: "npu", State: "down", Accel: npu(3 * 3600e3)},
	}
	s.Nodes = []snapshot.NodeState{
		{Cluster: "alpha", Partition: "gpu", State: "allocated", Nodes: 6, Cores: 768, Accel: a100(48)},
		{Cluster: "alpha", Partition: "gpu", State: "idle", Nodes: 1, Cores: 128, Accel: a100(8)},
		{Cluster: "alpha", Partition: "npu", State: "idle", Nodes: 1, Cores: 192, Accel: npu(4)},
		{Cluster: "alpha", Partition: "npu", State: "drained", Nodes: 1, Cores: 192, Accel: npu(4)},
		{Cluster: "alpha", Partition: "cpu", State: "allocated", Nodes: 160, Cores: 20480},
		{Cluster: "alpha", Partition: "cpu", State: "idle", Nodes: 2, Cores: 256},
	}
	s.Pending = append(s.Pending, snapshot.Current{Cluster: "alpha", Partition: "cpu", Class: "other", Jobs: 3, Cores: 512})
	return s
}

// plannerPanels is what a reader sees in the planner's panels: each row's
// cells by its data attribute, and which rows are highlighted.
type plannerPanels struct {
	rows        map[string][]string
	highlighted []string
}

func readPlannerPanels(t *testing.T, doc []byte) *plannerPanels {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	p := &plannerPanels{rows: map[string][]string{}}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			for _, k := range []string{"data-now", "data-accel"} {
				if id, ok := attr(n, k); ok {
					var cells []string
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						if c.Type == html.ElementNode {
							cells = append(cells, strings.TrimSpace(textOf(c)))
						}
					}
					p.rows[id] = cells
					if cl, _ := attr(n, "class"); cl == "blocked" {
						p.highlighted = append(p.highlighted, id)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return p
}

// checkPlannerPanels compares the panels with figures computed by hand
// from plannerSnapshot.
func checkPlannerPanels(t *testing.T, p *plannerPanels) {
	t.Helper()
	want := map[string][]string{
		// Cluster, partition, resource, capacity, allocated, idle, down/drained/planned, requested.
		"alpha|gpu|gpu a100":        {"alpha", "gpu", "gpu a100", "56", "48", "8", "0", "28"},
		"alpha|gpu|cores":           {"alpha", "gpu", "cores", "896", "768", "128", "0", "448"},
		"alpha|npu|npu Ascend 910B": {"alpha", "npu", "npu Ascend 910B", "8", "0", "4", "4", "0"},
		"alpha|cpu|cores":           {"alpha", "cpu", "cores", "20,736", "20,480", "256", "0", "512"},
		"alpha|npu|cores":           {"alpha", "npu", "cores", "384", "0", "192", "192", "0"},
		// Cluster, accelerator, origin, capacity h, allocated h, utilization, AI share, training, inference.
		"alpha|gpu|a100":        {"alpha", "a100", "imported", "10,000", "8,000", "80.0%", "50.0%", "37.5%", "12.5%"},
		"alpha|gpu|":            {"alpha", "gpu (all models)", "", "10,000", "8,000", "80.0%", "50.0%", "37.5%", "12.5%"},
		"alpha|npu|Ascend 910B": {"alpha", "Ascend 910B", "domestic", "4,000", "1,000", "25.0%", "100.0%", "0.0%", "100.0%"},
	}
	for id, w := range want {
		if got := p.rows[id]; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("row %s shows %q, want %q", id, got, w)
		}
	}
	if len(p.rows) != len(want)+1 { // and npu (all models)
		t.Errorf("%d rows: %v", len(p.rows), p.rows)
	}
	// Idle while jobs of the same partition wait: gpu cores and A100,
	// cpu cores; not the NPUs nobody waits for.
	slices.Sort(p.highlighted)
	if w := []string{"alpha|cpu|cores", "alpha|gpu|cores", "alpha|gpu|gpu a100"}; fmt.Sprint(p.highlighted) != fmt.Sprint(w) {
		t.Errorf("highlighted %v, want %v", p.highlighted, w)
	}
}

func TestPlannerPanels(t *testing.T) {
	f := newFake()
	f.snap = plannerSnapshot()
	res, body := call(t, newTestServer(t, f, Options{}).Handler(), "GET", "/")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	checkPlannerPanels(t, readPlannerPanels(t, []byte(body)))
}
