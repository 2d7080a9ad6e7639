package daemon

import (
	"fmt"
	"slices"
	"time"

	"github.com/scmon/scmon/source"
)

// SourceConfig is one entry of the sources list. Name, Kind and Interval
// are common to every kind; the kind's own keys are decoded into its
// settings (SacctSource, ScontrolSource, TailSource, DumpSource,
// SampleSource), which Settings returns.
type SourceConfig struct {
	// Name identifies the source in cursors, logs and metrics labels; its
	// default depends on the kind. Renaming a source starts it over.
	Name string `mapstructure:"name"`
	// Kind is how the source collects: sacct, scontrol, tail, dump or
	// sample.
	Kind string `mapstructure:"kind"`
	// Interval is the time between polls; the default depends on the kind.
	Interval time.Duration `mapstructure:"interval"`

	spec sourceSpec
}

// Settings returns the kind's own settings (*SacctSource, ...).
func (s SourceConfig) Settings() any { return s.spec }

// sourceSpec is the decoding, validation and constructor of one kind of
// source, side by side in the kind's file: a new kind is one new file and
// one line in sourceKinds.
type sourceSpec interface {
	// jobs reports whether the kind delivers job records (not node states).
	jobs() bool
	// defaults returns the kind's default name and interval.
	defaults() (name string, interval time.Duration)
	// validate checks the settings and fills in their defaults; key is
	// the entry's key ("sources[2]").
	validate(c *Config, key string, fail failFunc)
	// check opens what the settings name (files, directories) the way a
	// start would, so that --config.check fails when a start would.
	check(s *SourceConfig, key string) error
	// build makes the source.
	build(s *SourceConfig, c *Config, rt *Runtime) (source.JobSource, source.NodeSource, error)
}

// sourceKind names a kind and makes empty settings to decode into.
type sourceKind struct {
	name string
	spec func() sourceSpec
}

// sourceKinds are the kinds of source, in the order help texts list them.
var sourceKinds = []sourceKind{
	{"sacct", func() sourceSpec { return &SacctSource{} }},
	{"scontrol", func() sourceSpec { return &ScontrolSource{} }},
	{"tail", func() sourceSpec { return &TailSource{} }},
	{"dump", func() sourceSpec { return &DumpSource{} }},
	{"sample", func() sourceSpec { return &SampleSource{} }},
}

func lookupKind(name string) (sourceKind, bool) {
	i := slices.IndexFunc(sourceKinds, func(k sourceKind) bool { return k.name == name })
	if i < 0 {
		return sourceKind{}, false
	}
	return sourceKinds[i], true
}

func kindNames() []string {
	names := make([]string, len(sourceKinds))
	for i, k := range sourceKinds {
		names[i] = k.name
	}
	return names
}

// BuildSources makes the sources a configuration lists.
func BuildSources(c *Config, rt *Runtime) ([]source.JobSource, []source.NodeSource, error) {
	var jobs []source.JobSource
	var nodes []source.NodeSource
	for i := range c.Sources {
		s := &c.Sources[i]
		j, n, err := s.spec.build(s, c, rt)
		if err != nil {
			return nil, nil, fmt.Errorf("sources[%d] (%s): %w", i, s.Name, err)
		}
		if j != nil {
			jobs = append(jobs, j)
		}
		if n != nil {
			nodes = append(nodes, n)
		}
	}
	return jobs, nodes, nil
}

// checkSources opens what every source names, in list order.
func checkSources(c *Config) error {
	for i := range c.Sources {
		s := &c.Sources[i]
		if err := s.spec.check(s, fmt.Sprintf("sources[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// sourceConfig returns the configured source of a name.
func (c *Config) sourceConfig(name string) *SourceConfig {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i]
		}
	}
	return nil
}

func clusterOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
