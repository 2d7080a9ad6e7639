package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// gpuWorkloads are the jobs of the A100 partition: LLM pre-training and
// fine-tuning, serving, batch inference and evaluation, and the GPU
// simulation codes that share the same GPUs.
var gpuWorkloads = []*workload{
	// AI training.
	{
		id: "megatron", part: pGPU, class: cTrain, weight: 3, fields: []string{"llm", "llmcorp"},
		size:    wholeNodes([]int{2, 4, 8}, []float64{55, 38, 7}),
		runtime: span(8*hour, 72*hour), unlimitedP: 0.3, noTimeP: 0.1, failP: 0.1,
		text: func(r *rand.Rand, c *textCtx) jobText {
			size := pick(r, []string{"1.3b", "7b", "13b", "8b"})
			t := jobText{name: pick(r, []string{"pretrain-" + size + "-zh", "gpt_" + size + "_pt", "pt_" + size + "_stage2", "megatron_" + size}), workDir: c.home("Megatron-LM")}
			t.submit = sbatch(r, c, pick(r, []string{"pretrain_gpt_" + size + ".sh", "run_pretrain.sh", "examples/gpt3/train_gpt3_distributed.sh"}))
			tp, pp := pick(r, []int{2, 4, 8}), pick(r, []int{1, 2})
			cmd := fmt.Sprintf("srun python pretrain_gpt.py --tensor-model-parallel-size %d --pipeline-model-parallel-size %d --num-layers 32 --hidden-size 4096 --num-attention-heads 32 --seq-length 4096 --max-position-embeddings 4096 --micro-batch-size 1 --global-batch-size %d --lr 3.0e-4 --train-iters %d --lr-decay-style cosine --data-path %s --tokenizer-type HuggingFaceTokenizer --bf16 --use-flash-attn --save %s",
				tp, pp, 256*c.g.nodes, 20000*between(r, 1, 10), c.home("data", "zh_web_text_document"), c.home("ckpt", "gpt-"+size))
			t.steps = one("python", cmd)
			if chance(r, 0.3) {
				t.comment = pick(r, []string{"resume from iter 12000", "ckpt every 1000 iters", "stage 2 data mix"})
			}
			return t
		},
	},
	{
		id: "torchrun", part: pGPU, class: cTrain, weight: 6, fields: []string{"llm", "cv", "ai4s"},
		size: shapes([]func(*rand.Rand, *partition) []group{accelSlice([]int{1, 2, 4, 8}, []float64{25, 25, 25, 25}, 8), wholeNodes([]int{2, 4}, []float64{70, 30})},
			[]float64{75, 25}),
		runtime: span(2*hour, 48*hour), noTimeP: 0.1, failP: 0.12,
		text: func(r *rand.Rand, c *textCtx) jobText {
			task := pick(r, []string{"vit_b16", "resnet50", "unet_seg", "sd_lora", "detr", "swin_t", "clip_ft", "whisper_ft", "bert_cls", "mae_pt", "yolov8", "graphcast"})
			t := jobText{name: pick(r, []string{"train_" + task, task + "_train", task, "ft_" + task}), workDir: c.home("projects", task)}
			t.submit = sbatch(r, c, pick(r, []string{"train.sh", "run_train.slurm", "ddp.sh"}))
			ngpu := max(c.g.accels, 1)
			script := pick(r, []string{"train.py", "main.py --mode train", "tools/train.py", "train_net.py"})
			if c.g.nodes > 1 {
				t.steps = one("torchrun", fmt.Sprintf("srun torchrun --nnodes=%d --nproc_per_node=%d --rdzv_id=%d --rdzv_backend=c10d --rdzv_endpoint=%s:29500 %s --config configs/%s.yaml", c.g.nodes, ngpu, between(r, 100, 999), c.first(), script, task))
			} else {
				t.steps = one("torchrun", fmt.Sprintf("srun torchrun --standalone --nproc_per_node=%d %s --config configs/%s.yaml", ngpu, script, task))
			}
			return t
		},
	},
	{
		id: "deepspeed", part: pGPU, class: cTrain, weight: 3, fields: []string{"llm", "llmcorp"},
		size:    accelSlice([]int{4, 8}, []float64{30, 70}, 8),
		runtime: span(3*hour, 36*hour), failP: 0.12,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, smallModels)
			tag := modelTag(m)
			kind := pick(r, []string{"sft", "dpo", "lora"})
			t := jobText{name: "ds_" + kind + "_" + tag, workDir: c.home(pick(r, []string{"sft", "llm", "projects"}), tag)}
			// DeepSpeed's launcher runs inside the batch script: no srun step.
			t.submit = sbatch(r, c, fmt.Sprintf("ds_%s_%s.sh", kind, strings.ReplaceAll(tag, ".", "")))
			return t
		},
	},
	{
		id: "llamafactory", part: pGPU, class: cTrain, weight: 5, fields: []string{"llm", "llmcorp", "cv"},
		size:    accelSlice([]int{1, 2, 4, 8}, []float64{10, 20, 35, 35}, 8),
		runtime: span(1*hour, 24*hour), failP: 0.12,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, smallModels)
			data := pick(r, sftData)
			t := jobText{name: pick(r, []string{"sft_" + data, "lora_" + modelTag(m), "lf_" + data}), workDir: c.home("LLaMA-Factory")}
			t.submit = sbatch(r, c, pick(r, []string{"lf_sft.sh", "train_lora.sh", "run.sh"}))
			cfg := fmt.Sprintf("examples/train_%s/%s_%s.yaml", pick(r, []string{"lora", "full", "qlora"}), strings.ReplaceAll(modelTag(m), ".", "_"), data)
			t.steps = one("llamafactory-cli", "srun llamafactory-cli train "+cfg)
			return t
		},
	},
	{
		id: "swift", part: pGPU, class: cTrain, weight: 2, fields: []string{"llm", "llmcorp"},
		size:    accelSlice([]int{2, 4, 8}, []float64{30, 40, 30}, 8),
		runtime: span(1*hour, 20*hour), failP: 0.1,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, smallModels)
			data := pick(r, sftData)
			t := jobText{name: "swift_sft_" + data, workDir: c.home("ms-swift")}
			t.submit = sbatch(r, c, "swift_sft.sh")
			t.steps = one("swift", fmt.Sprintf("srun swift sft --model %s --train_type %s --dataset %s --num_train_epochs %d --per_device_train_batch_size 2 --learning_rate 1e-4 --gradient_accumulation_steps 8 --output_dir output/%s",
				"/public/share/models/"+m, pick(r, []string{"lora", "full"}), c.home("data", data+".jsonl"), between(r, 1, 3), modelTag(m)))
			return t
		},
	},
	{
		id: "accelerate", part: pGPU, class: cTrain, weight: 2, fields: []string{"cv", "llm"},
		size:    accelSlice([]int{2, 4, 8}, []float64{30, 40, 30}, 8),
		runtime: span(2*hour, 24*hour), failP: 0.12,
		text: func(r *rand.Rand, c *textCtx) jobText {
			s := pick(r, []string{"train_text_to_image_lora_sdxl.py", "train_dreambooth_lora.py", "train_controlnet.py", "train_sft.py"})
			t := jobText{name: strings.TrimSuffix(s, ".py"), workDir: c.home("diffusers", "examples")}
			t.submit = sbatch(r, c, "accel.sh")
			t.steps = one("accelerate", fmt.Sprintf("srun accelerate launch --config_file %s --num_processes %d %s --mixed_precision bf16", pick(r, []string{"fsdp.yaml", "ddp.yaml", "zero2.yaml"}), max(c.g.accels, 1), s))
			return t
		},
	},
	{
		id: "deepmd", part: pGPU, class: cTrain, weight: 2, fields: []string{"ai4s"},
		size:    accelSlice([]int{1}, []float64{1}, 8),
		runtime: span(6*hour, 48*hour), failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			sys := pick(r, mdSystems)
			t := jobText{name: "dp_" + sys, workDir: c.home("deepmd", sys)}
			t.submit = sbatch(r, c, "dp_train.sh")
			t.steps = []step{
				{name: "dp", cmd: "srun dp --pt train input.json --skip-neighbor-stat", share: 0.97},
				{name: "dp", cmd: "srun dp --pt freeze -o frozen_model.pth", share: 0.03},
			}
			return t
		},
	},
	// AI inference: serving, batch inference, evaluation.
	{
		id: "vllm_serve", part: pGPU, class: cInfer, weight: 4, fields: []string{"llm", "llmcorp", "servingcorp"},
		size:    accelSlice([]int{1, 2, 4, 8}, []float64{20, 25, 35, 20}, 8),
		runtime: span(2*day, 14*day), serving: true, unlimitedP: 0.15,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, models)
			tag := modelTag(m)
			t := jobText{name: pick(r, []string{"vllm_" + tag, "serve_" + tag, "api_server", tag + "-api"}), workDir: c.home(pick(r, []string{"serving", "vllm", "deploy"}))}
			t.submit = sbatch(r, c, pick(r, []string{"serve.sh", "vllm.slurm", "start_api.sh"}))
			t.steps = one("vllm", fmt.Sprintf("srun vllm serve /public/share/models/%s --tensor-parallel-size %d --host 0.0.0.0 --port %d --served-model-name %s --max-model-len %d --gpu-memory-utilization 0.9",
				m, max(c.g.accels, 1), 8000+r.IntN(100), tag, pick(r, []int{8192, 32768, 16384})))
			return t
		},
	},
	{
		id: "sglang", part: pGPU, class: cInfer, weight: 1.5, fields: []string{"llm", "servingcorp"},
		size:    accelSlice([]int{2, 4, 8}, []float64{20, 40, 40}, 8),
		runtime: span(2*day, 10*day), serving: true, unlimitedP: 0.15,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, models)
			t := jobText{name: "sglang_" + modelTag(m), workDir: c.home("serving")}
			t.submit = sbatch(r, c, "sglang.sh")
			t.steps = one("python", fmt.Sprintf("srun python -m sglang.launch_server --model-path /public/share/models/%s --tp %d --host 0.0.0.0 --port 30000 --mem-fraction-static 0.85", m, max(c.g.accels, 1)))
			return t
		},
	},
	{
		id: "triton", part: pGPU, class: cInfer, weight: 1, fields: []string{"cv", "servingcorp"},
		size:    accelSlice([]int{1, 2}, []float64{60, 40}, 8),
		runtime: span(1*day, 7*day), serving: true,
		text: func(r *rand.Rand, c *textCtx) jobText {
			t := jobText{name: pick(r, []string{"triton", "triton_ocr", "det_service"}), workDir: c.home("triton")}
			t.submit = sbatch(r, c, "triton.sh")
			t.steps = one("tritonserver", fmt.Sprintf("srun tritonserver --model-repository=%s --http-port 8000 --grpc-port 8001", c.home("triton", "model_repository")))
			return t
		},
	},
	{
		id: "batch_infer", part: pGPU, class: cInfer, weight: 6, fields: []string{"llm", "llmcorp"},
		size:    accelSlice([]int{1, 2, 4, 8}, []float64{20, 30, 30, 20}, 8),
		runtime: span(1*hour, 12*hour), failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, models)
			t := jobText{name: pick(r, []string{"batch_infer", "gen_data", "infer_" + modelTag(m), "synth_gen"}), workDir: c.home(pick(r, []string{"inference", "datagen"}))}
			t.submit = sbatch(r, c, pick(r, []string{"infer.sh", "batch.sh"}))
			if chance(r, 0.5) {
				t.steps = one("vllm", fmt.Sprintf("srun vllm run-batch -i prompts_%02d.jsonl -o results_%02d.jsonl --model /public/share/models/%s --tensor-parallel-size %d", between(r, 0, 31), between(r, 0, 31), m, max(c.g.accels, 1)))
			} else {
				t.steps = one("python", fmt.Sprintf("srun python batch_infer.py --model /public/share/models/%s --input data/questions.jsonl --tp %d", m, max(c.g.accels, 1)))
			}
			return t
		},
	},
	{
		id: "eval", part: pGPU, class: cInfer, weight: 7, fields: []string{"llm", "llmcorp"},
		size:    accelSlice([]int{1, 2, 4, 8}, []float64{25, 30, 30, 15}, 8),
		runtime: span(30*minute, 8*hour), failP: 0.1,
		text: func(r *rand.Rand, c *textCtx) jobText {
			m := pick(r, models)
			tag := modelTag(m)
			if chance(r, 0.55) {
				t := jobText{name: "eval_" + tag, workDir: c.home("lm-evaluation-harness")}
				t.submit = sbatch(r, c, "eval.sh")
				t.steps = one("lm_eval", fmt.Sprintf("srun lm_eval --model vllm --model_args pretrained=/public/share/models/%s,tensor_parallel_size=%d,gpu_memory_utilization=0.8 --tasks %s --batch_size auto --output_path results/%s",
					m, max(c.g.accels, 1), pick(r, []string{"mmlu,gsm8k", "ceval-valid,cmmlu", "hellaswag,arc_challenge,winogrande", "gsm8k"}), tag))
				return t
			}
			t := jobText{name: pick(r, []string{"oc_" + tag, "opencompass", "评测_" + tag}), workDir: c.home("opencompass")}
			t.submit = sbatch(r, c, "run_oc.sh")
			t.steps = one("opencompass", fmt.Sprintf("srun opencompass configs/eval_%s.py -w outputs/%s --max-num-workers %d", strings.ReplaceAll(tag, ".", "_"), tag, max(c.g.accels, 1)))
			return t
		},
	},
	// Simulation and data processing on GPUs.
	{
		id: "gmx_gpu", part: pGPU, class: cOther, weight: 8, fields: []string{"biomd"},
		size:    accelSlice([]int{1, 2, 4}, []float64{50, 35, 15}, 8),
		runtime: span(12*hour, 72*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			prot := pick(r, proteins)
			t := jobText{name: pick(r, []string{"md_" + prot, prot + "_prod", "gmx_" + prot}), workDir: c.home("gromacs", prot)}
			t.submit = sbatch(r, c, pick(r, []string{"md_gpu.sh", "gmx.slurm"}))
			t.steps = one("gmx", fmt.Sprintf("srun gmx mdrun -deffnm md -nb gpu -pme gpu -bonded gpu -update gpu -ntomp %d -maxh %d", max(c.g.cores/max(c.g.accels, 1), 4), between(r, 24, 71)))
			return t
		},
	},
	{
		id: "amber", part: pGPU, class: cOther, weight: 5, fields: []string{"biomd"},
		size:    accelSlice([]int{1}, []float64{1}, 4),
		runtime: span(12*hour, 96*hour), noTimeP: 0.1, failP: 0.04,
		text: func(r *rand.Rand, c *textCtx) jobText {
			prot := pick(r, proteins)
			n := between(r, 1, 20)
			t := jobText{name: fmt.Sprintf("%s_prod%02d", prot, n), workDir: c.home("amber", prot)}
			t.submit = sbatch(r, c, "pmemd.sh")
			t.steps = one("pmemd.cuda", fmt.Sprintf("srun pmemd.cuda -O -i prod.in -o prod_%02d.out -p complex.prmtop -c prod_%02d.rst7 -r prod_%02d.rst7 -x prod_%02d.nc", n, n-1, n, n))
			return t
		},
	},
	{
		id: "namd", part: pGPU, class: cOther, weight: 2, fields: []string{"biomd"},
		size:    accelSlice([]int{2, 4}, []float64{50, 50}, 8),
		runtime: span(12*hour, 48*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			prot := pick(r, proteins)
			t := jobText{name: "namd_" + prot, workDir: c.home("namd", prot)}
			t.submit = sbatch(r, c, "namd.sh")
			devs := make([]string, max(c.g.accels, 1))
			for i := range devs {
				devs[i] = fmt.Sprint(i)
			}
			t.steps = one("namd3", fmt.Sprintf("srun namd3 +p%d +devices %s +setcpuaffinity %s_npt.namd", c.g.cores, strings.Join(devs, ","), prot))
			return t
		},
	},
	{
		id: "lammps_kk", part: pGPU, class: cOther, weight: 3, fields: []string{"mdsim", "ai4s"},
		size: shapes([]func(*rand.Rand, *partition) []group{accelSlice([]int{1, 4, 8}, []float64{30, 40, 30}, 8), wholeNodes([]int{2}, []float64{1})},
			[]float64{85, 15}),
		runtime: span(4*hour, 48*hour), failP: 0.07,
		text: func(r *rand.Rand, c *textCtx) jobText {
			sys := pick(r, mdSystems)
			n := max(c.g.accels, 1)
			t := jobText{name: pick(r, []string{"lmp_gpu_" + sys, "dpmd_" + sys, sys}), workDir: c.home("lammps", sys)}
			t.submit = sbatch(r, c, "lmp_gpu.sh")
			if strings.HasPrefix(t.name, "dpmd") {
				t.steps = one("lmp", "srun lmp -in in.dpmd -var model frozen_model.pth")
			} else {
				t.steps = one("lmp", fmt.Sprintf("srun lmp -k on g %d -sf kk -pk kokkos newton on neigh half -in in.%s", n, sys))
			}
			return t
		},
	},
	{
		id: "relion", part: pGPU, class: cOther, weight: 4, fields: []string{"cryoem"},
		size: shapes([]func(*rand.Rand, *partition) []group{accelSlice([]int{4, 8}, []float64{50, 50}, 8), wholeNodes([]int{2}, []float64{1})},
			[]float64{80, 20}),
		runtime: span(4*hour, 48*hour), failP: 0.08,
		text: func(r *rand.Rand, c *textCtx) jobText {
			jobN := between(r, 20, 180)
			kind := pick(r, []string{"Refine3D", "Class3D", "Class2D", "MultiBody"})
			t := jobText{name: fmt.Sprintf("%s_job%03d", strings.ToLower(kind), jobN), workDir: c.home("relion", pick(r, []string{"empiar10288", "apoferritin", "trpv1", "nav1.7", "ribosome"}))}
			t.submit = sbatch(r, c, "relion_submit.sh")
			t.steps = one("relion_refine_mpi", fmt.Sprintf("srun relion_refine_mpi --o %s/job%03d/run --i Extract/job%03d/particles.star --ref InitialModel/job%03d/initial_model.mrc --particle_diameter %d --gpu \"\" --j 4 --pool 30 --pad 2 --dont_combine_weights_via_disc",
				kind, jobN, jobN-between(r, 3, 15), jobN-between(r, 1, 3), between(r, 120, 300)))
			return t
		},
	},
	{
		id: "vasp_gpu", part: pGPU, class: cOther, weight: 3, fields: []string{"dft"},
		size: shapes([]func(*rand.Rand, *partition) []group{accelSlice([]int{4, 8}, []float64{50, 50}, 8), wholeNodes([]int{2}, []float64{1})},
			[]float64{75, 25}),
		runtime: span(4*hour, 48*hour), failP: 0.07,
		text: func(r *rand.Rand, c *textCtx) jobText {
			mat := pick(r, materials)
			t := jobText{name: "vasp_gpu_" + mat, workDir: c.home("vasp", mat)}
			t.submit = sbatch(r, c, "vasp_gpu.sh")
			t.steps = one("vasp_std", fmt.Sprintf("srun -n %d vasp_std", c.g.nodes*max(c.g.accels, 1)))
			return t
		},
	},
	{
		id: "gpu_tests", part: pGPU, class: cOther, weight: 0.4, fields: []string{"ops"},
		size:    wholeNodes([]int{1, 4, 8}, []float64{50, 30, 20}),
		runtime: span(20*minute, 2*hour), failP: 0.05,
		text: func(r *rand.Rand, c *textCtx) jobText {
			t := jobText{name: pick(r, []string{"gpu_burn", "nccl_test", "hpl_gpu"}), workDir: c.home("bench", "gpu"), comment: "acceptance after maintenance"}
			t.submit = sbatch(r, c, t.name+".sh")
			switch t.name {
			case "gpu_burn":
				t.steps = one("gpu_burn", "srun --ntasks-per-node=1 ./gpu_burn -tc 1800")
			case "nccl_test":
				t.steps = one("all_reduce_perf", "srun --mpi=pmix ./all_reduce_perf -b 8 -e 8G -f 2 -g 1")
			default:
				t.steps = one("xhpl", "srun --mpi=pmix ./xhpl HPL-A100.dat")
			}
			return t
		},
	},
	{
		id: "gpu_unknown", part: pGPU, class: cUnknown, weight: 1, fields: []string{"llm", "cv", "ai4s", "misc", "course"},
		size:    accelSlice([]int{1, 2, 4, 8}, []float64{30, 30, 25, 15}, 8),
		runtime: span(1*hour, 36*hour), noTimeP: 0.2, failP: 0.15,
		text: func(r *rand.Rand, c *textCtx) jobText {
			t := jobText{workDir: c.home(pick(r, []string{"test", "code", "work"}))}
			switch r.IntN(4) {
			case 0:
				t.name, t.interactive = "bash", true
				t.submit = fmt.Sprintf("srun -p gpu --gres=gpu:%d -c %d --pty bash", max(c.g.accels, 1), c.g.cores)
				t.steps = one("bash", t.submit)
			case 1:
				t.name, t.interactive = "interactive", true
				t.submit = fmt.Sprintf("salloc -p gpu -N 1 --gres=gpu:%d", max(c.g.accels, 1))
				t.steps = one("python", "srun python main.py")
			case 2:
				t.name = "jupyter"
				t.submit = "sbatch jupyter.sh"
			default:
				t.name = pick(r, []string{"test", "job", "run"})
				t.submit = "sbatch run.sh"
				t.steps = one("python", "srun python main.py")
			}
			return t
		},
	},
}
