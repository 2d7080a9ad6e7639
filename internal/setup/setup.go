// Package setup turns what an operator names (a capacity file, a time
// zone, a rules file) into the pieces every command needs: the inventory,
// the reporting location, the accelerator table and the classifier's rules.
// `scmon report`, `scmon classify`, `scmon backfill` and `scmon serve` all
// go through it, so that they read the same names the same way.
package setup

import (
	"fmt"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/seeds"
)

// Capacity loads a capacity given as FORMAT:PATH. loc is the zone of its
// wall-clock times (nil: UTC); cluster names a cluster the file does not.
func Capacity(spec string, loc *time.Location, cluster string) (*capacity.Inventory, error) {
	format, path, ok := strings.Cut(spec, ":")
	if !ok || format == "" || path == "" {
		return nil, fmt.Errorf("capacity %q: want FORMAT:PATH with FORMAT one of %s", spec, strings.Join(collector.CapacityFormatNames(), ", "))
	}
	return collector.LoadCapacity(format, path, collector.CapacityOptions{Location: loc, Cluster: cluster})
}

// SampleInventory returns the built-in sample center's inventory.
func SampleInventory() (*capacity.Inventory, error) {
	inv, err := collector.ParseInventory(strings.NewReader(string(seeds.Inventory())), "built-in sample inventory", collector.CapacityOptions{})
	if err != nil {
		return nil, fmt.Errorf("built-in sample: %w", err)
	}
	inv.Source = "built-in sample inventory (seeds/inventory.yaml)"
	return inv, nil
}

// Location returns the named zone; with no name, the inventory's zone when
// it has one cluster, else UTC.
func Location(name string, inv *capacity.Inventory) (*time.Location, error) {
	if name != "" {
		loc, err := time.LoadLocation(name)
		if err != nil {
			return nil, fmt.Errorf("time zone: %w", err)
		}
		return loc, nil
	}
	if inv != nil && len(inv.Clusters) == 1 && inv.Clusters[0].Location != nil {
		return inv.Clusters[0].Location, nil
	}
	return time.UTC, nil
}

// Table returns the accelerator table: the inventory's own rules before
// the defaults.
func Table(inv *capacity.Inventory) (*accel.Table, error) {
	var rules []accel.Rule
	if inv != nil {
		rules = inv.AccelRules
	}
	return accel.NewTable(rules)
}

// Rules returns the rules file's rule set (the built-in rules when path is
// empty), with the inventory's forced-accelerator partitions declared.
func Rules(path string, inv *capacity.Inventory) (*classify.RuleSet, error) {
	var rs *classify.RuleSet
	var err error
	if path != "" {
		rs, err = classify.LoadRules(path)
	} else {
		rs, err = classify.DefaultRules()
	}
	if err != nil {
		return nil, err
	}
	return rs.WithForced(classify.ForcedOnPartitions(inv.ForcedPartitions()...)), nil
}
