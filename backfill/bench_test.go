package backfill

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// benchGenerator is the sample center's 30 days at a one-minute step:
// 43,201 samples for each of its series.
func benchGenerator(b *testing.B) *Generator {
	b.Helper()
	d := sample(b)
	g, err := New(d.store, Options{From: d.from, To: d.to, Step: time.Minute, Inventory: d.inv})
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// reportRate reports samples per second over the benchmark's iterations.
func reportRate(b *testing.B, samples int64) {
	b.ReportMetric(float64(samples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkGenerate computes every value of the 30 days at one minute. It
// also reports the largest heap in use while a Generator is made and run,
// above what was in use before (the loaded store excluded): what backfill
// needs beyond the job history, whatever the length of the window.
func BenchmarkGenerate(b *testing.B) {
	d := sample(b)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	g, err := New(d.store, Options{From: d.from, To: d.to, Step: time.Minute, Inventory: d.inv})
	if err != nil {
		b.Fatal(err)
	}
	peak := uint64(0)
	for {
		if _, err := g.Next(); err != nil {
			break
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.Reset()
		for {
			_, err := g.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRate(b, g.Samples())
	b.ReportMetric(float64(g.Samples()), "samples/op")
	b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MiB")
}

// BenchmarkNew measures the preparation: label sets, sorting the
// allocations by start and end.
func BenchmarkNew(b *testing.B) {
	d := sample(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(d.store, Options{From: d.from, To: d.to, Step: time.Minute, Inventory: d.inv}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenMetrics writes the 30 days at one minute as OpenMetrics
// text (spool file included) to io.Discard.
func BenchmarkOpenMetrics(b *testing.B) {
	g := benchGenerator(b)
	dir := b.TempDir()
	b.ReportAllocs()
	var bytes int64
	for b.Loop() {
		g.Reset()
		st, err := WriteOpenMetrics(io.Discard, g, dir)
		if err != nil {
			b.Fatal(err)
		}
		bytes = st.Bytes
	}
	b.SetBytes(bytes)
	reportRate(b, g.Samples())
}

// nullTransport answers every request with 204 without a network, so that
// BenchmarkRemoteWrite measures encoding and compression.
type nullTransport struct{}

func (nullTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, req.Body)
	req.Body.Close()
	return &http.Response{StatusCode: http.StatusNoContent, Status: "204 No Content", Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
}

// BenchmarkRemoteWrite encodes, compresses and "sends" the 30 days at one
// minute in requests of DefaultBatch samples.
func BenchmarkRemoteWrite(b *testing.B) {
	g := benchGenerator(b)
	b.ReportAllocs()
	var st Stats
	for b.Loop() {
		g.Reset()
		var err error
		st, err = WriteRemote(context.Background(), g, RemoteWriteOptions{URL: "http://receiver.invalid/api/v1/write", Client: &http.Client{Transport: nullTransport{}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, g.Samples())
	b.ReportMetric(float64(st.Bytes)/float64(st.Samples), "wire-bytes/sample")
}
