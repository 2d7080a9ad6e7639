package gen

import (
	"fmt"
	"math/rand/v2"
)

// dcuWorkloads are the jobs of the Hygon DCU partition, where a QOS puts at
// least one DCU on every job: mostly simulation codes (hipified or not),
// some of them CPU-only codes holding the forced DCU, and a little AI on
// the DTK stack.
var dcuWorkloads = []*workload{
	{
		id: "gmx_dcu", part: pDCU, class: cOther, weight: 8, fields: []string{"biomd", "dcuport"},
		size: shapes([]func(*rand.Rand, *partition) []group{accelSlice([]int{1, 2}, []float64{50, 50}, 8), wholeNodes([]int{1, 2, 4}, []float64{50, 30, 20})},
			[]float64{20, 80}),
		runtime: span(12*hour, 48*hour), failP: 0.06,
		text: func(r *rand.Rand, c *textCtx) jobText {
			prot := pick(r, proteins)
			t := jobText{name: pick(r, []string{"md_" + prot, prot + "_dcu", "gmx_" + prot}), workDir: c.home("gromacs", prot)}
			t.submit = sbatch(r, c, pick(r, []string{"gmx_dcu.sh", "md.slurm"}))
			t.steps = one("gmx_mpi", fmt.Sprintf("srun gmx_mpi mdrun -deffnm md -nb gpu -pme gpu -ntomp %d -maxh %d", max(c.g.cores/max(c.g.accels, 1), 1), between(r, 8, 47)))
			return t
		},
	},
	{
		id: "vasp_dcu", part: pDCU, class: cOther, weight: 8, fields: []string{"dft", "dcuport"},
		size:    wholeNodes([]int{1, 2, 4, 8}, []float64{30, 35, 23, 12}),
		runtime: span(3*hour, 48*hour), noTimeP: 0.05, failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			mat, calc := pick(r, materials), pick(r, vaspCalcs)
			t := jobText{name: calc + "_" + mat, workDir: c.home("vasp_dcu", mat, calc)}
			t.submit = sbatch(r, c, pick(r, []string{"vasp_dcu.sh", "run.slurm"}))
			t.steps = one("vasp_std", fmt.Sprintf("srun -n %d vasp_std", c.g.nodes*c.g.accels))
			return t
		},
	},
	{
		id: "wrf_dcu", part: pDCU, class: cOther, weight: 3, fields: []string{"weather"},
		size:    wholeNodes([]int{4, 8, 16}, []float64{40, 40, 20}),
		runtime: span(3*hour, 20*hour), failP: 0.06,
		text: func(r *rand.Rand, c *textCtx) jobText {
			date := c.recentDate(r, 2)
			t := jobText{name: "wrf_" + date, workDir: c.home("WRF", "run_"+date)}
			t.submit = sbatch(r, c, "wrf_dcu.sh")
			t.steps = []step{
				{name: "real.exe", cmd: fmt.Sprintf("srun -n %d real.exe", c.g.cores*min(c.g.nodes, 2)), share: 0.04},
				{name: "wrf.exe", cmd: "srun wrf.exe", share: 0.96},
			}
			return t
		},
	},
	{
		id: "lammps_dcu", part: pDCU, class: cOther, weight: 4, fields: []string{"mdsim", "dcuport"},
		size:    shapes([]func(*rand.Rand, *partition) []group{accelSlice([]int{1, 2}, []float64{50, 50}, 8), wholeNodes([]int{1, 2, 4}, []float64{40, 40, 20})}, []float64{30, 70}),
		runtime: span(3*hour, 48*hour), failP: 0.07,
		text: func(r *rand.Rand, c *textCtx) jobText {
			sys := pick(r, mdSystems)
			t := jobText{name: "lmp_" + sys, workDir: c.home("lammps", sys)}
			t.submit = sbatch(r, c, "lmp_dcu.sh")
			t.steps = one("lmp", fmt.Sprintf("srun lmp -sf gpu -pk gpu %d -in in.%s", max(c.g.accels, 1), sys))
			return t
		},
	},
	{
		id: "amber_dcu", part: pDCU, class: cOther, weight: 2, fields: []string{"biomd"},
		size:    accelSlice([]int{1}, []float64{1}, 8),
		runtime: span(12*hour, 72*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			prot := pick(r, proteins)
			n := between(r, 1, 30)
			t := jobText{name: fmt.Sprintf("%s_md%02d", prot, n), workDir: c.home("amber", prot)}
			t.submit = sbatch(r, c, "pmemd_dcu.sh")
			t.steps = one("pmemd.hip", fmt.Sprintf("srun pmemd.hip -O -i md.in -o md_%02d.out -p sys.prmtop -c md_%02d.rst7 -r md_%02d.rst7", n, n-1, n))
			return t
		},
	},
	{
		id: "cp2k_dcu", part: pDCU, class: cOther, weight: 2, fields: []string{"dft", "quantchem"},
		size:    wholeNodes([]int{2, 4, 8}, []float64{40, 40, 20}),
		runtime: span(4*hour, 48*hour), failP: 0.06,
		text: func(r *rand.Rand, c *textCtx) jobText {
			sys := pick(r, []string{"water_128", "li_ec", "zeolite_h", "pt_water", "ionic_liq"})
			t := jobText{name: "aimd_" + sys, workDir: c.home("cp2k", sys)}
			t.submit = sbatch(r, c, "cp2k_dcu.sh")
			t.steps = one("cp2k.psmp", "srun cp2k.psmp -i md.inp -o md.out")
			return t
		},
	},
	{
		// CPU-only codes that hold the DCU the QOS forces on them.
		id: "cpu_on_dcu", part: pDCU, class: cOther, weight: 1.5, fields: []string{"quantchem", "genomics", "misc", "dft", "weather"},
		size:    coresOnly([]int{8, 16, 32}, 1),
		runtime: span(30*minute, 24*hour), noTimeP: 0.1, failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			switch r.IntN(3) {
			case 0:
				mol := pick(r, []string{"TS1", "int2", "Ru_cat", "conf03", "dimer", "anion"})
				t := jobText{name: mol + "_opt", workDir: c.home("g16", mol)}
				t.submit = fmt.Sprintf("sbatch -p dcu -N 1 -n %d --gres=dcu:1 --wrap=\"g16 < %s_opt.gjf > %s_opt.log\"", c.g.cores, mol, mol)
				return t
			case 1:
				t := jobText{name: pick(r, []string{"post", "plot"}), workDir: c.home("analysis")}
				t.submit = fmt.Sprintf("sbatch -p dcu -n %d --gres=dcu:1 --wrap=\"python plot_results.py\"", c.g.cores)
				return t
			default:
				t := jobText{name: "mpi_run", workDir: c.home("code")}
				t.submit = sbatch(r, c, "run.slurm")
				t.steps = one("a.out", fmt.Sprintf("srun -n %d ./a.out", c.g.cores))
				return t
			}
		},
	},
	{
		id: "dcu_torch", part: pDCU, class: cTrain, weight: 1, fields: []string{"cv", "ai4s", "dcuport", "llm"},
		size:    wholeNodes([]int{1, 2, 4}, []float64{50, 35, 15}),
		runtime: span(4*hour, 36*hour), failP: 0.15,
		text: func(r *rand.Rand, c *textCtx) jobText {
			task := pick(r, []string{"resnet50", "vit_b16", "unet", "bert_base", "qwen_lora"})
			t := jobText{name: "train_" + task + "_dcu", workDir: c.home("dtk", task)}
			t.submit = sbatch(r, c, "train_dcu.sh")
			if c.g.nodes > 1 {
				t.steps = one("torchrun", fmt.Sprintf("srun torchrun --nnodes=%d --nproc_per_node=4 --rdzv_backend=c10d --rdzv_endpoint=%s:29500 train.py --arch %s --amp", c.g.nodes, c.first(), task))
			} else {
				t.steps = one("torchrun", fmt.Sprintf("srun torchrun --standalone --nproc_per_node=4 train.py --arch %s --amp", task))
			}
			return t
		},
	},
	{
		id: "dcu_infer", part: pDCU, class: cInfer, weight: 0.5, fields: []string{"llm", "dcuport"},
		size:    wholeNodes([]int{1}, []float64{1}),
		runtime: span(1*hour, 12*hour), failP: 0.1,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, smallModels)
			t := jobText{name: "infer_" + modelTag(m), workDir: c.home("dtk", "infer")}
			t.submit = sbatch(r, c, "infer_dcu.sh")
			t.steps = one("python", fmt.Sprintf("srun python infer.py --model /public/share/models/%s --batch-size 32 --input data/test.jsonl", m))
			return t
		},
	},
	{
		id: "dcu_unknown", part: pDCU, class: cUnknown, weight: 1, fields: []string{"misc", "dcuport", "course"},
		size:    shapes([]func(*rand.Rand, *partition) []group{accelSlice([]int{1, 2}, []float64{60, 40}, 8), wholeNodes([]int{1, 2, 4}, []float64{50, 30, 20})}, []float64{30, 70}),
		runtime: span(1*hour, 36*hour), noTimeP: 0.3, failP: 0.2,
		text: func(r *rand.Rand, c *textCtx) jobText {
			t := jobText{name: pick(r, []string{"job", "test", "run", "dcu_test"}), workDir: c.home(pick(r, []string{"test", "work"}))}
			if chance(r, 0.5) {
				t.submit = "sbatch run.sh"
			} else {
				t.submit = "sbatch job.sh"
				t.steps = one("bash", "srun bash run.sh")
			}
			return t
		},
	},
}
