package gen

import (
	"strconv"
	"strings"
	"time"
)

// The sample center's clock. China has kept UTC+8 without daylight saving
// time since 1991, so a fixed zone gives the same wall clock as
// Asia/Shanghai and keeps the generator independent of the system's time
// zone database.
var zone = time.FixedZone("CST", 8*60*60)

// Cluster is the cluster name written on every record.
const Cluster = "sample"

// The window of the log, the simulated span before it, and the dump time.
var (
	// WindowStart is the first instant of the 30 days the log covers.
	WindowStart = time.Date(2026, 10, 1, 0, 0, 0, 0, zone)
	// WindowEnd ends the window; the log is dumped at this instant.
	WindowEnd = time.Date(2026, 10, 31, 0, 0, 0, 0, zone)
	// simStart starts the simulation a week early so that the machine is
	// in steady state, with long jobs running, when the window opens.
	simStart = WindowStart.AddDate(0, 0, -7)
	// dcuExpansion is when 32 DCU nodes join the dcu partition.
	dcuExpansion = time.Date(2026, 10, 16, 0, 0, 0, 0, zone)
)

const (
	minute = int64(60)
	hour   = 60 * minute
	day    = 24 * hour
)

// partition describes one Slurm partition of the sample center, with what
// the inventory says (nodes, cores, accelerators, billing weights) and
// what only the scheduler knows (node names, memory, time limits).
type partition struct {
	name string
	// prefix and width spell node names: c0001, g001.
	prefix string
	width  int
	// nodes is the final node count; nodes from initial+1 on join at
	// expandAt (Unix seconds; 0 when all are there from the start).
	nodes, initial int
	expandAt       int64
	cores          int
	// accels per node and their GRES name and type (gpu, a100).
	accels          int
	gres, gresType  string
	memPerCore      int64 // MB, Slurm's DefMemPerCPU
	qCore, qAccel   int64 // billing weights in quarter units
	maxTime         int64 // seconds; 0: MaxTime=UNLIMITED
	qos             string
	defaultTimeText string // Timelimit printed for jobs that give no --time
	// maxUserCores and maxUserAccels cap what one user may hold at once
	// (a QOS MaxTRESPerUser; 0: no cap). Jobs over the cap wait even when
	// nodes are idle, as on real machines.
	maxUserCores, maxUserAccels int
}

// The four partitions, in the inventory's order.
var partitions = []*partition{
	{name: "cpu", prefix: "c", width: 4, nodes: 384, initial: 384, cores: 64,
		memPerCore: 3900, qCore: 4, maxTime: 7 * day, qos: "normal", defaultTimeText: "Partition_Limit", maxUserCores: 4096},
	{name: "gpu", prefix: "g", width: 3, nodes: 32, initial: 32, cores: 64, accels: 8, gres: "gpu", gresType: "a100",
		memPerCore: 15600, qCore: 4, qAccel: 160, qos: "normal", defaultTimeText: "Partition_Limit", maxUserAccels: 32},
	{name: "npu", prefix: "a", width: 3, nodes: 32, initial: 32, cores: 192, accels: 8, gres: "npu", gresType: "910b",
		memPerCore: 7800, qCore: 1, qAccel: 128, qos: "normal", defaultTimeText: "Partition_Limit", maxUserAccels: 128},
	// The dcu QOS has MinTRES gres/dcu=1: every job holds at least one DCU,
	// and the DCU templates ask for one even when they run CPU-only codes.
	{name: "dcu", prefix: "d", width: 3, nodes: 160, initial: 128, expandAt: dcuExpansion.Unix(), cores: 32, accels: 4, gres: "dcu", gresType: "k100",
		memPerCore: 7800, qCore: 4, qAccel: 48, maxTime: 7 * day, qos: "dcu", defaultTimeText: "Partition_Limit", maxUserCores: 512},
}

// Indexes into partitions.
const (
	pCPU = iota
	pGPU
	pNPU
	pDCU
)

// nodeName returns the name of node i (0-based).
func (p *partition) nodeName(i int) string {
	s := strconv.Itoa(i + 1)
	return p.prefix + strings.Repeat("0", p.width-len(s)) + s
}

// nodesAt returns the node count at Unix time t.
func (p *partition) nodesAt(t int64) int {
	if p.expandAt > 0 && t < p.expandAt {
		return p.initial
	}
	return p.nodes
}

// availableFrom returns when node i joins the partition.
func (p *partition) availableFrom(i int) int64 {
	if i >= p.initial {
		return p.expandAt
	}
	return 0
}

// nodeRate is one node's billing rate in quarter units per second.
func (p *partition) nodeRate() int64 {
	return int64(p.cores)*p.qCore + int64(p.accels)*p.qAccel
}

// capacity returns the partition's billing capacity over [from, to) in
// quarter-unit-seconds, counting nodes present at each instant, as the
// engine integrates the inventory.
func (p *partition) capacity(from, to int64) int64 {
	if p.expandAt <= from || p.expandAt >= to {
		return int64(p.nodesAt(from)) * p.nodeRate() * (to - from)
	}
	return p.nodeRate() * (int64(p.initial)*(p.expandAt-from) + int64(p.nodes)*(to-p.expandAt))
}

// billing returns the billing units Slurm prints for cores and accelerators
// (an integer: Slurm rounds the weighted sum down).
func (p *partition) billing(cores, accels int64) int64 {
	return (cores*p.qCore + accels*p.qAccel) / 4
}

// hostlist compresses sorted node indexes into a Slurm hostlist
// expression: g007, c[0012-0015,0020].
func (p *partition) hostlist(idx []int) string {
	if len(idx) == 0 {
		return "None assigned"
	}
	if len(idx) == 1 {
		return p.nodeName(idx[0])
	}
	var b strings.Builder
	b.WriteString(p.prefix)
	b.WriteByte('[')
	num := func(i int) string {
		s := strconv.Itoa(i + 1)
		return strings.Repeat("0", p.width-len(s)) + s
	}
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(num(idx[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(num(idx[j]))
		}
		i = j + 1
	}
	b.WriteByte(']')
	return b.String()
}
