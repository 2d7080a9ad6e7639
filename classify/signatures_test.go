package classify

import (
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// ruleCase proves one default rule: it fires on hit and not on miss, a
// record that differs from a hit in the detail the rule is about.
type ruleCase struct {
	hit, miss *job.Record
}

// defaultRuleCases holds at least one case per rule of the default set;
// TestDefaultRulesAllCovered fails when a rule has none.
var defaultRuleCases = map[string][]ruleCase{
	"tag-ai-training": {
		{mk(comment("workload=ai_training")), mk(comment("workload=ai_inference"))},
		{mk(wckey("ai-train")), mk(wckey("ai-trainee"))},
	},
	"tag-ai-inference": {
		{mk(comment("scmon: ai_inference; owner=ops")), mk(comment("inference of phase diagrams"))},
		{mk(wckey("ai_serving")), mk(wckey("serving"))},
	},
	"tag-other": {
		{mk(comment("class=hpc")), mk(comment("hpc project"))},
		{mk(wckey("simulation")), mk(wckey("simulations-2025"))},
	},
	"eval-lm-eval": {
		{mk(step("lm_eval --model hf --tasks mmlu")), mk(step("python lm_evaluation.py"))},
		{mk(step("accelerate launch -m lm_eval --model hf")), mk(step("accelerate launch -m lmeval"))},
	},
	"eval-opencompass": {
		{mk(step("opencompass --models hf_qwen --datasets ceval_gen")), mk(step("python run.py --models hf_qwen"))},
	},
	"eval-evalscope": {
		{mk(step("evalscope eval --model Qwen/Qwen2.5-7B --datasets gsm8k")), mk(step("python eval_scope.py"))},
	},
	"eval-lighteval": {
		{mk(step("lighteval accelerate model_name=gpt2 leaderboard|truthfulqa:mc|0|0")), mk(step("python light_eval_tool.py"))},
	},
	"eval-harnesses": {
		{mk(step("helm-run --conf-paths run_specs.conf --suite v1")), mk(step("helm --chart ./x"))},
		{mk(step("python VLMEvalKit/run.py --data MMBench")), mk(step("python run.py --data MMBench"))},
		{mk(step("ais_bench --models vllm_api_general_chat --datasets gsm8k_gen")), mk(step("python aisbench_plot.py"))},
		{mk(step("swift eval --model Qwen/Qwen2-7B")), mk(step("swift sft --model Qwen/Qwen2-7B"))},
	},
	"serve-vllm": {
		{mk(step("vllm serve Qwen/Qwen2.5-7B --port 8000")), mk(step("python3 -m verl.trainer.main_ppo actor_rollout_ref.rollout.name=vllm"))},
		{mk(step("python -m vllm.entrypoints.openai.api_server --model x")), mk(step("python -m vllm_tools.entry"))},
	},
	"batch-vllm": {
		{mk(step("vllm run-batch -i in.jsonl -o out.jsonl --model x")), mk(step("vllm-run batch.py"))},
	},
	"serve-sglang": {
		{mk(step("python -m sglang.launch_server --model-path x")), mk(step("python -m sglang.bench_offline_throughput"))},
		{mk(step("sglang serve --model-path x")), mk(step("sglang version"))},
	},
	"serve-tgi": {
		{mk(step("text-generation-launcher --model-id x")), mk(step("text-generation-benchmark --tokenizer-name x"))},
		{mk(step("text-embeddings-router --model-id BAAI/bge-m3")), mk(step("text-embeddings-cli"))},
	},
	"serve-triton": {
		{mk(step("tritonserver --model-repository=/models")), mk(step("python triton_kernels_bench.py"))},
		{mk(step("trtllm-serve /engines/llama")), mk(step("trtllm-build --checkpoint_dir ckpt"))},
	},
	"serve-lmdeploy": {
		{mk(step("lmdeploy serve api_server internlm/internlm2-chat-7b")), mk(step("lmdeploy convert internlm2 ./model"))},
	},
	"serve-mindie": {
		{mk(step("./bin/mindieservice_daemon")), mk(step("python mindie_benchmark_report.py"))},
	},
	"serve-ollama": {
		{mk(step("ollama serve")), mk(step("ollama pull llama3"))},
	},
	"serve-llamacpp": {
		{mk(step("llama-server -m model.gguf --port 9000")), mk(step("llama-quantize model.gguf q4_0"))},
	},
	"serve-xinference": {
		{mk(step("xinference-local --host 0.0.0.0")), mk(step("python xinf_client.py"))},
	},
	"serve-fastchat": {
		{mk(step("python3 -m fastchat.serve.controller")), mk(step("python3 -m fastchat.train.train_mem"))},
	},
	"serve-ray-serve": {
		{mk(step("serve run config/llm_app.yaml")), mk(step("ray start --head"))},
	},
	"serve-swift": {
		{mk(step("swift deploy --model Qwen/Qwen2-7B")), mk(step("swift export --model Qwen/Qwen2-7B"))},
	},
	"serve-llamafactory": {
		{mk(step("llamafactory-cli api examples/inference/llama3.yaml")), mk(step("llamafactory-cli export merge.yaml"))},
	},
	"launcher-torchrun": {
		{mk(step("torchrun --nproc_per_node 8 main.py")), mk(step("python main.py --run torch"))},
		{mk(step("python -m torch.distributed.launch --nproc_per_node 8 main.py")), mk(step("python -m torch.utils.collect_env"))},
	},
	"launcher-deepspeed": {
		{mk(step("deepspeed --num_gpus 8 main.py")), mk(step("python main.py --zero-stage 3"))},
	},
	"launcher-accelerate": {
		{mk(step("accelerate launch main.py")), mk(step("accelerate config default"))},
	},
	"launcher-horovod-colossal": {
		{mk(step("horovodrun -np 8 python main.py")), mk(step("mpirun -np 8 python main.py"))},
		{mk(step("colossalai run --nproc_per_node 8 main.py")), mk(step("colossalai check -i"))},
	},
	"launcher-msrun": {
		{mk(step("msrun --worker_num 8 --local_worker_num 8 main.py")), mk(step("python main.py --ms-run"))},
	},
	"launcher-paddle": {
		{mk(step("python -m paddle.distributed.launch --gpus 0,1 main.py")), mk(step("python -m paddle.utils.run_check"))},
	},
	"train-llamafactory": {
		{mk(step("llamafactory-cli train examples/train_lora/llama3_lora_sft.yaml")), mk(step("llamafactory-cli version"))},
	},
	"train-swift": {
		{mk(step("swift sft --model Qwen/Qwen2-7B --train_type lora")), mk(step("swift merge-lora --ckpt_dir out"))},
	},
	"train-xtuner": {
		{mk(step("xtuner train internlm2_chat_7b_qlora")), mk(step("xtuner convert pth_to_hf cfg ckpt out"))},
	},
	"train-megatron": {
		{mk(step("torchrun pretrain_gpt.py --num-layers 24")), mk(step("torchrun tools/preprocess_data.py --input x"))},
		{mk(step("torchrun posttrain_gpt.py --stage sft")), mk(step("torchrun inference_gpt.py"))},
	},
	"train-mindspeed": {
		{mk(wd("/x"), step("python mindspeed_llm/tasks/run.py")), mk(step("python mind_speedtest.py"))},
	},
	"train-mindformers": {
		{mk(step("python run_mindformer.py --config x.yaml --run_mode finetune")), mk(step("python run_mindformer.py --config x.yaml --run_mode predict"))},
	},
	"train-deepmd": {
		{mk(step("dp train input.json")), mk(step("dp test -m frozen_model.pb"))},
		{mk(step("dp --pt train input.json")), mk(step("dp --pt freeze"))},
	},
	"train-rl": {
		{mk(step("python3 -m verl.trainer.main_ppo data.train_files=x")), mk(step("python3 -m verl.utils.checkpoint_merge"))},
		{mk(step("trl dpo --model_name_or_path x")), mk(step("trl env"))},
	},
	"train-other-frameworks": {
		{mk(step("yolo detect train data=coco.yaml")), mk(step("yolo detect predict source=img.jpg"))},
		{mk(step("tune run lora_finetune_single_device --config x")), mk(step("tune download meta-llama/x"))},
		{mk(step("fairseq-train data-bin/wmt")), mk(step("fairseq-generate data-bin/wmt"))},
	},
	"train-script-name": {
		{mk(step("python train.py")), mk(step("python trainer_utils_check.py"))},
		{mk(step("bash scripts/run_sft.sh")), mk(step("bash scripts/run_sftp_copy.sh"))},
		{mk(submit("sbatch finetune_lora.sh")), mk(submit("sbatch finetuned_model_copy.sh"))},
	},
	"train-and-eval-script": {
		{mk(step("python train_eval.py")), mk(step("python train.py"))},
	},
	"train-flags": {
		{mk(step("python run.py --do_train --do_eval")), mk(step("python run.py --do_eval"))},
		{mk(step("python run.py --learning-rate 1e-4")), mk(step("python run.py --learning 1e-4"))},
	},
	"name-training": {
		{mk(name("train_llama")), mk(name("trainer_tools"))},
		{mk(name("qwen-sft-8n")), mk(name("qwen-sftp"))},
		{mk(name("训练任务")), mk(name("任务"))},
		{mk(name("ft_bert")), mk(name("soft_bert"))},
	},
	"name-train-and-eval": {
		{mk(name("train_eval_bert")), mk(name("train_bert"))},
	},
	"workdir-training": {
		{mk(wd("/home/u/LLaMA-Factory")), mk(wd("/home/u/factory"))},
		{mk(wd("/data/u/MindSpeed-LLM/run1")), mk(wd("/data/u/mindset"))},
	},
	"partition-training": {
		{mk(part("ai_train")), mk(part("ai_trainee"))},
		{mk(qos("pretrain")), mk(qos("normal"))},
	},
	"size-multinode-accel": {
		{mk(nodes(2), gpu(8)), mk(nodes(1), gpu(8))},
		{mk(nodes(4), npu(8)), mk(nodes(4))},
	},
	"eval-script-name": {
		{mk(step("torchrun eval_mmlu.py")), mk(step("torchrun evalue_tool.py"))},
		{mk(step("python evaluate.py --ckpt x")), mk(step("python evaluated_list.py"))},
	},
	"eval-benchmarks": {
		{mk(step("python run.py --tasks mmlu,gsm8k")), mk(step("python run.py --tasks relax,scf"))},
		{mk(step("torchrun run.py --data MMBench_DEV_EN --model x")), mk(step("torchrun run.py --data imagenet --model x"))},
	},
	"infer-script-name": {
		{mk(step("python infer.py --model x")), mk(step("python inferno.py"))},
		{mk(step("python api_server.py --port 8000")), mk(step("python api_client.py"))},
		{mk(submit("sbatch serve_model.sh")), mk(submit("sbatch observe_model.sh"))},
	},
	"infer-generate-script": {
		{mk(step("python generate.py --prompt hi")), mk(step("python generated_mesh_check.py"))},
	},
	"infer-mindformers": {
		{mk(step("python run_mindformer.py --config x.yaml --run_mode predict")), mk(step("python run_mindformer.py --config x.yaml --run_mode train"))},
	},
	"infer-engine-flags": {
		{mk(step("python app.py --gpu-memory-utilization 0.9")), mk(step("python app.py --gpu 0"))},
	},
	"infer-benchmark-client": {
		{mk(step("vllm bench serve --model x")), mk(step("vllm --version"))},
		{mk(step("python benchmark_serving.py --backend vllm")), mk(step("python benchmark_io.py"))},
	},
	"infer-offline-runtimes": {
		{mk(step("python3 -m ais_tools --model ./yolo.om --input data")), mk(step("python3 -m ais_tools --model ./yolo.onnx"))},
		{mk(step("python magicmind_infer.py")), mk(step("python magic_mind.py"))},
	},
	"infer-web-frameworks": {
		{mk(step("uvicorn app:app --port 8000")), mk(step("python app.py --port 8000"))},
		{mk(step("python app.py --host 0.0.0.0")), mk(step("python app.py --host 127.0.0.1"))},
	},
	"infer-server-program": {
		{mk(step("mindie_llm_server --model /w")), mk(step("python main.py --model /w"))},
		{mk(step("python -m vllm.entrypoints.openai.api_server --model m")), mk(step("python preserve.py"))},
		{mk(step("python main.py --port 8000")), mk(step("python main.py --server_url http://h:8000"))},
		{mk(step("llama-server -m m.gguf")), mk(step("jupyter server --port 8888"))},
	},
	"infer-structure-prediction": {
		{mk(step("python run_alphafold.py --fasta_paths=t.fasta")), mk(step("python run_foldx.py"))},
		{mk(step("colabfold_batch in.fasta out/")), mk(step("colabfold_search in.fasta db out"))},
	},
	"name-inference": {
		{mk(name("infer_qwen")), mk(name("inferno"))},
		{mk(name("vllm-72b")), mk(name("vllmx"))},
		{mk(name("推理_glm")), mk(name("glm"))},
	},
	"name-eval": {
		{mk(name("eval_llama3")), mk(name("evaluator_ci"))},
		{mk(name("评测_ceval")), mk(name("medeval"))},
	},
	"workdir-inference": {
		{mk(wd("/srv/vllm")), mk(wd("/srv/vlm"))},
		{mk(wd("/home/u/evaluation")), mk(wd("/home/u/evaluations-old"))},
	},
	"workdir-eval-harness": {
		{mk(wd("/home/u/opencompass/outputs")), mk(wd("/home/u/compass"))},
		{mk(wd("/home/u/VLMEvalKit")), mk(wd("/home/u/VLMEval"))},
	},
	"partition-inference": {
		{mk(part("gpu_infer")), mk(part("gpu_inferno"))},
		{mk(qos("serving")), mk(qos("normal"))},
	},
	"accel-training": {
		{mk(gpu(1)), mk()},
		{mk(dcu(4)), mk(dcu(4), part("dcu"), qos("dcu_min"))}, // the near miss is in the forced partition (see forcedCases)
	},
	"python-accel-training": {
		{mk(gpu(4), step("python main.py")), mk(step("python main.py"))},
		{mk(npu(8), submit(`sbatch --wrap="python3.11 run.py"`)), mk(npu(8), step("./pythonic.x"))},
	},
	"python-accel-inference": {
		{mk(gpu(1), step("srun /usr/bin/python3 x.py")), mk(gpu(1), step("ipython_kernel"))},
	},
	"accel-inference": {
		{mk(npu(2)), mk(gres("mps", "", 100))},
	},
	"ai-stack-training": {
		{mk(step("python main.py --device npu"), submit("sbatch --export=ASCEND_RT_VISIBLE_DEVICES=0,1 run.sh")), mk(submit("sbatch run.sh"))},
		{mk(step("python -c import torch_npu")), mk(step("python -c import torch"))},
	},
	"ai-stack-inference": {
		{mk(step("srun --export=MLU_VISIBLE_DEVICES=0 python x.py")), mk(step("python x.py"))},
	},
	"ai-image-training": {
		{mk(step("--container-image=nvcr.io#nvidia/pytorch:24.01-py3 python x.py")), mk(step("--container-image=ubuntu:22.04 python x.py"))},
	},
	"ai-image-inference": {
		{mk(step("apptainer exec --nv pytorch_24.01.sif python x.py")), mk(step("apptainer exec --nv ubuntu.sif python x.py"))},
	},
	"image-serving": {
		{mk(step("--container-image=vllm/vllm-openai:v0.6.3 python x.py")), mk(step("--container-image=nvidia/cuda:12.4 python x.py"))},
	},
	"model-name-training": {
		{mk(step("python x.py --model Qwen/Qwen2.5-7B")), mk(step("python x.py --model my/model"))},
		{mk(wd("/home/u/llama3-exp")), mk(wd("/home/u/lamp"))},
	},
	"model-name-inference": {
		{mk(step("python x.py --model bert-base-uncased")), mk(step("python x.py --model albert_einstein_solver"))},
	},
	"hpc-vasp": {
		{mk(step("vasp_std")), mk(step("vaspkit -task 102"))},
		{mk(step("mpirun vasp_gpu")), mk(step("mpirun ./vaspy.x"))},
	},
	"hpc-gromacs": {
		{mk(step("gmx mdrun -deffnm md -nb gpu")), mk(step("gmxapi_check.py"))},
		{mk(step("gmx_mpi mdrun -deffnm npt")), mk(step("gmx_mpi --version"))},
	},
	"hpc-lammps": {
		{mk(step("lmp -sf gpu -pk gpu 2 -in in.lj")), mk(step("lmpfit -in data"))},
		{mk(step("lmp_mpi -in in.melt")), mk(step("python ./lmplot.py"))},
	},
	"hpc-namd-amber": {
		{mk(step("namd3 +p8 +devices 0 stmv.namd")), mk(step("namdtools config"))},
		{mk(step("pmemd.cuda -O -i prod.in")), mk(step("pmemdcheck"))},
	},
	"hpc-md-other": {
		{mk(step("python run_openmm.py --platform CUDA")), mk(step("python run_open.py --platform CUDA"))},
	},
	"hpc-cp2k-qe": {
		{mk(step("cp2k.psmp -i h2o.inp")), mk(step("cp2kplot h2o.out"))},
		{mk(step("pw.x -nk 4 -in scf.in")), mk(step("pwx -in scf.in"))},
	},
	"hpc-dft-other": {
		{mk(step("abacus")), mk(step("abacusutil"))},
		{mk(step("siesta < band.fdf")), mk(step("siestaplot band"))},
	},
	"hpc-chemistry": {
		{mk(step("g16 dimer.gjf")), mk(step("g166 dimer.gjf"))},
		{mk(step("orca dlpno.inp")), mk(step("orcasm dlpno.inp"))},
	},
	"hpc-weather-climate": {
		{mk(step("wrf.exe")), mk(step("wrf_plot.py"))},
		{mk(step("cesm.exe")), mk(step("cesmhelper"))},
	},
	"hpc-cfd-engineering": {
		{mk(step("simpleFoam -parallel")), mk(step("SimpleFoamTools"))},
		{mk(step("fluent 3ddp -g -t128 -i run.jou")), mk(step("fluently.py"))},
	},
	"hpc-cryoem": {
		{mk(step("relion_refine_mpi --gpu 0:1 --o Refine3D/run")), mk(step("relionsh"))},
	},
	"hpc-bio": {
		{mk(step("bwa mem -t 32 ref.fa r1.fq r2.fq")), mk(step("bwatool mem"))},
		{mk(step("samtools sort -o out.bam")), mk(step("samtoolsx"))},
	},
	"hpc-system-tests": {
		{mk(step("./xhpl")), mk(step("./xhplot"))},
		{mk(step("all_reduce_perf -b 8 -e 8G")), mk(step("all_reduce.py"))},
		{mk(step("gpu_burn 3600")), mk(step("gpu_burnish"))},
		{mk(step("hccl_test -b 8K -e 1G")), mk(step("hccl_tester"))},
	},
	"hpc-mpi": {
		{mk(step("mpirun -np 64 solver")), mk(step("solver -np 64"))},
	},
	"hpc-compiled-binary": {
		{mk(step("./a.out input.dat")), mk(step("./run.py input.dat"))},
		{mk(step("mpirun ./solver.x -c case.cfg")), mk(step("mpirun ./solver.py -c case.cfg"))},
	},
	"analysis-tools": {
		{mk(step("Rscript analysis.R")), mk(step("Rscriptor"))},
		{mk(step("matlab -batch run_fem")), mk(step("matlabengine"))},
	},
	"analysis-script-name": {
		{mk(step("python plot_results.py")), mk(step("python plotter.py"))},
		{mk(step("python postprocess.py --case 7")), mk(step("python postprocessor.py"))},
		{mk(submit("sbatch scripts/runFigs.sh")), mk(submit("sbatch scripts/runFigures2.sh"))},
		{mk(name("PostProcessing_20261103")), mk(name("postman"))},
		{mk(name("convert_fmt")), mk(name("converter"))},
		{mk(name("结果后处理")), mk(name("处理"))},
	},
	"workdir-analysis": {
		{mk(wd("/scratch/u/postprocess")), mk(wd("/scratch/u/postman"))},
		{mk(wd("/home/u/proj/figs_2026")), mk(wd("/home/u/proj/figsaw"))},
	},
	"name-compiled-binary": {
		{mk(name("a.out")), mk(name("data.out"))},
		{mk(name("solver.x")), mk(name("solver.xyz"))},
	},
	"name-hpc": {
		{mk(name("md_equil")), mk(name("mdx"))},
		{mk(name("分子动力学模拟")), mk(name("分子"))},
		{mk(name("vasp-relax")), mk(name("vaspkit"))},
	},
	"image-hpc": {
		{mk(step("apptainer exec --nv gromacs_2023.sif gmx")), mk(step("apptainer exec --nv tools.sif gmx"))},
	},
	"workdir-hpc": {
		{mk(wd("/scratch/u/vasp_runs/Si")), mk(wd("/scratch/u/vasprun"))},
		{mk(wd("/scratch/u/md")), mk(wd("/scratch/u/mdx"))},
	},
	"cpu-multinode": {
		{mk(nodes(4)), mk(nodes(1))},
		{mk(nodes(2)), mk(nodes(2), gpu(8))},
	},
	"cpu-only": {
		{mk(), mk(gpu(1))},
		// Forced devices say neither "needs an accelerator" nor "needs none".
		{mk(), mk(dcu(1), part("dcu"), qos("dcu_min"))},
		{mk(), mk(gres("xpu", "r200", 8))}, // a device the table does not know
	},
}

// forcedRules is the default set plus the declaration the cases above use.
func forcedRules(t testing.TB) *RuleSet {
	t.Helper()
	return mustParse(t, `
base: default
forced_accelerators:
  - {partition: dcu, qos: dcu_min}
`)
}

func TestDefaultRulesFireOnSignatures(t *testing.T) {
	c := New(forcedRules(t), Options{})
	for id, cases := range defaultRuleCases {
		for i, tc := range cases {
			if !matched(c, tc.hit)[id] {
				t.Errorf("rule %s case %d: does not fire on its hit:\n%s", id, i, c.Explain(tc.hit))
			}
			if matched(c, tc.miss)[id] {
				t.Errorf("rule %s case %d: fires on its near miss:\n%s", id, i, c.Explain(tc.miss))
			}
		}
	}
}

func TestDefaultRulesAllCovered(t *testing.T) {
	for _, r := range mustDefault(t).Rules() {
		if len(defaultRuleCases[r.ID]) == 0 {
			t.Errorf("default rule %s has no case in defaultRuleCases", r.ID)
		}
	}
	for id := range defaultRuleCases {
		found := false
		for _, r := range mustDefault(t).Rules() {
			found = found || r.ID == id
		}
		if !found {
			t.Errorf("defaultRuleCases names %s, which is not a default rule", id)
		}
	}
}

// TestDefaultDecisions checks whole decisions on the cases DOMAIN.md
// calls hard.
func TestDefaultDecisions(t *testing.T) {
	c := New(forcedRules(t), Options{})
	h := time.Hour
	for _, tc := range []struct {
		what string
		r    *job.Record
		want Class
	}{
		{"torchrun training", mk(gpu(8), step("torchrun --nproc_per_node 8 main.py"), name("llama_run")), AITraining},
		{"torchrun launching evaluation: eval outranks torchrun", mk(gpu(8), step("torchrun --nproc_per_node 8 eval_mmlu.py --ckpt x")), AIInference},
		{"torchrun with an eval job name", mk(gpu(8), step("torchrun --nproc_per_node 8 main.py"), name("eval_ckpt")), AIInference},
		{"lm_eval under accelerate", mk(gpu(8), step("accelerate launch -m lm_eval --model hf")), AIInference},
		{"deepspeed launching inference", mk(gpu(4), step("deepspeed --num_gpus 4 inference.py")), AIInference},
		{"GPU alone decides nothing", mk(gpu(8), step("python main.py")), Unknown},
		{"python alone on CPU", mk(step("python main.py")), Unknown},
		{"python alone, decided by the job name", mk(gpu(8), step("python main.py"), name("qwen_sft")), AITraining},
		{"GPU molecular dynamics", mk(gpu(1), step("gmx mdrun -deffnm md -nb gpu -pme gpu")), Other},
		{"pmemd.cuda", mk(gpu(1), step("pmemd.cuda -O -i prod.in")), Other},
		{"LAMMPS with the GPU package", mk(gpu(2), step("lmp -sf gpu -pk gpu 2 -in in.lj")), Other},
		{"NCCL test looks like AI but is a system test", mk(gpu(8), nodes(4), step("all_reduce_perf -b 8 -e 8G")), Other},
		{"vLLM serving that ends in TIMEOUT", mk(gpu(8), state(job.StateTimeout), elapsed(72*h), step("vllm serve Qwen/Qwen2.5-72B")), AIInference},
		{"RL training that starts vLLM internally", mk(gpu(8), step("python3 -m verl.trainer.main_ppo actor_rollout_ref.rollout.name=vllm")), AITraining},
		{"Chinese training name", mk(gpu(8), name("训练_qwen"), step("python main.py")), AITraining},
		{"Chinese inference name", mk(gpu(1), name("推理服务"), step("python app.py")), AIInference},
		{"Chinese evaluation name", mk(gpu(1), name("评测_ceval"), step("python main.py")), AIInference},
		{"Chinese simulation name", mk(name("分子动力学模拟"), step("gmx mdrun -deffnm md")), Other},
		{"misleading training name on LAMMPS", mk(name("train_test"), step("lmp -in in.eam")), Other},
		{"misleading inference name on VASP", mk(name("infer_structure"), step("vasp_std")), Other},
		{"misleading HPC name on torchrun training", mk(gpu(8), name("md_run"), step("torchrun --nproc_per_node 8 train.py")), AITraining},
		{"no evidence on a GPU", mk(gpu(8), name("job"), step("bash run.sh")), Unknown},
		{"MPI binary on CPUs", mk(cores(256), nodes(4), step("mpirun -np 256 ./solver.x")), Other},
		{"forced DCU, MPI binary", mk(dcu(1), part("dcu"), qos("dcu_min"), step("mpirun ./flow_solver case.cfg")), Other},
		{"forced DCU, CPU mesh generation", mk(dcu(1), part("dcu"), qos("dcu_min"), step("python generate_mesh.py")), Unknown},
		{"the same job where the DCU is not forced: the accelerator tips it", mk(dcu(1), part("dcu_ai"), step("python generate_mesh.py")), AIInference},
		{"Ascend msrun pretraining", mk(npu(8), nodes(4), step("msrun --worker_num 32 pretrain_gpt.py")), AITraining},
		{"MindIE serving", mk(npu(8), step("./bin/mindieservice_daemon")), AIInference},
		{"MindFormers predict", mk(npu(2), step("python run_mindformer.py --config p.yaml --run_mode predict")), AIInference},
		{"DCU torchrun training", mk(dcu(4), part("dcu"), qos("dcu_min"), step("torchrun --nproc_per_node 4 train.py")), AITraining},
		{"MLU MagicMind inference", mk(mlu(2), step("python magicmind_infer_yolov5.py")), AIInference},
		{"AlphaFold", mk(gpu(1), step("python run_alphafold.py --fasta_paths=t.fasta")), AIInference},
		{"operator tag wins over signatures", mk(gpu(8), comment("workload=other"), step("torchrun train.py")), Other},
	} {
		if got := c.Classify(tc.r).Class; got != tc.want {
			t.Errorf("%s: got %s, want %s\n%s", tc.what, got, tc.want, c.Explain(tc.r))
		}
	}
}
