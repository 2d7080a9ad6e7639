package exporter

import (
	"bytes"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/scmon/scmon/snapshot"
)

// BenchmarkScrape measures what one /metrics request costs the daemon for
// a large site: 10 clusters x 20 partitions x 6 accelerator models x 4
// classes, three accounts per (partition, class). It gathers from a
// registry and encodes the text exposition, as promhttp does; SetBytes
// reports the size of that exposition, so MB/s is exposition throughput.
func BenchmarkScrape(b *testing.B) {
	s := sizedSnapshot(10, 20, 6)
	for _, bc := range []struct {
		name string
		opts Options
	}{{"default", Options{}}, {"account", Options{AccountLabel: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			// A plain registry, as the daemon uses (tests use a pedantic one).
			reg := prometheus.NewRegistry()
			reg.MustRegister(New(func() *snapshot.Snapshot { return s }, bc.opts))
			var buf bytes.Buffer
			scrape := func() {
				buf.Reset()
				mfs, err := reg.Gather()
				if err != nil {
					b.Fatal(err)
				}
				enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
				for _, mf := range mfs {
					if err := enc.Encode(mf); err != nil {
						b.Fatal(err)
					}
				}
			}
			scrape()
			b.SetBytes(int64(buf.Len()))
			series := len(series(b, reg))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				scrape()
			}
			b.ReportMetric(float64(series), "series")
		})
	}
}

// BenchmarkCollect measures the exporter's own share of a scrape: building
// the constant metrics, without the registry's gathering and encoding.
func BenchmarkCollect(b *testing.B) {
	s := sizedSnapshot(10, 20, 6)
	e := New(func() *snapshot.Snapshot { return s }, Options{})
	ch := make(chan prometheus.Metric, 1024)
	go func() {
		for range ch {
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		e.Collect(ch)
	}
	close(ch)
}
