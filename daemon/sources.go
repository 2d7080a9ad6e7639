package daemon

import (
	"fmt"
	"time"

	"github.com/scmon/scmon/source"
)

// buildConfiguredSources makes the configured job and node sources.
func buildConfiguredSources(c *Config, rt *Runtime) ([]source.JobSource, []source.NodeSource, error) {
	var jobs []source.JobSource
	var nodes []source.NodeSource
	log := rt.logger
	for i, s := range c.Sources.Sacct {
		var start time.Time
		if s.Start != "" {
			start, _ = time.Parse(time.RFC3339, s.Start) // validated at load
		}
		src, err := source.NewSacct(source.SacctConfig{Name: s.Name, Client: source.SlurmClient{Path: s.Command, Timeout: s.Timeout, Env: s.Env},
			Clusters: s.Clusters, Overlap: s.Overlap, Chunk: s.Chunk, Start: start, Settle: s.Settle, Logger: log, Now: rt.now})
		if err != nil {
			return nil, nil, fmt.Errorf("sources.sacct[%d]: %w", i, err)
		}
		jobs = append(jobs, src)
	}
	for i, s := range c.Sources.Jobcomp {
		src, err := source.NewJobcompTail(source.TailConfig{Name: s.Name, Path: s.Path, Location: rt.Location, Cluster: clusterOr(s.Cluster, c.Cluster), FromEnd: s.FromEnd, Logger: log, Now: rt.now})
		if err != nil {
			return nil, nil, fmt.Errorf("sources.jobcomp[%d]: %w", i, err)
		}
		jobs = append(jobs, src)
	}
	for i, s := range c.Sources.PBS {
		src, err := source.NewPBSTail(source.TailConfig{Name: s.Name, Path: s.Path, Location: rt.Location, Cluster: clusterOr(s.Cluster, c.Cluster), FromEnd: s.FromEnd, Logger: log, Now: rt.now})
		if err != nil {
			return nil, nil, fmt.Errorf("sources.pbs[%d]: %w", i, err)
		}
		jobs = append(jobs, src)
	}
	for i, s := range c.Sources.Dumps {
		src, err := source.NewDump(source.DumpConfig{Name: s.Name, Paths: s.Paths, Location: rt.Location, Cluster: c.Cluster, Fields: s.Fields, Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("sources.dumps[%d]: %w", i, err)
		}
		jobs = append(jobs, src)
	}
	for i, s := range c.Sources.Nodes {
		src, err := source.NewSlurmNodes(source.SlurmNodesConfig{Name: s.Name, Client: source.SlurmClient{Path: s.Command, Timeout: s.Timeout, Env: s.Env},
			Cluster: s.Cluster, Logger: log, Now: rt.now})
		if err != nil {
			return nil, nil, fmt.Errorf("sources.nodes[%d]: %w", i, err)
		}
		nodes = append(nodes, src)
	}
	return jobs, nodes, nil
}

func clusterOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
