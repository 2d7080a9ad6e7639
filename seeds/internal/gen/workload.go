package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// class is the workload class a template is written to show. The generator
// never calls scmon's classifier: the seed must not change when the rules
// do. The seeds test checks that the classifier agrees.
type class uint8

const (
	cTrain class = iota
	cInfer
	cOther
	cUnknown
	nClasses
)

var classNames = [nClasses]string{"ai_training", "ai_inference", "other", "unknown"}

// group is one part of a request: nodes nodes with cores and accels on
// each. A job has one group, a heterogeneous job one per component.
type group struct {
	nodes, cores, accels int
}

// whole reports whether the group takes whole nodes of p.
func (g group) whole(p *partition) bool { return g.cores == p.cores && g.accels == p.accels }

// step is one srun step of a job: its executable name and command line,
// and its share of the job's planned run time (steps run one after another).
type step struct {
	name, cmd string
	share     float64
}

// jobText is what the user wrote: names, commands, directories.
type jobText struct {
	name, submit, workDir, comment string
	steps                          []step
	// interactive jobs were submitted with srun or salloc: no batch step.
	interactive bool
}

// textCtx is what a template needs to know to write a job's text.
type textCtx struct {
	user  *user
	p     *partition
	g     group // the first (or only) group
	nodes []string
	// task is the array task id, or -1; tasks the number of tasks and
	// throttle the %N suffix of the --array option ("" when none).
	task     int
	tasks    int
	throttle string
	// submit is when the job was submitted (Unix seconds); limit its time
	// limit in seconds (0: none given or unlimited).
	submit, limit int64
}

// recentDate returns a date (YYYYMMDD) up to back days before the job was
// submitted: the forecast or data a job works on.
func (c *textCtx) recentDate(r *rand.Rand, back int) string {
	return time.Unix(c.submit-int64(r.IntN(back+1))*day, 0).In(zone).Format("20060102")
}

// first returns the first node of the allocation, as a launcher's
// rendezvous address.
func (c *textCtx) first() string {
	if len(c.nodes) == 0 {
		return c.p.nodeName(0)
	}
	return c.nodes[0]
}

// home returns the user's home directory joined with parts.
func (c *textCtx) home(parts ...string) string {
	return "/public/home/" + c.user.name + "/" + strings.Join(parts, "/")
}

// workload is a template of jobs of one kind: what they ask for, how long
// they run, and what their names and commands look like.
type workload struct {
	id     string
	part   int
	class  class
	weight float64
	// fields are the account fields whose users run it.
	fields []string
	// size returns the groups the job asks for.
	size func(r *rand.Rand, p *partition) []group
	// runtime returns how long the work takes when nothing goes wrong.
	runtime func(r *rand.Rand) int64
	// serving jobs run until stopped: TIMEOUT at their limit, or cancelled.
	serving bool
	// noTimeP is the probability of no --time (Partition_Limit), unlimitedP
	// of --time=UNLIMITED (partitions without MaxTime only).
	noTimeP, unlimitedP float64
	// failP is the probability of an early failure.
	failP float64
	// array returns the task count and throttle of an array job (nil: none).
	array func(r *rand.Rand) (n, throttle int)
	// text writes the job's names and commands.
	text func(r *rand.Rand, c *textCtx) jobText
}

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pickW returns xs[i] with probability proportional to ws[i].
func pickW[T any](r *rand.Rand, xs []T, ws []float64) T {
	total := 0.0
	for _, w := range ws {
		total += w
	}
	u := r.Float64() * total
	for i, w := range ws {
		if u < w {
			return xs[i]
		}
		u -= w
	}
	return xs[len(xs)-1]
}

// logU returns a duration log-uniformly distributed in [lo, hi] seconds,
// rounded down to whole seconds.
func logU(r *rand.Rand, lo, hi int64) int64 {
	a, b := ln(float64(lo)), ln(float64(hi))
	return int64(exp(a + float64(r.Float64()*(b-a))))
}

// ln and exp use only IEEE arithmetic, rounded at every step (an explicit
// float64 conversion forbids fused multiply-add), so that the generator
// writes the same bytes on every machine: math.Log and math.Exp have
// assembly versions whose last bit may depend on the CPU.
const ln2 = 0.693147180559945309417232121458176568

func ln(x float64) float64 {
	m, e := math.Frexp(x) // x = m * 2^e, m in [0.5, 1)
	s := float64(m-1) / float64(m+1)
	s2 := float64(s * s)
	sum, term := 0.0, s
	for k := 1; k < 80; k += 2 {
		sum += float64(term / float64(k))
		term = float64(term * s2)
	}
	return float64(2*sum) + float64(float64(e)*ln2)
}

func exp(y float64) float64 {
	k := math.Floor(float64(y/ln2) + 0.5)
	r := y - float64(k*ln2)
	sum, term := 1.0, 1.0
	for n := 1; n < 30; n++ {
		term = float64(term*r) / float64(n)
		sum += term
	}
	return math.Ldexp(sum, int(k))
}

// between returns an integer uniformly distributed in [lo, hi].
func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// wholeNodes asks for whole nodes, n drawn from ns with weights ws.
func wholeNodes(ns []int, ws []float64) func(*rand.Rand, *partition) []group {
	return func(r *rand.Rand, p *partition) []group {
		return []group{{nodes: pickW(r, ns, ws), cores: p.cores, accels: p.accels}}
	}
}

// coresOnly asks for part of one node: cores from cs, with the given
// accelerators (the forced minimum on the DCU partition).
func coresOnly(cs []int, accels int) func(*rand.Rand, *partition) []group {
	return func(r *rand.Rand, p *partition) []group {
		return []group{{nodes: 1, cores: pick(r, cs), accels: accels}}
	}
}

// accelSlice asks for n accelerators of one node with coresPer cores each
// (n drawn from ns with weights ws); all of a node's accelerators take the
// whole node.
func accelSlice(ns []int, ws []float64, coresPer int) func(*rand.Rand, *partition) []group {
	return func(r *rand.Rand, p *partition) []group {
		n := pickW(r, ns, ws)
		if n >= p.accels {
			return []group{{nodes: 1, cores: p.cores, accels: p.accels}}
		}
		return []group{{nodes: 1, cores: n * coresPer, accels: n}}
	}
}

// shapes mixes size functions with weights.
func shapes(fs []func(*rand.Rand, *partition) []group, ws []float64) func(*rand.Rand, *partition) []group {
	return func(r *rand.Rand, p *partition) []group {
		return pickW(r, fs, ws)(r, p)
	}
}

// span returns a runtime function log-uniform in [lo, hi].
func span(lo, hi int64) func(*rand.Rand) int64 {
	return func(r *rand.Rand) int64 { return logU(r, lo, hi) }
}

// totals returns the nodes, cores and accelerators of a request.
func totals(gs []group) (nodes, cores, accels int) {
	for _, g := range gs {
		nodes += g.nodes
		cores += g.nodes * g.cores
		accels += g.nodes * g.accels
	}
	return
}

// sbatch writes a submit line for script, with some of the options users
// put on the command line rather than in the script.
func sbatch(r *rand.Rand, c *textCtx, script string) string {
	var b strings.Builder
	b.WriteString("sbatch")
	switch r.IntN(6) {
	case 0:
		fmt.Fprintf(&b, " -p %s", c.p.name)
	case 1:
		fmt.Fprintf(&b, " -p %s -N %d", c.p.name, c.g.nodes)
	case 2:
		if c.g.accels > 0 {
			fmt.Fprintf(&b, " --gres=%s:%d", c.p.gres, c.g.accels)
		} else {
			fmt.Fprintf(&b, " -N %d", c.g.nodes)
		}
	}
	b.WriteByte(' ')
	b.WriteString(script)
	return b.String()
}

// wrap writes an sbatch --wrap submit line around a shell command.
func wrap(c *textCtx, cmd string) string {
	opts := fmt.Sprintf("-p %s -N 1 -n %d", c.p.name, c.g.cores)
	if c.g.accels > 0 {
		opts += fmt.Sprintf(" --gres=%s:%d", c.p.gres, c.g.accels)
	}
	return fmt.Sprintf("sbatch %s --wrap=\"%s\"", opts, cmd)
}

// one returns a single step.
func one(name, cmd string) []step { return []step{{name: name, cmd: cmd, share: 1}} }

// Shared vocabularies.
var (
	materials = []string{"LiCoO2", "MoS2", "Pt111_OH", "NiFe_LDH", "TiO2_anatase", "Si_vac", "CsPbI3", "Fe3O4",
		"graphene_N", "Cu2O", "BaTiO3", "MAPbI3", "Li3PS4", "CoOOH", "WSe2", "NbSe2", "Bi2Se3", "LaNiO3",
		"Na3V2PO4", "ZnO_110", "Ir_O2", "CeO2_Pt", "hBN_C", "Li6PS5Cl", "SrTiO3"}
	vaspCalcs = []string{"relax", "scf", "band", "dos", "aimd", "neb", "opt", "phonon", "elastic", "surf"}
	proteins  = []string{"lysozyme", "1AKI", "kras_g12d", "spike_rbd", "gpcr_b2ar", "abl_kinase", "hsp90",
		"mpro", "ace2", "tau_pf", "cas9", "kcsa", "p53_dbd", "egfr", "bace1", "pdz3"}
	mdSystems = []string{"cu_grain", "al_shock", "sio2_melt", "ni_crack", "lj_fluid", "water_ice", "peo_litfsi",
		"hea_cocrfeni", "graphene_fric", "ti_creep", "epoxy_xlink", "fe_he"}
	models = []string{"Qwen2.5-7B-Instruct", "Qwen2.5-14B-Instruct", "Qwen2.5-32B-Instruct", "Qwen2.5-72B-Instruct",
		"Qwen3-8B", "Qwen3-32B", "Llama-3.1-8B-Instruct", "Llama-3.1-70B-Instruct", "DeepSeek-R1-Distill-Qwen-32B",
		"glm-4-9b-chat", "internlm2_5-7b-chat", "Baichuan2-13B-Chat", "Mistral-7B-Instruct-v0.3", "MiniCPM3-4B",
		"Yi-1.5-34B-Chat"}
	smallModels = []string{"Qwen2.5-7B-Instruct", "Qwen3-8B", "Llama-3.1-8B-Instruct", "glm-4-9b-chat",
		"internlm2_5-7b-chat", "MiniCPM3-4B", "Qwen2.5-1.5B", "Qwen2.5-3B-Instruct"}
	sftData = []string{"alpaca_zh", "belle_2m", "firefly", "sharegpt_zh", "med_qa", "law_sft_v2", "code_alpaca",
		"identity", "math_cot", "fin_instruct", "agri_qa", "chem_instruct"}
	comments = []string{"NSFC 22173012", "resubmit after node failure", "continue from checkpoint",
		"paper revision, urgent", "thesis calc", "毕业论文计算", "重算", "国家重点研发计划", "test new input",
		"rerun with larger ENCUT", "project 2026-A17", "converge test"}
	aiComments = []string{"resume from checkpoint", "ckpt every 1000 steps", "for rebuttal experiments",
		"demo for review meeting", "客户项目", "baseline run", "project 2026-A17"}
)

// modelName picks a model and returns its short tag: qwen2.5-7b.
func modelTag(m string) string {
	m = strings.ToLower(m)
	m = strings.TrimSuffix(m, "-instruct")
	m = strings.TrimSuffix(m, "-chat")
	return m
}
