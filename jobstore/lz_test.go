package jobstore

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLZRoundTrip(t *testing.T) {
	dict := []byte("sbatch -p gpu -N 2 --time=12:00:00 run_train_llama.sh/public/home/user0001/project01")
	tests := []struct {
		name    string
		dict    []byte
		src     string
		maxSize int // the compressed size must not exceed it (0: no check)
	}{
		{"empty", dict, "", 0},
		{"short", dict, "abc", 4},
		{"no dictionary", nil, "abcabcabcabcabcabc", 10},
		{"from the dictionary", dict, "sbatch -p gpu -N 4 --time=12:00:00 run_train_llama.sh", 20},
		{"run", dict, strings.Repeat("x", 1000), 10},
		{"spans the dictionary's end", dict, "user0001/project01/train_llama", 25},
		{"binary", dict, "\x00\x01\x02\x03\x00\x01\x02\x03\xff\xfe", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &lzEncoder{d: newLZDict(tc.dict)}
			// Twice with one encoder: the second must not see the first.
			for range 2 {
				c := e.encode(nil, []byte(tc.src))
				if tc.maxSize > 0 && len(c) > tc.maxSize {
					t.Errorf("compressed to %d bytes, want at most %d", len(c), tc.maxSize)
				}
				got, err := lzDecode(nil, tc.dict, c, 1<<20)
				if err != nil || string(got) != tc.src {
					t.Fatalf("decode = %q, %v; want %q", got, err, tc.src)
				}
			}
		})
	}
}

func TestLZCorrupt(t *testing.T) {
	dict := []byte("0123456789")
	tests := []struct {
		name, src, wantErr string
	}{
		{"bad tag", "\x80", "tag"},
		{"truncated literal", "\x08ab", "truncated literal"},
		{"distance past the dictionary", "\x09\x0b", "distance"},
		{"zero distance", "\x09\x00", "distance"},
		{"too long", "\x81\x80\x04\x01", "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lzDecode(nil, dict, []byte(tc.src), 1000)
			if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("decode error = %v, want errCorrupt containing %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzLZDecode checks that any input decodes or fails cleanly, within the
// size bound, and that encoding any input decodes back to it.
func FuzzLZDecode(f *testing.F) {
	recs, decs := synthBatch(0, 4)
	var dict []byte
	for i, r := range recs {
		w, _, err := encodeRow(r, decs[i], nil)
		if err != nil {
			f.Fatal(err)
		}
		dict = append(dict, w.doc[1:]...)
	}
	e := &lzEncoder{d: newLZDict(dict)}
	f.Add(e.encode(nil, dict[10:200]))
	f.Add([]byte("\x09\x01"))
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := lzDecode(nil, dict, src, 4096)
		if err == nil && len(out) > 4096 {
			t.Fatalf("decoded %d bytes past the bound", len(out))
		}
		if err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("error %v is not errCorrupt", err)
		}
		back, err := lzDecode(nil, dict, e.encode(nil, src), len(src))
		if err != nil || !bytes.Equal(back, src) {
			t.Fatalf("round trip of %x = %x, %v", src, back, err)
		}
	})
}

// TestCompressedStore checks a store once it has learned its dictionary:
// documents are compressed and read back the same, re-reads are
// unchanged, a handle opened before the dictionary existed reads the
// documents of another, and reclassified documents stay comparable.
func TestCompressedStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		s, early := openStore(t, dsn), openStore(t, dsn)
		ctx := context.Background()
		// Too few to learn from: stored plain.
		small, smallDecs := synthBatch(0, dictMinDocs/2)
		mustApply(t, s, Batch{Records: small, Decisions: smallDecs})
		if e, _ := s.(*sqlStore).encoder(); e != nil {
			t.Fatal("dictionary learned from too few documents")
		}
		recs, decs := synthBatch(dictMinDocs/2, 1000)
		if res := mustApply(t, s, Batch{Source: "dump", Records: recs, Decisions: decs}); res.Inserted != len(recs) {
			t.Fatalf("Apply = %+v", res)
		}
		all, allDecs := append(small, recs...), append(smallDecs, decs...)
		for _, h := range []Store{s, early} {
			got := scanAll(t, h)
			if len(got) != len(all) {
				t.Fatalf("%d records, want %d", len(got), len(all))
			}
			for i, r := range all {
				if d := diff(got[i].Rec, expected(r)); d != "" {
					t.Fatalf("record %d:%s", i, d)
				}
				if !reflect.DeepEqual(got[i].Dec, allDecs[i]) {
					t.Fatalf("record %d: decision %+v, want %+v", i, got[i].Dec, allDecs[i])
				}
			}
		}
		if res := mustApply(t, early, Batch{Records: recs, Decisions: decs}); res.Unchanged != len(recs) {
			t.Errorf("re-apply through the other handle = %+v, want all unchanged", res)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var plain int
		for i, r := range recs {
			w, _, _ := encodeRow(r, decs[i], nil)
			plain += len(w.doc)
		}
		var stored int64
		if err := s.(*sqlStore).db.QueryRowContext(ctx, "SELECT sum(length(doc)) FROM jobs WHERE id > 32").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		t.Logf("documents: %d bytes plain, %d compressed (%.0f%%); store %d bytes", plain, stored, 100*float64(stored)/float64(plain), st.Bytes)
		if stored*2 > int64(plain) {
			t.Errorf("compressed documents take %d bytes, over half of the %d plain", stored, plain)
		}
	})
}
