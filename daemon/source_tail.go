package daemon

import (
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/source"
)

// TailSource are the settings of a source of kind tail: it follows an
// append-only log of any registered record format (a Slurm jobcomp log, a
// PBS accounting directory, ...) across rotations.
type TailSource struct {
	// Format is the log's record format (scmon report --help lists them).
	Format string `mapstructure:"format"`
	// Path is the log file, or the directory of daily files of a format
	// that reads directories.
	Path string `mapstructure:"path"`
	// Cluster names the cluster of records that name none; default the
	// configuration's.
	Cluster string `mapstructure:"cluster"`
	// FromEnd starts a first run at the end of the existing log instead of
	// reading its history.
	FromEnd bool `mapstructure:"from_end"`
}

// DefaultTailInterval is the default interval of a tail source.
const DefaultTailInterval = 10 * time.Second

func (*TailSource) jobs() bool { return true }

func (s *TailSource) defaults() (string, time.Duration) { return s.Format, DefaultTailInterval }

func (s *TailSource) validate(_ *Config, key string, fail failFunc) {
	checkFormat(s.Format, key, fail)
	if s.Path == "" {
		fail(key+".path", "required")
	}
}

func (s *TailSource) check(_ *SourceConfig, key string) error {
	f, _ := collector.LookupFormat(s.Format)
	return checkPath(key+".path", s.Path, f.Directories)
}

func (s *TailSource) build(sc *SourceConfig, c *Config, rt *Runtime) (source.JobSource, source.NodeSource, error) {
	src, err := source.NewTail(source.TailConfig{Name: sc.Name, Format: s.Format, Path: s.Path, Location: rt.Location,
		Cluster: clusterOr(s.Cluster, c.Cluster), FromEnd: s.FromEnd, Logger: rt.logger, Now: rt.now})
	return src, nil, err
}
