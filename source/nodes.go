package source

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/scmon/scmon/collector"
)

// SlurmNodesConfig configures a SlurmNodes poller.
type SlurmNodesConfig struct {
	// Name names the source in logs and metrics; default "scontrol".
	Name string
	// Client says how to run scontrol (path, timeout, environment).
	Client SlurmClient
	// Cluster selects a cluster of a multi-cluster setup (--clusters);
	// empty means the local one.
	Cluster string
	// Logger receives warnings scontrol wrote to stderr on success; nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock of NodeSnapshot.Time; nil means time.Now.
	Now func() time.Time
}

// SlurmNodes polls node inventory and states with
//
//	scontrol [--clusters=C] --all --oneliner show node
//
// (TZ=UTC, SLURM_TIME_FORMAT=standard, same runner and timeout as sacct)
// and parses it with collector.ParseSlurmNodes. --all includes nodes whose
// partitions are all hidden, which are capacity too.
type SlurmNodes struct {
	cfg SlurmNodesConfig
	log *slog.Logger
}

// NewSlurmNodes returns a node poller, or an error naming the invalid
// setting.
func NewSlurmNodes(cfg SlurmNodesConfig) (*SlurmNodes, error) {
	if cfg.Name == "" {
		cfg.Name = "scontrol"
	}
	if cfg.Client.Timeout < 0 {
		return nil, fmt.Errorf("source %s: timeout %v is negative", cfg.Name, cfg.Client.Timeout)
	}
	if strings.ContainsAny(cfg.Cluster, ", ") {
		return nil, fmt.Errorf("source %s: cluster name %q holds a comma or blank", cfg.Name, cfg.Cluster)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &SlurmNodes{cfg: cfg, log: orDiscard(cfg.Logger)}, nil
}

// Name returns the source's name.
func (s *SlurmNodes) Name() string { return s.cfg.Name }

// Kind returns "scontrol", the kind of source, for health metrics.
func (s *SlurmNodes) Kind() string { return "scontrol" }

// Args returns the scontrol arguments.
func (s *SlurmNodes) Args() []string {
	var a []string
	if s.cfg.Cluster != "" {
		a = append(a, "--clusters="+s.cfg.Cluster)
	}
	return append(a, "--all", "--oneliner", "show", "node")
}

// Poll runs scontrol once. NodeSnapshot.Time is when its output was
// complete: the states are at most that old. A failing, hanging or
// unparsable scontrol is an error; the daemon keeps its last snapshot.
func (s *SlurmNodes) Poll(ctx context.Context) (*NodeSnapshot, error) {
	res, err := s.cfg.Client.run(ctx, s.log, s.cfg.Name, "scontrol", s.Args())
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	at := s.cfg.Now()
	nodes, err := collector.ParseSlurmNodes(bytes.NewReader(res.Stdout), "scontrol")
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	return &NodeSnapshot{Time: at, Nodes: nodes}, nil
}
