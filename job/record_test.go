package job

import (
	"testing"
	"time"
)

// TestRunHash: the hash tells runs apart by job id, raw id and start, is
// the same for the same run whatever its cluster, and allocates nothing.
func TestRunHash(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := Record{Cluster: "east", JobID: "12", RawID: "34", Start: start}
	variants := []Record{
		{Cluster: "east", JobID: "12", RawID: "35", Start: start},
		{Cluster: "east", JobID: "123", RawID: "4", Start: start}, // same bytes, other split
		{Cluster: "east", JobID: "12", RawID: "34", Start: start.Add(time.Second)},
		{Cluster: "east", JobID: "12", RawID: "34"},
	}
	for _, v := range variants {
		if v.RunHash() == base.RunHash() {
			t.Errorf("%+v hashes like %+v", v, base)
		}
	}
	other := base
	other.Cluster = "west"
	other.Start = start.In(time.FixedZone("x", 3600))
	if other.RunHash() != base.RunHash() {
		t.Error("the same run hashes differently on another cluster or in another zone")
	}
	if n := testing.AllocsPerRun(100, func() { _ = base.RunHash() }); n != 0 {
		t.Errorf("RunHash allocates %v times", n)
	}
}
