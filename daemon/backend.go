package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/scmon/scmon/jobstore"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
	"github.com/scmon/scmon/web"
)

// Backend adapts the daemon to the web server: the status page, the JSON
// API and the reload endpoint.
type Backend struct{ d *Daemon }

var _ web.Backend = Backend{}

// WebBackend returns the daemon's web backend.
func (d *Daemon) WebBackend() Backend { return Backend{d} }

// Snapshot returns the figures last published.
func (b Backend) Snapshot() *snapshot.Snapshot { return b.d.Snapshot() }

// Ready reports whether the daemon serves figures.
func (b Backend) Ready() (bool, string) { return b.d.Ready() }

// Reload reloads the configuration.
func (b Backend) Reload(ctx context.Context) error { return b.d.Reload(ctx) }

// Figures computes utilization and AI share for any range from the
// in-memory engine, which holds every stored record.
func (b Backend) Figures(ctx context.Context, q web.FiguresQuery) (*report.Report, error) {
	d := b.d
	if ok, why := d.Ready(); !ok {
		return nil, fmt.Errorf("%w: %s", web.ErrNotReady, why)
	}
	rt := d.rt.Load()
	loc := q.Location
	if loc == nil {
		loc = rt.Location
	}
	// Capacity in the future would count as idle: cut the range at now.
	now := d.now()
	cut := false
	if q.To.After(now) {
		if !q.From.Before(now) {
			return nil, fmt.Errorf("%w: the range starts at or after now (%s)", web.ErrInvalidQuery, now.UTC().Format(time.RFC3339))
		}
		q.To, cut = now.Truncate(time.Second), true
	}
	d.mu.RLock()
	res, err := d.mem.ComputeContext(ctx, usage.Query{From: q.From, To: q.To, By: q.By, Every: q.Every, Location: loc, Inventory: rt.Inventory, MaxCells: web.MaxCells})
	stats := d.mem.Stats()
	d.mu.RUnlock()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("figures: %w", ctx.Err())
		}
		return nil, fmt.Errorf("%w: %v", web.ErrInvalidQuery, err)
	}
	meta := report.Meta{Rule: "given", Location: loc, Inventory: rt.Inventory, Stats: stats, By: q.By, Every: q.Every}
	if rt.Inventory != nil {
		meta.Primary = rt.Inventory.Primary()
	}
	r := report.Build(res, meta)
	if cut {
		r.Warnings = append(r.Warnings, "the range was cut at now ("+q.To.UTC().Format(time.RFC3339)+"): the future has no allocation to compare capacity with")
	}
	return r, nil
}

// Jobs answers job-level queries from the durable store.
func (b Backend) Jobs(ctx context.Context, q web.JobsQuery) (web.JobsPage, error) {
	d := b.d
	if d.store == nil {
		return web.JobsPage{}, fmt.Errorf("%w: the job store is not open", web.ErrNotReady)
	}
	rows, err := d.store.Jobs(ctx, jobstore.JobQuery{From: q.From, To: q.To, Clusters: q.Clusters, Partitions: q.Partitions,
		Accounts: q.Accounts, Users: q.Users, Classes: q.Classes, States: q.States, Limit: q.Limit + 1, Offset: q.Offset})
	if err != nil {
		return web.JobsPage{}, err
	}
	page := web.JobsPage{Limit: q.Limit, Offset: q.Offset, Jobs: []web.JobRow{}}
	if len(rows) > q.Limit {
		page.More = true
		rows = rows[:q.Limit]
	}
	for i := range rows {
		page.Jobs = append(page.Jobs, web.NewJobRow(&rows[i].Record, rows[i].Decision))
	}
	return page, nil
}
