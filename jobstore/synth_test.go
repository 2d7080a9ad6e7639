package jobstore

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/scmon/scmon/job"
)

// synthBatch returns n realistic allocations numbered from first: the
// field sizes of a national center's sacct log (names, submit lines, work
// directories, three steps, accelerators on a third), so that bytes per
// record and load times measured with them mean something. The same
// arguments give the same records.
func synthBatch(first, n int) ([]*job.Record, []job.Decision) {
	rng := rand.New(rand.NewPCG(uint64(first), 7))
	parts := []string{"cpu", "gpu", "npu", "dcu"}
	names := []string{"train_llama", "vasp_relax", "lammps_md", "vllm_serve", "gromacs", "wrf_forecast",
		"eval_mmlu", "cp2k", "finetune-qwen", "openfoam", "bert-pretrain", "quantum_espresso"}
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	recs := make([]*job.Record, n)
	decs := make([]job.Decision, n)
	for i := range recs {
		id := first + i
		p := rng.IntN(4)
		user := fmt.Sprintf("user%04d", rng.IntN(2000))
		name := names[rng.IntN(len(names))]
		start := base.Add(time.Duration(rng.IntN(30*24*3600)) * time.Second)
		nodes := 1 + rng.IntN(4)
		node := rng.IntN(900)
		r := &job.Record{
			Source: "sacct", Line: id % 5000,
			Cluster: "sample", JobID: fmt.Sprint(3_000_000 + id),
			Name: name, User: user, Group: "grp" + user[4:6], Account: fmt.Sprintf("acct%03d", rng.IntN(300)),
			Partition: parts[p], QOS: "normal",
			SubmitLine: fmt.Sprintf("sbatch -p %s -N %d --time=%d:00:00 run_%s.sh", parts[p], nodes, 1+rng.IntN(48), name),
			WorkDir:    fmt.Sprintf("/public/home/%s/project%02d/%s", user, rng.IntN(20), name),
			NodeList:   fmt.Sprintf("%s[%04d-%04d]", parts[p][:1], node, node+nodes-1),
			State:      job.StateCompleted, StateRaw: "COMPLETED", ExitCode: "0:0",
			Submit: start.Add(-time.Duration(rng.IntN(3600)) * time.Second), Start: start,
			End:       start.Add(time.Duration(60+rng.IntN(48*3600)) * time.Second),
			Timelimit: time.Duration(1+rng.IntN(48)) * time.Hour,
			Nodes:     int64(nodes), Cores: int64(nodes * 64),
			Billing: float64(nodes * 64),
			Steps: []job.Step{
				{ID: fmt.Sprintf("%d.batch", 3_000_000+id), Name: "batch", Command: ""},
				{ID: fmt.Sprintf("%d.extern", 3_000_000+id), Name: "extern"},
				{ID: fmt.Sprintf("%d.0", 3_000_000+id), Name: name, Command: "srun ./" + name + " -i input.in"},
			},
		}
		if rng.IntN(10) == 0 {
			r.State, r.StateRaw, r.ExitCode = job.StateFailed, "FAILED", "1:0"
		}
		switch p {
		case 1:
			r.Accels = []job.Accel{{Name: "gpu", Type: "a100", Count: int64(4 * nodes)}}
		case 2:
			r.Accels = []job.Accel{{Name: "npu", Type: "910b", Count: int64(8 * nodes)}}
		case 3:
			r.Accels = []job.Accel{{Name: "dcu", Type: "k100", Count: int64(4 * nodes)}}
		}
		if r.Accels != nil {
			r.Billing += float64(8 * r.Accels[0].Count)
		}
		recs[i] = r
		switch {
		case name == "vllm_serve":
			decs[i] = job.Decision{Class: job.ClassAIInference, Rules: []string{"serve.vllm"}}
		case p != 0 && (name[0] == 't' || name[0] == 'f' || name[0] == 'b'):
			decs[i] = job.Decision{Class: job.ClassAITraining, Rules: []string{"name.train", "accel.multi"}}
		case p == 0:
			decs[i] = job.Decision{Class: job.ClassOther, Rules: []string{"cpu.only"}}
		default:
			decs[i] = job.Decision{Class: job.ClassUnknown}
		}
	}
	return recs, decs
}
