package daemon

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/internal/setup"
	"github.com/scmon/scmon/seeds"
)

// newRuntime turns a configuration into its runtime: capacity, accelerator
// table, rules and classifier. Nothing here touches the store or sources.
func (d *Daemon) newRuntime(cfg *Config, raw []byte) (*Runtime, error) {
	rt := &Runtime{Config: cfg, Hash: Hash(raw), now: d.now, logger: d.log}
	var loc *time.Location
	if cfg.Timezone != "" {
		l, err := time.LoadLocation(cfg.Timezone)
		if err != nil {
			return nil, fmt.Errorf("timezone: %w", err)
		}
		loc = l
	}
	var err error
	switch {
	case cfg.Capacity != "":
		if rt.Inventory, err = setup.Capacity(cfg.Capacity, loc, cfg.Cluster); err != nil {
			return nil, fmt.Errorf("capacity: %w", err)
		}
	case cfg.Sample:
		if rt.Inventory, err = setup.SampleInventory(); err != nil {
			return nil, err
		}
		_, end := seeds.Window()
		now := d.now().Truncate(time.Second)
		rt.Shift = now.Sub(end)
		rt.SampleEnd = now
		shiftInventory(rt.Inventory, rt.Shift)
		rt.Inventory.Source = "built-in sample inventory, shifted to end at start"
	}
	if rt.Location, err = setup.Location(cfg.Timezone, rt.Inventory); err != nil {
		return nil, err
	}
	if rt.Table, err = setup.Table(rt.Inventory); err != nil {
		return nil, fmt.Errorf("capacity: accelerators: %w", err)
	}
	if rt.Rules, err = setup.Rules(cfg.Rules, rt.Inventory); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	table := rt.Table
	// The same rules keep the same classifier, so a reload that does not
	// touch them keeps the cache and the hit counts.
	if old := d.rt.Load(); old != nil && old.Config.Rules == cfg.Rules && slices.Equal(old.Inventory.ForcedPartitions(), rt.Inventory.ForcedPartitions()) && !rulesFileChanged(old, cfg) {
		rt.Rules, rt.Classer, rt.Context = old.Rules, old.Classer, old.Context
	} else {
		rt.Classer = classify.New(rt.Rules, classify.Options{Accel: table})
		rt.Context = classify.NewContext()
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
