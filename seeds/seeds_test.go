package seeds_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/seeds/internal/gen"
)

// TestSampleLogIsGenerated regenerates the log and requires the committed
// file to be exactly what the generator writes, so that neither can drift.
func TestSampleLogIsGenerated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sample.sacct.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, seeds.SacctLog()) {
		return
	}
	// Tell a change of content from a change of the compressor (a new Go
	// release may compress the same text differently).
	if bytes.Equal(gunzip(t, got), gunzip(t, seeds.SacctLog())) {
		t.Fatalf("seeds/sample.sacct.gz holds the generated text but compressed differently (%d bytes, the generator now writes %d): run go run ./seeds/gen", len(seeds.SacctLog()), len(got))
	}
	t.Fatalf("seeds/sample.sacct.gz differs from what seeds/internal/gen writes: run go run ./seeds/gen and review the change")
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sampleText returns the embedded log, uncompressed.
func sampleText(t *testing.T) []byte {
	t.Helper()
	return gunzip(t, seeds.SacctLog())
}

func TestWindowMatchesGenerator(t *testing.T) {
	from, to := seeds.Window()
	if !from.Equal(gen.WindowStart) || !to.Equal(gen.WindowEnd) {
		t.Errorf("Window() = %s..%s, generator window %s..%s", from, to, gen.WindowStart, gen.WindowEnd)
	}
	if d := to.Sub(from); d != 30*24*time.Hour {
		t.Errorf("window lasts %s, want 30 days", d)
	}
	if from.In(seeds.Location()).Format(time.DateTime) != "2026-10-01 00:00:00" {
		t.Errorf("window starts at %s local time", from.In(seeds.Location()))
	}
	if seeds.ClusterName != gen.Cluster {
		t.Errorf("ClusterName %q, the log says %q", seeds.ClusterName, gen.Cluster)
	}
	inv := inventory(t)
	if len(inv.Clusters) != 1 || inv.Clusters[0].Name != seeds.ClusterName || inv.Clusters[0].Location.String() != seeds.TimeZone {
		t.Errorf("the inventory's cluster is not %q in %s", seeds.ClusterName, seeds.TimeZone)
	}
}

// TestSampleLogReads reads the embedded log with scmon's own sacct reader:
// no line may be skipped or repaired, and every step must follow its
// allocation.
func TestSampleLogReads(t *testing.T) {
	if strings.Join(gen.Fields, ",") != strings.Join(collector.DefaultSacctFields, ",") {
		t.Errorf("the log's fields %v are not the ones scmon asks sacct for, %v", gen.Fields, collector.DefaultSacctFields)
	}
	text := sampleText(t)
	want := 0
	for _, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")[1:] {
		if id, _, _ := strings.Cut(l, "|"); !strings.Contains(id, ".") {
			want++
		}
	}
	zr, err := collector.MaybeGzip(bytes.NewReader(seeds.SacctLog()))
	if err != nil {
		t.Fatal(err)
	}
	r := collector.NewSacctReader(zr, collector.Options{Name: "sample.sacct.gz", Location: seeds.Location(), Cluster: seeds.ClusterName})
	n := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", n+1, err)
		}
		n++
		if rec.Cluster != seeds.ClusterName {
			t.Fatalf("%s: cluster %q", rec.JobID, rec.Cluster)
		}
	}
	if n != want {
		t.Errorf("read %d records, the log has %d allocation lines", n, want)
	}
	for note, count := range r.Notes() {
		if count > 0 {
			t.Errorf("reader note %s: %d", note, count)
		}
	}
	if n < 6000 || n > 12000 {
		t.Errorf("%d allocation records, want 6,000 to 12,000", n)
	}
	if size := len(seeds.SacctLog()); size > 1500*1024 {
		t.Errorf("sample.sacct.gz is %d bytes, too big to embed comfortably", size)
	}
}

// sacctLine is an allocation line of the log, by field name.
type sacctLine map[string]string

// allocations returns the allocation lines of the log (steps left out).
func allocations(t *testing.T) []sacctLine {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(sampleText(t)))
	sc.Buffer(nil, 1<<20)
	var header []string
	var out []sacctLine
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "|")
		if header == nil {
			header = fields
			if strings.Join(header, "|") != strings.Join(gen.Fields, "|") {
				t.Fatalf("header %q", sc.Text())
			}
			continue
		}
		if len(fields) != len(header) {
			t.Fatalf("line %q: %d fields", sc.Text(), len(fields))
		}
		if strings.Contains(fields[0], ".") {
			continue
		}
		l := sacctLine{}
		for i, h := range header {
			l[h] = fields[i]
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func inventory(t *testing.T) *capacity.Inventory {
	t.Helper()
	inv, err := collector.ParseInventory(bytes.NewReader(seeds.Inventory()), "inventory.yaml", collector.CapacityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// expandHostlist expands a Slurm hostlist expression: c[0012-0015,0020],g001.
func expandHostlist(t *testing.T, s string) []string {
	t.Helper()
	var parts []string
	depth, last := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[last:i])
				last = i + 1
			}
		}
	}
	parts = append(parts, s[last:])
	var out []string
	for _, p := range parts {
		prefix, rest, ok := strings.Cut(p, "[")
		if !ok {
			out = append(out, p)
			continue
		}
		rest = strings.TrimSuffix(rest, "]")
		for _, rg := range strings.Split(rest, ",") {
			lo, hi, isRange := strings.Cut(rg, "-")
			if !isRange {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || b < a {
				t.Fatalf("bad hostlist %q", s)
			}
			for n := a; n <= b; n++ {
				out = append(out, fmt.Sprintf("%s%0*d", prefix, len(lo), n))
			}
		}
	}
	return out
}

// tresCount returns the value of key in a TRES string, or 0.
func tresCount(t *testing.T, tres, key string) int {
	t.Helper()
	for item := range strings.SplitSeq(tres, ",") {
		k, v, _ := strings.Cut(item, "=")
		if k == key {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("TRES %q: %s is not a count", tres, key)
			}
			return n
		}
	}
	return 0
}

// nodePrefix names the nodes of each partition: c0001, g001, a001, d001.
var nodePrefix = map[string]string{"c": "cpu", "g": "gpu", "a": "npu", "d": "dcu"}

// TestScheduleNeverOverAllocates replays every allocation of the log node
// by node: at no instant may the cores or accelerators in use on a node
// exceed what the inventory gives it, and no job may use a node before the
// node is installed.
func TestScheduleNeverOverAllocates(t *testing.T) {
	inv := inventory(t)
	cl := inv.Clusters[0]
	loc := cl.Location
	_, dump := seeds.Window()
	type use struct {
		t              int64
		cores, accels  int
		job            string
		start, release bool
	}
	perNode := map[string][]use{}
	for _, l := range allocations(t) {
		if l["NodeList"] == "None assigned" {
			if l["AllocTRES"] != "" {
				t.Errorf("%s: AllocTRES %q without nodes", l["JobID"], l["AllocTRES"])
			}
			continue
		}
		part := cl.Partition(l["Partition"])
		if part == nil || len(part.NodeGroups) != 1 {
			t.Fatalf("%s: partition %q is not in the inventory", l["JobID"], l["Partition"])
		}
		group := part.NodeGroups[0]
		start, err := time.ParseInLocation("2006-01-02T15:04:05", l["Start"], loc)
		if err != nil {
			t.Fatalf("%s: start %q", l["JobID"], l["Start"])
		}
		end := dump
		if l["End"] != "Unknown" {
			if end, err = time.ParseInLocation("2006-01-02T15:04:05", l["End"], loc); err != nil {
				t.Fatalf("%s: end %q", l["JobID"], l["End"])
			}
		} else if l["State"] != "RUNNING" {
			t.Errorf("%s: End Unknown in state %s", l["JobID"], l["State"])
		}
		nodes := expandHostlist(t, l["NodeList"])
		alloc := l["AllocTRES"]
		nn, _ := strconv.Atoi(l["NNodes"])
		ncpus, _ := strconv.Atoi(l["NCPUS"])
		if nn != len(nodes) || tresCount(t, alloc, "node") != nn || tresCount(t, alloc, "cpu") != ncpus {
			t.Fatalf("%s: NNodes %s, NCPUS %s, AllocTRES %q and NodeList %q disagree", l["JobID"], l["NNodes"], l["NCPUS"], alloc, l["NodeList"])
		}
		accels := 0
		for _, a := range group.Accels {
			accels += tresCount(t, alloc, "gres/"+a.GRESName)
		}
		if part.ForcedAccelerators && accels == 0 {
			t.Errorf("%s holds no accelerator in partition %s, where one is forced on every job", l["JobID"], part.Name)
		}
		if ncpus%nn != 0 || accels%nn != 0 {
			t.Fatalf("%s: %d cores and %d accelerators do not spread evenly over %d nodes", l["JobID"], ncpus, accels, nn)
		}
		for _, n := range nodes {
			if nodePrefix[n[:1]] != part.Name {
				t.Fatalf("%s: node %s is not in partition %s", l["JobID"], n, part.Name)
			}
			num, err := strconv.Atoi(n[1:])
			if err != nil || num < 1 || int64(num) > group.NodesAt(start) {
				t.Fatalf("%s: node %s does not exist at %s", l["JobID"], n, start)
			}
			perNode[n] = append(perNode[n],
				use{t: start.Unix(), cores: ncpus / nn, accels: accels / nn, job: l["JobID"], start: true},
				use{t: end.Unix(), cores: ncpus / nn, accels: accels / nn, job: l["JobID"], release: true})
		}
	}
	if len(perNode) == 0 {
		t.Fatal("no allocation found")
	}
	names := make([]string, 0, len(perNode))
	for n := range perNode {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		group := cl.Partition(nodePrefix[n[:1]]).NodeGroups[0]
		maxAccels := int64(0)
		for _, a := range group.Accels {
			maxAccels += a.Count
		}
		us := perNode[n]
		// Releases first at the same instant: [start, end) intervals.
		sort.SliceStable(us, func(i, j int) bool { return us[i].t < us[j].t || us[i].t == us[j].t && us[i].release && !us[j].release })
		cores, accels := int64(0), int64(0)
		for _, u := range us {
			if u.release {
				cores -= int64(u.cores)
				accels -= int64(u.accels)
				continue
			}
			cores += int64(u.cores)
			accels += int64(u.accels)
			if cores > group.Cores || accels > maxAccels {
				t.Fatalf("node %s over-allocated at %s when %s starts: %d/%d cores, %d/%d accelerators",
					n, time.Unix(u.t, 0).In(cl.Location), u.job, cores, group.Cores, accels, maxAccels)
			}
		}
	}
}

// TestSampleHasEveryKindOfRecord keeps the cases newcomers and the readers
// must see in the sample: if a change of the generator loses one, adjust
// the generator, not this list.
func TestSampleHasEveryKindOfRecord(t *testing.T) {
	from, to := seeds.Window()
	first, last := from.In(seeds.Location()).Format("2006-01-02T15:04:05"), to.In(seeds.Location()).Format("2006-01-02T15:04:05")
	text := string(sampleText(t))
	count := map[string]int{}
	users, accounts, parts := map[string]bool{}, map[string]bool{}, map[string]bool{}
	byID := map[string]int{}
	for _, l := range allocations(t) {
		users[l["User"]], accounts[l["Account"]], parts[l["Partition"]] = true, true, true
		state, _, _ := strings.Cut(l["State"], " ")
		count[state]++
		byID[l["JobID"]]++
		switch {
		case strings.HasPrefix(l["State"], "CANCELLED by") && l["NodeList"] == "None assigned":
			count["cancelled before start"]++
		case l["Start"] != "Unknown" && l["Start"] < first:
			count["started before the window"]++
		}
		if l["State"] == "RUNNING" && l["End"] == "Unknown" {
			count["running at the dump"]++
		}
		if l["Start"] != "Unknown" && l["Start"] > last {
			t.Errorf("%s starts after the dump", l["JobID"])
		}
		if strings.Contains(l["JobID"], "_[") {
			count["pending array tasks"]++
		} else if strings.Contains(l["JobID"], "_") && l["JobIDRaw"] != l["JobID"] {
			count["array task"]++
		}
		if strings.Contains(l["JobID"], "+") && l["JobIDRaw"] != l["JobID"] {
			count["heterogeneous component"]++
		}
		if l["Eligible"] == "Unknown" {
			count["held"]++
		}
		count["timelimit "+l["Timelimit"]]++
		for _, r := range l["JobName"] {
			if r > 0x2e80 {
				count["Chinese job name"]++
				break
			}
		}
	}
	for id, n := range byID {
		if n > 1 {
			count["requeued job with a later run"]++
			if n > 2 {
				t.Errorf("job %s has %d runs", id, n)
			}
		}
	}
	count["batch step"] = strings.Count(text, ".batch|")
	count["extern step"] = strings.Count(text, ".extern|")
	count["srun step"] = strings.Count(text, ".0|")
	for _, k := range []string{"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY", "REQUEUED",
		"RUNNING", "PENDING", "cancelled before start", "started before the window", "running at the dump",
		"pending array tasks", "array task", "heterogeneous component", "held", "timelimit UNLIMITED",
		"timelimit Partition_Limit", "Chinese job name", "requeued job with a later run", "batch step",
		"extern step", "srun step"} {
		if count[k] == 0 {
			t.Errorf("the sample has no %s", k)
		}
	}
	if len(users) < 120 || len(accounts) < 35 || len(parts) != 4 {
		t.Errorf("%d users, %d accounts, %d partitions: want about 150, 40 and 4", len(users), len(accounts), len(parts))
	}
}

// TestClassifierAgreesWithGenerator holds scmon's default rules against
// the class each template was written to show. Disagreement is allowed
// where the record really says nothing (pending jobs have no steps), but
// not on more than 1% of the billing allocated in the window.
func TestClassifierAgreesWithGenerator(t *testing.T) {
	var raw bytes.Buffer
	s, err := gen.Generate(&raw)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := classify.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory(t)
	var forced []classify.ForcedAccelerators
	for _, p := range inv.Clusters[0].Partitions {
		if p.ForcedAccelerators {
			forced = append(forced, classify.ForcedAccelerators{Partition: p.Name})
		}
	}
	cl := classify.New(rs.WithForced(forced), classify.Options{})
	r := collector.NewSacctReader(&raw, collector.Options{Location: seeds.Location()})
	from, to := seeds.Window()
	var total, wrong float64
	bad := map[string]int{}
	for i := 0; ; i++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want := s.Intents[i]
		if want.JobID != rec.JobID {
			t.Fatalf("record %d is %s, the generator wrote %s", i, rec.JobID, want.JobID)
		}
		b := billingSeconds(inv, rec, from, to)
		total += b
		if got := cl.Classify(rec).Class.String(); got != want.Class {
			wrong += b
			bad[fmt.Sprintf("%s: %s classified %s", want.Workload, want.Class, got)]++
		}
	}
	if total == 0 || wrong/total > 0.01 {
		keys := make([]string, 0, len(bad))
		for k := range bad {
			keys = append(keys, fmt.Sprintf("%s (%d)", k, bad[k]))
		}
		sort.Strings(keys)
		t.Errorf("the classifier disagrees with the generator on %.2f%% of the billing:\n%s", 100*wrong/total, strings.Join(keys, "\n"))
	}
}

// billingSeconds is a record's billing inside [from, to), with the
// inventory's weights.
func billingSeconds(inv *capacity.Inventory, rec *job.Record, from, to time.Time) float64 {
	if !rec.Started() {
		return 0
	}
	end := rec.End
	if end.IsZero() || end.After(to) {
		end = to
	}
	start := rec.Start
	if start.Before(from) {
		start = from
	}
	if !end.After(start) {
		return 0
	}
	w := inv.Clusters[0].WeightsFor(rec.Partition)
	b := w["cpu"] * float64(rec.Cores)
	for _, a := range rec.Accels {
		b += w.Accel(a.Name, a.Type) * float64(a.Count)
	}
	return b * end.Sub(start).Seconds()
}
