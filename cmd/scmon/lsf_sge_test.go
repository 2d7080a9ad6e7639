package main

import (
	"math"
	"strings"
	"testing"
)

// TestReportLSFAndSGE checks the figures of scmon report on the LSF and
// Grid Engine fixtures against sums done by hand from the files' own
// numbers (slots x (end - start), in seconds).
func TestReportLSFAndSGE(t *testing.T) {
	const inventory = "inventory:testdata/lsf-sge-inventory.yaml"
	// The inventory: 10 nodes of 16 cores and 2 x 4 GPUs, over the two
	// hours of the window.
	const capCoreSeconds, capGPUSeconds = 10 * 16 * 7200, 8 * 7200
	window := []string{"--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T02:00:00Z"}
	tests := []struct {
		name    string
		args    []string
		records int64
		// coreSeconds and gpuSeconds are the hand sums.
		coreSeconds, gpuSeconds float64
		capacity                bool
	}{
		{
			name: "lsf edge cases", args: append([]string{"--input", "lsf:../../collector/testdata/lsf/edge-cases.acct", "--capacity", inventory}, window...),
			records: 6, capacity: true,
			// 5001[3] 4 slots 1 h, 5002 16 slots 30 min, 5003 2 slots
			// 2 h, 5004 never ran, 5006 4 slots 10 min, 5007 1 slot
			// 15 min; GPUs: 2 on 5001[3] for 1 h, 1 on 5007 for 15 min.
			coreSeconds: 4*3600 + 16*1800 + 2*7200 + 0 + 4*600 + 1*900,
			gpuSeconds:  2*3600 + 1*900,
		},
		{
			name: "sge edge cases", args: append([]string{"--input", "sge:../../collector/testdata/sge/edge-cases.log", "--capacity", inventory}, window...),
			records: 6, capacity: true,
			// 6001.7 1 slot 1 h (1 GPU), 6002 8 slots 30 min, 6003 1 slot
			// 10 min, 6005 1 slot 2 s, 6006 4 slots from 00:00:00.500 to
			// 00:15:00.700 (whole seconds 0 to 900), 6011 2 slots 2 min.
			coreSeconds: 1*3600 + 8*1800 + 1*600 + 1*2 + 4*900 + 2*120,
			gpuSeconds:  1 * 3600,
		},
		{
			// XDMoD's file: two lines of one run of job 404717 (same id
			// and start), counted once, the later line (8 slots) replacing
			// the earlier; event time 1389683139, start 1389642771.
			name: "xdmod lsb.acct", args: []string{"--input", "lsf:../../collector/testdata/lsf/xdmod-lsb.acct"},
			records: 2, coreSeconds: 8 * (1389683139 - 1389642771),
		},
		{
			// Two identical SGE lines of job 22947: one run, 1 slot,
			// 1311095414 - 1311095354 s.
			name: "xdmod sge", args: []string{"--input", "sge:../../collector/testdata/sge/sge-accounting-logs.log"},
			records: 2, coreSeconds: 1 * (1311095414 - 1311095354),
		},
		{
			// UGE milliseconds: job 22947 (60 s, 1 slot) and 4437956
			// (16 slots, 1652111622875 to 1652124460193 ms, whole
			// seconds 1652111622 to 1652124460).
			name: "xdmod uge", args: []string{"--input", "sge:../../collector/testdata/sge/uge-accounting-logs.log"},
			records: 2, coreSeconds: 1*60 + 16*(1652124460-1652111622),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportJSON(t, tt.args...)
			if len(r.Inputs) != 1 || r.Inputs[0].Records != tt.records {
				t.Fatalf("inputs %+v, want %d records", r.Inputs, tt.records)
			}
			if got := r.CPU.AllocatedHours * 3600; math.Abs(got-tt.coreSeconds) > 1e-6 {
				t.Errorf("allocated core-seconds %v, want %v", got, tt.coreSeconds)
			}
			if !tt.capacity {
				return
			}
			if got := r.CPU.CapacityHours * 3600; got != capCoreSeconds {
				t.Errorf("capacity core-seconds %v, want %d", got, capCoreSeconds)
			}
			if got, want := r.CPU.Utilization, tt.coreSeconds/capCoreSeconds; math.Abs(got-want) > 1e-12 {
				t.Errorf("utilization %v, want %v", got, want)
			}
			if got, want := r.Accelerator.ByKind["gpu"].Utilization, tt.gpuSeconds/capGPUSeconds; math.Abs(got-want) > 1e-12 {
				t.Errorf("GPU utilization %v, want %v", got, want)
			}
		})
	}
}

// TestClassifyLSFAndSGE runs scmon classify on both formats: every job
// read is listed.
func TestClassifyLSFAndSGE(t *testing.T) {
	tests := []struct {
		input string
		jobs  []string
	}{
		{"lsf:../../collector/testdata/lsf/edge-cases.acct", []string{"5001[3]", "5002", "5003", "5004", "5006", "5007"}},
		{"sge:../../collector/testdata/sge/edge-cases.log", []string{"6001.7", "6002", "6003", "6005", "6006", "6011"}},
	}
	for _, tt := range tests {
		code, out, errOut := scmon(t, "classify", "-q", "--input", tt.input, "-o", "csv")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tt.input, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(tt.jobs)+1 {
			t.Fatalf("%s: %d lines, want a header and %d jobs:\n%s", tt.input, len(lines), len(tt.jobs), out)
		}
		for i, id := range tt.jobs {
			if !strings.HasPrefix(lines[i+1], id+",") {
				t.Errorf("%s: line %d %q, want job %s", tt.input, i+2, lines[i+1], id)
			}
		}
	}
}
