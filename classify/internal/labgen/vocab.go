package labgen

// The vocabulary of the generated centers: what users of real centers
// run, grouped into term families. It is written independently of the
// classifier's lexicon, so that a held-out family is measured on
// spellings and habits the classifier's authors never wrote down.

// Families of terms. A family is what the held-out evaluation removes
// from the classifier; every job carries the family its decisive word
// comes from.
const (
	TrainFrameworks = "train_frameworks"
	FinetuneRL      = "finetune_rl"
	ServingEngines  = "serving_engines"
	EvalHarnesses   = "eval_harnesses"
	ModelFamilies   = "model_families"
	DomesticStacks  = "domestic_stacks"
	Chemistry       = "chemistry"
	Materials       = "materials"
	Climate         = "climate"
	CFD             = "cfd"
	Astrophysics    = "astrophysics"
	Bio             = "bio"
	Analysis        = "analysis_scripts"
	Binaries        = "compiled_binaries"
	BarePython      = "bare_python"
	NoEvidence      = "no_evidence"
)

// Families lists every family the generator draws from, in report order.
func Families() []string {
	return []string{
		TrainFrameworks, FinetuneRL, ServingEngines, EvalHarnesses, ModelFamilies, DomesticStacks,
		Chemistry, Materials, Climate, CFD, Astrophysics, Bio,
		Analysis, Binaries, BarePython, NoEvidence,
	}
}

// HasVocabulary reports whether the family's jobs carry words of their own.
// The jobs of bare_python and no_evidence carry none: whatever the
// classifier decides for them it decides from resources and context.
func HasVocabulary(family string) bool { return family != BarePython && family != NoEvidence }

// The classes, spelled as the classifier prints them.
const (
	Training  = "ai_training"
	Inference = "ai_inference"
	OtherWork = "other"
)

// Resource profiles: how big and how long a job of a kind runs.
const (
	pPretrain = iota
	pFinetune
	pServe
	pEval
	pBatchInf
	pSimAccel // simulation codes on accelerators
	pHPC      // simulation codes on CPU nodes
	pAnalysis
	pBinary
	pShort // tests, shells, small runs
)

// term is one piece of software as users name it. words are spellings
// seen in job names, scripts and directories (the first is the usual one);
// cmds are command lines that run it, with placeholders filled per job:
// {G} accelerators per node, {N} nodes, {P} total processes, {M} a model
// or weights path, {D} a data path, {W} one of the words, {S} a seed.
type term struct {
	words   []string
	cmds    []string
	class   string
	profile int
	// kinds are the partition kinds the term runs on: "cpu", "gpu",
	// "npu", "dcu", "mlu", "xpu".
	kinds string
	// weight is how common the term is inside its family.
	weight float64
	// platform marks words that name a model or a software platform
	// rather than a tool with one purpose: they say AI but not whether a
	// job trains or infers. Users then usually, not always, add what the
	// job does ("qwen_infer", "sft_llama").
	platform bool
}

// vocabulary holds every family's terms.
var vocabulary = map[string][]term{
	TrainFrameworks: {
		{words: []string{"megatron", "Megatron-LM", "megatron_lm", "MegatronLM"}, kinds: "gpu npu dcu", class: Training, profile: pPretrain, weight: 3,
			cmds: []string{"torchrun --nnodes={N} --nproc_per_node={G} pretrain_gpt.py --tensor-model-parallel-size 4 --pipeline-model-parallel-size 2 --data-path {D}", "python pretrain_gpt.py --num-layers 32 --hidden-size 4096 --micro-batch-size 2 --global-batch-size 1024"}},
		{words: []string{"deepspeed", "DeepSpeed", "ds_zero3", "deepspeed_zero2"}, kinds: "gpu dcu", class: Training, profile: pPretrain, weight: 3,
			cmds: []string{"deepspeed --num_gpus {G} --num_nodes {N} main.py --deepspeed ds_config.json", "deepspeed --hostfile hostfile run.py --zero_stage 3"}},
		{words: []string{"torchrun"}, kinds: "gpu npu dcu", class: Training, profile: pPretrain, weight: 2,
			cmds: []string{"torchrun --nproc_per_node={G} --nnodes={N} --rdzv_backend=c10d main.py --cfg {D}/cfg.yaml", "torchrun --standalone --nproc_per_node={G} run.py"}},
		{words: []string{"accelerate", "Accelerate"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"accelerate launch --num_processes {P} --multi_gpu main.py --mixed_precision bf16", "accelerate launch --config_file acc.yaml run.py"}},
		{words: []string{"lightning", "PyTorchLightning", "pl_lightning"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"python main.py fit --trainer.devices {G} --trainer.num_nodes {N}", "srun python lightning_main.py --devices {G}"}},
		{words: []string{"colossalai", "ColossalAI", "colossal"}, kinds: "gpu", class: Training, profile: pPretrain, weight: 1,
			cmds: []string{"colossalai run --nproc_per_node {G} --hostfile hosts main.py", "torchrun --nproc_per_node {G} colossalai_main.py --plugin gemini"}},
		{words: []string{"horovod", "Horovod"}, kinds: "gpu", class: Training, profile: pPretrain, weight: 1,
			cmds: []string{"horovodrun -np {P} -H localhost:{G} python main.py", "mpirun -np {P} python horovod_main.py --fp16-allreduce"}},
		{words: []string{"fairseq", "Fairseq"}, kinds: "gpu", class: Training, profile: pPretrain, weight: 1,
			cmds: []string{"fairseq-train {D}/data-bin --arch transformer_wmt_en_de --max-tokens 4096", "fairseq-hydra-train --config-dir cfg --config-name base"}},
		{words: []string{"nemo", "NeMo", "nemo_megatron"}, kinds: "gpu", class: Training, profile: pPretrain, weight: 1,
			cmds: []string{"python megatron_gpt_pretraining.py trainer.num_nodes={N} trainer.devices={G}", "python /opt/NeMo/examples/nlp/main.py --config-path conf"}},
		{words: []string{"nanoGPT", "nanogpt"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"torchrun --standalone --nproc_per_node={G} nanogpt/run.py config/owt.py"}},
		{words: []string{"t5x", "flax", "jax_main"}, kinds: "gpu", class: Training, profile: pPretrain, weight: 1,
			cmds: []string{"python -m t5x.main --gin_file={D}/base.gin", "python jax_main.py --xla_gpu_enable_async_all_gather=true"}},
		{words: []string{"torchtitan", "TorchTitan"}, kinds: "gpu", class: Training, profile: pPretrain, weight: 1,
			cmds: []string{"torchrun --nproc_per_node={G} -m torchtitan.main --job.config_file {D}/llm.toml"}},
		{words: []string{"detectron2", "Detectron2"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"python tools/train_net.py --num-gpus {G} --config-file configs/mask_rcnn.yaml"}},
		{words: []string{"mmdet", "mmdetection", "mmseg", "mmsegmentation"}, kinds: "gpu dcu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"bash tools/dist_train.sh configs/cascade_rcnn.py {G}", "python -m torch.distributed.launch --nproc_per_node={G} tools/train.py cfg.py"}},
		{words: []string{"gpt-neox", "neox"}, kinds: "gpu", class: Training, profile: pPretrain, weight: 1,
			cmds: []string{"python deepy.py train.py configs/20B.yml"}},
		{words: []string{"run_clm", "run_mlm", "hf_trainer"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"python run_clm.py --model_name_or_path {M} --per_device_train_batch_size 8 --num_train_epochs 3"}},
		// A launcher used for evaluation: the hard case of the family.
		{words: []string{"torchrun"}, kinds: "gpu", class: Inference, profile: pEval, weight: 0.3,
			cmds: []string{"torchrun --nproc_per_node={G} evaluate.py --ckpt {M} --split test", "torchrun --nproc_per_node={G} predict.py --checkpoint {M}"}},
	},
	FinetuneRL: {
		{words: []string{"llamafactory", "LLaMA-Factory", "llama_factory", "LlamaFactory"}, kinds: "gpu npu", class: Training, profile: pFinetune, weight: 3,
			cmds: []string{"llamafactory-cli train examples/{W}.yaml", "FORCE_TORCHRUN=1 llamafactory-cli train sft.yaml"}},
		{words: []string{"trl", "TRL", "sft_trainer"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"trl sft --model_name_or_path {M} --dataset_name {D}", "accelerate launch trl_dpo.py --beta 0.1"}},
		{words: []string{"lora", "qlora", "LoRA", "QLoRA", "peft"}, kinds: "gpu dcu npu", class: Training, profile: pFinetune, weight: 3,
			cmds: []string{"python finetune.py --use_peft --lora_r 16 --lora_alpha 32 --base {M}", "python qlora.py --bits 4 --model {M}"}},
		{words: []string{"axolotl", "Axolotl"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"accelerate launch -m axolotl.cli.train {D}/axolotl.yml"}},
		{words: []string{"unsloth", "Unsloth"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"python unsloth_sft.py --max_seq_length 4096"}},
		{words: []string{"openrlhf", "OpenRLHF"}, kinds: "gpu", class: Training, profile: pPretrain, weight: 1,
			cmds: []string{"python -m openrlhf.cli.train_ppo_ray --actor_num_gpus_per_node {G} --pretrain {M}", "deepspeed --module openrlhf.cli.train_dpo --beta 0.1"}},
		{words: []string{"verl", "veRL"}, kinds: "gpu npu", class: Training, profile: pPretrain, weight: 2,
			cmds: []string{"python3 -m verl.trainer.main_ppo trainer.n_gpus_per_node={G} trainer.nnodes={N}", "python -m verl.trainer.main_grpo data.train_files={D}/train.parquet"}},
		{words: []string{"grpo", "GRPO", "dpo", "DPO", "ppo", "rlhf", "RLHF"}, kinds: "gpu npu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"python grpo_main.py --num_generations 8 --policy {M}", "python dpo.py --ref_model {M}"}},
		{words: []string{"swift", "ms-swift"}, kinds: "gpu npu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"swift sft --model {M} --train_type lora --dataset {D}", "NPROC_PER_NODE={G} swift rlhf --rlhf_type dpo"}},
		{words: []string{"xtuner", "XTuner"}, kinds: "gpu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"xtuner train internlm2_chat_7b_qlora.py --deepspeed deepspeed_zero2", "NPROC_PER_NODE={G} xtuner train cfg.py"}},
		{words: []string{"sft", "SFT", "instruct_tune"}, kinds: "gpu npu dcu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"python sft.py --model {M} --epochs 3 --lr 2e-5", "torchrun --nproc_per_node={G} sft_main.py"}},
		// Chatting with a fine-tuned adapter is inference.
		{words: []string{"llamafactory", "lora"}, kinds: "gpu", class: Inference, profile: pEval, weight: 0.3,
			cmds: []string{"llamafactory-cli chat infer.yaml", "llamafactory-cli api --adapter_name_or_path {M}"}},
	},
	ServingEngines: {
		{words: []string{"vllm", "vLLM", "vllm_server"}, kinds: "gpu npu dcu", class: Inference, profile: pServe, weight: 4,
			cmds: []string{"vllm serve {M} --tensor-parallel-size {G} --port 8000", "python -m vllm.entrypoints.openai.api_server --model {M} --port 8{S}"}},
		{words: []string{"vllm", "vLLM"}, kinds: "gpu", class: Inference, profile: pBatchInf, weight: 2,
			cmds: []string{"python offline_vllm.py --model {M} --input {D}/prompts.jsonl"}},
		{words: []string{"sglang", "SGLang"}, kinds: "gpu", class: Inference, profile: pServe, weight: 2,
			cmds: []string{"python -m sglang.launch_server --model-path {M} --tp {G} --port 30000"}},
		{words: []string{"tgi", "text-generation-inference", "text-generation-launcher"}, kinds: "gpu", class: Inference, profile: pServe, weight: 1,
			cmds: []string{"text-generation-launcher --model-id {M} --num-shard {G} --port 8080"}},
		{words: []string{"tritonserver", "triton_server"}, kinds: "gpu", class: Inference, profile: pServe, weight: 1,
			cmds: []string{"tritonserver --model-repository={D}/models --http-port 8000"}},
		{words: []string{"tensorrt-llm", "trtllm", "TensorRT-LLM"}, kinds: "gpu", class: Inference, profile: pServe, weight: 1,
			cmds: []string{"trtllm-serve {M} --tp_size {G}", "mpirun -n {G} python run.py --engine_dir {D}/engines"}},
		{words: []string{"lmdeploy", "LMDeploy"}, kinds: "gpu dcu", class: Inference, profile: pServe, weight: 2,
			cmds: []string{"lmdeploy serve api_server {M} --tp {G} --server-port 23333", "lmdeploy chat {M}"}},
		{words: []string{"ollama", "Ollama"}, kinds: "gpu", class: Inference, profile: pServe, weight: 1,
			cmds: []string{"ollama serve"}},
		{words: []string{"llama.cpp", "llama-server", "llamacpp"}, kinds: "gpu cpu", class: Inference, profile: pServe, weight: 1,
			cmds: []string{"./llama-server -m {D}/model-q4_k_m.gguf -ngl 99 --port 8081"}},
		{words: []string{"xinference", "Xinference"}, kinds: "gpu", class: Inference, profile: pServe, weight: 1,
			cmds: []string{"xinference-local --host 0.0.0.0 --port 9997"}},
		{words: []string{"torchserve", "TorchServe"}, kinds: "gpu", class: Inference, profile: pServe, weight: 1,
			cmds: []string{"torchserve --start --model-store {D}/store --ncs"}},
	},
	EvalHarnesses: {
		{words: []string{"lm_eval", "lm-eval", "lm-evaluation-harness", "lmeval"}, kinds: "gpu npu", class: Inference, profile: pEval, weight: 3,
			cmds: []string{"lm_eval --model hf --model_args pretrained={M} --tasks mmlu,gsm8k --batch_size 16", "accelerate launch -m lm_eval --tasks hellaswag"}},
		{words: []string{"opencompass", "OpenCompass"}, kinds: "gpu npu", class: Inference, profile: pEval, weight: 3,
			cmds: []string{"opencompass configs/eval_{W}.py -w outputs/", "python run.py --datasets ceval_gen cmmlu_gen --hf-path {M}"}},
		{words: []string{"helm", "helm-run", "crfm-helm"}, kinds: "gpu", class: Inference, profile: pEval, weight: 1,
			cmds: []string{"helm-run --conf-paths run_entries.conf --suite v1 --max-eval-instances 1000"}},
		{words: []string{"evalscope", "EvalScope"}, kinds: "gpu", class: Inference, profile: pEval, weight: 1,
			cmds: []string{"evalscope eval --model {M} --datasets gsm8k arc"}},
		{words: []string{"mmlu", "MMLU", "cmmlu", "ceval", "C-Eval"}, kinds: "gpu npu dcu", class: Inference, profile: pEval, weight: 2,
			cmds: []string{"python mmlu_bench.py --model {M} --ntrain 5", "python ceval_main.py --model_path {M}"}},
		{words: []string{"humaneval", "HumanEval", "bigcode_eval", "mbpp"}, kinds: "gpu", class: Inference, profile: pEval, weight: 1,
			cmds: []string{"accelerate launch main.py --tasks humaneval --allow_code_execution --n_samples 20"}},
		{words: []string{"gsm8k", "GSM8K", "math500"}, kinds: "gpu", class: Inference, profile: pEval, weight: 1,
			cmds: []string{"python gsm8k_test.py --model {M} --shots 8"}},
		{words: []string{"alpaca_eval", "mt_bench", "MT-Bench", "arena_hard"}, kinds: "gpu", class: Inference, profile: pEval, weight: 1,
			cmds: []string{"python gen_model_answer.py --model-path {M} --model-id m{S}", "alpaca_eval --model_outputs outputs.json"}},
		{words: []string{"lighteval"}, kinds: "gpu", class: Inference, profile: pEval, weight: 1,
			cmds: []string{"lighteval accelerate model_args.txt tasks.txt"}},
	},
	ModelFamilies: {
		{words: []string{"llama", "Llama3", "llama2", "LLaMA", "llama-3.1-8b"}, platform: true, kinds: "gpu npu dcu", class: Training, profile: pPretrain, weight: 3},
		{words: []string{"qwen", "Qwen2.5", "qwen2", "Qwen3", "qwen_7b"}, platform: true, kinds: "gpu npu dcu", class: Training, profile: pFinetune, weight: 3},
		{words: []string{"chatglm", "ChatGLM3", "glm4", "GLM-4"}, platform: true, kinds: "gpu npu", class: Training, profile: pFinetune, weight: 1},
		{words: []string{"baichuan", "Baichuan2"}, platform: true, kinds: "gpu npu", class: Training, profile: pFinetune, weight: 1},
		{words: []string{"deepseek", "DeepSeek-V3", "deepseek_moe", "DeepSeekR1"}, platform: true, kinds: "gpu npu", class: Training, profile: pPretrain, weight: 2},
		{words: []string{"mistral", "Mistral", "mixtral", "Mixtral-8x7B"}, platform: true, kinds: "gpu", class: Training, profile: pFinetune, weight: 1},
		{words: []string{"internlm", "InternLM2", "internvl"}, platform: true, kinds: "gpu", class: Training, profile: pFinetune, weight: 1},
		{words: []string{"gemma", "Gemma2", "phi3", "Phi-3"}, platform: true, kinds: "gpu", class: Training, profile: pFinetune, weight: 1},
		{words: []string{"bert", "BERT", "roberta", "RoBERTa"}, platform: true, kinds: "gpu dcu", class: Training, profile: pFinetune, weight: 2},
		{words: []string{"vit", "ViT", "clip", "CLIP", "resnet50", "ResNet"}, platform: true, kinds: "gpu dcu mlu", class: Training, profile: pFinetune, weight: 2},
		{words: []string{"gpt2", "GPT-2", "gpt_neo"}, platform: true, kinds: "gpu", class: Training, profile: pFinetune, weight: 1},
		{words: []string{"sdxl", "stable-diffusion", "StableDiffusion", "unet_ddpm"}, platform: true, kinds: "gpu", class: Training, profile: pFinetune, weight: 1},
		{words: []string{"llava", "LLaVA", "qwen_vl", "Qwen2-VL"}, platform: true, kinds: "gpu", class: Training, profile: pFinetune, weight: 1},
		// The same models served or sampled: the words alone do not tell
		// training from inference, the resources and ends do.
		{words: []string{"llama", "Llama3", "qwen", "Qwen2.5", "deepseek", "DeepSeek-R1", "glm4", "mistral"}, platform: true, kinds: "gpu npu dcu", class: Inference, profile: pBatchInf, weight: 3},
		{words: []string{"whisper", "Whisper", "sdxl", "stable-diffusion", "llava"}, platform: true, kinds: "gpu", class: Inference, profile: pBatchInf, weight: 1},
	},
	DomesticStacks: {
		{words: []string{"mindspeed", "MindSpeed", "MindSpeed-LLM", "mindspeed_llm"}, kinds: "npu", class: Training, profile: pPretrain, weight: 3,
			cmds: []string{"torchrun $DISTRIBUTED_ARGS pretrain_gpt.py --use-mcore-models --use-flash-attn --data-path {D}", "bash examples/mcore/pretrain_{W}.sh"}},
		{words: []string{"mindformers", "MindFormers", "run_mindformer"}, kinds: "npu", class: Training, profile: pPretrain, weight: 2,
			cmds: []string{"msrun --worker_num={P} --local_worker_num={G} run_mindformer.py --config {D}/finetune.yaml", "python run_mindformer.py --run_mode train"}},
		{words: []string{"mindspore", "MindSpore", "msrun"}, kinds: "npu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"msrun --worker_num={P} --local_worker_num={G} --master_port=8118 main.py", "mpirun -n {G} python mindspore_main.py --device_target Ascend"}},
		{words: []string{"torch_npu", "torchnpu", "npu_main"}, platform: true, kinds: "npu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"python -c 'import torch_npu' && torchrun --nproc_per_node {G} main.py --device npu", "source /usr/local/Ascend/ascend-toolkit/set_env.sh && python main.py --npu"}},
		{words: []string{"cann", "CANN", "ascend", "Ascend"}, platform: true, kinds: "npu", class: Training, profile: pFinetune, weight: 1,
			cmds: []string{"source /usr/local/Ascend/ascend-toolkit/set_env.sh; export HCCL_CONNECT_TIMEOUT=1200; torchrun --nproc_per_node {G} main.py"}},
		{words: []string{"mindie", "MindIE", "mindie_service"}, kinds: "npu", class: Inference, profile: pServe, weight: 3,
			cmds: []string{"/usr/local/Ascend/mindie/latest/mindie-service/bin/mindieservice_daemon", "mindie_llm_server --model {M} --npu-ids 0,1,2,3"}},
		{words: []string{"atb_llm", "ascend_infer", "acl_infer"}, kinds: "npu", class: Inference, profile: pBatchInf, weight: 1,
			cmds: []string{"python -m atb_llm.runner --model_path {M} --max_output_length 256", "python acl_infer.py --om {D}/model.om"}},
		{words: []string{"dtk", "DTK", "hip_torch", "rocm"}, platform: true, kinds: "dcu", class: Training, profile: pFinetune, weight: 3,
			cmds: []string{"module load dtk/24.04.1 && torchrun --nproc_per_node {G} main.py", "source /opt/dtk/env.sh; export HIP_VISIBLE_DEVICES=0,1,2,3; python -m torch.distributed.run --nproc_per_node {G} main.py"}},
		{words: []string{"dtk", "rocm", "DTK"}, platform: true, kinds: "dcu", class: Inference, profile: pBatchInf, weight: 1,
			cmds: []string{"module load dtk/24.04.1 && python batch_predict.py --model {M}"}},
		{words: []string{"paddle", "PaddlePaddle", "PaddleNLP", "paddlenlp", "fleetrun"}, platform: true, kinds: "gpu dcu xpu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"python -m paddle.distributed.launch --gpus 0,1,2,3 run_pretrain.py", "fleetrun --ips $IPS main.py"}},
		{words: []string{"PaddleOCR", "paddleocr", "paddle_infer", "FastDeploy"}, kinds: "gpu dcu xpu", class: Inference, profile: pBatchInf, weight: 1,
			cmds: []string{"python tools/infer/predict_system.py --image_dir {D}/imgs --use_gpu True", "paddleocr --image_dir {D} --lang ch"}},
		{words: []string{"torch_mlu", "cambricon", "Cambricon", "cnnl"}, platform: true, kinds: "mlu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"export MLU_VISIBLE_DEVICES=0,1,2,3; python main.py --device mlu", "cnmon && torchrun --nproc_per_node {G} main.py"}},
		{words: []string{"magicmind", "MagicMind", "cnrt_infer"}, kinds: "mlu", class: Inference, profile: pBatchInf, weight: 1,
			cmds: []string{"python magicmind_infer.py --model {D}/model.mm"}},
		{words: []string{"kunlun", "kunlunxin", "xpu_main", "XPURT", "bkcl"}, platform: true, kinds: "xpu", class: Training, profile: pFinetune, weight: 2,
			cmds: []string{"export XPU_VISIBLE_DEVICES=0,1,2,3,4,5,6,7; python -m paddle.distributed.launch --xpus 0,1,2,3 main.py", "BKCL_PCIE_RING=1 python main.py --device xpu"}},
	},
	Chemistry: {
		{words: []string{"g16", "gaussian", "Gaussian16"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 3, cmds: []string{"g16 < {W}.gjf > {W}.log", "g16 opt_freq.com"}},
		{words: []string{"orca", "ORCA"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 2, cmds: []string{"$ORCA_DIR/orca {W}.inp > {W}.out"}},
		{words: []string{"cp2k", "CP2K"}, kinds: "cpu dcu", class: OtherWork, profile: pHPC, weight: 2, cmds: []string{"mpirun -np {P} cp2k.psmp -i md.inp -o md.out"}},
		{words: []string{"nwchem", "NWChem"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun nwchem {W}.nw"}},
		{words: []string{"qchem", "Q-Chem"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"qchem -nt 32 {W}.in {W}.out"}},
		{words: []string{"molpro", "Molpro"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"molpro -n {P} ccsdt.com"}},
		{words: []string{"gamess", "rungms"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"rungms {W} 00 {P}"}},
		{words: []string{"psi4", "Psi4"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"psi4 -n 16 input.dat"}},
		{words: []string{"xtb", "crest"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"crest mol.xyz --gfn2 -T 32", "xtb mol.xyz --opt"}},
		{words: []string{"terachem", "TeraChem"}, kinds: "gpu", class: OtherWork, profile: pSimAccel, weight: 1, cmds: []string{"terachem {W}.in"}},
	},
	Materials: {
		{words: []string{"vasp", "VASP", "vasp_std", "vasp_gam", "vasp_ncl"}, kinds: "cpu dcu gpu", class: OtherWork, profile: pHPC, weight: 4, cmds: []string{"mpirun -np {P} vasp_std", "srun vasp_gam", "mpirun vasp_ncl > vasp.out"}},
		{words: []string{"qe", "pw.x", "quantum_espresso", "QE"}, kinds: "cpu gpu", class: OtherWork, profile: pHPC, weight: 2, cmds: []string{"mpirun -np {P} pw.x -nk 4 -in scf.in > scf.out", "srun ph.x -in ph.in"}},
		{words: []string{"lammps", "LAMMPS", "lmp"}, kinds: "cpu gpu dcu", class: OtherWork, profile: pHPC, weight: 3, cmds: []string{"mpirun -np {P} lmp -in in.{W}", "srun lmp -sf gpu -pk gpu {G} -in in.melt"}},
		{words: []string{"abinit", "ABINIT"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun abinit run.abi"}},
		{words: []string{"siesta", "SIESTA"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun siesta < {W}.fdf"}},
		{words: []string{"castep", "CASTEP"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun castep.mpi {W}"}},
		{words: []string{"phonopy", "wannier90"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"phonopy -d --dim='2 2 2'", "wannier90.x {W}"}},
		{words: []string{"gpaw", "GPAW", "elk"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun gpaw python relax.py"}},
	},
	Climate: {
		{words: []string{"wrf", "WRF", "wrf.exe", "real.exe"}, kinds: "cpu dcu", class: OtherWork, profile: pHPC, weight: 4, cmds: []string{"mpirun -np {P} ./wrf.exe", "srun ./real.exe"}},
		{words: []string{"wps", "WPS", "metgrid", "geogrid"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./metgrid.exe", "./ungrib.exe"}},
		{words: []string{"cesm", "CESM", "e3sm", "E3SM"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 2, cmds: []string{"./case.submit", "srun ./e3sm.exe"}},
		{words: []string{"mpas", "MPAS", "icon", "ICON"}, kinds: "cpu gpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./atmosphere_model", "srun icon"}},
		{words: []string{"nemo_ocean", "roms", "ROMS", "mom6"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./romsM ocean.in", "srun ./MOM6"}},
		{words: []string{"cmaq", "CMAQ", "camx"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./CCTM_v54.exe"}},
		{words: []string{"fv3", "ufs_weather", "gfs"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"srun ./ufs_model"}},
	},
	CFD: {
		{words: []string{"openfoam", "OpenFOAM", "simpleFoam", "pimpleFoam", "interFoam"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 4, cmds: []string{"mpirun -np {P} simpleFoam -parallel", "blockMesh && decomposePar && mpirun pimpleFoam -parallel"}},
		{words: []string{"fluent", "Fluent", "ansys_fluent"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 2, cmds: []string{"fluent 3ddp -g -t{P} -i run.jou"}},
		{words: []string{"su2", "SU2_CFD"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun -n {P} SU2_CFD wing.cfg"}},
		{words: []string{"nekrs", "nek5000", "NekRS"}, kinds: "cpu gpu dcu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun -np {P} nekrs --setup pipe"}},
		{words: []string{"starccm", "starccm+"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"starccm+ -batch run.java -np {P}"}},
		{words: []string{"lbm", "palabos", "waLBerla"}, kinds: "cpu gpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./palabos_cavity3d 400"}},
		{words: []string{"code_saturne", "saturne"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"code_saturne run --nprocs {P}"}},
	},
	Astrophysics: {
		{words: []string{"gadget4", "Gadget", "gadget"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 2, cmds: []string{"mpirun -np {P} ./Gadget4 param.txt"}},
		{words: []string{"arepo", "AREPO"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./Arepo param.txt 2"}},
		{words: []string{"ramses", "RAMSES"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./ramses3d cosmo.nml"}},
		{words: []string{"enzo", "Enzo"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./enzo.exe -d amr.enzo"}},
		{words: []string{"athena", "athena++"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./athena -i athinput.blast"}},
		{words: []string{"flash4", "FLASH"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./flash4"}},
		{words: []string{"pluto", "PLUTO", "changa"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./pluto -restart 3"}},
		{words: []string{"swift_cosmo", "swiftsim"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun ./swift_mpi --cosmology --self-gravity params.yml"}},
		{words: []string{"healpix", "cosmosis", "camb"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"mpirun cosmosis params.ini"}},
	},
	Bio: {
		{words: []string{"gromacs", "GROMACS", "gmx", "gmx_mpi"}, kinds: "gpu dcu cpu", class: OtherWork, profile: pSimAccel, weight: 4, cmds: []string{"gmx mdrun -deffnm md -nb gpu -pme gpu -ntomp 8", "mpirun -np {P} gmx_mpi mdrun -s topol.tpr"}},
		{words: []string{"namd", "NAMD", "namd3"}, kinds: "gpu cpu", class: OtherWork, profile: pSimAccel, weight: 2, cmds: []string{"namd3 +p8 +devices 0,1 md.conf", "charmrun namd2 +p{P} run.namd"}},
		{words: []string{"amber", "pmemd", "pmemd.cuda"}, kinds: "gpu", class: OtherWork, profile: pSimAccel, weight: 2, cmds: []string{"pmemd.cuda -O -i md.in -p sys.prmtop -c eq.rst", "mpirun pmemd.cuda.MPI -ng 4 -groupfile grp"}},
		{words: []string{"openmm", "OpenMM"}, kinds: "gpu", class: OtherWork, profile: pSimAccel, weight: 1, cmds: []string{"python simulate_openmm.py --platform CUDA"}},
		{words: []string{"relion", "RELION"}, kinds: "gpu", class: OtherWork, profile: pSimAccel, weight: 1, cmds: []string{"mpirun relion_refine_mpi --gpu --j 4 --o Refine3D/job042"}},
		{words: []string{"cryosparc", "cryoSPARC"}, kinds: "gpu", class: OtherWork, profile: pSimAccel, weight: 1, cmds: []string{"cryosparcw run --project P3 --job J118"}},
		{words: []string{"blast", "blastp", "diamond"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"blastp -query seqs.fa -db nr -num_threads 32", "diamond blastx -d nr -q reads.fq"}},
		{words: []string{"bwa", "gatk", "GATK", "samtools"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 2, cmds: []string{"bwa mem -t 32 ref.fa R1.fq R2.fq | samtools sort -o out.bam", "gatk HaplotypeCaller -R ref.fa -I in.bam"}},
		{words: []string{"hmmer", "hmmsearch", "plumed"}, kinds: "cpu", class: OtherWork, profile: pHPC, weight: 1, cmds: []string{"hmmsearch --cpu 32 pfam.hmm db.fa"}},
	},
	Analysis: {
		{words: []string{"plot", "plot_results", "make_figures", "figs"}, kinds: "gpu npu dcu cpu", class: OtherWork, profile: pAnalysis, weight: 3, cmds: []string{"python plot_results.py --in {D}", "python make_figures.py"}},
		{words: []string{"postproc", "post_process", "postprocess", "PostProcessing"}, kinds: "gpu dcu cpu", class: OtherWork, profile: pAnalysis, weight: 3, cmds: []string{"python postprocess.py {D}/out", "./postproc.sh"}},
		{words: []string{"convert", "nc2zarr", "h5_to_npy", "convert_fmt"}, kinds: "gpu npu dcu cpu", class: OtherWork, profile: pAnalysis, weight: 2, cmds: []string{"python convert_fmt.py --src {D}/raw --dst {D}/zarr", "ncks -O -d time,0,99 in.nc out.nc"}},
		{words: []string{"analyze_traj", "mdanalysis", "traj_analysis", "rmsd"}, kinds: "gpu dcu cpu", class: OtherWork, profile: pAnalysis, weight: 2, cmds: []string{"python analyze_traj.py -f md.xtc -s md.tpr", "gmx rms -s md.tpr -f md.xtc"}},
		{words: []string{"pvbatch", "paraview", "visit_render", "render"}, kinds: "gpu cpu", class: OtherWork, profile: pAnalysis, weight: 1, cmds: []string{"pvbatch render_frames.py", "ffmpeg -i frame_%04d.png movie.mp4"}},
		{words: []string{"stats", "collect_stats", "summarize", "aggregate"}, kinds: "gpu npu dcu cpu", class: OtherWork, profile: pAnalysis, weight: 2, cmds: []string{"python collect_stats.py --glob '{D}/*.csv'"}},
		{words: []string{"cupy_fft", "rapids_etl", "cudf_join"}, kinds: "gpu", class: OtherWork, profile: pAnalysis, weight: 1, cmds: []string{"python cudf_join.py --parts 64"}},
	},
	Binaries: {
		{words: []string{"a.out"}, kinds: "gpu dcu cpu npu", class: OtherWork, profile: pBinary, weight: 3, cmds: []string{"./a.out", "srun ./a.out 1024"}},
		{words: []string{"main", "solver", "sim", "mycode"}, kinds: "gpu dcu cpu", class: OtherWork, profile: pBinary, weight: 3, cmds: []string{"./build/{W} input.dat", "mpirun -np {P} ./bin/{W}"}},
		{words: []string{"xhpl", "hpl", "HPL", "hpcg"}, kinds: "gpu dcu cpu", class: OtherWork, profile: pBinary, weight: 1, cmds: []string{"mpirun -np {P} ./xhpl", "srun ./xhpcg"}},
		{words: []string{"nbody", "stream", "bandwidthTest", "saxpy"}, kinds: "gpu dcu", class: OtherWork, profile: pBinary, weight: 2, cmds: []string{"./nbody -benchmark -numbodies=1048576", "./bandwidthTest --memory=pinned"}},
		{words: []string{"fdtd3d", "lbm3d", "stencil", "heat2d"}, kinds: "gpu dcu cpu", class: OtherWork, profile: pBinary, weight: 2, cmds: []string{"mpirun ./{W} -n 4096", "./{W}_hip 256 256 256"}},
	},
}

// Words of no family, for the parts of a job that say nothing.
var (
	// plainScripts are batch script names that carry no term.
	plainScripts = []string{"job.sh", "run.sh", "submit.sh", "job.slurm", "go.sh", "sub.sh", "batch.sh", "run1.sh", "start.sh", "launch.sh", "a.sh", "test.sh"}
	// plainNames are job names that carry no term.
	plainNames = []string{"job", "test", "run", "myjob", "bash", "sh", "interactive", "tmp", "x", "a", "run1", "job2", "try", "new", "debug", "测试", "作业", "实验1", "任务"}
	// plainPython are script names of bare python jobs.
	plainPython = []string{"x.py", "main.py", "run.py", "script.py", "test.py", "a.py", "go.py", "exp.py", "demo.py", "new.py", "job.py", "tmp1.py"}
	// models are weights paths that name no model family.
	models = []string{"/share/weights/m1", "/data/ckpt_v3", "/models/base", "/share/hf/snap-20261021", "/gpfs/models/x", "./out/final", "/home/{U}/weights/v2"}
	// dataDirs name data without saying what it is for.
	dataDirs = []string{"/data/{U}/ds1", "/gpfs/{U}/corpus", "/share/datasets/v2", "/scratch/{U}/in", "/data/{A}/shared", "/lustre/{U}/set3"}
	// cnWords are Chinese words users put in job names.
	cnWords = []string{"测试", "实验", "正式", "新", "第二轮", "调参", "对比", "复现", "最终"}
	// trainTasks and inferTasks are the words users add to say what a
	// job does.
	trainTasks = []string{"train", "pretrain", "finetune", "sft", "ft", "cpt"}
	inferTasks = []string{"infer", "gen", "generate", "predict", "sample", "chat", "batch_infer"}
	// comments are free-text comments that some sites ask for.
	comments = []string{"", "", "", "", "", "", "", "", "priority", "deadline 12/20", "rerun", "ticket 4711", "see wiki", "urgent", "proj review", "重跑"}
)
