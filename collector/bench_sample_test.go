package collector

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
	"time"
)

// BenchmarkSacctReaderSample reads the built-in sample log (allocations
// with their step lines, in the sample's zone): the reader's share of
// `scmon report`. It reports records (allocations) per second and heap
// allocations per record.
func BenchmarkSacctReaderSample(b *testing.B) {
	data, err := os.ReadFile("../seeds/sample.sacct.gz")
	if err != nil {
		b.Fatal(err)
	}
	zr, err := MaybeGzip(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		r := NewSacctReader(bytes.NewReader(raw), Options{Location: loc})
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(n), "allocs/record")
}
