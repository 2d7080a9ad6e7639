package jobstore

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// decodeOnly decodes a document into a fresh record and decision.
func decodeOnly(doc []byte) (job.Record, job.Decision, error) {
	var r job.Record
	var d job.Decision
	err := newDecoder().decode(nil, 0, doc, &r, &d)
	return r, d, err
}

func TestDocRoundTrip(t *testing.T) {
	recs, decs := sampleRecords()
	tests := []struct {
		name string
		rec  *job.Record
		dec  job.Decision
	}{
		{"empty", &job.Record{}, job.Decision{}},
		{"billing integral", &job.Record{Billing: 1 << 52}, job.Decision{}},
		{"billing huge", &job.Record{Billing: 1e300}, job.Decision{}},
		{"billing negative", &job.Record{Billing: -7}, job.Decision{}},
		{"billing NaN-free fraction", &job.Record{Billing: math.SmallestNonzeroFloat64}, job.Decision{}},
		{"timelimit sub-second", &job.Record{Timelimit: time.Nanosecond}, job.Decision{}},
		{"timelimit negative", &job.Record{Timelimit: -time.Minute}, job.Decision{}},
		{"timelimit max", &job.Record{Timelimit: math.MaxInt64}, job.Decision{}},
		{"accel counts", &job.Record{Accels: []job.Accel{{Name: "gpu", Count: -1}, {Name: "gpu", Type: "a100", Count: math.MaxInt64}}}, job.Decision{}},
	}
	for i, r := range recs {
		tests = append(tests, struct {
			name string
			rec  *job.Record
			dec  job.Decision
		}{"sample " + r.JobID, r, decs[i]})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _, err := encodeRow(tc.rec, tc.dec, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, d, err := decodeOnly(w.doc)
			if err != nil {
				t.Fatal(err)
			}
			// Everything but where the record was read travels in the document.
			want := expected(tc.rec)
			want.Source, want.Line = "", 0
			if dd := diff(got, want); dd != "" {
				t.Errorf("round trip:%s", dd)
			}
			if !reflect.DeepEqual(d, tc.dec) {
				t.Errorf("decision = %+v, want %+v", d, tc.dec)
			}
			if math.Signbit(got.Billing) != math.Signbit(tc.rec.Billing) {
				t.Errorf("billing sign lost: %v", got.Billing)
			}
		})
	}
}

// TestCodes checks that every state and class has a storage code, so that
// a state added to package job fails here rather than in a daemon.
func TestCodes(t *testing.T) {
	for s := range job.State(255) {
		if s.String() != "OTHER" || s == job.StateOther {
			if _, ok := stateCode[s]; !ok {
				t.Errorf("state %s has no code in stateCodes", s)
			}
		}
	}
	for _, c := range job.Classes {
		if _, ok := classCode[c]; !ok {
			t.Errorf("class %s has no code in classCodes", c)
		}
	}
}

// TestDocSize pins the size of a typical document, so that a change of
// encoding that makes every stored record bigger is noticed.
func TestDocSize(t *testing.T) {
	recs, decs := synthBatch(0, 1000)
	total := 0
	for i, r := range recs {
		w, _, err := encodeRow(r, decs[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		total += len(w.doc)
	}
	if avg := total / len(recs); avg > 300 {
		t.Errorf("average document of a synthetic record is %d bytes, want at most 300", avg)
	} else {
		t.Logf("average document: %d bytes", avg)
	}
}

func TestDocCorrupt(t *testing.T) {
	w, _, err := encodeRow(fullRecord(), job.Decision{Rules: []string{"a", "b"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := w.doc
	tests := []struct {
		name    string
		doc     []byte
		wantErr string
	}{
		{"empty", nil, "empty"},
		{"newer version", []byte{3, 0}, "version 3"},
		{"compressed without a dictionary", []byte{docVersionLZ, 1, 0}, "without a dictionary"},
		{"bad dictionary id", []byte{docVersionLZ, 0x80}, "dictionary id"},
		{"truncated", good[:len(good)-3], "truncated"},
		{"trailing", append(append([]byte{}, good...), 0), "trailing"},
		{"huge list", []byte{1, 0x80, 0x80, 0x80, 0x80, 0x04, 0xff, 0xff, 0x03}, "truncated list"},
		{"huge string", []byte{1, 0x01, 0xff, 0xff, 0x03, 'a'}, "truncated string"},
		{"bad state", []byte{1, 1 << fState, 99}, "state code 99"},
		{"bad class", []byte{1, 0x80, 0x01, 4}, "class code 4"},
		{"unknown field", []byte{1, 0x80, 0x80, 0x80, 0x80, 0x40}, "unknown fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := decodeOnly(tc.doc)
			if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("decode error = %v, want errCorrupt containing %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzDecodeDoc checks that no document, however corrupt, makes the
// decoder panic or loop, and that whatever decodes re-encodes identically.
func FuzzDecodeDoc(f *testing.F) {
	recs, decs := sampleRecords()
	for i, r := range recs {
		w, _, err := encodeRow(r, decs[i], nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(w.doc)
	}
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, doc []byte) {
		r, d, err := decodeOnly(doc)
		if err != nil {
			return
		}
		// A hand-made document may spell zero values as present; its
		// canonical encoding must decode and encode to itself.
		canon := docOf(t, &r, d)
		r2, d2, err := decodeOnly(canon)
		if err != nil {
			t.Fatalf("canonical encoding does not decode: %v", err)
		}
		if again := docOf(t, &r2, d2); string(again) != string(canon) {
			t.Fatalf("canonical encoding is not stable:\n%x\n%x", canon, again)
		}
	})
}

// docOf encodes a decoded record again. Decoded records hold only what the
// store can keep, except odd times a hand-made document may spell, which
// are skipped.
func docOf(t *testing.T, r *job.Record, d job.Decision) []byte {
	w, _, err := encodeRow(r, d, nil)
	if err != nil {
		t.Skip(err)
	}
	return w.doc
}

func TestEncodeRowErrors(t *testing.T) {
	tests := []struct {
		name    string
		rec     job.Record
		dec     job.Decision
		wantErr string
	}{
		{"start before 1970", job.Record{Start: time.Unix(-1, 0)}, job.Decision{}, "start time"},
		{"end at epoch", job.Record{End: time.Unix(0, 0)}, job.Decision{}, "end time"},
		{"submit before 1970", job.Record{Submit: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}, job.Decision{}, "submit time"},
		{"unknown class", job.Record{}, job.Decision{Class: 200}, "unknown class"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := encodeRow(&tc.rec, tc.dec, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("encodeRow error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestPeekHead checks that the head Jobs reads before decoding agrees with
// the decoded record, and that it gives up on what it cannot read.
func TestPeekHead(t *testing.T) {
	recs, decs := sampleRecords()
	for i, r := range recs {
		w, _, err := encodeRow(r, decs[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := peekHead(w.doc)
		if !ok {
			t.Fatalf("record %d: peekHead failed", i)
		}
		want := expected(r)
		got := [...]string{string(h.cluster), string(h.partition), string(h.account), string(h.user)}
		if got != [...]string{want.Cluster, want.Partition, want.Account, want.User} {
			t.Errorf("record %d: head strings %q", i, got)
		}
		if h.start != unixOf(r.Start) || h.end != unixOf(r.End) {
			t.Errorf("record %d: head times %d %d, want %d %d", i, h.start, h.end, unixOf(r.Start), unixOf(r.End))
		}
		for cut := range len(w.doc) {
			if _, ok := peekHead(w.doc[:cut]); ok && cut < 2 {
				t.Errorf("record %d: head of %d bytes read", i, cut)
			}
		}
	}
	if _, ok := peekHead([]byte{docVersionLZ, 1}); ok {
		t.Error("head of a compressed document read")
	}
}
