package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// cpuWorkloads are the jobs of the CPU partition: simulation codes,
// quantum chemistry, analysis, parameter sweeps, teaching, system tests,
// and a few jobs that say nothing about themselves.
var cpuWorkloads = []*workload{
	{
		id: "vasp", part: pCPU, class: cOther, weight: 18, fields: []string{"dft"},
		size:    wholeNodes([]int{1, 2, 4, 8, 16}, []float64{30, 30, 25, 10, 5}),
		runtime: span(1*hour, 60*hour), noTimeP: 0.05, failP: 0.07,
		text: func(r *rand.Rand, c *textCtx) jobText {
			mat, calc := pick(r, materials), pick(r, vaspCalcs)
			name := pick(r, []string{calc + "_" + mat, mat + "_" + calc, "vasp_" + mat, calc + "_" + mat + "_" + fmt.Sprint(between(r, 1, 9))})
			exe := pickW(r, []string{"vasp_std", "vasp_gam", "vasp_ncl"}, []float64{8, 1, 1})
			t := jobText{name: name, workDir: c.home(pick(r, []string{"vasp", "work", "calc", "VASP"}), mat, calc)}
			t.submit = sbatch(r, c, pick(r, []string{"vasp.slurm", "run_vasp.sh", "job.sh", "sub.sh", "vasp.sbatch"}))
			if chance(r, 0.8) {
				t.steps = one(exe, pick(r, []string{"srun " + exe, "srun --mpi=pmix " + exe, fmt.Sprintf("srun -n %d %s", c.g.nodes*c.g.cores, exe)}))
			} else {
				// Intel MPI's mpirun starts its proxies with srun: the step
				// is named after the proxy, not after VASP.
				t.steps = one("hydra_bstrap_proxy", fmt.Sprintf("srun -N %d -n %d --input none /public/software/intel/oneapi/mpi/2021.9.0/bin//hydra_bstrap_proxy --upstream-host %s --upstream-port %d --pgid 0 --launcher slurm --launcher-number 1 --proxy-id -1 --node-id 0 --subtree-size 1 /public/software/intel/oneapi/mpi/2021.9.0/bin//hydra_pmi_proxy --usize -1 --auto-cleanup 1 --abort-signal 9",
					c.g.nodes, c.g.nodes, c.first(), between(r, 33000, 45000)))
			}
			return t
		},
	},
	{
		id: "qe", part: pCPU, class: cOther, weight: 5, fields: []string{"dft"},
		size:    wholeNodes([]int{1, 2, 4}, []float64{40, 40, 20}),
		runtime: span(30*minute, 30*hour), failP: 0.06,
		text: func(r *rand.Rand, c *textCtx) jobText {
			mat := pick(r, materials)
			t := jobText{name: pick(r, []string{"qe_scf_", "pw_relax_", "phonon_", "epw_"}) + mat, workDir: c.home("qe", mat)}
			t.submit = sbatch(r, c, pick(r, []string{"qe.sh", "pw.slurm", "run.slurm"}))
			nk := pick(r, []string{"2", "4", "8"})
			t.steps = []step{{name: "pw.x", cmd: "srun pw.x -nk " + nk + " -in scf.in", share: 0.4}}
			switch r.IntN(3) {
			case 0:
				t.steps = append(t.steps, step{name: "ph.x", cmd: "srun ph.x -nk " + nk + " -in ph.in", share: 0.6})
			case 1:
				t.steps = append(t.steps, step{name: "pw.x", cmd: "srun pw.x -nk " + nk + " -in nscf.in", share: 0.4},
					step{name: "projwfc.x", cmd: "srun -n 16 projwfc.x -in projwfc.in", share: 0.2})
			}
			return t
		},
	},
	{
		id: "abacus", part: pCPU, class: cOther, weight: 3, fields: []string{"dft"},
		size:    wholeNodes([]int{1, 2, 4}, []float64{50, 35, 15}),
		runtime: span(1*hour, 36*hour), failP: 0.06,
		text: func(r *rand.Rand, c *textCtx) jobText {
			mat := pick(r, materials)
			t := jobText{name: "abacus_" + mat, workDir: c.home("abacus", mat)}
			t.submit = sbatch(r, c, "abacus.sh")
			t.steps = one("abacus", fmt.Sprintf("srun -n %d -c 1 abacus", c.g.nodes*c.g.cores))
			return t
		},
	},
	{
		id: "cp2k", part: pCPU, class: cOther, weight: 6, fields: []string{"dft", "quantchem", "mdsim"},
		size:    wholeNodes([]int{1, 2, 4, 8}, []float64{25, 35, 30, 10}),
		runtime: span(4*hour, 72*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			sys := pick(r, []string{"water_64", "li_ec", "cu_co2", "zeolite_h", "ionic_liq", "pt_water", "mof5_h2", "tio2_h2o"})
			kind := pick(r, []string{"aimd", "geo", "md", "metad"})
			t := jobText{name: kind + "_" + sys, workDir: c.home("cp2k", sys)}
			t.submit = sbatch(r, c, pick(r, []string{"cp2k.slurm", "run_cp2k.sh"}))
			t.steps = one("cp2k.psmp", fmt.Sprintf("srun cp2k.psmp -i %s.inp -o %s.out", kind, kind))
			return t
		},
	},
	{
		id: "gaussian", part: pCPU, class: cOther, weight: 5, fields: []string{"quantchem"},
		size:    coresOnly([]int{16, 32, 64, 64}, 0),
		runtime: span(20*minute, 48*hour), noTimeP: 0.1, failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			mol := pick(r, []string{"benzene", "TS1", "TS2", "int3", "Ru_cat", "CO2_ads", "dimer", "conf07", "Cu_cluster", "pyridine", "anion", "radical"})
			kind := pick(r, []string{"opt", "freq", "opt_freq", "irc", "scan", "td", "sp"})
			in := mol + "_" + kind
			t := jobText{name: in, workDir: c.home(pick(r, []string{"gaussian", "g16", "calc"}), mol)}
			if chance(r, 0.2) {
				t.submit = wrap(c, "/public/software/orca/orca "+in+".inp > "+in+".out")
				return t
			}
			t.submit = wrap(c, "g16 < "+in+".gjf > "+in+".log")
			if chance(r, 0.3) {
				t.submit = wrap(c, "g16 < "+in+".gjf > "+in+".log; formchk "+in+".chk")
			}
			return t
		},
	},
	{
		id: "gromacs", part: pCPU, class: cOther, weight: 8, fields: []string{"biomd"},
		size:    wholeNodes([]int{1, 2, 4}, []float64{45, 35, 20}),
		runtime: span(6*hour, 48*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			prot := pick(r, proteins)
			stage := pick(r, []string{"md", "npt", "nvt", "prod", "umbrella", "fep"})
			t := jobText{name: stage + "_" + prot, workDir: c.home(pick(r, []string{"gromacs", "md", "sim"}), prot)}
			t.submit = sbatch(r, c, pick(r, []string{"md.sh", "gmx.slurm", "run_md.sh"}))
			t.steps = []step{
				{name: "gmx_mpi", cmd: fmt.Sprintf("srun -n 1 gmx_mpi grompp -f %s.mdp -c prev.gro -t prev.cpt -p topol.top -o %s.tpr", stage, stage), share: 0.01},
				{name: "gmx_mpi", cmd: fmt.Sprintf("srun gmx_mpi mdrun -deffnm %s -maxh %d -cpi %s.cpt", stage, between(r, 24, 47), stage), share: 0.99},
			}
			return t
		},
	},
	{
		id: "lammps", part: pCPU, class: cOther, weight: 7, fields: []string{"mdsim"},
		size:    wholeNodes([]int{1, 2, 4, 8}, []float64{30, 35, 25, 10}),
		runtime: span(2*hour, 48*hour), failP: 0.07,
		text: func(r *rand.Rand, c *textCtx) jobText {
			sys := pick(r, mdSystems)
			t := jobText{name: pick(r, []string{"lmp_", "", "run_"}) + sys, workDir: c.home(pick(r, []string{"lammps", "md", "work"}), sys)}
			t.submit = sbatch(r, c, pick(r, []string{"lmp.sh", "in.slurm", "lammps.sbatch"}))
			exe := pick(r, []string{"lmp", "lmp_mpi", "lmp"})
			t.steps = one(exe, fmt.Sprintf("srun %s -in in.%s -var seed %d", exe, sys, between(r, 1000, 99999)))
			return t
		},
	},
	{
		id: "wrf", part: pCPU, class: cOther, weight: 5, fields: []string{"weather"},
		size:    wholeNodes([]int{4, 8, 16}, []float64{35, 45, 20}),
		runtime: span(3*hour, 24*hour), failP: 0.06,
		text: func(r *rand.Rand, c *textCtx) jobText {
			date := c.recentDate(r, 2)
			dom := pick(r, []string{"d01", "d02", "d03", "yrd", "prd", "bj3km", "typhoon"})
			t := jobText{name: "wrf_" + dom + "_" + date, workDir: c.home(pick(r, []string{"WRF", "wrf", "WRFV4.5"}), "run_"+date)}
			t.submit = sbatch(r, c, pick(r, []string{"run_wrf.sh", "wrf.slurm"}))
			t.steps = []step{
				{name: "real.exe", cmd: fmt.Sprintf("srun -n %d real.exe", c.g.cores*min(c.g.nodes, 2)), share: 0.04},
				{name: "wrf.exe", cmd: "srun wrf.exe", share: 0.96},
			}
			return t
		},
	},
	{
		id: "wps", part: pCPU, class: cOther, weight: 1, fields: []string{"weather"},
		size:    coresOnly([]int{16, 32, 64}, 0),
		runtime: span(10*minute, 1*hour), failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			date := c.recentDate(r, 1)
			t := jobText{name: "wps_" + date, workDir: c.home("WPS", date)}
			t.submit = sbatch(r, c, "run_wps.sh")
			t.steps = []step{
				{name: "geogrid.exe", cmd: "srun -n 16 ./geogrid.exe", share: 0.2},
				{name: "ungrib.exe", cmd: "srun -n 1 ./ungrib.exe", share: 0.3},
				{name: "metgrid.exe", cmd: fmt.Sprintf("srun -n %d ./metgrid.exe", c.g.cores), share: 0.5},
			}
			return t
		},
	},
	{
		id: "cesm", part: pCPU, class: cOther, weight: 4, fields: []string{"climate"},
		size:    wholeNodes([]int{8, 16, 32}, []float64{40, 45, 15}),
		runtime: span(12*hour, 72*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			cs := pick(r, []string{"b.e21.B1850.f09_g17.ctrl", "b.e21.BHIST.f09_g17.001", "F2000climo.f19.aero", "b.e21.BSSP245.f09_g17.002", "G.JRA.t62_g17.spinup", "FHIST.ne30.cam6"})
			t := jobText{name: "run." + cs, workDir: c.home("cesm_cases", cs)}
			t.submit = fmt.Sprintf("sbatch --account %s .case.run --resubmit", c.user.account.name)
			if c.limit > 0 {
				// CESM's case.submit passes the case's wall clock limit.
				t.submit = fmt.Sprintf("sbatch --time %d:%02d:00 --account %s .case.run --resubmit", c.limit/hour, c.limit%hour/minute, c.user.account.name)
			}
			t.steps = one("cesm.exe", fmt.Sprintf("srun --label -n %d -c 1 %s/bld/cesm.exe", c.g.nodes*c.g.cores, c.home("cesm_cases", cs)))
			return t
		},
	},
	{
		id: "openfoam", part: pCPU, class: cOther, weight: 6, fields: []string{"cfd"},
		size:    wholeNodes([]int{1, 2, 4, 8}, []float64{30, 35, 25, 10}),
		runtime: span(2*hour, 48*hour), failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			cs := pick(r, []string{"wing_aoa8", "motorBike", "pipe_Re5e4", "nozzle_v3", "burner_les", "ship_hull", "pitzDaily", "room_vent", "turbine_rotor", "car_drivaer"})
			solver := pick(r, []string{"simpleFoam", "pimpleFoam", "rhoPimpleFoam", "interFoam", "reactingFoam", "buoyantSimpleFoam"})
			t := jobText{name: pick(r, []string{cs, cs + "_" + solver, "of_" + cs}), workDir: c.home(pick(r, []string{"OpenFOAM", "cfd", "foam"}), cs)}
			t.submit = sbatch(r, c, pick(r, []string{"Allrun.slurm", "foam.sh", "run_of.sh"}))
			t.steps = []step{
				{name: "decomposePar", cmd: "srun -n 1 decomposePar -force", share: 0.02},
				{name: solver, cmd: "srun " + solver + " -parallel", share: 0.95},
				{name: "reconstructPar", cmd: "srun -n 1 reconstructPar -latestTime", share: 0.03},
			}
			return t
		},
	},
	{
		id: "abaqus", part: pCPU, class: cOther, weight: 1.5, fields: []string{"cfd"},
		size:    coresOnly([]int{16, 32, 64}, 0),
		runtime: span(1*hour, 24*hour), failP: 0.1,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, []string{"crash_v3", "bracket_fatigue", "blade_modal", "weld_residual", "bolt_preload"})
			t := jobText{name: m, workDir: c.home("abaqus", m)}
			t.submit = wrap(c, fmt.Sprintf("abaqus job=%s cpus=%d mp_mode=threads interactive", m, c.g.cores))
			return t
		},
	},
	{
		id: "genomics", part: pCPU, class: cOther, weight: 4, fields: []string{"genomics"},
		size:    coresOnly([]int{8, 16, 32}, 0),
		runtime: span(1*hour, 24*hour), failP: 0.06,
		text: func(r *rand.Rand, c *textCtx) jobText {
			s := fmt.Sprintf("S%02d", between(r, 1, 96))
			t := jobText{workDir: c.home("wgs", "batch"+fmt.Sprint(between(r, 1, 6)))}
			switch r.IntN(3) {
			case 0:
				t.name = "bwa_" + s
				t.submit = sbatch(r, c, "align.sh")
				t.steps = []step{
					{name: "bwa", cmd: fmt.Sprintf("srun bwa mem -t %d ref/hg38.fa %s_R1.fq.gz %s_R2.fq.gz -o %s.sam", c.g.cores, s, s, s), share: 0.8},
					{name: "samtools", cmd: fmt.Sprintf("srun samtools sort -@ %d -o %s.bam %s.sam", c.g.cores, s, s), share: 0.2},
				}
			case 1:
				t.name = "gatk_hc_" + s
				t.submit = sbatch(r, c, "hc.sh")
				t.steps = one("gatk", fmt.Sprintf("srun gatk --java-options -Xmx%dg HaplotypeCaller -R ref/hg38.fa -I %s.dedup.bam -O %s.g.vcf.gz -ERC GVCF", c.g.cores*3, s, s))
			default:
				t.name = "asm_" + s
				t.submit = wrap(c, fmt.Sprintf("spades.py -t %d -1 %s_R1.fq.gz -2 %s_R2.fq.gz -o asm_%s", c.g.cores, s, s, s))
			}
			return t
		},
	},
	{
		id: "postproc", part: pCPU, class: cOther, weight: 2.5,
		fields:  []string{"dft", "mdsim", "quantchem", "weather", "climate", "biomd", "cfd", "genomics", "misc"},
		size:    coresOnly([]int{1, 2, 4, 4, 8, 16}, 0),
		runtime: span(5*minute, 3*hour), noTimeP: 0.15, failP: 0.1,
		text: func(r *rand.Rand, c *textCtx) jobText {
			script := pick(r, []string{"plot_rdf.py", "postprocess_wrf.py", "analysis.py", "plot_band.py", "analyze_traj.py", "plot_energy.py", "post_process.py", "visualize_flow.py"})
			t := jobText{name: pick(r, []string{"post", "plot", "analysis", strings.TrimSuffix(script, ".py")}), workDir: c.home(pick(r, []string{"analysis", "post", "work"}))}
			switch r.IntN(4) {
			case 0:
				t.submit = wrap(c, "python "+script)
			case 1:
				t.submit = wrap(c, "Rscript analysis.R")
				t.name = "rstats"
			case 2:
				t.submit = sbatch(r, c, "post.sh")
				t.steps = one("matlab", "srun matlab -nodisplay -batch run_analysis")
			default:
				t.submit = sbatch(r, c, "post.sh")
				t.steps = one("python", "srun python "+script+" --nproc "+fmt.Sprint(c.g.cores))
			}
			return t
		},
	},
	{
		id: "sweep", part: pCPU, class: cOther, weight: 0.5, fields: []string{"misc", "mdsim", "quantchem", "genomics"},
		size:    coresOnly([]int{1, 2, 4, 8, 16}, 0),
		runtime: span(20*minute, 8*hour), failP: 0.03,
		array: func(r *rand.Rand) (int, int) {
			return pickW(r, []int{10, 20, 32, 50, 100}, []float64{25, 30, 20, 15, 10}), pick(r, []int{0, 4, 8, 10, 16})
		},
		text: func(r *rand.Rand, c *textCtx) jobText {
			task := max(c.task, 0)
			var t jobText
			// What a sweep runs depends on who runs it.
			switch c.user.account.field {
			case "quantchem":
				t = jobText{name: "xtb_conf", workDir: c.home("crest", "confs")}
				t.steps = one("xtb", fmt.Sprintf("srun xtb conf_%03d.xyz --opt tight --gfn 2", task))
			case "mdsim":
				t = jobText{name: "lmp_sweep", workDir: c.home("lammps", "sweep")}
				t.steps = one("lmp", fmt.Sprintf("srun lmp -in in.sweep -var T %d", 300+10*task))
			case "genomics":
				t = jobText{name: "blast_chunks", workDir: c.home("blast", "uniref")}
				t.steps = one("blastp", fmt.Sprintf("srun blastp -query chunk_%03d.fa -db uniref90 -outfmt 6 -num_threads %d -out chunk_%03d.tsv", task, c.g.cores, task))
			default:
				if chance(r, 0.5) {
					t = jobText{name: "mc_ising", workDir: c.home("mc", "L64")}
					t.steps = one("mc_sim", fmt.Sprintf("srun ./mc_sim -L 64 -T %d.%03d -seed %d", (2000+5*task)/1000, (2000+5*task)%1000, 1000+task))
				} else {
					t = jobText{name: "param_scan", workDir: c.home("scan")}
					t.steps = one("solver.x", fmt.Sprintf("srun ./solver.x input_%d.dat", task))
				}
			}
			t.submit = fmt.Sprintf("sbatch --array=0-%d%s sweep.sh", c.tasks-1, c.throttle)
			return t
		},
	},
	{
		id: "course", part: pCPU, class: cOther, weight: 1, fields: []string{"course"},
		size:    shapes([]func(*rand.Rand, *partition) []group{coresOnly([]int{4, 8, 16, 32}, 0), wholeNodes([]int{2}, []float64{1})}, []float64{85, 15}),
		runtime: span(1*minute, 20*minute), failP: 0.2,
		text: func(r *rand.Rand, c *textCtx) jobText {
			lab := fmt.Sprintf("lab%d", between(r, 1, 8))
			exe := pick(r, []string{"hello_mpi", "pi_mc", "matmul", "heat2d", "nbody", "jacobi"})
			t := jobText{name: pick(r, []string{lab, exe, "hw" + lab[3:]}), workDir: c.home("hpc_course", lab)}
			t.submit = sbatch(r, c, pick(r, []string{"job.sh", lab + ".slurm"}))
			t.steps = one(exe, fmt.Sprintf("srun -n %d ./%s", c.g.nodes*c.g.cores, exe))
			return t
		},
	},
	{
		id: "mpi_misc", part: pCPU, class: cOther, weight: 3, fields: []string{"misc"},
		size:    wholeNodes([]int{1, 2, 4}, []float64{50, 30, 20}),
		runtime: span(1*hour, 24*hour), failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			exe := pick(r, []string{"dns_solver", "pic3d", "lbm", "qmc", "fdtd3d", "spectral"})
			t := jobText{name: pick(r, []string{exe, exe + "_run", "sim_" + exe}), workDir: c.home("code", exe)}
			t.submit = sbatch(r, c, "run.slurm")
			t.steps = one(exe, fmt.Sprintf("srun --mpi=pmix ./%s input.nml", exe))
			return t
		},
	},
	{
		id: "hpl", part: pCPU, class: cOther, weight: 0.4, fields: []string{"ops"},
		size:    wholeNodes([]int{8, 16, 32, 64}, []float64{30, 30, 25, 15}),
		runtime: span(40*minute, 3*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			t := jobText{name: fmt.Sprintf("hpl_%dn", c.g.nodes), workDir: c.home("bench", "hpl"), comment: pick(r, []string{"acceptance after maintenance", "burn-in", "", "node health check"})}
			t.submit = sbatch(r, c, "hpl.slurm")
			t.steps = []step{
				{name: "stream_c", cmd: "srun --ntasks-per-node=1 ./stream_c.exe", share: 0.05},
				{name: "xhpl", cmd: "srun --mpi=pmix ./xhpl", share: 0.95},
			}
			return t
		},
	},
	{
		// A coupled run: ParaView's server on one partial node next to the
		// solver on whole nodes, as a heterogeneous job.
		id: "insitu_het", part: pCPU, class: cOther, weight: 0.3, fields: []string{"cfd"},
		size: func(r *rand.Rand, p *partition) []group {
			return []group{{nodes: 1, cores: 16}, {nodes: pick(r, []int{2, 4, 8}), cores: p.cores}}
		},
		runtime: span(2*hour, 12*hour), failP: 0.1,
		text: func(r *rand.Rand, c *textCtx) jobText {
			cs := pick(r, []string{"jet_les", "burner_les", "cylinder_dns"})
			t := jobText{name: "insitu_" + cs, workDir: c.home("OpenFOAM", cs)}
			t.submit = "sbatch insitu_het.slurm"
			t.steps = one("pvserver", "srun --het-group=0 pvserver --server-port=11111 : --het-group=1 pimpleFoam -parallel")
			return t
		},
	},
	{
		id: "cpu_unknown", part: pCPU, class: cUnknown, weight: 1,
		fields:  []string{"misc", "dft", "mdsim", "course", "genomics", "cfd"},
		size:    shapes([]func(*rand.Rand, *partition) []group{coresOnly([]int{8, 16, 64}, 0), wholeNodes([]int{1, 2, 4}, []float64{50, 30, 20})}, []float64{30, 70}),
		runtime: span(1*hour, 48*hour), noTimeP: 0.3, failP: 0.15,
		text: func(r *rand.Rand, c *textCtx) jobText {
			t := jobText{name: pick(r, []string{"job", "test", "run", "myjob", "a", "test1", "run.sh"}), workDir: c.home(pick(r, []string{"", "test", "tmp", "work"}))}
			t.workDir = strings.TrimSuffix(t.workDir, "/")
			switch r.IntN(3) {
			case 0:
				t.submit = "sbatch run.sh"
			case 1:
				t.submit = "sbatch job.sh"
				t.steps = one("python", "srun python main.py")
			default:
				t.submit = "sbatch test.sh"
				t.steps = one("bash", "srun bash run.sh")
			}
			return t
		},
	},
}
