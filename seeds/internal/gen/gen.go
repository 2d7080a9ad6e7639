// Package gen generates the sample center's Slurm job log
// (seeds/sample.sacct.gz) by simulating the center's scheduler for 37 days
// and dumping what `sacct --allusers --parsable2 --duplicates` would print
// at the end of the 30-day window.
//
// The output depends on nothing but this code: a fixed seed drives
// math/rand/v2's PCG, there is no clock, no map iteration reaches the
// output, and the gzip stream carries no name or time, so every run writes
// the same bytes. The seeds test regenerates the log and compares.
//
// How it works:
//
//   - Users, accounts and workload templates (workloads_*.go) describe who
//     runs what: VASP and WRF on the CPU partition, LLM training, serving
//     and GPU simulation codes on the A100s, MindSpeed and MindIE on the
//     Ascend NPUs, hipified simulation codes on the Hygon DCUs.
//   - Each partition and workload class is a stream of jobs; job i of a
//     stream is drawn from its own random stream, so asking for more jobs
//     only adds jobs.
//   - Each partition is scheduled node by node (sched.go): per-node free
//     cores and accelerators, first come first served with EASY backfill,
//     node failures, requeues, array throttles, the DCU partition growing
//     on 2026-10-16. No node is ever over-allocated.
//   - Calibration (calibrate.go) adjusts the job counts until every stream
//     slightly exceeds its share of the target, then drops whole jobs until
//     the billing inside the window is exactly 65.90% of the capacity.
package gen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"slices"
)

// Summary describes a generated log.
type Summary struct {
	// Jobs counts the jobs submitted in the simulation (those that ended
	// before the window included), Records the allocation lines of the log
	// (steps not counted), Lines all lines, the header included.
	Jobs, Records, Lines int
	// Rounds is the number of simulations calibration took.
	Rounds int
	// Utilization is the billing allocated in the window over the
	// capacity, overall and per partition (in the inventory's order).
	Utilization float64
	Partitions  []PartitionSummary
	// Classes is each intended class's share of the allocated billing, in
	// the order ai_training, ai_inference, other, unknown.
	Classes [4]float64
	// Intents lists every allocation record of the log in order, with the
	// template it came from.
	Intents []Intent
}

// PartitionSummary is one partition's utilization.
type PartitionSummary struct {
	Name        string
	Utilization float64
}

// Generate writes the uncompressed log to w and summarises it.
func Generate(w io.Writer) (*Summary, error) {
	m, err := newModel()
	if err != nil {
		return nil, err
	}
	rounds, err := m.calibrate()
	if err != nil {
		return nil, err
	}
	var jobs []*job
	for _, js := range m.jobs {
		for _, j := range js {
			if !j.dropped {
				jobs = append(jobs, j)
			}
		}
	}
	assignIDs(jobs)
	slices.SortFunc(jobs, func(a, b *job) int { return a.id - b.id })

	bw := bufio.NewWriterSize(w, 1<<16)
	out := &writer{w: bw, dump: WindowEnd.Unix(), from: WindowStart.Unix()}
	var hl line
	copy(hl[:], Fields)
	out.put(&hl)
	for _, j := range jobs {
		out.writeJob(j)
	}
	if out.err != nil {
		return nil, out.err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}

	s := &Summary{Jobs: len(jobs), Records: out.records, Lines: out.lines, Rounds: rounds, Intents: out.intents}
	var alloc, capTotal int64
	var byClass [4]int64
	for pi, p := range partitions {
		var a int64
		for k := range nClasses {
			for _, j := range m.jobs[pi*int(nClasses)+int(k)] {
				if j.dropped {
					continue
				}
				for _, r := range j.runs {
					a += r.contrib
					byClass[k] += r.contrib
				}
			}
		}
		alloc += a
		capTotal += m.capacity[pi]
		s.Partitions = append(s.Partitions, PartitionSummary{Name: p.name, Utilization: float64(a) / float64(m.capacity[pi])})
	}
	s.Utilization = float64(alloc) / float64(capTotal)
	for k := range byClass {
		s.Classes[k] = float64(byClass[k]) / float64(alloc)
	}
	return s, nil
}

// Write writes the gzip-compressed log, the content of
// seeds/sample.sacct.gz, to w.
func Write(w io.Writer) (*Summary, error) {
	var raw bytes.Buffer
	s, err := Generate(&raw)
	if err != nil {
		return nil, err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return s, nil
}
