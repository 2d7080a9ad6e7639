package collector

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// benchDumpAllocs is the size of the dump BenchmarkSacctReaderDump reads:
// large enough to be read in chunks, as `scmon report` reads a big file.
const benchDumpAllocs = 100000

// BenchmarkSacctReaderDump reads a generated sacct dump of 100,000
// allocations with their step lines (package sacctgen, the dump of the
// end-to-end benchmarks; about 410,000 lines, 110 MB) in the sample's
// zone, as `scmon report` reads it. "onepass" reads it from memory in one
// goroutine; "file" opens it as a file, read in chunks on every CPU when
// there is more than one. Besides the usual figures it reports, per input
// line, wall time (ns/line), process CPU time (cpu-ns/line: all
// goroutines, garbage collection included), heap bytes and allocations.
func BenchmarkSacctReaderDump(b *testing.B) {
	for _, steps := range []bool{true, false} {
		name := "steps"
		if !steps {
			name = "allocations"
		}
		data := generatedDump(b, benchDumpAllocs, steps)
		path := filepath.Join(b.TempDir(), "dump.psv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		lines := bytes.Count(data, []byte{'\n'})
		b.Run(name+"/onepass", func(b *testing.B) {
			benchDump(b, data, lines, func() (Reader, io.Closer) {
				return NewSacctReader(bytes.NewReader(data), benchOpts(b)), io.NopCloser(nil)
			})
		})
		b.Run(name+"/file", func(b *testing.B) {
			benchDump(b, data, lines, func() (Reader, io.Closer) {
				f, err := OpenFile(path)
				if err != nil {
					b.Fatal(err)
				}
				return NewSacctReader(f, benchOpts(b)), f
			})
		})
	}
}

func benchOpts(b *testing.B) Options {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		b.Fatal(err)
	}
	return Options{Name: "dump.psv", Location: loc}
}

func benchDump(b *testing.B, data []byte, lines int, open func() (Reader, io.Closer)) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	reads := 0
	for b.Loop() {
		r, c := open()
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
		reads++
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	n := float64(reads) * float64(lines)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/line")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/line")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/line")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/line")
}

// cpuTime returns the CPU time of the process so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
