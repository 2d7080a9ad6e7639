package jobstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scmon/scmon/job"
)

var (
	t0       = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	shanghai = time.FixedZone("CST", 8*3600)
)

// fullRecord has every field set, in a zone other than UTC.
func fullRecord() *job.Record {
	return &job.Record{
		Source: "sacct", Line: 42,
		Cluster: "sample", JobID: "4711_3", RawID: "4714",
		Name: "训练大模型-第二阶段",
		User: "张伟", Group: "ai", Account: "ai-lab", Partition: "gpu", QOS: "normal",
		WCKey: "llm", Comment: "pipe | in comment", SubmitLine: "sbatch --gres=gpu:a100:4 --gres=npu:2 train.sh --lr 3e-4",
		WorkDir: "/home/张伟/llm", NodeList: "g[001-002]",
		State: job.StateCompleted, StateRaw: "COMPLETED", ExitCode: "0:0",
		Submit: t0.Add(-time.Minute).In(shanghai), Start: t0.In(shanghai), End: t0.Add(3 * time.Hour).In(shanghai),
		Timelimit: 4 * time.Hour,
		Nodes:     2, Cores: 64,
		Accels:  []job.Accel{{Name: "gpu", Type: "a100", Count: 8}, {Name: "npu", Type: "", Count: 2}, {Name: "mps", Count: 100}},
		Billing: 36,
		Steps: []job.Step{
			{ID: "4714.batch", Name: "batch", Command: "/bin/bash train.sh"},
			{ID: "4714.extern", Name: "extern"},
			{ID: "4714.0", Name: "torchrun", Command: "torchrun --nproc_per_node=4 train.py"},
		},
	}
}

// sampleRecords covers the shapes a store must keep: every field, a
// repaired name, a running and a never-started run, odd numbers.
func sampleRecords() ([]*job.Record, []job.Decision) {
	running := &job.Record{Source: "sacct", Line: 7, Cluster: "sample", JobID: "5000", Name: "vllm-serve",
		User: "bob", Account: "ai-lab", Partition: "gpu", State: job.StateRunning, StateRaw: "RUNNING",
		Submit: t0, Start: t0.Add(time.Hour), Timelimit: 90 * time.Second, Cores: 8, Nodes: 1,
		Accels: []job.Accel{{Name: "gpu", Type: "h100", Count: 1}}}
	pending := &job.Record{Cluster: "sample", JobID: "5001_[1-3,5%2]", State: job.StatePending, StateRaw: "PENDING",
		Submit: t0, Unlimited: true, Name: "bad\uFFFDname"}
	odd := &job.Record{Source: "/var/log/slurm/jobcomp.log", Line: 1 << 40, Cluster: "sample", JobID: "6000+1",
		Name: "raw \xff\xfe bytes and \x00 NUL", State: job.StateCancelled, StateRaw: "CANCELLED by 1001",
		Start: t0, End: t0.Add(time.Second), Timelimit: 1500 * time.Millisecond, Billing: 12.625,
		Cores: 1 << 40, Comment: strings.Repeat("long comment ", 2000)}
	negZero := &job.Record{Cluster: "other", JobID: "1", Start: t0, End: t0.Add(time.Minute), Billing: -0.5,
		State: job.StateOther, StateRaw: "WEIRD", Steps: []job.Step{{}}, Accels: []job.Accel{{}}}
	recs := []*job.Record{fullRecord(), running, pending, odd, negZero}
	decs := []job.Decision{
		{Class: job.ClassAITraining, Rules: []string{"name.torchrun", "gpu.multi", "stage:decisive"}},
		{Class: job.ClassAIInference, Rules: []string{"vllm"}},
		{Class: job.ClassUnknown},
		{Class: job.ClassOther, Rules: []string{"cancelled"}},
		{Class: job.ClassOther},
	}
	return recs, decs
}

// expected returns what a store gives back for r: times in UTC, column
// strings repaired.
func expected(r *job.Record) job.Record {
	c := *r
	for _, t := range []*time.Time{&c.Submit, &c.Start, &c.End} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	for _, s := range []*string{&c.Source, &c.Cluster, &c.JobID, &c.RawID, &c.Partition, &c.Account, &c.User} {
		*s = cleanText(*s)
	}
	return c
}

// diff describes the differences of two records field by field.
func diff(got, want any) string {
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	if gv.Kind() != reflect.Struct {
		return fmt.Sprintf("got %#v, want %#v", got, want)
	}
	var b strings.Builder
	for i := range gv.NumField() {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "\n  %s: got %#v, want %#v", gv.Type().Field(i).Name, g, w)
		}
	}
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t))
		recs, decs := sampleRecords()
		res := mustApply(t, s, Batch{Source: "sacct", Cursor: []byte("w1"), Records: recs, Decisions: decs})
		if want := (ApplyResult{Inserted: len(recs)}); res != want {
			t.Errorf("Apply = %+v, want %+v", res, want)
		}
		got := scanAll(t, s)
		if len(got) != len(recs) {
			t.Fatalf("Scan returned %d records, want %d", len(got), len(recs))
		}
		for i, r := range recs {
			want := expected(r)
			if d := diff(got[i].Rec, want); d != "" {
				t.Errorf("record %d (%s):%s", i, r.JobID, d)
			}
			if !reflect.DeepEqual(got[i].Dec, decs[i]) {
				t.Errorf("record %d decision = %+v, want %+v", i, got[i].Dec, decs[i])
			}
		}
		// The repairs the store makes: only column strings, identically
		// on both backends; document strings are kept byte for byte.
		if got[3].Rec.Name != recs[3].Name {
			t.Errorf("document string changed: %q", got[3].Rec.Name)
		}
		rows, err := s.Jobs(context.Background(), JobQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(recs) {
			t.Fatalf("Jobs returned %d rows, want %d", len(rows), len(recs))
		}
		for _, row := range rows {
			i := slices.IndexFunc(recs, func(r *job.Record) bool { return cleanText(r.JobID) == row.JobID })
			if d := diff(row.Record, expected(recs[i])); d != "" {
				t.Errorf("Jobs row %s:%s", row.JobID, d)
			}
			if !reflect.DeepEqual(row.Decision, decs[i]) {
				t.Errorf("Jobs row %s decision = %+v, want %+v", row.JobID, row.Decision, decs[i])
			}
		}
		c, ok, err := s.Cursor(context.Background(), "sacct")
		if err != nil || !ok || string(c) != "w1" {
			t.Errorf("Cursor = %q, %v, %v; want w1, true, nil", c, ok, err)
		}
	})
}

func TestColumnRepair(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t))
		r := &job.Record{Cluster: "c\x00", JobID: "1", User: "bad\xffuser", Account: "acc\xc3", Start: t0}
		mustApply(t, s, batchOf("", nil, job.Decision{}, r))
		got := scanAll(t, s)[0].Rec
		if got.Cluster != "c\uFFFD" || got.User != "bad\uFFFDuser" || got.Account != "acc\uFFFD" {
			t.Errorf("repaired columns = %q %q %q", got.Cluster, got.User, got.Account)
		}
		// The repaired record is the same run: applying it again changes nothing.
		res := mustApply(t, s, batchOf("", nil, job.Decision{}, &got))
		if res != (ApplyResult{Unchanged: 1}) {
			t.Errorf("re-apply of the repaired record = %+v", res)
		}
	})
}

func TestIdempotentUpsert(t *testing.T) {
	ai := job.Decision{Class: job.ClassAITraining, Rules: []string{"torchrun"}}
	running := func() *job.Record {
		r := fullRecord()
		r.End, r.State, r.StateRaw, r.ExitCode = time.Time{}, job.StateRunning, "RUNNING", ""
		return r
	}
	requeued := func() *job.Record {
		r := fullRecord()
		r.Start, r.End = r.Start.Add(4*time.Hour), r.End.Add(4*time.Hour)
		return r
	}
	relocated := func() *job.Record {
		r := fullRecord()
		r.Source, r.Line = "other-poll", 9
		return r
	}
	type step struct {
		recs []*job.Record
		dec  job.Decision
		want ApplyResult
	}
	tests := []struct {
		name  string
		steps []step
		// want lists the stored records' End (zero: running), in Scan order.
		wantEnds  []time.Time
		wantLines []int
		wantClass job.Class
	}{{
		name: "same batch twice",
		steps: []step{
			{[]*job.Record{fullRecord(), requeued()}, ai, ApplyResult{Inserted: 2}},
			{[]*job.Record{fullRecord(), requeued()}, ai, ApplyResult{Unchanged: 2}},
		},
		wantEnds: []time.Time{fullRecord().End, requeued().End}, wantLines: []int{42, 42}, wantClass: job.ClassAITraining,
	}, {
		name: "running then completed",
		steps: []step{
			{[]*job.Record{running()}, ai, ApplyResult{Inserted: 1}},
			{[]*job.Record{fullRecord()}, ai, ApplyResult{Updated: 1}},
			{[]*job.Record{fullRecord()}, ai, ApplyResult{Unchanged: 1}},
		},
		wantEnds: []time.Time{fullRecord().End}, wantLines: []int{42}, wantClass: job.ClassAITraining,
	}, {
		name: "both versions in one batch",
		steps: []step{
			{[]*job.Record{running(), requeued(), fullRecord()}, ai, ApplyResult{Inserted: 2, Merged: 1}},
		},
		wantEnds: []time.Time{fullRecord().End, requeued().End}, wantLines: []int{42, 42}, wantClass: job.ClassAITraining,
	}, {
		name: "requeued runs are distinct",
		steps: []step{
			{[]*job.Record{fullRecord()}, ai, ApplyResult{Inserted: 1}},
			{[]*job.Record{requeued()}, ai, ApplyResult{Inserted: 1}},
		},
		wantEnds: []time.Time{fullRecord().End, requeued().End}, wantLines: []int{42, 42}, wantClass: job.ClassAITraining,
	}, {
		name: "a re-read elsewhere changes nothing",
		steps: []step{
			{[]*job.Record{fullRecord()}, ai, ApplyResult{Inserted: 1}},
			{[]*job.Record{relocated()}, ai, ApplyResult{Unchanged: 1}},
		},
		wantEnds: []time.Time{fullRecord().End}, wantLines: []int{42}, wantClass: job.ClassAITraining,
	}, {
		name: "a new decision is an update",
		steps: []step{
			{[]*job.Record{fullRecord()}, ai, ApplyResult{Inserted: 1}},
			{[]*job.Record{relocated()}, job.Decision{Class: job.ClassOther}, ApplyResult{Updated: 1}},
		},
		wantEnds: []time.Time{fullRecord().End}, wantLines: []int{9}, wantClass: job.ClassOther,
	}}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					s := openStore(t, b.dsn(t))
					for i, st := range tc.steps {
						if res := mustApply(t, s, batchOf("src", []byte{byte(i)}, st.dec, st.recs...)); res != st.want {
							t.Errorf("step %d: Apply = %+v, want %+v", i, res, st.want)
						}
					}
					got := scanAll(t, s)
					if len(got) != len(tc.wantEnds) {
						t.Fatalf("%d records stored, want %d", len(got), len(tc.wantEnds))
					}
					for i, g := range got {
						if !g.Rec.End.Equal(tc.wantEnds[i]) || g.Rec.Line != tc.wantLines[i] || g.Dec.Class != tc.wantClass {
							t.Errorf("record %d: end %v line %d class %v; want %v %d %v", i, g.Rec.End, g.Rec.Line, g.Dec.Class,
								tc.wantEnds[i], tc.wantLines[i], tc.wantClass)
						}
					}
					st, err := s.Stats(context.Background())
					if err != nil || st.Records != int64(len(tc.wantEnds)) {
						t.Errorf("Stats = %+v, %v", st, err)
					}
				})
			}
		})
	}
}

// numbered returns n simple records whose job ids start at from.
func numbered(from, n int) []*job.Record {
	out := make([]*job.Record, n)
	for i := range out {
		out[i] = &job.Record{Cluster: "c", JobID: fmt.Sprint(from + i), Start: t0.Add(time.Duration(from+i) * time.Second),
			End: t0.Add(time.Hour), Cores: 4, State: job.StateCompleted}
	}
	return out
}

func TestApplyAtomic(t *testing.T) {
	dec := job.Decision{Class: job.ClassOther}
	tests := []struct {
		name string
		// batch returns the failing batch; ctx is cancelled by the
		// beforeCursor hook when cancelAtCursor is set.
		batch          func() Batch
		cancelAtCursor bool
		wantErr        string
	}{{
		name: "constraint violated mid-batch",
		batch: func() Batch {
			recs := append(numbered(100, 10), &job.Record{Cluster: "c", JobID: "bad", Start: t0, Cores: -1})
			recs = append(recs, numbered(200, 10)...)
			return batchOf("src", []byte("c2"), dec, recs...)
		},
		wantErr: "cores",
	}, {
		name:           "context cancelled before the cursor",
		batch:          func() Batch { return batchOf("src", []byte("c2"), dec, numbered(100, 20)...) },
		cancelAtCursor: true,
		wantErr:        "context canceled",
	}, {
		name: "record the store cannot keep",
		batch: func() Batch {
			return batchOf("src", []byte("c2"), dec, append(numbered(100, 3), &job.Record{JobID: "old", Start: time.Unix(-5, 0)})...)
		},
		wantErr: "not after 1970",
	}, {
		name: "decisions missing",
		batch: func() Batch {
			b := batchOf("src", []byte("c2"), dec, numbered(100, 3)...)
			b.Decisions = b.Decisions[:2]
			return b
		},
		wantErr: "3 records but 2 decisions",
	}, {
		name:    "cursor without source",
		batch:   func() Batch { return batchOf("", []byte("c2"), dec, numbered(100, 3)...) },
		wantErr: "no source",
	}, {
		name:    "unknown class",
		batch:   func() Batch { return batchOf("src", []byte("c2"), job.Decision{Class: 9}, numbered(100, 3)...) },
		wantErr: "unknown class",
	}}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					s := openStore(t, b.dsn(t))
					// Batch 1 holds some of the runs batch 2 would update.
					before := numbered(100, 5)
					before[0].End = time.Time{}
					mustApply(t, s, batchOf("src", []byte("c1"), dec, before...))
					want := scanAll(t, s)

					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					if tc.cancelAtCursor {
						setHook(s, cancel)
					}
					_, err := s.Apply(ctx, tc.batch())
					setHook(s, nil)
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("Apply error = %v, want one containing %q", err, tc.wantErr)
					}
					if got := scanAll(t, s); !reflect.DeepEqual(got, want) {
						t.Errorf("records changed by a failed batch: %d stored, want %d", len(got), len(want))
					}
					c, ok, err := s.Cursor(context.Background(), "src")
					if err != nil || !ok || string(c) != "c1" {
						t.Errorf("Cursor = %q, %v, %v; want c1, true, nil", c, ok, err)
					}
					// The store is still usable.
					mustApply(t, s, batchOf("src", []byte("c3"), dec, numbered(300, 2)...))
				})
			}
		})
	}
}

// setHook installs f as the beforeCursor hook of s.
func setHook(s Store, f func()) {
	s.(*sqlStore).hooks.beforeCursor = f
}

func TestCursor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t))
		ctx := context.Background()
		if c, ok, err := s.Cursor(ctx, "none"); c != nil || ok || err != nil {
			t.Errorf("Cursor of unknown source = %q, %v, %v", c, ok, err)
		}
		steps := []struct {
			source string
			cursor []byte
			want   map[string]string
		}{
			{"sacct", []byte{0, 1, 2, 0xff}, map[string]string{"sacct": "\x00\x01\x02\xff"}},
			{"jobcomp:/var/log/jobcomp.log", []byte(`{"inode":12,"offset":4096}`), map[string]string{"sacct": "\x00\x01\x02\xff", "jobcomp:/var/log/jobcomp.log": `{"inode":12,"offset":4096}`}},
			{"sacct", nil, map[string]string{"sacct": ""}},
			{"", nil, map[string]string{"sacct": ""}},
		}
		for i, st := range steps {
			mustApply(t, s, Batch{Source: st.source, Cursor: st.cursor})
			for src, want := range st.want {
				c, ok, err := s.Cursor(ctx, src)
				if err != nil || !ok || string(c) != want || c == nil {
					t.Errorf("step %d: Cursor(%s) = %q, %v, %v; want %q", i, src, c, ok, err, want)
				}
			}
		}
	})
}

func TestScan(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t))
		dec := job.Decision{Class: job.ClassOther}
		mustApply(t, s, batchOf("a", nil, dec, numbered(50, 3)...))  // 50 51 52
		mustApply(t, s, batchOf("a", nil, dec, numbered(10, 3)...))  // 10 11 12
		mustApply(t, s, batchOf("a", nil, dec, numbered(51, 10)...)) // 51 and 52 unchanged, 53..60 new
		var ids []string
		for _, st := range scanAll(t, s) {
			ids = append(ids, st.Rec.JobID)
		}
		want := strings.Fields("50 51 52 10 11 12 53 54 55 56 57 58 59 60")
		if !slices.Equal(ids, want) {
			t.Errorf("Scan order = %v, want %v", ids, want)
		}

		// A scan reads one snapshot: runs applied while it runs (from its
		// own callback, which must not deadlock) are not part of it.
		n := 0
		err := s.Scan(context.Background(), func(*job.Record, job.Decision) error {
			if n++; n == 1 {
				mustApply(t, s, batchOf("a", []byte("during"), dec, numbered(1000, 5)...))
			}
			return nil
		})
		if err != nil || n != len(want) {
			t.Errorf("Scan during Apply saw %d records (%v), want the %d of its snapshot", n, err, len(want))
		}
		if got := len(scanAll(t, s)); got != len(want)+5 {
			t.Errorf("%d records after the scan, want %d", got, len(want)+5)
		}

		stop := errors.New("stop")
		n = 0
		err = s.Scan(context.Background(), func(*job.Record, job.Decision) error {
			if n++; n == 4 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 4 {
			t.Errorf("Scan stopped by fn: err %v after %d records", err, n)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Scan(ctx, func(*job.Record, job.Decision) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("Scan with a cancelled context = %v", err)
		}
	})
}

func TestJobs(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	rec := func(id, cluster, part, acct, user string, st job.State, start, end time.Time) *job.Record {
		return &job.Record{Cluster: cluster, JobID: id, Partition: part, Account: acct, User: user, State: st, Start: start, End: end}
	}
	recs := []*job.Record{
		rec("a", "c1", "gpu", "ai", "alice", job.StateCompleted, at(0), at(2)),
		rec("b", "c1", "gpu", "ai", "bob", job.StateRunning, at(1), time.Time{}),
		rec("c", "c1", "cpu", "phys", "carol", job.StateFailed, at(2), at(3)),
		rec("d", "c2", "cpu", "phys", "carol", job.StateCompleted, at(3), at(5)),
		rec("e", "c2", "npu", "ai", "alice", job.StateTimeout, at(4), at(6)),
		rec("p", "c1", "gpu", "ai", "alice", job.StatePending, time.Time{}, time.Time{}),
		// A long run, which the start-time bound of a range query must not miss.
		rec("L", "c3", "big", "phys", "dave", job.StateCompleted, at(-100), at(3)),
	}
	decs := []job.Decision{
		{Class: job.ClassAITraining}, {Class: job.ClassAIInference}, {Class: job.ClassOther},
		{Class: job.ClassOther}, {Class: job.ClassAITraining}, {Class: job.ClassUnknown}, {Class: job.ClassOther},
	}
	tests := []struct {
		name string
		q    JobQuery
		want string
	}{
		{"all, never started first", JobQuery{}, "p L a b c d e"},
		{"range overlap", JobQuery{From: at(2), To: at(4)}, "L b c d"},
		{"end is exclusive", JobQuery{From: at(3), To: at(4)}, "b d"},
		{"long run", JobQuery{From: at(2).Add(time.Second), To: at(2).Add(2 * time.Second)}, "L b c"},
		{"running job open", JobQuery{From: at(100)}, "b"},
		{"to only", JobQuery{To: at(1)}, "L a"},
		{"cluster", JobQuery{Clusters: []string{"c2"}}, "d e"},
		{"partitions", JobQuery{Partitions: []string{"npu", "cpu"}}, "c d e"},
		{"from only", JobQuery{From: at(4)}, "b d e"},
		{"account", JobQuery{Accounts: []string{"phys"}}, "L c d"},
		{"user", JobQuery{Users: []string{"alice"}}, "p a e"},
		{"classes", JobQuery{Classes: []job.Class{job.ClassAITraining, job.ClassAIInference}}, "a b e"},
		{"state", JobQuery{States: []job.State{job.StateCompleted}}, "L a d"},
		{"combined", JobQuery{From: at(0), To: at(10), Accounts: []string{"ai"}, Classes: []job.Class{job.ClassAITraining}}, "a e"},
		{"limit", JobQuery{Limit: 2}, "p L"},
		{"offset", JobQuery{Limit: 2, Offset: 2}, "a b"},
		{"offset past end", JobQuery{Offset: 10}, ""},
		{"no match", JobQuery{Clusters: []string{"nope"}}, ""},
	}
	bad := []struct {
		name    string
		q       JobQuery
		wantErr string
	}{
		{"negative limit", JobQuery{Limit: -1}, "negative"},
		{"limit over max", JobQuery{Limit: MaxLimit + 1}, "maximum"},
		{"empty range", JobQuery{From: at(2), To: at(2)}, "empty"},
		{"unknown class", JobQuery{Classes: []job.Class{7}}, "unknown class"},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t))
		mustApply(t, s, Batch{Records: recs, Decisions: decs})
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				rows, err := s.Jobs(context.Background(), tc.q)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, r := range rows {
					ids = append(ids, r.JobID)
					want := decs[slices.IndexFunc(recs, func(x *job.Record) bool { return x.JobID == r.JobID })]
					if r.Class != want.Class {
						t.Errorf("%s: class %v, want %v", r.JobID, r.Class, want.Class)
					}
				}
				if got := strings.Join(ids, " "); got != tc.want {
					t.Errorf("Jobs = %q, want %q", got, tc.want)
				}
			})
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Jobs(context.Background(), tc.q)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Jobs error = %v, want one containing %q", err, tc.wantErr)
				}
			})
		}
	})
}

func TestReclassify(t *testing.T) {
	// The new rules: names starting with "train" are training, the rest other.
	rules := func(r *job.Record) job.Decision {
		if strings.HasPrefix(r.Name, "train") {
			return job.Decision{Class: job.ClassAITraining, Rules: []string{"name.train"}}
		}
		return job.Decision{Class: job.ClassOther}
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t))
		setChunk(s, 3) // several chunks, one of them partial
		var recs []*job.Record
		var decs []job.Decision
		for i := range 10 {
			r := fullRecord()
			r.JobID = fmt.Sprint(i)
			r.Name = []string{"train-llm", "vasp"}[i%2]
			recs = append(recs, r)
			// Records 0-3 already carry the new rules' decision.
			if i < 4 {
				decs = append(decs, rules(r))
			} else {
				decs = append(decs, job.Decision{Class: job.ClassUnknown, Rules: []string{"old"}})
			}
		}
		mustApply(t, s, Batch{Records: recs, Decisions: decs})
		ctx := context.Background()
		n, err := s.Reclassify(ctx, rules)
		if err != nil || n != 6 {
			t.Fatalf("Reclassify = %d, %v; want 6 changed", n, err)
		}
		for i, st := range scanAll(t, s) {
			if want := rules(recs[i]); !reflect.DeepEqual(st.Dec, want) {
				t.Errorf("record %d: decision %+v, want %+v", i, st.Dec, want)
			}
			if d := diff(st.Rec, expected(recs[i])); d != "" {
				t.Errorf("record %d changed by Reclassify:%s", i, d)
			}
		}
		if n, err := s.Reclassify(ctx, rules); err != nil || n != 0 {
			t.Errorf("second Reclassify = %d, %v; want 0", n, err)
		}
		// Applying a record with the decision Reclassify stored changes nothing.
		if res := mustApply(t, s, Batch{Records: recs[4:5], Decisions: []job.Decision{rules(recs[4])}}); res != (ApplyResult{Unchanged: 1}) {
			t.Errorf("Apply after Reclassify = %+v", res)
		}
		rows, err := s.Jobs(ctx, JobQuery{Classes: []job.Class{job.ClassAITraining}})
		if err != nil || len(rows) != 5 {
			t.Errorf("Jobs(ai_training) = %d rows, %v; want 5", len(rows), err)
		}
		// A decision the store cannot keep fails the whole reclassification.
		_, err = s.Reclassify(ctx, func(r *job.Record) job.Decision {
			if r.JobID == "7" {
				return job.Decision{Class: 42}
			}
			return job.Decision{Class: job.ClassUnknown}
		})
		if err == nil || !strings.Contains(err.Error(), "unknown class") {
			t.Errorf("Reclassify with a bad class = %v", err)
		}
		for i, st := range scanAll(t, s) {
			if want := rules(recs[i]); !reflect.DeepEqual(st.Dec, want) {
				t.Errorf("record %d changed by a failed Reclassify: %+v", i, st.Dec)
			}
		}
	})
}

// setChunk sets the Reclassify chunk size of s.
func setChunk(s Store, n int) {
	s.(*sqlStore).chunk = n
}

func TestSchemaVersion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		ctx := context.Background()
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		mustApply(t, s, batchOf("src", []byte("c"), job.Decision{}, numbered(1, 3)...))
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Backend != b.name || st.SchemaVersion != schemaVersion || st.Records != 3 || st.Bytes <= 0 || st.Location == "" {
			t.Errorf("Stats = %+v", st)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// Reopening at the current version keeps everything.
		s = openStore(t, dsn)
		if got := scanAll(t, s); len(got) != 3 {
			t.Errorf("%d records after reopening, want 3", len(got))
		}
		execRaw(t, dsn, fmt.Sprintf("INSERT INTO schema_migrations (version, applied_at) VALUES (%d, 0)", schemaVersion+1))
		_, err = Open(ctx, dsn)
		if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", schemaVersion+1)) {
			t.Errorf("Open of a newer schema = %v, want ErrSchemaTooNew naming the version", err)
		}
	})
}

// execRaw runs one statement on the database behind dsn, bypassing the store.
func execRaw(t *testing.T, dsn, stmt string) {
	t.Helper()
	ctx := context.Background()
	if strings.HasPrefix(dsn, "postgres") {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		return
	}
	db, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite://"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrent runs writers through two handles on one database (two
// scmon instances sharing it) while readers scan, and checks that every
// run ends up stored once with its last version.
func TestConcurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		handles := []Store{openStore(t, dsn), openStore(t, dsn)}
		ctx := context.Background()
		const writers, batches, size = 4, 10, 50
		var wg sync.WaitGroup
		errs := make(chan error, writers*batches+writers)
		for w := range writers {
			wg.Go(func() {
				s := handles[w%2]
				for i := range batches {
					// Writers 0 and 1 (and 2 and 3) write the same runs:
					// the second of each pair as completed versions.
					recs := numbered((w/2)*1000+i*size, size)
					if w%2 == 0 {
						for _, r := range recs {
							r.End = time.Time{}
						}
					}
					_, err := s.Apply(ctx, batchOf(fmt.Sprint("w", w), []byte{byte(i)}, job.Decision{}, recs...))
					if err != nil {
						errs <- err
					}
				}
			})
			wg.Go(func() {
				if err := handles[w%2].Scan(ctx, func(*job.Record, job.Decision) error { return nil }); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got := scanAll(t, handles[0])
		if len(got) != 2*batches*size {
			t.Errorf("%d records stored, want %d", len(got), 2*batches*size)
		}
		for w := range writers {
			c, ok, err := handles[1].Cursor(ctx, fmt.Sprint("w", w))
			if err != nil || !ok || !slices.Equal(c, []byte{batches - 1}) {
				t.Errorf("cursor of writer %d = %v, %v, %v", w, c, ok, err)
			}
		}
	})
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		dsn, wantErr string
	}{
		{"", "empty data source name"},
		{"sqlite://", "names no file"},
		{"sqlite:///tmp/x.db?synchronous=off", "want normal or full"},
		{"sqlite:///tmp/x.db?cache=big", `unknown sqlite option "cache"`},
		{"postgres://user:secret@127.0.0.1:1/x?connect_timeout=1", "open job store"},
	}
	for _, tc := range tests {
		t.Run(tc.dsn, func(t *testing.T) {
			s, err := Open(context.Background(), tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open error = %v, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	// A plain path and an explicit full sync both open; the file is
	// private to its owner and group.
	path := t.TempDir() + "/private/scmon.db"
	openStore(t, path)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o007 != 0 {
		t.Errorf("database file mode %v, %v; want no access for others", fi.Mode(), err)
	}
	for _, dsn := range []string{t.TempDir() + "/plain.db", "sqlite://" + t.TempDir() + "/full.db?synchronous=FULL"} {
		s := openStore(t, dsn)
		if _, err := s.Stats(context.Background()); err != nil {
			t.Error(err)
		}
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("upsert records: %w", &pgconn.PgError{Code: "40001"}), true},
		{&pgconn.PgError{Code: "23514"}, false},
		{context.Canceled, false},
	}
	for _, tc := range tests {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestCorruptDocument checks that a block or a document the store cannot
// read fails Scan, Jobs and Reclassify with an error naming the block, or
// where the record came from, rather than yielding a wrong record.
func TestCorruptDocument(t *testing.T) {
	// A block holding a document of a version this build does not know.
	var bw blockWriter
	badDoc := bw.encode([]row{{source: "sacct", line: 42, doc: []byte{3}}}).data
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"document", badDoc, []string{"sacct:42", "version 3"}},
		{"block", []byte{7, 1, 2}, []string{"block 1", "block version 7"}},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				dsn := b.dsn(t)
				s := openStore(t, dsn)
				mustApply(t, s, batchOf("src", nil, job.Decision{}, fullRecord()))
				blob := fmt.Sprintf("x'%x'", tc.data)
				if b.name == "postgres" {
					blob = fmt.Sprintf(`'\x%x'::bytea`, tc.data)
				}
				execRaw(t, dsn, "UPDATE blocks SET data = "+blob)
				ctx := context.Background()
				// A fresh handle, as a restarted daemon.
				s = openStore(t, dsn)
				errs := map[string]error{
					"Scan": s.Scan(ctx, func(*job.Record, job.Decision) error { return nil }),
				}
				_, errs["Jobs"] = s.Jobs(ctx, JobQuery{})
				_, errs["Reclassify"] = s.Reclassify(ctx, func(*job.Record) job.Decision { return job.Decision{} })
				for name, err := range errs {
					if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), tc.want[0]) || !strings.Contains(err.Error(), tc.want[1]) {
						t.Errorf("%s error = %v, want errCorrupt naming %q and %q", name, err, tc.want[0], tc.want[1])
					}
				}
			})
		}
	})
}
