package backfill

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
)

// omSample is one sample line of OpenMetrics text.
type omSample struct {
	series string // name{labels}
	value  float64
	ts     int64
}

// parseOM reads the OpenMetrics text that WriteOpenMetrics writes and
// checks its structure: every family's HELP, TYPE and UNIT before its
// samples, families and series never interleaved, timestamps increasing
// within a series, "# EOF" last.
func parseOM(t *testing.T, text string) []omSample {
	t.Helper()
	if !strings.HasSuffix(text, "\n# EOF\n") {
		t.Fatalf("output does not end with # EOF: ...%q", text[max(0, len(text)-80):])
	}
	var out []omSample
	family := ""
	seenFamily := map[string]bool{}
	seenSeries := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(text, "# EOF\n"), "\n")
	lines = lines[:len(lines)-1]
	for n, line := range lines {
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			family, _, _ = strings.Cut(rest, " ")
			if seenFamily[family] {
				t.Fatalf("line %d: family %s appears twice", n+1, family)
			}
			seenFamily[family] = true
			if !strings.HasPrefix(lines[n+1], "# TYPE "+family+" counter") || lines[n+2] != "# UNIT "+family+" seconds" {
				t.Fatalf("line %d: HELP not followed by TYPE and UNIT: %q %q", n+1, lines[n+1], lines[n+2])
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, '}')
		fields := strings.Fields(line[i+1:])
		if i < 0 || len(fields) != 2 {
			t.Fatalf("line %d: %q", n+1, line)
		}
		name := line[:i+1]
		if !strings.HasPrefix(name, family+"_total{") {
			t.Fatalf("line %d: sample of %s under family %s", n+1, name, family)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		ts, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if len(out) > 0 && out[len(out)-1].series == name {
			if ts <= out[len(out)-1].ts {
				t.Fatalf("line %d: timestamp %d after %d", n+1, ts, out[len(out)-1].ts)
			}
		} else {
			if seenSeries[name] {
				t.Fatalf("line %d: series %s interleaved with another", n+1, name)
			}
			seenSeries[name] = true
		}
		out = append(out, omSample{name, v, ts})
	}
	return out
}

func TestOpenMetricsHandComputed(t *testing.T) {
	g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute, Inventory: smallInventory(t),
		ChunkSteps: 2, Labels: []Label{{"job", "scmon"}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	spool := t.TempDir()
	st, err := WriteOpenMetrics(&buf, g, spool)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool files left behind: %v", left)
	}
	text := buf.String()
	samples := parseOM(t, text)
	if st.Series != 53 || st.Samples != 53*5 || len(samples) != 53*5 || st.Bytes != int64(len(text)) {
		t.Errorf("stats %+v for %d samples, %d bytes", st, len(samples), len(text))
	}
	ts := t0.Unix()
	for _, want := range []string{
		"# HELP scmon_allocated_core_seconds Core-seconds (cores x seconds) allocated to jobs since the start of the job history. Backfilled from the job history by scmon backfill.\n" +
			"# TYPE scmon_allocated_core_seconds counter\n# UNIT scmon_allocated_core_seconds seconds\n",
		`scmon_allocated_core_seconds_total{cluster="c1",partition="cpu",class="ai_training",job="scmon"} 120 ` + strconv.FormatInt(ts+60, 10) + "\n" +
			`scmon_allocated_core_seconds_total{cluster="c1",partition="cpu",class="ai_training",job="scmon"} 360 ` + strconv.FormatInt(ts+120, 10) + "\n",
		`scmon_allocated_accelerator_seconds_total{cluster="c1",partition="gpu",kind="gpu",model="A100",origin="imported",class="unknown",job="scmon"} 280 ` + strconv.FormatInt(ts+240, 10) + "\n",
		`scmon_capacity_core_seconds_total{cluster="c1",partition="cpu",state="idle",job="scmon"} 840 ` + strconv.FormatInt(ts, 10) + "\n",
		`scmon_capacity_accelerator_seconds_total{cluster="c1",partition="gpu",kind="gpu",model="A100",origin="imported",state="allocated",job="scmon"} 40 ` + strconv.FormatInt(ts+120, 10) + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks\n%s", want)
		}
	}
	// Families in name order.
	var order []string
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			order = append(order, strings.Fields(rest)[0])
		}
	}
	want := "scmon_allocated_accelerator_seconds scmon_allocated_billing_seconds scmon_allocated_core_seconds " +
		"scmon_allocated_node_seconds scmon_capacity_accelerator_seconds scmon_capacity_billing_seconds scmon_capacity_core_seconds"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("families %s", got)
	}
}

// TestOpenMetricsMatchesGenerator: on the sample center, the text holds
// exactly the Generator's values, whatever the chunk size.
func TestOpenMetricsMatchesGenerator(t *testing.T) {
	d := sample(t)
	from := d.to.Add(-6 * time.Hour)
	g, err := New(d.store, Options{From: from, To: d.to, Step: 5 * time.Minute, Inventory: d.inv})
	if err != nil {
		t.Fatal(err)
	}
	want := collect(t, g)
	g, err = New(d.store, Options{From: from, To: d.to, Step: 5 * time.Minute, Inventory: d.inv, ChunkSteps: 7})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := WriteOpenMetrics(&buf, g, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	// Read back five series at a time: the same text.
	defer func(b int) { bandBudget = b }(bandBudget)
	bandBudget = 5 * 8 * g.Points()
	g.Reset()
	var banded bytes.Buffer
	if _, err := WriteOpenMetrics(&banded, g, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(banded.Bytes(), buf.Bytes()) {
		t.Error("the text differs when read back in bands of five series")
	}
	got := map[string][]float64{}
	for _, s := range parseOM(t, buf.String()) {
		got[s.series] = append(got[s.series], s.value)
		if (s.ts-from.Unix())%300 != 0 {
			t.Fatalf("timestamp %d off the grid", s.ts)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d series in the text, %d generated", len(got), len(want))
	}
	for s := range g.Series() {
		text := string(appendSeriesName(nil, &g.Families()[g.Series()[s].Family], g.Series()[s].Values, nil))
		w := want[seriesName(g, s)]
		if len(got[text]) != len(w) {
			t.Fatalf("%s: %d samples, want %d", text, len(got[text]), len(w))
		}
		for i := range w {
			if got[text][i] != w[i] {
				t.Errorf("%s sample %d: %v, want %v", text, i, got[text][i], w[i])
				break
			}
		}
	}
}

func TestOpenMetricsEscaping(t *testing.T) {
	store := smallStore(t, jobSpec{id: "x", partition: "we\"ird\\part\nname", class: classify.Other, cores: 1, nodes: 1, start: 0, end: 60},
		jobSpec{id: "y", partition: "bad\xffutf8", class: classify.Other, cores: 1, nodes: 1, start: 0, end: 60})
	g, err := New(store, Options{From: t0, To: at(60), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := WriteOpenMetrics(&buf, g, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		`scmon_allocated_core_seconds_total{cluster="c1",partition="we\"ird\\part\nname",class="other"} 60 `,
		`scmon_allocated_core_seconds_total{cluster="c1",partition="bad` + "\uFFFD" + `utf8",class="other"} 60 `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	parseOM(t, text)
}

func TestAppendValue(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 120: "120", 1e15: "1000000000000000", 0.25: "0.25", 12311829.614722222: "1.2311829614722222e+07",
		1 << 53: "9.007199254740992e+15", -3: "-3",
	} {
		if got := string(appendValue(nil, v)); got != want {
			t.Errorf("appendValue(%v) = %s, want %s", v, got, want)
		}
	}
}

// TestNothingToWrite: no allocation and no inventory give no series, an
// OpenMetrics text of "# EOF" alone and no remote-write request.
func TestNothingToWrite(t *testing.T) {
	g, err := New(smallStore(t), Options{From: t0, To: at(600), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Series()) != 0 || !g.Origin().IsZero() {
		t.Fatalf("%d series, origin %s", len(g.Series()), g.Origin())
	}
	var buf bytes.Buffer
	if _, err := WriteOpenMetrics(&buf, g, t.TempDir()); err != nil || buf.String() != "# EOF\n" {
		t.Errorf("%q, %v", buf.String(), err)
	}
	g.Reset()
	rcv, srv := newReceiver()
	defer srv.Close()
	if st, err := WriteRemote(context.Background(), g, fastRetries(srv.URL)); err != nil || st.Requests != 0 || rcv.calls != 0 {
		t.Errorf("stats %+v, %d calls, %v", st, rcv.calls, err)
	}
}
