package web

import (
	"sort"
	"strconv"

	"github.com/scmon/scmon/snapshot"
)

// idleRow is one cluster's idle resource (cores, or an accelerator model)
// since the first allocation, split by reason: the share of its idle time
// each reason took, and how much was idle while jobs waited for it.
type idleRow struct {
	Cluster, Resource string
	IdleHours         string
	Shares            []string // one per snapshot.IdleReasons
	Blocked           bool     // some idle time had jobs waiting for it
}

// idleRows builds the idle split table from the snapshot's counters.
func idleRows(s *snapshot.Snapshot) []idleRow {
	type key struct{ cluster, kind, model string }
	sums := map[key]map[string]float64{}
	var keys []key
	for _, x := range s.Idle {
		k := key{x.Cluster, x.Kind, x.Model}
		if sums[k] == nil {
			sums[k] = map[string]float64{}
			keys = append(keys, k)
		}
		sums[k][x.Reason] += x.Seconds
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.cluster+"\x00"+a.kind+"\x00"+a.model < b.cluster+"\x00"+b.kind+"\x00"+b.model
	})
	var out []idleRow
	for _, k := range keys {
		m := sums[k]
		var total float64
		for _, v := range m {
			total += v
		}
		r := idleRow{Cluster: k.cluster, Resource: "cores", IdleHours: count(total / 3600)}
		if k.kind != "" {
			r.Resource = k.kind + " " + k.model
		}
		for _, reason := range snapshot.IdleReasons {
			if total <= 0 {
				r.Shares = append(r.Shares, "-")
				continue
			}
			r.Shares = append(r.Shares, strconv.FormatFloat(m[reason]/total*100, 'f', 1, 64)+"%")
		}
		r.Blocked = m["blocked"] > 0
		out = append(out, r)
	}
	return out
}
