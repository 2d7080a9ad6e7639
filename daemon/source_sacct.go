package daemon

import (
	"time"

	"github.com/scmon/scmon/source"
)

// SacctSource are the settings of a source of kind sacct: it polls sacct
// for the allocations of a moving window.
type SacctSource struct {
	// Command is the sacct binary; default "sacct".
	Command string        `mapstructure:"command"`
	Overlap time.Duration `mapstructure:"overlap"`
	Chunk   time.Duration `mapstructure:"chunk"`
	Timeout time.Duration `mapstructure:"timeout"`
	// Start is where a first run begins (RFC 3339); default one hour ago.
	Start    string   `mapstructure:"start"`
	Clusters []string `mapstructure:"clusters"`
	// Env adds KEY=VALUE entries to sacct's environment (SLURM_CONF is
	// passed through from scmon's own; TZ and SLURM_TIME_FORMAT are forced).
	Env []string `mapstructure:"env"`
	// Settle keeps each poll this far behind now, for a slurmdbd that
	// records job ends late; zero by default.
	Settle time.Duration `mapstructure:"settle"`
}

// DefaultSacctInterval is the default interval of a sacct source.
const DefaultSacctInterval = time.Minute

func (*SacctSource) jobs() bool { return true }

func (*SacctSource) defaults() (string, time.Duration) { return "sacct", DefaultSacctInterval }

func (s *SacctSource) validate(_ *Config, key string, fail failFunc) {
	if s.Command == "" {
		s.Command = "sacct"
	}
	positive(fail, key+".overlap", &s.Overlap, 10*time.Minute)
	positive(fail, key+".chunk", &s.Chunk, 24*time.Hour)
	positive(fail, key+".timeout", &s.Timeout, DefaultTimeout)
	if s.Settle < 0 {
		fail(key+".settle", "must not be negative, got %s", s.Settle)
	}
	if s.Start != "" {
		if _, err := time.Parse(time.RFC3339, s.Start); err != nil {
			fail(key+".start", "%q is not an RFC 3339 time", s.Start)
		}
	}
}

// check finds nothing to open: sacct runs at each poll, and a failing
// sacct is a source down, not a configuration error.
func (*SacctSource) check(*SourceConfig, string) error { return nil }

func (s *SacctSource) build(sc *SourceConfig, _ *Config, rt *Runtime) (source.JobSource, source.NodeSource, error) {
	var start time.Time
	if s.Start != "" {
		start, _ = time.Parse(time.RFC3339, s.Start) // validated at load
	}
	src, err := source.NewSacct(source.SacctConfig{Name: sc.Name, Client: source.SlurmClient{Path: s.Command, Timeout: s.Timeout, Env: s.Env},
		Clusters: s.Clusters, Overlap: s.Overlap, Chunk: s.Chunk, Start: start, Settle: s.Settle, Logger: rt.logger, Now: rt.now})
	return src, nil, err
}
