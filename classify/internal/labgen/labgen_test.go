package labgen

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
)

// The tests share one center of the default size; it is what the
// held-out evaluation measures on.
var (
	sharedOnce sync.Once
	shared     *Center
	sharedDump []byte
)

func center(t *testing.T) (*Center, []byte) {
	t.Helper()
	sharedOnce.Do(func() {
		shared = Generate(Config{Seed: 8})
		var buf bytes.Buffer
		if err := shared.WriteSacct(&buf); err != nil {
			t.Fatalf("write: %v", err)
		}
		sharedDump = buf.Bytes()
	})
	if shared == nil {
		t.Fatal("no center")
	}
	return shared, sharedDump
}

// readBack reads a dump with the project's sacct reader and keeps the last
// version of each run.
func readBack(t *testing.T, dump []byte) []*job.Record {
	t.Helper()
	rd := collector.NewSacctReader(bytes.NewReader(dump), collector.Options{Name: "gen"})
	index := map[string]int{}
	var out []*job.Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if i, ok := index[rec.Key()]; ok {
			out[i] = rec
			continue
		}
		index[rec.Key()] = len(out)
		out = append(out, rec)
	}
	if n := rd.Notes(); n["orphan_steps"] > 0 || n["multiline"] > 0 || n["invalid_utf8"] > 0 {
		t.Errorf("reader notes %v: the dump is not clean sacct", n)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	write := func(seed uint64) []byte {
		var buf bytes.Buffer
		if err := Generate(Config{Seed: seed, Jobs: 1500}).WriteSacct(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := write(3), write(3), write(4)
	if !bytes.Equal(a, b) {
		t.Error("the same seed wrote two different dumps")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds wrote the same dump")
	}
	// More jobs only add jobs: the first submissions keep their text.
	small, big := Generate(Config{Seed: 3, Jobs: 200}), Generate(Config{Seed: 3, Jobs: 400})
	names := map[string]int{}
	for _, r := range big.Records {
		names[r.Name+"|"+r.SubmitLine]++
	}
	for _, r := range small.Records {
		if names[r.Name+"|"+r.SubmitLine] == 0 {
			t.Fatalf("job %q of the smaller center is missing from the larger", r.Name)
		}
	}
}

// TestRoundTrip reads the dump back through the project's sacct reader:
// after deduplication it must give exactly the generated records.
func TestRoundTrip(t *testing.T) {
	c, dump := center(t)
	got := readBack(t, dump)
	if len(got) != len(c.Records) {
		t.Fatalf("read %d runs, generated %d", len(got), len(c.Records))
	}
	byKey := map[string]*job.Record{}
	for _, r := range got {
		byKey[r.Key()] = r
	}
	for i, want := range c.Records {
		r, ok := byKey[want.Key()]
		if !ok {
			t.Fatalf("run %d (%s) not read back", i, want.Key())
		}
		g := *r
		g.Source, g.Line = "", 0
		if len(g.Accels) == 0 {
			g.Accels = nil
		}
		if !reflect.DeepEqual(&g, want) {
			t.Fatalf("run %d differs after the reader:\n got %+v\nwant %+v", i, g, *want)
		}
	}
	// The dump carries what real dumps carry.
	lines := strings.Count(string(dump), "\n")
	if lines < 3*len(c.Records) {
		t.Errorf("%d lines for %d runs: steps missing", lines, len(c.Records))
	}
}

// TestShape checks that the center has what the evaluation needs: every
// family and class, every partition, arrays, requeues, duplicates,
// running and pending jobs, forced DCUs, and realistic hours.
func TestShape(t *testing.T) {
	c, dump := center(t)
	fams, classes, parts := map[string]int{}, map[string]float64{}, map[string]int{}
	runs := map[string]int{}
	var arrays, pending, running, longMulti, cnNames int
	for _, r := range c.Records {
		tr, ok := c.Truth[r.JobID]
		if !ok {
			t.Fatalf("job %s has no truth", r.JobID)
		}
		fams[tr.Family]++
		parts[r.Partition]++
		runs[r.JobID]++
		if strings.Contains(r.JobID, "_") {
			arrays++
		}
		switch {
		case !r.Started():
			pending++
		case r.Running():
			running++
		default:
			h := r.End.Sub(r.Start).Hours()
			classes[tr.Class] += h * float64(r.Cores)
			if tr.Class == Training && r.Nodes >= 4 && h > 48 {
				longMulti++
			}
		}
		if r.Partition == "dcu" && r.AccelCount("dcu") == 0 && r.Started() {
			t.Errorf("job %s on the forced DCU partition holds no DCU", r.JobID)
		}
		for _, x := range r.Name {
			if x >= 0x4e00 && x <= 0x9fff {
				cnNames++
				break
			}
		}
	}
	for _, f := range Families() {
		if fams[f] < 50 {
			t.Errorf("family %s has %d runs, want at least 50", f, fams[f])
		}
	}
	for _, cl := range []string{Training, Inference, OtherWork} {
		if classes[cl] == 0 {
			t.Errorf("no core-hours of class %s", cl)
		}
	}
	for _, p := range partitions {
		if parts[p.name] == 0 {
			t.Errorf("partition %s unused", p.name)
		}
	}
	requeued := 0
	for _, n := range runs {
		if n > 1 {
			requeued++
		}
	}
	for what, n := range map[string]int{"array tasks": arrays, "requeued jobs": requeued, "pending or cancelled": pending,
		"running": running, "multi-node training over two days": longMulti, "Chinese names": cnNames,
		"duplicated runs": len(c.dup), "runs seen early": len(c.early)} {
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}
	if got, want := strings.Count(string(dump), "|RUNNING|"), running+len(c.early); got < want {
		t.Errorf("%d RUNNING lines, want at least %d", got, want)
	}
	if len(c.Forced) != 1 || c.Forced[0] != "dcu" {
		t.Errorf("forced partitions %v, want [dcu]", c.Forced)
	}
	if !c.End.Equal(c.Start.Add(DefaultDays * 24 * time.Hour)) {
		t.Errorf("window %s .. %s", c.Start, c.End)
	}
}

// TestNoLeak checks that the truth cannot be read off the records: no
// text carries a class or family name, and no account, group, QOS, WCKey
// or comment is all of one class.
func TestNoLeak(t *testing.T) {
	c, dump := center(t)
	lower := strings.ToLower(string(dump))
	banned := []string{"ai_training", "ai_inference", "ai-training", "class=", "label", "truth"}
	for _, f := range Families() {
		if strings.Contains(f, "_") { // one-word names (cfd, bio) are ordinary words
			banned = append(banned, f)
		}
	}
	for _, w := range banned {
		if strings.Contains(lower, strings.ToLower(w)) {
			t.Errorf("the dump contains %q", w)
		}
	}
	by := map[string]map[string]map[string]int{} // field -> value -> class -> jobs
	add := func(field, value, class string) {
		if by[field] == nil {
			by[field] = map[string]map[string]int{}
		}
		if by[field][value] == nil {
			by[field][value] = map[string]int{}
		}
		by[field][value][class]++
	}
	for _, r := range c.Records {
		cl := c.Truth[r.JobID].Class
		add("account", r.Account, cl)
		add("group", r.Group, cl)
		add("qos", r.QOS, cl)
		add("wckey", r.WCKey, cl)
		add("comment", r.Comment, cl)
	}
	for field, values := range by {
		for v, classes := range values {
			n := 0
			for _, k := range classes {
				n += k
			}
			if n >= 30 && len(classes) == 1 {
				t.Errorf("%s %q: all %d jobs are of one class", field, v, n)
			}
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		c := Generate(Config{Seed: 1, Jobs: 2000})
		if err := c.WriteSacct(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
