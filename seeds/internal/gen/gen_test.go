package gen

import (
	"math"
	"testing"
)

func TestHostlist(t *testing.T) {
	cpu, gpu := partitions[pCPU], partitions[pGPU]
	f := func(p *partition, idx []int, want string) {
		t.Helper()
		if got := p.hostlist(idx); got != want {
			t.Errorf("hostlist(%v) = %q, want %q", idx, got, want)
		}
	}
	f(cpu, nil, "None assigned")
	f(gpu, []int{6}, "g007")
	f(cpu, []int{11, 12, 13, 14, 19}, "c[0012-0015,0020]")
	f(cpu, []int{0, 2, 383}, "c[0001,0003,0384]")
}

func TestFormats(t *testing.T) {
	for s, want := range map[int64]string{0: "00:00:00", 61: "00:01:01", day: "1-00:00:00", 13*day + 9*hour + 35*minute + 28: "13-09:35:28"} {
		if got := fmtDuration(s); got != want {
			t.Errorf("fmtDuration(%d) = %q, want %q", s, got, want)
		}
	}
	if got := ranges([]int{3, 4, 5, 9, 11, 12}); got != "3-5,9,11-12" {
		t.Errorf("ranges = %q", got)
	}
	npu := partitions[pNPU]
	if got := tres(npu, 2, 192, 8, true, true); got != "billing=608,cpu=384,gres/npu:910b=16,gres/npu=16,mem=2925G,node=2" {
		t.Errorf("AllocTRES = %q", got)
	}
	if got := tres(partitions[pCPU], 1, 16, 0, false, false); got != "cpu=16,mem=62400M,node=1" {
		t.Errorf("step TRES = %q", got)
	}
}

// TestLnExp checks the portable logarithm and exponential against the
// math package, to a few ulps.
func TestLnExp(t *testing.T) {
	for _, x := range []float64{1e-3, 0.5, 0.75, 1, 2, 30, 3600, 86400, 1209600} {
		if d := math.Abs(ln(x)-math.Log(x)) / math.Max(1, math.Abs(math.Log(x))); d > 1e-14 {
			t.Errorf("ln(%g) = %g, math.Log says %g", x, ln(x), math.Log(x))
		}
	}
	for y := -10.0; y < 15; y += 0.37 {
		if d := math.Abs(exp(y)-math.Exp(y)) / math.Exp(y); d > 1e-14 {
			t.Errorf("exp(%g) = %g, math.Exp says %g", y, exp(y), math.Exp(y))
		}
	}
}

// TestCapacityMatchesWindow checks the partitions' capacity over the
// window by hand: the DCU partition has 128 nodes for 15 days, then 160.
func TestCapacityMatchesWindow(t *testing.T) {
	from, to := WindowStart.Unix(), WindowEnd.Unix()
	dcu := partitions[pDCU]
	want := (32*4 + 4*48) * (128*15*day + 160*15*day)
	if got := dcu.capacity(from, to); got != int64(want) {
		t.Errorf("dcu capacity %d, want %d", got, want)
	}
	if got, want := partitions[pGPU].capacity(from, to), int64(32*(64*4+8*160)*30*day); got != want {
		t.Errorf("gpu capacity %d, want %d", got, want)
	}
}
