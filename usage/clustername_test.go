package usage

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// TestAddCostIndependentOfClusterName adds records whose cluster is named
// by a 1 MiB string (one string, as readers and the inventory rename give
// it): adding one must not copy or allocate anything the size of the name,
// which made a month of records take half a minute.
func TestAddCostIndependentOfClusterName(t *testing.T) {
	name := strings.Repeat("c", 1<<20)
	s := NewStore(nil)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(i int) {
		r := &job.Record{Cluster: name, JobID: strconv.Itoa(i), Start: start, End: start.Add(time.Hour), Cores: 4}
		if err := s.Add(r, job.Decision{Class: job.ClassOther}); err != nil {
			t.Fatal(err)
		}
	}
	add(0) // the first one stores the name
	const n = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 1; i <= n; i++ {
		add(i)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 16<<10 {
		t.Errorf("adding a record allocated %d bytes with a 1 MiB cluster name", per)
	}
	if s.Len() != n+1 {
		t.Errorf("store holds %d records, want %d", s.Len(), n+1)
	}
}

// TestSameRunOnTwoClusters: one job id started at one second on two
// clusters is two runs, and a later duplicate of either is still found.
func TestSameRunOnTwoClusters(t *testing.T) {
	s := NewStore(nil)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []string{"east", "west", "east", "west"} {
		r := &job.Record{Cluster: c, JobID: "7", Start: start, End: start.Add(time.Hour), Cores: 4}
		if err := s.Add(r, job.Decision{Class: job.ClassOther}); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 2 || s.Stats().Duplicates != 2 {
		t.Errorf("store holds %d runs with %d duplicates, want 2 and 2", s.Len(), s.Stats().Duplicates)
	}
}
