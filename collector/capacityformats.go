package collector

import (
	"fmt"
	"sort"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
)

// CapacityOptions carries what a capacity reader needs beyond its file.
type CapacityOptions struct {
	// Location is the zone of wall-clock times in the file; nil is UTC.
	Location *time.Location
	// Cluster names the cluster when the file does not.
	Cluster string
	// Accels maps GRES to accelerator devices; nil means the defaults.
	Accels *accel.Table
}

func (o CapacityOptions) withDefaults() CapacityOptions {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Accels == nil {
		o.Accels = accel.Default()
	}
	if o.Cluster == "" {
		o.Cluster = "cluster"
	}
	return o
}

// CapacityFormat describes one registered capacity format.
type CapacityFormat struct {
	Name        string
	Description string
	Load        func(path string, opts CapacityOptions) (*capacity.Inventory, error)
}

var capacityFormats = map[string]CapacityFormat{}

func registerCapacityFormat(f CapacityFormat) { capacityFormats[f.Name] = f }

// CapacityFormatNames returns the registered capacity format names, sorted.
func CapacityFormatNames() []string {
	names := make([]string, 0, len(capacityFormats))
	for n := range capacityFormats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LoadCapacity reads a capacity file of the named format and validates it.
func LoadCapacity(format, path string, opts CapacityOptions) (*capacity.Inventory, error) {
	f, ok := capacityFormats[format]
	if !ok {
		return nil, fmt.Errorf("unknown capacity format %q (known: %v)", format, CapacityFormatNames())
	}
	inv, err := f.Load(path, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	if inv.Source == "" {
		inv.Source = format + ":" + path
	}
	if err := inv.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, nil
}
