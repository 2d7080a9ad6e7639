package daemon

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/seeds"
)

// newRuntime turns a configuration into its runtime: capacity, accelerator
// table, rules and classifier. Nothing here touches the store or sources.
func (d *Daemon) newRuntime(cfg *Config, raw []byte) (*Runtime, error) {
	rt := &Runtime{Config: cfg, Hash: Hash(raw), Location: time.UTC, now: d.now, logger: d.log}
	var loc *time.Location
	if cfg.Timezone != "" {
		l, err := time.LoadLocation(cfg.Timezone)
		if err != nil {
			return nil, fmt.Errorf("timezone: %w", err)
		}
		loc = l
	}
	switch {
	case cfg.Capacity != "":
		format, path, _ := strings.Cut(cfg.Capacity, ":")
		inv, err := collector.LoadCapacity(format, path, collector.CapacityOptions{Location: loc, Cluster: cfg.Cluster})
		if err != nil {
			return nil, fmt.Errorf("capacity: %w", err)
		}
		rt.Inventory = inv
	case cfg.Sample:
		inv, err := collector.ParseInventory(strings.NewReader(string(seeds.Inventory())), "built-in sample inventory", collector.CapacityOptions{})
		if err != nil {
			return nil, fmt.Errorf("built-in sample: %w", err)
		}
		_, end := seeds.Window()
		now := d.now().Truncate(time.Second)
		rt.Shift = now.Sub(end)
		rt.SampleEnd = now
		shiftInventory(inv, rt.Shift)
		inv.Source = "built-in sample inventory, shifted to end at start"
		rt.Inventory = inv
	}
	if loc == nil && rt.Inventory != nil && len(rt.Inventory.Clusters) == 1 {
		loc = rt.Inventory.Clusters[0].Location
	}
	if loc != nil {
		rt.Location = loc
	}
	var accelRules []accel.Rule
	if rt.Inventory != nil {
		accelRules = rt.Inventory.AccelRules
	}
	table, err := accel.NewTable(accelRules)
	if err != nil {
		return nil, fmt.Errorf("capacity: accelerators: %w", err)
	}
	rt.Table = table
	var rs *classify.RuleSet
	if cfg.Rules != "" {
		rs, err = classify.LoadRules(cfg.Rules)
	} else {
		rs, err = classify.DefaultRules()
	}
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	rt.Rules = rs.WithForced(forced(rt.Inventory))
	// The same rules keep the same classifier, so a reload that does not
	// touch them keeps the cache and the hit counts.
	if old := d.rt.Load(); old != nil && old.Config.Rules == cfg.Rules && sameForced(old, rt) && !rulesFileChanged(old, cfg) {
		rt.Rules, rt.Classer = old.Rules, old.Classer
	} else {
		rt.Classer = classify.New(rt.Rules, classify.Options{Accel: table})
	}
	return rt, nil
}

// rulesFileChanged reports whether a rules file's content changed since the
// runtime was made; the built-in rules never change.
func rulesFileChanged(old *Runtime, cfg *Config) bool {
	if cfg.Rules == "" {
		return false
	}
	rs, err := classify.LoadRules(cfg.Rules)
	if err != nil {
		return true
	}
	a, b := rs.Rules(), old.Rules.Rules()
	if len(a) != len(b) || rs.Thresholds() != old.Rules.Thresholds() {
		return true
	}
	for i := range a {
		if a[i] != b[i] {
			return true
		}
	}
	return false
}

func sameForced(a, b *Runtime) bool {
	x, y := a.Rules.Forced(), forced(b.Inventory)
	base := len(a.Rules.Forced()) - len(forced(a.Inventory))
	if base < 0 || len(x)-base != len(y) {
		return false
	}
	for i := range y {
		if x[base+i] != y[i] {
			return false
		}
	}
	return true
}

func forced(inv *capacity.Inventory) []classify.ForcedAccelerators {
	return classify.ForcedOnPartitions(inv.ForcedPartitions()...)
}

func shiftInventory(inv *capacity.Inventory, by time.Duration) {
	for _, c := range inv.Clusters {
		for _, g := range c.NodeGroups {
			for i := range g.Steps {
				if !g.Steps[i].From.IsZero() {
					g.Steps[i].From = g.Steps[i].From.Add(by)
				}
			}
		}
	}
}

func decodeEnvelope(raw []byte) (envelope, error) {
	var e envelope
	if len(raw) == 0 {
		return e, nil
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, fmt.Errorf("stored cursor is not readable: %w", err)
	}
	return e, nil
}

func encodeEnvelope(e envelope) ([]byte, error) { return json.Marshal(e) }
