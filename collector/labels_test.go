package collector

import (
	"fmt"
	"testing"

	"github.com/scmon/scmon/internal/intern"
)

// TestLabelTable checks that the table returns values equal to their bytes,
// allocates nothing for a value it holds, and stays within its bound when
// a file brings endless distinct values.
func TestLabelTable(t *testing.T) {
	var tab labelTable
	for _, v := range []string{"alice", "gpu", "a[001-004]", "alice", ""} {
		if got := tab.get([]byte(v), nil); got != v {
			t.Fatalf("get(%q) = %q", v, got)
		}
	}
	key := []byte("normal")
	first := tab.get(key, nil)
	if n := testing.AllocsPerRun(100, func() {
		if tab.get(key, nil) != first {
			t.Fatal("changed")
		}
	}); n != 0 {
		t.Errorf("a value held costs %v allocations, want 0", n)
	}
	long := make([]byte, maxLabel+1)
	if got := tab.get(long, nil); len(got) != len(long) {
		t.Errorf("a long value: %d bytes back, want %d", len(got), len(long))
	}
	for i := range 10 * labelSlots {
		v := fmt.Sprintf("user%d", i)
		if got := tab.get([]byte(v), nil); got != v {
			t.Fatalf("get(%q) = %q", v, got)
		}
	}
	if len(tab.slots) > labelSlots {
		t.Errorf("%d slots after %d distinct values, want at most %d", len(tab.slots), 10*labelSlots, labelSlots)
	}
	if len(tab.slots) < labelSlots {
		t.Errorf("%d slots after %d distinct values: the table did not grow to %d", len(tab.slots), 10*labelSlots, labelSlots)
	}
	// A caller's pool makes what the table misses.
	pool := intern.New()
	var tp labelTable
	a := tp.get([]byte("acct"), pool)
	if pool.Len() != 1 || pool.String("acct") != a {
		t.Errorf("the pool holds %d values, want the one the table made", pool.Len())
	}
}
