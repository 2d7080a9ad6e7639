package exporter

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/scmon/scmon/snapshot"
)

// TestConcurrentScrapes scrapes from several goroutines while another swaps
// the snapshot pointer, the way the daemon publishes after each poll. Run
// with -race; each scrape must also be internally consistent: it shows one
// snapshot, never a mix of two.
func TestConcurrentScrapes(t *testing.T) {
	var cur atomic.Pointer[snapshot.Snapshot]
	small, large := fakeSnapshot(), sizedSnapshot(2, 3, 2)
	cur.Store(small)
	e := New(cur.Load, Options{AccountLabel: true})
	reg := register(t, e)

	// Which snapshot a scrape saw follows from its series count.
	sizes := map[int]bool{}
	for _, s := range []*snapshot.Snapshot{small, large} {
		cur.Store(s)
		sizes[len(series(t, reg))] = true
	}

	const scrapers, scrapes = 4, 25
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			if i%2 == 0 {
				cur.Store(small)
			} else {
				cur.Store(large)
			}
			runtime.Gosched()
		}
	})
	var scrapesWG sync.WaitGroup
	errs := make(chan error, scrapers*scrapes)
	for range scrapers {
		scrapesWG.Go(func() {
			for range scrapes {
				mfs, err := reg.Gather()
				if err != nil {
					errs <- err
					return
				}
				n := 0
				for _, mf := range mfs {
					n += len(mf.GetMetric())
					if mf.GetType() == dto.MetricType_SUMMARY { // _sum and _count, as series() counts
						n += len(mf.GetMetric())
					}
				}
				if !sizes[n] {
					t.Errorf("a scrape of %d series mixes snapshots (want one of %v)", n, sizes)
				}
			}
		})
	}
	scrapesWG.Wait()
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
