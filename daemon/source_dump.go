package daemon

import (
	"fmt"
	"slices"
	"time"

	"github.com/scmon/scmon/source"
)

// DumpSource are the settings of a source of kind dump: it imports files
// of any registered record format once each (history: sacct dumps, SWF
// traces, old accounting files).
type DumpSource struct {
	// Format is the files' record format (scmon report --help lists them).
	Format string `mapstructure:"format"`
	// Paths are the files, imported in this order (oldest first).
	Paths []string `mapstructure:"paths"`
	// Fields is the field list of sacct dumps without a header line.
	Fields []string `mapstructure:"fields"`
	// Cluster names the cluster of records that name none; default the
	// configuration's.
	Cluster string `mapstructure:"cluster"`
}

// DefaultDumpInterval is the default interval of a dump source: how often
// its files are checked for new ones to import (a path a reload added) or
// changed ones to report.
const DefaultDumpInterval = 5 * time.Minute

func (*DumpSource) jobs() bool { return true }

func (*DumpSource) defaults() (string, time.Duration) { return "dumps", DefaultDumpInterval }

func (s *DumpSource) validate(_ *Config, key string, fail failFunc) {
	checkFormat(s.Format, key, fail)
	if len(s.Paths) == 0 {
		fail(key+".paths", "required")
	}
	for i, p := range s.Paths {
		if p == "" || slices.Contains(s.Paths[:i], p) {
			fail(fmt.Sprintf("%s.paths[%d]", key, i), "%q is empty or listed twice", p)
		}
	}
}

func (s *DumpSource) check(_ *SourceConfig, key string) error {
	for i, p := range s.Paths {
		if err := checkPath(fmt.Sprintf("%s.paths[%d]", key, i), p, false); err != nil {
			return err
		}
	}
	return nil
}

func (s *DumpSource) build(sc *SourceConfig, c *Config, rt *Runtime) (source.JobSource, source.NodeSource, error) {
	src, err := source.NewDump(source.DumpConfig{Name: sc.Name, Format: s.Format, Paths: s.Paths, Location: rt.Location,
		Cluster: clusterOr(s.Cluster, c.Cluster), Fields: s.Fields, Logger: rt.logger})
	return src, nil, err
}
