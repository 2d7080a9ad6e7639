package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/scmon/scmon/bench/sacctgen"
)

// BenchmarkReport runs `scmon report` end to end (read, classify, store,
// compute, planner views, JSON) over a dump made by replicating the
// built-in sample, with the peer benchmark's rules and capacity
// (scripts/bench-peers.sh runs the same at larger sizes next to pandas and
// DuckDB). It reports allocations per second and heap allocations per
// allocation.
func BenchmarkReport(b *testing.B) {
	for _, tc := range []struct {
		name  string
		n     int64
		steps bool
	}{
		{"allocations=100k/steps", 100_000, true},
		{"allocations=100k/no-steps", 100_000, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			dump := filepath.Join(dir, "dump.psv")
			f, err := os.Create(dump)
			if err != nil {
				b.Fatal(err)
			}
			copies, err := sacctgen.Write(f, tc.n, tc.steps)
			if err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			inv := filepath.Join(dir, "inventory.yaml")
			yaml := fmt.Sprintf("clusters:\n  - name: sample\n    timezone: Asia/Shanghai\n    nodegroups:\n      - name: all\n        nodes: %d\n        cores: 64\n", copies*600)
			if err := os.WriteFile(inv, []byte(yaml), 0o644); err != nil {
				b.Fatal(err)
			}
			args := []string{"report", "-q", "-i", "slurm-sacct:" + dump, "-c", "inventory:" + inv,
				"--rules", filepath.Join("..", "..", "bench", "peers", "rules.yaml"),
				"--from", "2026-10-01", "--to", "2026-10-31", "-o", "json"}
			var out, errs bytes.Buffer
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				out.Reset()
				if code := run(args, &out, &errs); code != 0 {
					b.Fatalf("scmon %v: exit %d: %s", args, code, errs.String())
				}
			}
			runtime.ReadMemStats(&after)
			n := float64(tc.n) * float64(b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "allocations/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/allocation")
		})
	}
}
