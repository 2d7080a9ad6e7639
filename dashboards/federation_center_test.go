package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// The second center of the federation test: a small generated cluster,
// "south", with CPU and NVIDIA H100 partitions, whose scheduler host writes
// sacct dumps that scmon imports (the sidecar pattern of deploy/federation:
// scmon does not run sacct itself). The jobs are drawn with a fixed seed
// around a base time; a dump "as of" T holds every job started before T,
// those still running at T as RUNNING, exactly as sacct would print them
// at T. Each node has two lanes, each running its jobs one after another,
// so that no node is ever over-allocated.

// southCluster is the generated center's cluster name.
const southCluster = "south"

// southInventory is its capacity: 16 CPU nodes of 64 cores and 4 GPU nodes
// of 32 cores and 4 H100, billed in core-hour equivalents.
const southInventory = `# The generated center of the federation test.
clusters:
  - name: south
    timezone: UTC
    primary: billing
    nodegroups:
      - name: cpu
        nodes: 16
        cores: 64
      - name: gpu-h100
        nodes: 4
        cores: 32
        accelerators:
          - gres: gpu:h100
            count: 4
    partitions:
      - name: cpu
        nodegroups: [cpu]
        billing_weights: {cpu: 1}
      - name: gpu
        nodegroups: [gpu-h100]
        billing_weights: {cpu: 1, gres/gpu: 30}
`

// southFields is the header of the dumps (a subset of sacct's fields, in
// any order, as sacct --parsable2 --format prints them).
const southFields = "JobID|JobIDRaw|Cluster|Partition|Account|User|Submit|Start|End|State|NNodes|NCPUS|AllocTRES|JobName|SubmitLine"

// southJob is one generated allocation.
type southJob struct {
	id                       int
	partition, account, user string
	name, command            string
	cores, gpus              int
	submit, start, end       time.Time
}

// southShape is a kind of job of a partition.
type southShape struct {
	account, name, command string
}

var southShapes = map[string][]southShape{
	"cpu": {
		{"physics", "lj", "srun lmp -in in.lj"},
		{"chemistry", "cp2k", "srun cp2k.psmp -i h2o.inp"},
		{"physics", "post", "srun ./analyse.sh"},
	},
	"gpu": {
		{"ai-lab", "pretrain", "srun torchrun --nproc_per_node=2 pretrain_gpt.py"},
		{"ai-lab", "serve", "srun vllm serve /models/qwen --tensor-parallel-size 2"},
		{"nlp", "finetune", "srun torchrun --nproc_per_node=2 finetune_lora.py"},
	},
}

// southJobs draws the center's jobs from base-history to base+future,
// with a fixed seed. Two jobs are placed by hand on the last CPU node's
// second lane: one ending 3 s after base and the next starting 5 s after
// it, so that a dump written a few seconds after base differs from one
// written at base by a job that ended and a job that started.
func southJobs(base time.Time, history, future time.Duration) []southJob {
	rng := rand.New(rand.NewPCG(12, 0x5017))
	users := []string{"ana", "bo", "chen", "dara", "eli"}
	var jobs []southJob
	id := 700000
	for _, p := range []struct {
		name         string
		nodes, cores int
		gpus         int
	}{{"cpu", 16, 64, 0}, {"gpu", 4, 32, 4}} {
		for node := 0; node < p.nodes; node++ {
			for lane := 0; lane < 2; lane++ {
				if p.name == "cpu" && node == p.nodes-1 && lane == 1 {
					continue // the hand-placed lane
				}
				t := base.Add(-history).Add(time.Duration(rng.IntN(3600)) * time.Second)
				for t.Before(base.Add(future)) {
					sh := southShapes[p.name][rng.IntN(len(southShapes[p.name]))]
					dur := time.Duration(600+rng.IntN(6*3600)) * time.Second
					id++
					jobs = append(jobs, southJob{id: id, partition: p.name, account: sh.account, user: users[rng.IntN(len(users))],
						name: sh.name, command: sh.command, cores: p.cores / 2, gpus: p.gpus / 2,
						submit: t.Add(-time.Duration(rng.IntN(900)) * time.Second), start: t, end: t.Add(dur)})
					t = t.Add(dur + time.Duration(rng.IntN(1800))*time.Second)
				}
			}
		}
	}
	for _, j := range []struct{ start, end time.Time }{
		{base.Add(-2 * time.Hour), base.Add(3 * time.Second)},
		{base.Add(5 * time.Second), base.Add(2 * time.Hour)},
	} {
		id++
		jobs = append(jobs, southJob{id: id, partition: "cpu", account: "physics", user: "ana", name: "lj", command: "srun lmp -in in.lj",
			cores: 32, submit: j.start.Add(-time.Minute), start: j.start, end: j.end})
	}
	return jobs
}

// writeSouthDump writes, to path, the dump the center's scheduler host
// would write at asOf: the jobs started before asOf, those not ended by
// then as RUNNING with an unknown end; and gives the file asOf as its
// modification time, which is the time scmon takes the dump to be
// complete up to.
func writeSouthDump(t *testing.T, path string, jobs []southJob, asOf time.Time) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	ts := func(x time.Time) string { return x.UTC().Format("2006-01-02T15:04:05") }
	fmt.Fprintln(w, southFields)
	for _, j := range jobs {
		if !j.start.Before(asOf) {
			continue
		}
		state, end := "COMPLETED", ts(j.end)
		if j.end.After(asOf) {
			state, end = "RUNNING", "Unknown"
		}
		tres := fmt.Sprintf("billing=%d,cpu=%d,node=1", j.cores, j.cores)
		if j.gpus > 0 {
			tres += fmt.Sprintf(",gres/gpu:h100=%d,gres/gpu=%d", j.gpus, j.gpus)
		}
		fmt.Fprintf(w, "%d|%d|%s|%s|%s|%s|%s|%s|%s|%s|1|%d|%s|%s|%s\n", j.id, j.id, southCluster, j.partition, j.account, j.user,
			ts(j.submit), ts(j.start), end, state, j.cores, tres, j.name, j.command)
	}
	// A job submitted as the dump was taken: the dump names its own time
	// (scmon takes the latest instant a dump's records name as the time it
	// is complete up to).
	fmt.Fprintf(w, "%d|%d|%s|%s|%s|%s|%s|Unknown|Unknown|PENDING|1|0||queued|sbatch queued.sh\n", 999999, 999999, southCluster, jobs[0].partition, jobs[0].account, jobs[0].user, ts(asOf))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, asOf, asOf); err != nil {
		t.Fatal(err)
	}
}
