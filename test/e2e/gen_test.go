package e2e

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// genFields is the header of the generated dumps: a subset of sacct's
// fields, in sacct's --parsable2 format, the free-text field last.
const genFields = "JobID|JobIDRaw|Cluster|Partition|Account|User|Submit|Start|End|State|NNodes|NCPUS|AllocTRES|JobName|SubmitLine"

// genWindow is the month the generated jobs run in.
var genFrom, genTo = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// genShape is a kind of job of the generated mix.
type genShape struct {
	partition, account, name, command, gres string
	cores, nodes                            int
}

var genShapes = []genShape{
	{"gpu", "ai", "pretrain", "srun torchrun --nproc_per_node=4 pretrain_gpt.py", "gres/gpu:h100=%d,gres/gpu=%d", 16, 1},
	{"gpu", "ai", "serve", "srun vllm serve /models/qwen --tensor-parallel-size 2", "gres/gpu:h100=%d,gres/gpu=%d", 8, 1},
	{"gpu", "ai", "eval", "srun lm_eval --model hf --tasks mmlu", "gres/gpu:h100=%d,gres/gpu=%d", 4, 1},
	{"npu", "ai", "sft", "srun msrun --worker_num=8 train.py", "gres/npu:910b=%d,gres/npu=%d", 24, 1},
	{"dcu", "physics", "md", "srun gmx mdrun -s topol.tpr -nb gpu", "gres/dcu:k100=%d,gres/dcu=%d", 8, 1},
	{"cpu", "physics", "lj", "srun lmp -in in.lj", "", 64, 2},
	{"cpu", "physics", "post", "srun ./analyse.sh", "", 4, 1},
}

// genSummary counts what a generated dump holds.
type genSummary struct {
	// Allocations is the number of allocation lines; Pending of them are
	// waiting jobs (a dump's pending jobs are not stored); Started of them
	// held resources (the rest are pending, or cancelled before they
	// started).
	Allocations, Pending, Started int
}

// Stored is the number of runs the job store holds after the import.
func (s genSummary) Stored() int { return s.Allocations - s.Pending }

// genDump writes a sacct dump with n runs to store (allocations that are
// not pending) of the generated cluster
// "genlab" over October 2026 to path, drawn with a fixed seed: jobs of
// every class on CPU, GPU, NPU and DCU partitions, array tasks, requeued
// runs of one job id, jobs cancelled before they started, pending jobs and
// a few still running at the end of the dump.
func genDump(t testing.TB, path string, n int, seed uint64) genSummary {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 0x5c3d))
	ts := func(t time.Time) string { return t.Format(sacctTime) }
	fmt.Fprintln(w, genFields)
	var sum genSummary
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	span := int64(genTo.Sub(genFrom) / time.Second)
	id := 1_000_000
	for sum.Stored() < n {
		id++
		sh := genShapes[rng.IntN(len(genShapes))]
		user := users[rng.IntN(len(users))]
		submit := genFrom.Add(time.Duration(rng.Int64N(span-7200)) * time.Second)
		start := submit.Add(time.Duration(rng.IntN(1800)) * time.Second)
		end := start.Add(time.Duration(30+rng.IntN(6*3600)) * time.Second)
		if end.After(genTo) {
			end = genTo.Add(-time.Second)
		}
		cores := sh.cores
		tres := fmt.Sprintf("billing=%d,cpu=%d,node=%d", cores, cores, sh.nodes)
		if sh.gres != "" {
			g := 1 + rng.IntN(4)
			tres += "," + fmt.Sprintf(sh.gres, g, g)
		}
		state, startS, endS := "COMPLETED", ts(start), ts(end)
		switch r := rng.IntN(1000); {
		case r < 5:
			state, startS, endS = "PENDING", "Unknown", "Unknown"
		case r < 15:
			state, startS = "CANCELLED by 1001", "None"
		case r < 18:
			state, endS = "RUNNING", "Unknown"
		case r < 60:
			state = "FAILED"
		case r < 80:
			state = "TIMEOUT"
		}
		jobID, raw := fmt.Sprint(id), fmt.Sprint(id)
		line := func(jobID, raw, state, startS, endS string) {
			fmt.Fprintf(w, "%s|%s|genlab|%s|%s|%s|%s|%s|%s|%s|%d|%d|%s|%s|%s\n", jobID, raw, sh.partition, sh.account, user,
				ts(submit), startS, endS, state, sh.nodes, cores, tres, sh.name, sh.command)
			sum.Allocations++
			switch {
			case state == "PENDING":
				sum.Pending++
			case startS != "None":
				sum.Started++
			}
		}
		switch r := rng.IntN(100); {
		case r < 5 && state == "COMPLETED": // an array of three tasks
			for task := 0; task < 3; task++ {
				id++
				line(fmt.Sprintf("%s_%d", jobID, task), fmt.Sprint(id), state, startS, endS)
			}
		case r < 7 && state == "COMPLETED": // requeued once: two runs
			line(jobID, raw, "REQUEUED", startS, ts(start.Add(60*time.Second)))
			line(jobID, raw, state, ts(start.Add(120*time.Second)), ts(end.Add(120*time.Second)))
		default:
			line(jobID, raw, state, startS, endS)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return sum
}
