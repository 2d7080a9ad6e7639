package collector

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/job"
)

func init() {
	registerCapacityFormat(CapacityFormat{
		Name:        "slurm-nodes",
		Description: "scontrol show node --oneliner output",
		Load: func(path string, opts CapacityOptions) (*capacity.Inventory, error) {
			rc, err := OpenFile(path)
			if err != nil {
				return nil, fmt.Errorf("read slurm nodes: %w", err)
			}
			defer rc.Close()
			nodes, err := ParseSlurmNodes(rc, path)
			if err != nil {
				return nil, err
			}
			return NodesInventory(nodes, opts)
		},
	})
}

// SlurmNode is one node of `scontrol show node --oneliner`.
type SlurmNode struct {
	// Line is where the node's record starts in its input, for messages.
	Line       int
	Name       string
	Cores      int64
	Accels     []job.Accel
	Partitions []string
	// State is the base state in lower case (idle, mixed, allocated,
	// down, drained, draining, ...) and Flags its suffixes (drain, maint,
	// reserved, not_responding, ...).
	State string
	Flags []string
	// CoresAllocated is CPUAlloc, AllocTRES gives accelerators in use.
	CoresAllocated int64
	AccelsInUse    []job.Accel
}

var scontrolKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*=`)

// ParseSlurmNodes reads `scontrol show node --oneliner` output (also the
// multi-line form, a blank line between nodes). Values may contain spaces
// (OS=Linux 6.1 #1 SMP): a word starts a new key only when it looks like Key=.
func ParseSlurmNodes(r io.Reader, name string) ([]SlurmNode, error) {
	lr := newLineReader(r)
	var nodes []SlurmNode
	kv := map[string]string{}
	firstLine := 0
	seen := map[string]int{} // node name -> line
	flush := func() error {
		if len(kv) == 0 {
			return nil
		}
		defer clear(kv)
		n, field, err := slurmNodeFrom(kv)
		if err != nil {
			return &LineError{File: name, Line: firstLine, Field: field, Reason: ReasonRecord, Err: err}
		}
		if prev, ok := seen[n.Name]; ok {
			return &LineError{File: name, Line: firstLine, Field: "NodeName", Reason: ReasonRecord,
				Err: fmt.Errorf("node %.64q is listed twice (first at line %d): it would be counted twice", n.Name, prev)}
		}
		seen[n.Name] = firstLine
		n.Line = firstLine
		nodes = append(nodes, n)
		return nil
	}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		text := strings.TrimSpace(string(line))
		if text == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if strings.HasPrefix(text, "NodeName=") {
			if err := flush(); err != nil {
				return nil, err
			}
			firstLine = lr.line
		} else if len(kv) == 0 {
			return nil, &LineError{File: name, Line: lr.line, Reason: ReasonRecord, Err: fmt.Errorf("expected NodeName=, got %.40q", text)}
		}
		var key string
		for _, w := range strings.Fields(text) {
			if scontrolKey.MatchString(w) {
				k, v, _ := strings.Cut(w, "=")
				key = k
				kv[key] = v
			} else if key != "" {
				kv[key] += " " + w
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%s: no NodeName= records", name)
	}
	return nodes, nil
}

func slurmNodeFrom(kv map[string]string) (SlurmNode, string, error) {
	n := SlurmNode{Name: kv["NodeName"]}
	if n.Name == "" {
		return n, "NodeName", errors.New("the node has no name")
	}
	cfg, err := parseTRES(kv["CfgTRES"], nil)
	if err != nil {
		return n, "CfgTRES", err
	}
	switch {
	case cfg.hasCPU:
		if cfg.cpu > capacity.MaxNodeCores {
			return n, "CfgTRES", fmt.Errorf("cpu=%d is out of range (0 to %d)", cfg.cpu, capacity.MaxNodeCores)
		}
		n.Cores = cfg.cpu
	case kv["CPUTot"] != "":
		c, err := strconv.ParseInt(kv["CPUTot"], 10, 64)
		if err != nil || c < 0 || c > capacity.MaxNodeCores {
			return n, "CPUTot", fmt.Errorf("%.32q is not a count from 0 to %d", kv["CPUTot"], capacity.MaxNodeCores)
		}
		n.Cores = c
	default:
		return n, "CPUTot", errors.New("neither CfgTRES cpu= nor CPUTot is given")
	}
	field := "CfgTRES"
	n.Accels = cfg.accels
	if len(n.Accels) == 0 {
		field = "Gres"
		if n.Accels, err = parseGresField(kv["Gres"]); err != nil {
			return n, "Gres", err
		}
	}
	perDevice := map[[2]string]int64{}
	for _, a := range n.Accels {
		perDevice[[2]string{a.Name, a.Type}] += a.Count // each count is bounded: no wrap
		if a.Count < 0 || perDevice[[2]string{a.Name, a.Type}] > capacity.MaxNodeAccels {
			return n, field, fmt.Errorf("%.32s count %d is out of range (0 to %d per node)", strings.Trim(a.Name+":"+a.Type, ":"), perDevice[[2]string{a.Name, a.Type}], capacity.MaxNodeAccels)
		}
	}
	if p := kv["Partitions"]; p != "" && p != "(null)" {
		n.Partitions = strings.Split(p, ",")
	}
	state := strings.ToLower(strings.TrimSpace(kv["State"]))
	base, flags, _ := strings.Cut(state, "+")
	base = strings.TrimRight(base, "*~#!%$@^-")
	n.State = base
	if flags != "" {
		n.Flags = strings.Split(flags, "+")
	}
	if a := kv["CPUAlloc"]; a != "" {
		c, err := strconv.ParseInt(a, 10, 64)
		if err != nil || c < 0 || c > n.Cores {
			return n, "CPUAlloc", fmt.Errorf("%.32q is not a count from 0 to the node's %d cores", a, n.Cores)
		}
		n.CoresAllocated = c
	}
	if used, err := parseTRES(kv["AllocTRES"], nil); err == nil {
		n.AccelsInUse = used.accels
	}
	return n, "", nil
}

// parseGresField reads the Gres= of a node: "gpu:h100:4(S:0-1),npu:8".
func parseGresField(s string) ([]job.Accel, error) {
	if s == "" || s == "(null)" {
		return nil, nil
	}
	var out []job.Accel
	for item := range strings.SplitSeq(s, ",") {
		if i := strings.IndexByte(item, '('); i >= 0 {
			item = item[:i]
		}
		parts := strings.Split(item, ":")
		var a job.Accel
		var countStr string
		switch len(parts) {
		case 1:
			a.Name, countStr = parts[0], "1"
		case 2:
			a.Name, countStr = parts[0], parts[1]
		default:
			a.Name, a.Type, countStr = parts[0], strings.Join(parts[1:len(parts)-1], ":"), parts[len(parts)-1]
		}
		c, err := strconv.ParseInt(countStr, 10, 64)
		if err != nil && len(countStr) > 0 && countStr[0] >= '0' && countStr[0] <= '9' {
			return nil, fmt.Errorf("GRES count %.32q is out of range", countStr)
		}
		if err != nil {
			// "gpu:h100" without a count means one.
			a.Type, c = countStr, 1
		}
		if c < 0 || c > capacity.MaxNodeAccels {
			return nil, fmt.Errorf("GRES %.32s count %d is out of range (0 to %d)", a.Name, c, capacity.MaxNodeAccels)
		}
		a.Count = c
		out = append(out, a)
	}
	return out, nil
}

// NodesInventory groups identical nodes (same cores, accelerators and
// partitions) into node groups of one cluster. A node in several partitions
// is one node of the cluster and one of each partition.
func NodesInventory(nodes []SlurmNode, opts CapacityOptions) (*capacity.Inventory, error) {
	opts = opts.withDefaults()
	c := &capacity.Cluster{Name: opts.Cluster, Location: opts.Location}
	groups := map[string]*capacity.NodeGroup{}
	members := map[string][]string{}
	var totCores, totAccels int64
	if len(nodes) > capacity.MaxTotal {
		return nil, fmt.Errorf("%d nodes pass the bound of %d", len(nodes), int64(capacity.MaxTotal))
	}
	for _, n := range nodes {
		if n.Cores < 0 || n.Cores > capacity.MaxNodeCores {
			return nil, fmt.Errorf("node %.64s (line %d): %d cores is out of range (0 to %d)", n.Name, n.Line, n.Cores, capacity.MaxNodeCores)
		}
		totCores += n.Cores
		for _, a := range n.Accels {
			if a.Count < 0 || a.Count > capacity.MaxNodeAccels {
				return nil, fmt.Errorf("node %.64s (line %d): %d accelerators is out of range (0 to %d)", n.Name, n.Line, a.Count, capacity.MaxNodeAccels)
			}
			totAccels += a.Count
		}
		if totCores > capacity.MaxTotal || totAccels > capacity.MaxTotal {
			return nil, fmt.Errorf("node %.64s (line %d): the cluster's cores or accelerators pass %d", n.Name, n.Line, int64(capacity.MaxTotal))
		}
		var accels []capacity.Accel
		for _, a := range n.Accels {
			d, res := opts.Accels.Lookup(a.Name, a.Type)
			if res != accel.Accelerator {
				continue // not an accelerator (mps, shard) or unknown: not capacity
			}
			accels = append(accels, capacity.Accel{Device: d, GRESName: a.Name, GRESType: a.Type, Count: a.Count})
		}
		parts := append([]string(nil), n.Partitions...)
		sort.Strings(parts)
		key := fmt.Sprintf("%d|%v|%s", n.Cores, accels, strings.Join(parts, ","))
		g := groups[key]
		if g == nil {
			g = &capacity.NodeGroup{Name: n.Name, Cores: n.Cores, Accels: accels, Steps: []capacity.Step{{}}}
			groups[key] = g
			c.NodeGroups = append(c.NodeGroups, g)
		}
		g.Steps[0].Nodes++
		for _, p := range parts {
			if !slices.Contains(members[p], key) {
				members[p] = append(members[p], key)
			}
		}
	}
	for _, g := range c.NodeGroups {
		if g.Steps[0].Nodes > 1 {
			g.Name = fmt.Sprintf("%s+%d", g.Name, g.Steps[0].Nodes-1)
		}
	}
	pnames := make([]string, 0, len(members))
	for p := range members {
		pnames = append(pnames, p)
	}
	sort.Strings(pnames)
	for _, p := range pnames {
		part := &capacity.Partition{Name: p}
		for _, key := range members[p] {
			part.NodeGroups = append(part.NodeGroups, groups[key])
		}
		c.Partitions = append(c.Partitions, part)
	}
	return &capacity.Inventory{Clusters: []*capacity.Cluster{c}}, nil
}
