package hostlist

import (
	"bufio"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestHosts(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"cn[001-004,010],gpu[1-2]-ib", []string{"cn001", "cn002", "cn003", "cn004", "cn010", "gpu1-ib", "gpu2-ib"}},
		{"a[1-2]b[3-4]", []string{"a1b3", "a1b4", "a2b3", "a2b4"}},
		{"n[8-11]", []string{"n8", "n9", "n10", "n11"}},
		{"n[08-11]", []string{"n08", "n09", "n10", "n11"}},
		{"n[098-101]", []string{"n098", "n099", "n100", "n101"}},
		{"node01", []string{"node01"}},
		{"node01,node01,node02", []string{"node01", "node02"}},
		{"None assigned", nil},
		{"(null)", nil},
		{"", nil},
		{"n1/0*2+n2/1+n3/0-3", []string{"n1", "n2", "n3"}},
		{"node01/0+node01/1+node02/0", []string{"node01", "node02"}},
		{"(n1:ncpus=4:ngpus=1+n1[1]:ncpus=2)+(n2:ncpus=4)", []string{"n1", "n2"}},
		{"(node0001:ncpus=16:mem=64gb)", []string{"node0001"}},
	}
	for _, tc := range tests {
		got, err := Hosts(tc.in, 1000)
		if err != nil {
			t.Errorf("Hosts(%q): %v", tc.in, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Hosts(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"cn[001-004,010],gpu[1-2]-ib", 7},
		{"a[1-2]b[3-4]", 4},
		{"n[0-999999999999]", 1_000_000_000_000},
		{"n[0-999999999999]x[0-999999999999]", ^uint64(0)}, // 10^24 saturates
		{"n1/0+n1/1+n2/0", 3},
		{"None assigned", 0},
	}
	for _, tc := range tests {
		got, err := Count(tc.in)
		if err != nil {
			t.Errorf("Count(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Count(%q) = %d; want %d", tc.in, got, tc.want)
		}
	}
}

func TestExpandRefusesHugeLists(t *testing.T) {
	for _, in := range []string{"n[0-999999999999]", "a[0-99999]b[0-99999]", "n[1-2]," + strings.Repeat("m[1-1000],", 200) + "x"} {
		called := 0
		err := Expand(in, 100_000, func([]byte) { called++ })
		if !errors.Is(err, ErrTooMany) {
			t.Errorf("Expand(%.40q) = %v; want ErrTooMany", in, err)
		}
		if called != 0 {
			t.Errorf("Expand(%.40q) named %d hosts before refusing", in, called)
		}
	}
}

func TestExpandErrors(t *testing.T) {
	for _, in := range []string{"x[9-1]", "a[1-2", "a]1", "a[[1]]", "a[1-]", "a[-3]", "a[]", "a[1234567890123456789]", "r[1-2]n[a0-a1]", ",n1", "n1,,n2", "n1/0+/1", "(:ncpus=1)", "n1/0+n 2/1"} {
		if _, err := Hosts(in, 1000); err == nil || errors.Is(err, ErrTooMany) {
			t.Errorf("Hosts(%q) = %v; want a syntax error", in, err)
		}
	}
}

func seeds(t testing.TB) []string {
	fh, err := os.Open("testdata/seeds.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "#") {
			out = append(out, sc.Text())
		}
	}
	return out
}

// FuzzExpand checks, for any input, that Expand either refuses it or
// names exactly Count hosts, each a plain name, and never more than its bound.
func FuzzExpand(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, s string, bound int) {
		bound %= 10_000
		n, cerr := Count(s)
		called := 0
		err := Expand(s, bound, func(h []byte) {
			called++
			if len(h) == 0 {
				t.Fatalf("empty host from %q", s)
			}
			if syntaxOf(s) == slurm && strings.ContainsAny(string(h), "[],") {
				t.Fatalf("host %q from %q still holds hostlist syntax", h, s)
			}
		})
		if (cerr == nil) != (err == nil || errors.Is(err, ErrTooMany)) {
			t.Fatalf("Count error %v but Expand error %v for %q", cerr, err, s)
		}
		if err != nil {
			if called != 0 {
				t.Fatalf("%d hosts named before the error %v", called, err)
			}
			if errors.Is(err, ErrTooMany) && n <= uint64(max(bound, 0)) {
				t.Fatalf("refused %d hosts under a bound of %d", n, bound)
			}
			return
		}
		if uint64(called) != n {
			t.Fatalf("Expand named %d hosts, Count says %d, for %q", called, n, s)
		}
		// An Expander reused after another list names the same hosts.
		var e Expander
		var first, again []string
		_ = e.Expand("a[1-3]b,c", 10, func([]byte) {})
		if err := e.Expand(s, bound, func(h []byte) { first = append(first, string(h)) }); err != nil {
			t.Fatalf("reused Expander: %v", err)
		}
		_ = e.Expand(s, bound, func(h []byte) { again = append(again, string(h)) })
		if len(first) != called || !slices.Equal(first, again) {
			t.Fatalf("reused Expander named %d then %d hosts, Expand %d, for %q", len(first), len(again), called, s)
		}
		if called > max(bound, 0) {
			t.Fatalf("named %d hosts over a bound of %d", called, bound)
		}
	})
}
