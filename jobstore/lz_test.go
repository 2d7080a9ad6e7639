package jobstore

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
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

// TestBlockStore checks blocks as stored: the records of a large batch
// read back the same through another handle, which also finds a re-read
// unchanged, the block's compression saves more than half the bytes of the
// plain documents, and a batch over blockMaxRecords spans several blocks.
func TestBlockStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		s, other := openStore(t, dsn), openStore(t, dsn)
		ctx := context.Background()
		recs, decs := synthBatch(0, blockMaxRecords+1000)
		if res := mustApply(t, s, Batch{Source: "dump", Records: recs, Decisions: decs}); res.Inserted != len(recs) {
			t.Fatalf("Apply = %+v", res)
		}
		for _, h := range []Store{s, other} {
			got := scanAll(t, h)
			if len(got) != len(recs) {
				t.Fatalf("%d records, want %d", len(got), len(recs))
			}
			for i, r := range recs {
				if d := diff(got[i].Rec, expected(r)); d != "" {
					t.Fatalf("record %d:%s", i, d)
				}
				if !reflect.DeepEqual(got[i].Dec, decs[i]) {
					t.Fatalf("record %d: decision %+v, want %+v", i, got[i].Dec, decs[i])
				}
			}
		}
		if res := mustApply(t, other, Batch{Records: recs, Decisions: decs}); res.Unchanged != len(recs) {
			t.Errorf("re-apply through the other handle = %+v, want all unchanged", res)
		}
		var plain int
		for i, r := range recs {
			w, _, _ := encodeRow(r, decs[i], nil)
			plain += len(w.doc)
		}
		var blocks, stored int64
		if err := s.(*sqlStore).db.QueryRowContext(ctx, "SELECT count(*), sum(length(data)) FROM blocks").Scan(&blocks, &stored); err != nil {
			t.Fatal(err)
		}
		t.Logf("documents: %d bytes plain, %d compressed in %d blocks (%.0f%%)", plain, stored, blocks, 100*float64(stored)/float64(plain))
		if blocks != 2 {
			t.Errorf("%d blocks, want 2", blocks)
		}
		if stored*2 > int64(plain) {
			t.Errorf("compressed blocks take %d bytes, over half of the %d plain", stored, plain)
		}
	})
}

// TestCompaction replaces most records of a block and checks that the
// block is rewritten with its live records alone, that a block all of
// whose records were replaced is deleted, and that what Scan and Jobs
// return does not change.
func TestCompaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t))
		ctx := context.Background()
		dec := job.Decision{Class: job.ClassOther}
		running := func(from, n int) []*job.Record {
			recs := numbered(from, n)
			for _, r := range recs {
				r.End, r.State = time.Time{}, job.StateRunning
			}
			return recs
		}
		mustApply(t, s, batchOf("src", []byte{1}, dec, running(0, 10)...))  // block 1
		mustApply(t, s, batchOf("src", []byte{2}, dec, running(10, 10)...)) // block 2
		// Six of block 1's runs end: under half of it is live.
		if res := mustApply(t, s, batchOf("src", []byte{3}, dec, numbered(0, 6)...)); res != (ApplyResult{Updated: 6}) {
			t.Fatalf("Apply = %+v", res)
		}
		// All of block 2's end.
		mustApply(t, s, batchOf("src", []byte{4}, dec, numbered(10, 10)...))
		type blk struct{ records, live int }
		var got []blk
		rows, err := s.(*sqlStore).db.QueryContext(ctx, "SELECT records, live FROM blocks ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var x blk
			if err := rows.Scan(&x.records, &x.live); err != nil {
				t.Fatal(err)
			}
			got = append(got, x)
		}
		rows.Close()
		want := []blk{{4, 4}, {6, 6}, {10, 10}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("blocks (records, live) = %v, want %v", got, want)
		}
		all := scanAll(t, s)
		if len(all) != 20 {
			t.Fatalf("%d records, want 20", len(all))
		}
		for _, st := range all {
			id, _ := strconv.Atoi(st.Rec.JobID)
			if wantRunning := id >= 6 && id < 10; (st.Rec.End.IsZero()) != wantRunning {
				t.Errorf("job %s: end %v", st.Rec.JobID, st.Rec.End)
			}
		}
		jobs, err := s.Jobs(ctx, JobQuery{})
		if err != nil || len(jobs) != 20 {
			t.Errorf("Jobs = %d rows, %v", len(jobs), err)
		}
		if st, err := s.Stats(ctx); err != nil || st.Records != 20 {
			t.Errorf("Stats = %+v, %v", st, err)
		}
	})
}

// FuzzDecodeBlock checks that no block data crashes the decoder, and
// that a block that decodes splits into entries within its payload.
func FuzzDecodeBlock(f *testing.F) {
	var bw blockWriter
	recs, decs := sampleRecords()
	var rows []row
	for i, r := range recs {
		w, _, err := encodeRow(r, decs[i], nil)
		if err != nil {
			f.Fatal(err)
		}
		rows = append(rows, w)
	}
	f.Add(bw.encode(rows).data, len(rows))
	f.Add([]byte{blockVersion, 0}, 0)
	f.Add([]byte{blockVersion, 5, 5, 4, 8, 'a', 'b', 'c', 'd'}, 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		raw, entries, err := decodeBlock(nil, nil, data, n)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v is not errCorrupt", err)
			}
			return
		}
		if len(entries) != n {
			t.Fatalf("%d entries, want %d", len(entries), n)
		}
		total := 0
		for _, e := range entries {
			total += len(e.source) + len(e.doc)
		}
		if total > len(raw) {
			t.Fatalf("entries hold %d bytes of a %d-byte payload", total, len(raw))
		}
	})
}
