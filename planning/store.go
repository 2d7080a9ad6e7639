package planning

import (
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

// JobsFromStore returns the jobs of a usage store (what scmon serve keeps)
// with the records still pending, for the views that need no job name:
// the idle split. The store keeps no Eligible time, so waits count from
// submission. Pending records name their cluster (cluster, when empty)
// and their first partition; their requests map through table.
func JobsFromStore(s *usage.Store, inv *capacity.Inventory, table *accel.Table, pending []*job.Record, cluster string) []Job {
	if table == nil {
		table = accel.Default()
	}
	unix := func(v uint32) time.Time {
		if v == 0 || v == ^uint32(0) {
			return time.Time{}
		}
		return time.Unix(int64(v), 0).UTC()
	}
	jobs := s.Jobs()
	out := make([]Job, 0, len(jobs)+len(pending))
	for i := range jobs {
		j := &jobs[i]
		if j.Start == 0 {
			continue // never started: the store keeps no end of its wait
		}
		pj := Job{Cluster: s.Label(uint32(j.Cluster)), Partition: s.Label(uint32(j.Partition)), Account: s.Label(j.Account), User: s.Label(j.User),
			Class: j.Class, State: j.State, Submit: unix(j.Submit), Start: unix(j.Start), End: unix(j.End), Cores: int64(j.Cores), Nodes: int64(j.Nodes)}
		for _, dc := range s.JobDevices(i) {
			d := s.Device(dc.Device)
			if !d.Known {
				continue
			}
			dev := inv.ResolveDevice(pj.Cluster, pj.Partition, d.Device)
			pj.Devices = append(pj.Devices, DeviceCount{Device: dev, Count: int64(dc.Count)})
		}
		out = append(out, pj)
	}
	for _, r := range pending {
		pj := Job{Cluster: r.Cluster, Partition: r.Partition, Account: r.Account, User: r.User, Name: r.Name,
			State: job.StatePending, Submit: r.Submit, Eligible: r.Eligible, Cores: r.Cores, Nodes: r.Nodes}
		if pj.Cluster == "" {
			pj.Cluster = cluster
		}
		if i := strings.IndexByte(pj.Partition, ','); i >= 0 {
			pj.Partition = pj.Partition[:i] // pending on several: counted in the first
		}
		for _, a := range r.Accels {
			if d, res := table.Lookup(a.Name, a.Type); res == accel.Accelerator && a.Count > 0 {
				pj.Devices = append(pj.Devices, DeviceCount{Device: inv.ResolveDevice(pj.Cluster, pj.Partition, d), Count: a.Count})
			}
		}
		out = append(out, pj)
	}
	return out
}
