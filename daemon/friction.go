package daemon

import (
	"sort"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
)

// deviceOrigins gives the origin of every accelerator (kind, model) the
// inventory or the store knows, as the accelerator table decides it (an
// inventory's rule can override the vendor's origin): the origin label of
// the accelerator counters. A model named twice keeps its first origin.
func deviceOrigins(table *accel.Table, inv *capacity.Inventory, devices []accel.Device) []snapshot.DeviceOrigin {
	if table == nil {
		table = accel.Default()
	}
	seen := map[[2]string]bool{}
	var out []snapshot.DeviceOrigin
	add := func(d accel.Device) {
		kind, model := build.DevName(d)
		if seen[[2]string{kind, model}] {
			return
		}
		seen[[2]string{kind, model}] = true
		out = append(out, snapshot.DeviceOrigin{Kind: kind, Model: model, Origin: table.Origin(d)})
	}
	if inv != nil {
		for _, c := range inv.Clusters {
			for _, g := range c.NodeGroups {
				for _, a := range g.Accels {
					add(a.Device)
				}
			}
		}
	}
	for _, d := range devices {
		add(d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind+"\x00"+out[i].Model < out[j].Kind+"\x00"+out[j].Model })
	return out
}

// deviceOrigin is the origin label of an accelerator for the friction
// counters: the accelerator table's, the default table's without one.
func deviceOrigin(table *accel.Table) func(accel.Device) string {
	if table == nil {
		table = accel.Default()
	}
	return table.Origin
}

// storeDevices returns the accelerators of the store's device table.
func (d *Daemon) storeDevices() []accel.Device {
	if d.mem == nil {
		return nil
	}
	var out []accel.Device
	for _, dv := range d.mem.Devices() {
		if dv.Known {
			out = append(out, dv.Device)
		}
	}
	return out
}
