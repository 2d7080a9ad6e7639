package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// npuWorkloads are the jobs of the Ascend 910B partition: MindSpeed and
// MindSpore training, fine-tuning, MindIE serving, evaluation, collective
// tests, CPU work on the Kunpeng cores, and user scripts that name nothing.
var npuWorkloads = []*workload{
	{
		id: "mindspeed", part: pNPU, class: cTrain, weight: 4, fields: []string{"ascend", "ascendcorp"},
		size:    wholeNodes([]int{2, 4, 8, 16}, []float64{40, 40, 17, 3}),
		runtime: span(8*hour, 72*hour), unlimitedP: 0.25, noTimeP: 0.15, failP: 0.12,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, []string{"qwen25_7b", "qwen25_14b", "llama3_8b", "deepseek_v2_lite", "internlm2_20b", "glm4_9b"})
			t := jobText{name: pick(r, []string{"大模型训练", "pretrain_" + m, m + "_pt", "大模型训练_" + m}), workDir: c.home("MindSpeed-LLM")}
			t.submit = sbatch(r, c, "pretrain_"+m+".slurm")
			family := strings.Split(m, "_")[0]
			t.steps = one("bash", fmt.Sprintf("srun bash examples/mcore/%s/pretrain_%s_4k_ptd.sh %d %s", family, m, c.g.nodes, c.first()))
			if chance(r, 0.25) {
				t.comment = pick(r, []string{"断点续训", "续训 iter 30000", "data v3"})
			}
			return t
		},
	},
	{
		id: "msrun", part: pNPU, class: cTrain, weight: 3, fields: []string{"ascend", "ascendcorp"},
		size:    wholeNodes([]int{1, 2, 4}, []float64{40, 40, 20}),
		runtime: span(6*hour, 72*hour), unlimitedP: 0.2, failP: 0.12,
		text: func(r *rand.Rand, c *textCtx) jobText {
			cfg := pick(r, []string{"research/qwen2_5/pretrain_qwen2_5_7b.yaml", "configs/llama3/finetune_llama3_8b.yaml", "research/glm4/finetune_glm4_9b.yaml", "research/deepseek3/pretrain_deepseek3_mini.yaml"})
			mode := "train"
			if strings.Contains(cfg, "finetune") {
				mode = "finetune"
			}
			t := jobText{name: pick(r, []string{"ms_" + mode, "mindformers_" + mode, "训练"}), workDir: c.home("mindformers")}
			t.submit = sbatch(r, c, "msrun.sh")
			if c.g.nodes == 1 {
				t.steps = one("msrun", fmt.Sprintf("srun msrun --worker_num=8 --local_worker_num=8 --master_port=8118 --log_dir=msrun_log --join=True --cluster_time_out=300 run_mindformer.py --config %s --run_mode %s --use_parallel True", cfg, mode))
			} else {
				t.steps = one("bash", fmt.Sprintf("srun bash scripts/msrun_launcher.sh \"run_mindformer.py --config %s --run_mode %s --use_parallel True\" %d 8 %s 8118", cfg, mode, 8*c.g.nodes, c.first()))
			}
			return t
		},
	},
	{
		id: "npu_finetune", part: pNPU, class: cTrain, weight: 4, fields: []string{"ascend", "ascendcorp"},
		size: func(r *rand.Rand, p *partition) []group {
			if chance(r, 0.5) {
				return []group{{nodes: 1, cores: 96, accels: 4}}
			}
			return []group{{nodes: 1, cores: p.cores, accels: p.accels}}
		},
		runtime: span(2*hour, 30*hour), failP: 0.15,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, smallModels)
			data := pick(r, sftData)
			t := jobText{name: pick(r, []string{"微调", "微调_" + data, "sft_" + data, "lora_npu"}), workDir: c.home(pick(r, []string{"LLaMA-Factory", "finetune"}))}
			t.submit = sbatch(r, c, pick(r, []string{"sft_npu.sh", "finetune.sh"}))
			if chance(r, 0.5) {
				t.steps = one("llamafactory-cli", fmt.Sprintf("srun llamafactory-cli train examples/ascend/%s_lora_sft_%s.yaml", strings.ReplaceAll(modelTag(m), ".", "_"), data))
			} else {
				t.steps = one("torchrun", fmt.Sprintf("srun torchrun --nproc_per_node %d finetune_lora.py --model_name_or_path /public/share/models/%s --data %s --device npu --bf16", c.g.accels, m, data))
			}
			return t
		},
	},
	{
		id: "mindie", part: pNPU, class: cInfer, weight: 3, fields: []string{"ascend", "ascendcorp"},
		size: func(r *rand.Rand, p *partition) []group {
			if chance(r, 0.4) {
				return []group{{nodes: 1, cores: 96, accels: 4}}
			}
			return []group{{nodes: 1, cores: p.cores, accels: p.accels}}
		},
		runtime: span(2*day, 14*day), serving: true, unlimitedP: 0.2,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, models)
			t := jobText{name: pick(r, []string{"推理服务", "推理服务_" + modelTag(m), "mindie_" + modelTag(m)}), workDir: c.home("mindie")}
			t.submit = sbatch(r, c, "start_mindie.sh")
			t.steps = one("mindieservice_daemon", "srun /usr/local/Ascend/mindie/latest/mindie-service/bin/mindieservice_daemon")
			return t
		},
	},
	{
		id: "vllm_ascend", part: pNPU, class: cInfer, weight: 1.5, fields: []string{"ascend", "ascendcorp"},
		size: func(r *rand.Rand, p *partition) []group {
			return []group{{nodes: 1, cores: 96, accels: 4}}
		},
		runtime: span(1*day, 7*day), serving: true,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, models)
			t := jobText{name: "vllm_" + modelTag(m), workDir: c.home("serving")}
			t.submit = sbatch(r, c, "vllm_npu.sh")
			t.steps = one("vllm", fmt.Sprintf("srun vllm serve /public/share/models/%s --tensor-parallel-size %d --port 8001 --max-model-len 16384", m, c.g.accels))
			return t
		},
	},
	{
		id: "npu_eval", part: pNPU, class: cInfer, weight: 4, fields: []string{"ascend", "ascendcorp"},
		size: func(r *rand.Rand, p *partition) []group {
			return []group{{nodes: 1, cores: 96, accels: 4}}
		},
		runtime: span(1*hour, 10*hour), failP: 0.1,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, models)
			t := jobText{name: pick(r, []string{"评测", "eval_" + modelTag(m), "测评_" + modelTag(m)}), workDir: c.home("benchmark")}
			t.submit = sbatch(r, c, "eval_npu.sh")
			t.steps = one("ais_bench", fmt.Sprintf("srun ais_bench --models vllm_api_general_chat --datasets %s --work-dir outputs/%s", pick(r, []string{"gsm8k_gen", "ceval_gen", "mmlu_gen", "cmmlu_gen"}), modelTag(m)))
			return t
		},
	},
	{
		id: "hccl", part: pNPU, class: cOther, weight: 0.5, fields: []string{"ops"},
		size:    wholeNodes([]int{2, 4, 8, 16}, []float64{30, 30, 25, 15}),
		runtime: span(10*minute, 1*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			t := jobText{name: fmt.Sprintf("hccl_allreduce_%dn", c.g.nodes), workDir: c.home("bench", "hccl"), comment: "巡检"}
			t.submit = sbatch(r, c, "hccl_test.sh")
			t.steps = one("all_reduce_test", fmt.Sprintf("srun --mpi=pmix /usr/local/Ascend/ascend-toolkit/latest/tools/hccl_test/bin/all_reduce_test -b 8K -e 2G -f 2 -p 8 -n %d", c.g.nodes*8))
			return t
		},
	},
	{
		// CPU work on the Kunpeng cores of the NPU nodes, holding no NPU.
		id: "kunpeng_cpu", part: pNPU, class: cOther, weight: 4, fields: []string{"biomd", "genomics", "dft", "mdsim"},
		size: func(r *rand.Rand, p *partition) []group {
			return []group{{nodes: pickW(r, []int{1, 2, 4}, []float64{45, 35, 20}), cores: p.cores, accels: 0}}
		},
		runtime: span(6*hour, 48*hour), failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			// What runs depends on who runs it.
			switch c.user.account.field {
			case "biomd":
				prot := pick(r, proteins)
				t := jobText{name: "md_" + prot + "_arm", workDir: c.home("gromacs_arm", prot)}
				t.submit = sbatch(r, c, "md_kunpeng.sh")
				t.steps = one("gmx_mpi", fmt.Sprintf("srun gmx_mpi mdrun -deffnm md -ntomp 4 -maxh %d", between(r, 12, 36)))
				return t
			case "genomics":
				s := fmt.Sprintf("S%02d", between(r, 1, 96))
				t := jobText{name: "bwa_" + s, workDir: c.home("wgs_arm")}
				t.submit = sbatch(r, c, "align_arm.sh")
				t.steps = one("bwa", fmt.Sprintf("srun -N 1 bwa mem -t %d ref/hg38.fa %s_R1.fq.gz %s_R2.fq.gz -o %s.sam", c.g.cores, s, s, s))
				return t
			default:
				sys := pick(r, mdSystems)
				t := jobText{name: "lmp_" + sys, workDir: c.home("lammps", sys)}
				t.submit = sbatch(r, c, "lmp_arm.sh")
				t.steps = one("lmp_kunpeng", fmt.Sprintf("srun -n %d lmp_kunpeng -in in.%s", c.g.nodes*c.g.cores, sys))
				return t
			}
		},
	},
	{
		id: "npu_unknown", part: pNPU, class: cUnknown, weight: 3, fields: []string{"ascend", "ascendcorp", "ai4s"},
		size: func(r *rand.Rand, p *partition) []group {
			switch r.IntN(4) {
			case 0:
				return []group{{nodes: 1, cores: 24, accels: 1}}
			case 1:
				return []group{{nodes: 1, cores: 96, accels: 4}}
			}
			return []group{{nodes: 1, cores: p.cores, accels: p.accels}}
		},
		runtime: span(2*hour, 48*hour), noTimeP: 0.3, failP: 0.2,
		text: func(r *rand.Rand, c *textCtx) jobText {
			t := jobText{name: pick(r, []string{"test", "npu_test", "job", "run", "demo1", "exp"}), workDir: c.home(pick(r, []string{"code", "work", "exp", "test"}))}
			switch r.IntN(4) {
			case 0:
				t.submit = "sbatch run.sh"
			case 1:
				t.submit = sbatch(r, c, "run_npu.sh")
				t.steps = one("python", "srun python main.py")
			case 2:
				t.submit = "sbatch job.sh"
				t.steps = one("bash", "srun bash run.sh")
			default:
				t.name, t.interactive = "interactive", true
				t.submit = fmt.Sprintf("salloc -p npu -N 1 --gres=npu:%d", c.g.accels)
				t.steps = one("python", "srun python -u test.py")
			}
			return t
		},
	},
}
