package classify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/scmon/scmon/classify/internal/labgen"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
)

var (
	centerOnce sync.Once
	centerRecs []*job.Record
	centerErr  error
)

// generatedCenter returns the records of the generated center the README
// reports (seed 8) as the sacct reader gives them back, the last version
// of every run kept.
func generatedCenter(t testing.TB) []*job.Record {
	t.Helper()
	centerOnce.Do(func() {
		var buf bytes.Buffer
		if err := labgen.Generate(labgen.Config{Seed: 8}).WriteSacct(&buf); err != nil {
			centerErr = err
			return
		}
		rd := collector.NewSacctReader(&buf, collector.Options{Name: "generated"})
		index := map[string]int{}
		for {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				centerErr = err
				return
			}
			if i, ok := index[rec.Key()]; ok {
				centerRecs[i] = rec
				continue
			}
			index[rec.Key()] = len(centerRecs)
			centerRecs = append(centerRecs, rec)
		}
	})
	if centerErr != nil {
		t.Fatal(centerErr)
	}
	return centerRecs
}

// twinned repeats recs: each copy a new record with its own job id, every
// third one with its run time stretched, so that twins fall into other
// size buckets and numeric buckets.
func twinned(recs []*job.Record, copies int) []*job.Record {
	out := make([]*job.Record, 0, len(recs)*copies)
	for c := range copies {
		for i, r := range recs {
			cp := *r
			cp.JobID = fmt.Sprintf("%s-%d", r.JobID, c)
			if c > 0 && (i+c)%3 == 0 && !cp.End.IsZero() {
				cp.End = cp.End.Add(time.Duration(c*7) * time.Hour)
			}
			out = append(out, &cp)
		}
	}
	return out
}

type equivalenceCase struct {
	name  string
	rules string // rules file; "" for the default rules
	recs  func(testing.TB) []*job.Record
}

func equivalenceCases() []equivalenceCase {
	return []equivalenceCase{
		{"corpus", "", func(t testing.TB) []*job.Record { return readCorpus(t) }},
		{"corpus-site", "testdata/corpus/site.yaml", func(t testing.TB) []*job.Record { return readCorpus(t) }},
		{"corpus-twinned", "testdata/corpus/site.yaml", func(t testing.TB) []*job.Record { return twinned(readCorpus(t), 4) }},
		{"varied", "", func(testing.TB) []*job.Record { return twinned(variedRecords(3000, 7), 3) }},
		{"center", "", generatedCenter},
		{"center-twinned", "", func(t testing.TB) []*job.Record { return twinned(generatedCenter(t), 3) }},
	}
}

// TestBatchMatchesReference holds the batch (twins sharing their work) to
// the record-by-record computation it replaced, on the labelled corpus
// and the generated center: the same decision for every record, the same
// context, context decision and learned stage kept for explanations, and
// the same explanation text.
func TestBatchMatchesReference(t *testing.T) {
	for _, tc := range equivalenceCases() {
		// minTwins 0 is the default; 64 stops the memo early in every
		// case, so that records with and without twins are mixed.
		for _, minTwins := range []int{0, 64} {
			t.Run(fmt.Sprintf("%s/min%d", tc.name, minTwins), func(t *testing.T) {
				checkAgainstReference(t, tc, minTwins)
			})
		}
	}
}

func checkAgainstReference(t *testing.T, tc equivalenceCase, minTwins int) {
	recs := tc.recs(t)
	if testing.Short() && len(recs) > 30000 {
		t.Skip("large input")
	}
	fresh := func() *RuleClassifier {
		c := corpusClassifier(t, tc.rules)
		c.minTwins = minTwins
		return c
	}
	// Separate classifiers: neither path sees the other's cache.
	got := fresh().ClassifyBatch(recs)
	ref := corpusClassifier(t, tc.rules)
	want := ref.runReference(NewContext(), recs, false).Decisions()
	laterSeen := 0
	for i := range recs {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("record %d (job %s): ClassifyBatch %+v, reference %+v", i, recs[i].JobID, got[i], want[i])
		}
	}

	gb := fresh().NewBatch(recs)
	wb := ref.runReference(NewContext(), recs, true)
	if !reflect.DeepEqual(gb.Decisions(), wb.Decisions()) {
		t.Fatal("NewBatch decisions differ from the reference")
	}
	for i := range recs {
		gl, wl := gb.later[i], wb.later[i]
		if (gl == nil) != (wl == nil) {
			t.Fatalf("record %d: later stages kept %v, reference %v", i, gl != nil, wl != nil)
		}
		if gl == nil {
			continue
		}
		laterSeen++
		if !reflect.DeepEqual(gl.ctx, wl.ctx) || !reflect.DeepEqual(gl.ctxOut, wl.ctxOut) ||
			!reflect.DeepEqual(gl.learned, wl.learned) || !reflect.DeepEqual(gl.d, wl.d) {
			t.Fatalf("record %d (job %s): later stages differ:\n got %+v\nwant %+v", i, recs[i].JobID, gl, wl)
		}
	}
	if laterSeen == 0 {
		t.Fatal("no record went through the later stages: the comparison proves nothing")
	}
	step := max(1, len(recs)/400)
	for i := 0; i < len(recs); i += step {
		if g, w := gb.Explain(i).String(), wb.Explain(i).String(); g != w {
			t.Fatalf("record %d: explanation differs:\n%s\nreference:\n%s", i, g, w)
		}
	}
}

// TestMemoStops checks that the memo stops on a batch whose records do not
// repeat, and stays on for one that does.
func TestMemoStops(t *testing.T) {
	c := New(mustDefault(t), Options{})
	c.minTwins = 100
	m := newBatchMemo(c)
	for _, r := range variedRecords(1000, 5) {
		cp := *r
		cp.User = "u-" + r.JobID // every record its own user: no twins
		m.find(&cp)
	}
	if !m.off || len(m.list) > 101 {
		t.Fatalf("unique records: memo off %v with %d twins", m.off, len(m.list))
	}
	// Each record three times: two of three find their twin, past the
	// first hundred twins too.
	m = newBatchMemo(c)
	for _, r := range variedRecords(1000, 5) {
		for range 3 {
			if m.find(r) == nil {
				t.Fatalf("repeated records: the memo stopped after %d records and %d twins", m.records, len(m.list))
			}
		}
	}
	if len(m.list) <= 100 {
		t.Fatalf("%d twins: the test did not pass minTwins", len(m.list))
	}
}

// TestClassifyWithMatchesReference holds the daemon's path (one context
// kept across polls) to the reference: the center arrives in three polls.
func TestClassifyWithMatchesReference(t *testing.T) {
	recs := generatedCenter(t)
	c, ref := corpusClassifier(t, ""), corpusClassifier(t, "")
	gx, wx := NewContext(), NewContext()
	n := len(recs) / 3
	for p, part := range [][]*job.Record{recs[:n], recs[n : 2*n], recs[2*n:]} {
		got := c.ClassifyWith(gx, part)
		want := ref.runReference(wx, part, false).Decisions()
		if !reflect.DeepEqual(got, want) {
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("poll %d record %d: %+v, reference %+v", p, i, got[i], want[i])
				}
			}
		}
		if gx.Len() != wx.Len() || gx.Len() == 0 {
			t.Fatalf("poll %d: context holds %d decisions, reference %d", p, gx.Len(), wx.Len())
		}
	}
}

// TestTwinCollisions gives every record one hash: twins must still be
// told apart by their fields, and records alike found as one twin.
func TestTwinCollisions(t *testing.T) {
	recs := variedRecords(300, 3)
	c := New(mustDefault(t), Options{})
	m := newBatchMemo(c)
	first := map[*twin]*job.Record{}
	for _, r := range recs {
		tw := m.findHashed(r, 0)
		if rep, ok := first[tw]; ok {
			if !sameInputs(rep, r) || c.signatureString(rep) != c.signatureString(r) {
				t.Fatalf("job %s taken for a twin of job %s", r.JobID, rep.JobID)
			}
		} else {
			first[tw] = r
		}
		cp := *r
		cp.JobID += "-copy"
		if again := m.findHashed(&cp, 0); again != tw {
			t.Fatalf("job %s: its copy is not found as its twin", r.JobID)
		}
		cp.WorkDir += "/other"
		if other := m.findHashed(&cp, 0); other == tw {
			t.Fatalf("job %s: a copy with another work dir is taken for its twin", r.JobID)
		}
	}
	if len(m.m) != 1 {
		t.Fatalf("%d hashes, want the one forced", len(m.m))
	}
	if len(first) < 10 {
		t.Fatalf("only %d distinct twins among %d varied records", len(first), len(recs))
	}
}

// signatureString is the evidence signature of r, for comparisons.
func (c *RuleClassifier) signatureString(r *job.Record) string {
	return string(c.signature(nil, r))
}
