package daemon

import (
	"time"

	"github.com/scmon/scmon/source"
)

// ScontrolSource are the settings of a source of kind scontrol: it polls
// `scontrol show node` for the state of every node (capacity by state).
type ScontrolSource struct {
	// Command is the scontrol binary; default "scontrol".
	Command string        `mapstructure:"command"`
	Timeout time.Duration `mapstructure:"timeout"`
	// Cluster is the cluster of the nodes; default the inventory's only
	// cluster, else the configuration's.
	Cluster string   `mapstructure:"cluster"`
	Env     []string `mapstructure:"env"`
}

// DefaultNodesInterval is the default interval of a scontrol source.
const DefaultNodesInterval = 30 * time.Second

func (*ScontrolSource) jobs() bool { return false }

func (*ScontrolSource) defaults() (string, time.Duration) { return "nodes", DefaultNodesInterval }

func (s *ScontrolSource) validate(_ *Config, key string, fail failFunc) {
	if s.Command == "" {
		s.Command = "scontrol"
	}
	positive(fail, key+".timeout", &s.Timeout, DefaultTimeout)
}

// check finds nothing to open: scontrol runs at each poll.
func (*ScontrolSource) check(*SourceConfig, string) error { return nil }

func (s *ScontrolSource) build(sc *SourceConfig, _ *Config, rt *Runtime) (source.JobSource, source.NodeSource, error) {
	src, err := source.NewSlurmNodes(source.SlurmNodesConfig{Name: sc.Name, Client: source.SlurmClient{Path: s.Command, Timeout: s.Timeout, Env: s.Env},
		Cluster: s.Cluster, Logger: rt.logger, Now: rt.now})
	return nil, src, err
}
