package usage

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// TestLedgerAgainstSum: the ledger's amount over random windows equals the
// sum of every allocation's overlap, with replacements and pruning.
func TestLedgerAgainstSum(t *testing.T) {
	type alloc struct {
		start, end int64 // end 0: running
		w          []Weight
	}
	rng := rand.New(rand.NewPCG(3, 4))
	base := int64(1_790_000_000)
	var l Ledger
	var as []alloc
	wts := func(id uint32, buf []Weight) []Weight { return append(buf, as[id].w...) }
	for i := 0; i < 3000; i++ {
		s := base + rng.Int64N(20*86400)
		a := alloc{start: s, w: []Weight{{0, 1 + rng.Int64N(64)}, {1 + rng.IntN(3), rng.Int64N(8)}}}
		if rng.IntN(10) > 0 {
			a.end = s + rng.Int64N(3*86400)
		}
		as = append(as, a)
		l.Add(uint32(i), a.start, a.end, a.w, 1)
	}
	// Replace some: the running ones end, some finished ones shorten.
	for i := range as {
		if as[i].end == 0 || rng.IntN(20) == 0 {
			l.Add(uint32(i), as[i].start, as[i].end, as[i].w, -1)
			as[i].end = as[i].start + rng.Int64N(86400)
			l.Add(uint32(i), as[i].start, as[i].end, as[i].w, 1)
		}
	}
	for q := 0; q < 300; q++ {
		from := base + rng.Int64N(25*86400) - 86400
		to := from + rng.Int64N(10*86400)
		want := make([]int64, 4)
		for _, a := range as {
			lo, hi := max(a.start, from), min(a.end, to)
			if hi > lo {
				for _, w := range a.w {
					want[w.Slot] += w.W * (hi - lo)
				}
			}
		}
		got := make([]int64, 4)
		if err := l.Amount(from, to, wts, got); err != nil {
			t.Fatal(err)
		}
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("[%d, %d) slot %d: ledger %d, sum %d", from, to, k, got[k], want[k])
			}
		}
	}
	l.Prune(base + 10*86400)
	if err := l.Amount(base+86400, base+12*86400, wts, make([]int64, 4)); !errors.Is(err, ErrPruned) {
		t.Errorf("window from a pruned hour: %v, want ErrPruned", err)
	}
	if err := l.Amount(base+11*86400, base+12*86400, wts, make([]int64, 4)); err != nil {
		t.Errorf("window after the pruned hours: %v", err)
	}
}
