// Package labgen generates labelled Slurm centers for measuring the
// classifier on habits it was not written for.
//
// A center has CPU, NVIDIA, Ascend NPU, Hygon DCU (accelerators forced on
// every job), Cambricon and Kunlun partitions; accounts with habits (a
// group that mostly trains, one that mostly serves, simulation labs that
// mostly run HPC codes, mixed departments); and jobs whose names, scripts,
// commands and directories are built from term families (vocab.go) in the
// shapes real users give them. Every job carries its true class and the
// family its evidence comes from, so an evaluation can hold a family out
// of the classifier and measure what is left on that family's jobs.
//
// The truth is kept beside the records, never in them: no field carries a
// class name or a family name, and no account, user or QOS decides the
// class on its own (the package test checks both).
//
// Generation is deterministic: the same Config gives the same records and
// the same dump, byte for byte. Job i draws from its own random stream, so
// asking for more jobs only adds jobs.
package labgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scmon/scmon/job"
)

// Defaults of a Config.
const (
	DefaultJobs    = 12000
	DefaultDays    = 14
	DefaultCluster = "lab"
)

// DefaultStart is where a center's window begins when Config.Start is zero.
var DefaultStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// Config sets the size and the randomness of a center.
type Config struct {
	// Seed chooses the center; centers of different seeds share habits
	// and vocabulary but no job.
	Seed uint64
	// Jobs is the number of submissions (an array counts once); zero
	// means DefaultJobs.
	Jobs int
	// Start is the beginning of the window, Days its length; the dump is
	// taken at its end. Zero values mean DefaultStart and DefaultDays.
	Start time.Time
	Days  int
}

// Truth is what a job really is.
type Truth struct {
	// Class is ai_training, ai_inference or other.
	Class string
	// Family is the family its evidence comes from (see Families).
	Family string
	// Word is the spelling that carries the evidence; empty for the
	// families without vocabulary.
	Word string
	// Place says where the word was put: name, script, command, workdir
	// or all; empty for the families without vocabulary.
	Place string
}

// Center is a generated center: its records (one per run of an
// allocation; requeued runs are separate records with the same JobID),
// the truth of every job id, and what its dump needs to be written.
type Center struct {
	// Cluster is the cluster name on every record.
	Cluster string
	// Start and End bound the window; the dump is taken at End.
	Start, End time.Time
	// Records are the runs in dump order (by job id, then run).
	Records []*job.Record
	// Truth maps every JobID to its truth.
	Truth map[string]Truth
	// Forced names the partitions that force accelerators on every job,
	// as the center's inventory would declare them.
	Forced []string

	// dup marks records whose lines the dump repeats (an overlapping
	// poll); early marks records the dump also shows, earlier, as still
	// running (a poll taken before they ended).
	dup, early map[int]bool
	// parts finds a record's partition by name.
	parts map[string]*partition
}

// partition is one Slurm partition of the center.
type partition struct {
	name, kind   string
	gres, gtype  string
	prefix       string
	nodes, cores int
	accels       int
	memPerCore   int64 // MB
	forced       bool
}

var partitions = []partition{
	{name: "cpu", kind: "cpu", prefix: "cn", nodes: 256, cores: 64, memPerCore: 4000},
	{name: "a100", kind: "gpu", gres: "gpu", gtype: "a100", prefix: "gn", nodes: 48, cores: 64, accels: 8, memPerCore: 16000},
	{name: "ascend", kind: "npu", gres: "npu", gtype: "910b", prefix: "an", nodes: 32, cores: 192, accels: 8, memPerCore: 8000},
	{name: "dcu", kind: "dcu", gres: "dcu", gtype: "k100", prefix: "dn", nodes: 64, cores: 32, accels: 4, memPerCore: 4000, forced: true},
	{name: "mlu", kind: "mlu", gres: "mlu", gtype: "mlu370", prefix: "mn", nodes: 4, cores: 64, accels: 8, memPerCore: 8000},
	{name: "kunlun", kind: "xpu", gres: "xpu", gtype: "r200", prefix: "kn", nodes: 4, cores: 64, accels: 8, memPerCore: 8000},
}

func partitionOfKind(kind string) *partition {
	for i := range partitions {
		if partitions[i].kind == kind {
			return &partitions[i]
		}
	}
	panic("labgen: no partition of kind " + kind)
}

// Generate builds a center.
func Generate(cfg Config) *Center {
	if cfg.Jobs <= 0 {
		cfg.Jobs = DefaultJobs
	}
	if cfg.Days <= 0 {
		cfg.Days = DefaultDays
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	c := &Center{
		Cluster: DefaultCluster,
		Start:   cfg.Start.UTC(),
		End:     cfg.Start.UTC().Add(time.Duration(cfg.Days) * 24 * time.Hour),
		Truth:   map[string]Truth{},
		dup:     map[int]bool{},
		early:   map[int]bool{},
		parts:   map[string]*partition{},
	}
	for i := range partitions {
		p := &partitions[i]
		c.parts[p.name] = p
		if p.forced {
			c.Forced = append(c.Forced, p.name)
		}
	}
	users := makeUsers(rand.New(rand.NewPCG(cfg.Seed, 0x5eed)))
	var total float64
	for _, u := range users {
		total += u.activity
	}
	g := &gen{c: c, users: users, total: total}
	var subs []*submission
	for i := range cfg.Jobs {
		r := rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1))
		subs = append(subs, g.submission(r))
	}
	// Job ids follow submission time, as a scheduler gives them.
	slices.SortStableFunc(subs, func(a, b *submission) int { return a.submit.Compare(b.submit) })
	next := 4_100_000
	for _, s := range subs {
		id := next
		next++
		g.emit(s, id, &next)
	}
	return c
}

// gen holds what generating a center needs across jobs.
type gen struct {
	c     *Center
	users []*user
	total float64
}

// submission is one sbatch or salloc: a job or an array of tasks.
type submission struct {
	r       *rand.Rand
	u       *user
	p       *partition
	truth   Truth
	profile int
	submit  time.Time
	nodes   int
	accels  int // per node
	cores   int // per node
	limit   time.Duration
	qos     string
	comment string
	text    jobText
	tasks   int // 0: not an array
	// interactive jobs have no batch step.
	interactive bool
}

// jobText is what a job says about itself.
type jobText struct {
	name, submitLine, workDir string
	steps                     []stepText
}

type stepText struct{ name, cmd string }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted returns an index drawn with the given weights.
func weighted(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	if sum <= 0 {
		return -1
	}
	t := r.Float64() * sum
	for i, x := range w {
		t -= x
		if t < 0 && x > 0 {
			return i
		}
	}
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return -1
}

func weightedKey(r *rand.Rand, m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w := make([]float64, len(keys))
	for i, k := range keys {
		w[i] = m[k]
	}
	return keys[weighted(r, w)]
}

var classOrder = [3]string{Training, Inference, OtherWork}

// candidate is a term a job of an account could be made from.
type candidate struct {
	family string
	t      *term
}

// candidates lists the terms of the account's families for a class on a
// partition kind, with their weights.
func candidates(a *account, class, kind string) ([]candidate, []float64) {
	var cs []candidate
	var ws []float64
	for _, fam := range Families() {
		pref := a.families[fam]
		if pref <= 0 {
			continue
		}
		for i := range vocabulary[fam] {
			t := &vocabulary[fam][i]
			if t.class != class || !slices.Contains(strings.Fields(t.kinds), kind) {
				continue
			}
			cs = append(cs, candidate{fam, t})
			ws = append(ws, pref*t.weight)
		}
	}
	return cs, ws
}

func (g *gen) submission(r *rand.Rand) *submission {
	w := make([]float64, len(g.users))
	for i, u := range g.users {
		w[i] = u.activity
	}
	u := g.users[weighted(r, w)]
	a := u.account
	p := partitionOfKind(weightedKey(r, a.kinds))
	s := &submission{r: r, u: u, p: p}
	days := g.c.End.Sub(g.c.Start).Hours() / 24
	s.submit = g.c.Start.Add(time.Duration(r.Float64() * days * 24 * float64(time.Hour))).Truncate(time.Second)

	cls := classOrder[weighted(r, a.classes[:])]
	var chosen *term
	roll := r.Float64()
	switch {
	case roll < a.bare:
		s.truth = Truth{Class: cls, Family: BarePython}
	case roll < a.bare+a.silent:
		s.truth = Truth{Class: cls, Family: NoEvidence}
	default:
		cs, ws := candidates(a, cls, p.kind)
		if len(cs) == 0 {
			// The account never does this class on this partition: take
			// the class it does there.
			var alt []float64
			for k, c := range classOrder {
				x, _ := candidates(a, c, p.kind)
				if len(x) > 0 {
					alt = append(alt, a.classes[k]+0.01)
				} else {
					alt = append(alt, 0)
				}
			}
			k := weighted(r, alt)
			if k < 0 {
				s.truth = Truth{Class: cls, Family: BarePython}
				break
			}
			cls = classOrder[k]
			cs, ws = candidates(a, cls, p.kind)
		}
		c := cs[weighted(r, ws)]
		chosen = c.t
		s.truth = Truth{Class: cls, Family: c.family, Word: pick(r, c.t.words)}
		s.profile = c.t.profile
	}
	switch s.truth.Family {
	case BarePython:
		s.profile = habitProfile(r, s.truth.Class, p, false)
	case NoEvidence:
		s.profile = habitProfile(r, s.truth.Class, p, true)
		s.interactive = r.IntN(3) == 0
	}
	g.resources(s)
	switch s.truth.Family {
	case BarePython:
		s.text = g.bareText(s)
	case NoEvidence:
		s.text = g.silentText(s)
	default:
		s.text = g.termText(s, chosen)
	}
	return s
}

// habitProfile chooses the resource profile of a job without vocabulary
// from its true class.
func habitProfile(r *rand.Rand, class string, p *partition, silent bool) int {
	if silent && r.IntN(2) == 0 {
		return pShort
	}
	switch class {
	case Training:
		return pFinetune
	case Inference:
		return pick(r, []int{pEval, pBatchInf})
	}
	if p.kind == "cpu" {
		return pick(r, []int{pHPC, pAnalysis})
	}
	return pick(r, []int{pAnalysis, pBinary})
}

// lognormal draws a duration in hours around median, clipped.
func lognormal(r *rand.Rand, median, sigma, lo, hi float64) float64 {
	return math.Min(hi, math.Max(lo, median*math.Exp(sigma*r.NormFloat64())))
}

// hours draws how long the work of a profile runs if nothing stops it.
func hours(r *rand.Rand, profile int) float64 {
	switch profile {
	case pPretrain:
		return lognormal(r, 30, 0.8, 1, 160)
	case pFinetune:
		return lognormal(r, 6, 1, 0.2, 72)
	case pServe:
		return lognormal(r, 20, 1, 0.5, 96)
	case pEval:
		return lognormal(r, 1.2, 0.9, 0.05, 12)
	case pBatchInf:
		return lognormal(r, 3, 1, 0.1, 24)
	case pSimAccel:
		return lognormal(r, 20, 0.8, 1, 96)
	case pHPC:
		return lognormal(r, 8, 1.1, 0.1, 96)
	case pAnalysis:
		return lognormal(r, 0.5, 1, 0.02, 6)
	case pBinary:
		return lognormal(r, 1.5, 1.2, 0.02, 24)
	}
	return lognormal(r, 0.4, 1.2, 0.01, 8)
}

// resources sets nodes, accelerators, cores, the time limit and QOS.
func (g *gen) resources(s *submission) {
	r, p := s.r, s.p
	full := func() { s.accels, s.cores = p.accels, p.cores }
	part := func(choices []int) {
		if p.accels == 0 {
			s.accels = 0
			s.cores = pick(r, []int{4, 8, 16, 32})
			return
		}
		s.accels = min(pick(r, choices), p.accels)
		s.cores = max(1, p.cores*s.accels/p.accels)
	}
	s.nodes = 1
	switch s.profile {
	case pPretrain:
		s.nodes = []int{1, 2, 4, 8, 16}[weighted(r, []float64{2, 3, 3, 2, 1})]
		full()
	case pFinetune:
		s.nodes = pick(r, []int{1, 1, 1, 2, 4})
		part([]int{2, 4, 8, 8})
		if s.nodes > 1 {
			full()
		}
	case pServe, pEval:
		part([]int{1, 2, 4, 8})
	case pBatchInf:
		part([]int{1, 2, 4})
	case pSimAccel:
		s.nodes = pick(r, []int{1, 1, 1, 2})
		part([]int{1, 2, 4})
	case pHPC:
		if p.kind == "cpu" && r.IntN(10) < 3 {
			s.cores = pick(r, []int{8, 16, 32})
		} else {
			s.nodes = pick(r, []int{1, 1, 2, 4, 8, 16, 32})
			if p.kind != "cpu" {
				s.nodes = pick(r, []int{1, 1, 2, 4})
			}
			full()
		}
	case pAnalysis:
		part([]int{1, 1, 2})
	case pBinary:
		s.nodes = pick(r, []int{1, 1, 1, 2})
		part([]int{1, 2, 4, 8})
	default:
		part([]int{1, 1, 2, 4, 8})
	}
	if p.forced && s.accels == 0 {
		s.accels = 1 // the partition forces one on every job
	}
	switch s.profile {
	case pPretrain:
		s.limit = pick(r, []time.Duration{72, 120, 168}) * time.Hour
	case pServe:
		s.limit = pick(r, []time.Duration{24, 48, 72}) * time.Hour
	default:
		s.limit = time.Duration(math.Ceil(hours(r, s.profile)*(1.5+2*r.Float64()))) * time.Hour
		s.limit = min(max(s.limit, time.Hour), 168*time.Hour)
	}
	switch {
	case s.limit > 48*time.Hour:
		s.qos = "long"
	case s.limit <= time.Hour && r.IntN(2) == 0:
		s.qos = "debug"
	default:
		s.qos = "normal"
	}
	s.comment = pick(r, comments)
	arrayable := s.profile == pHPC || s.profile == pBatchInf || s.profile == pEval || s.profile == pAnalysis
	if arrayable && r.IntN(100) < 12 && !s.interactive {
		s.tasks = 4 + r.IntN(29)
	}
}

// fill replaces the placeholders of a command template.
func (s *submission) fill(tmpl, word string) string {
	r := s.r
	repl := strings.NewReplacer(
		"{G}", strconv.Itoa(max(s.accels, 1)),
		"{N}", strconv.Itoa(s.nodes),
		"{P}", strconv.Itoa(max(s.nodes*max(s.accels, 1), s.nodes*s.cores/4)),
		"{M}", s.local(pick(r, models)),
		"{D}", s.local(pick(r, dataDirs)),
		"{W}", strings.ToLower(strings.NewReplacer(".", "_", "+", "", " ", "_").Replace(word)),
		"{S}", strconv.Itoa(100+r.IntN(900)),
	)
	return repl.Replace(tmpl)
}

// local fills the user and account of a path.
func (s *submission) local(path string) string {
	return strings.NewReplacer("{U}", s.u.name, "{A}", s.u.account.name).Replace(path)
}

// genericCommands run something without saying what.
var genericCommands = []string{"python main.py", "bash run.sh", "./launch.sh", "python3 -u run.py --cfg cfg.yaml", "python main.py --config config.yaml", "sh start.sh", "python -u main.py"}

// termText writes the text of a job made from a term: the word goes to
// one place (or all), the rest says nothing.
func (g *gen) termText(s *submission, t *term) jobText {
	r := s.r
	w := s.truth.Word
	var task string
	if t.platform && r.IntN(10) < 6 {
		tasks := trainTasks
		if t.class == Inference {
			tasks = inferTasks
		}
		task = pick(r, tasks)
		switch r.IntN(3) {
		case 0:
			w += "_" + task
		case 1:
			w = task + "_" + w
		default:
			w = camel(w, task)
		}
	}
	places := []string{"name", "script", "command", "workdir", "all"}
	place := places[weighted(r, []float64{30, 25, 20, 10, 15})]
	s.truth.Place = place
	var txt jobText
	script := pick(r, plainScripts)
	txt.name = script
	txt.workDir = s.local(pick(r, []string{"/home/{U}", "/home/{U}/work", "/data/{U}/exp", "/gpfs/{A}/{U}", "/scratch/{U}/run" + strconv.Itoa(r.IntN(40))}))
	cmd := pick(r, genericCommands)
	termCmd := func() string {
		if len(t.cmds) > 0 {
			return s.fill(pick(r, t.cmds), w)
		}
		if task != "" {
			return s.fill(pick(r, []string{"python " + task + ".py --model {W}", "python " + task + "_main.py --model_name_or_path {M} --arch {W}", "bash scripts/" + task + "_{W}.sh"}), w)
		}
		return s.fill(pick(r, []string{"python main.py --model_name {W}", "python run.py --config configs/{W}.yaml", "bash scripts/{W}.sh", "python gen.py --model /models/{W}", "python -u main.py --arch {W}"}), w)
	}
	switch place {
	case "name":
		txt.name = nameShape(r, w)
	case "script":
		script = scriptShape(r, w)
		txt.name = script
	case "command":
		cmd = termCmd()
	case "workdir":
		txt.workDir = dirShape(r, w, s)
	case "all":
		txt.name = nameShape(r, w)
		cmd = termCmd()
		if r.IntN(2) == 0 {
			txt.workDir = dirShape(r, w, s)
		}
	}
	txt.submitLine = s.sbatch(script)
	txt.steps = s.stepsFor(cmd)
	return txt
}

// bareText writes a bare `python x.py` job.
func (g *gen) bareText(s *submission) jobText {
	r := s.r
	py := pick(r, plainPython)
	txt := jobText{workDir: s.local(pick(r, []string{"/home/{U}", "/home/{U}/code", "/data/{U}/x", "/scratch/{U}"}))}
	if r.IntN(2) == 0 {
		txt.name = pick(r, []string{"python", py, strings.TrimSuffix(py, ".py")})
		txt.submitLine = s.sbatch(pick(r, plainScripts))
		txt.steps = s.stepsFor("python " + py)
	} else {
		// sbatch --wrap: the command is the submit line.
		txt.name = "wrap"
		txt.submitLine = fmt.Sprintf("sbatch -p %s --wrap=\"python %s\"", s.p.name, py)
		txt.steps = s.stepsFor("")
	}
	return txt
}

// silentText writes a job that says nothing: an interactive shell, a
// test script, a name of digits.
func (g *gen) silentText(s *submission) jobText {
	r := s.r
	txt := jobText{workDir: s.local(pick(r, []string{"/home/{U}", "/home/{U}", "/scratch/{U}", "/data/{U}"}))}
	switch {
	case s.interactive:
		txt.name = pick(r, []string{"bash", "interactive", "sh", "zsh"})
		txt.submitLine = fmt.Sprintf("salloc -p %s -N %d", s.p.name, 1)
		txt.steps = []stepText{{name: txt.name, cmd: "srun --pty " + txt.name}}
	case r.IntN(2) == 0:
		script := pick(r, plainScripts)
		txt.name = pick(r, plainNames)
		txt.submitLine = s.sbatch(script)
		txt.steps = s.stepsFor(pick(r, []string{"", "./" + script, "bash " + script}))
	default:
		txt.name = strconv.Itoa(r.IntN(100000))
		if r.IntN(2) == 0 {
			txt.name = fmt.Sprintf("%x", r.Uint32())
		}
		txt.submitLine = s.sbatch(txt.name + ".sh")
		txt.steps = s.stepsFor("")
	}
	return txt
}

// sbatch writes the submit line of a batch script.
func (s *submission) sbatch(script string) string {
	r := s.r
	var b strings.Builder
	b.WriteString("sbatch")
	if r.IntN(3) > 0 {
		b.WriteString(" -p " + s.p.name)
	}
	if s.nodes > 1 || r.IntN(3) == 0 {
		fmt.Fprintf(&b, " -N %d", s.nodes)
	}
	if s.accels > 0 && s.p.gres != "" && !s.p.forced && r.IntN(4) > 0 {
		fmt.Fprintf(&b, " --gres=%s:%d", s.p.gres, s.accels)
	}
	if s.tasks > 0 {
		fmt.Fprintf(&b, " --array=0-%d%%%d", s.tasks-1, 2+r.IntN(8))
	}
	if r.IntN(3) == 0 {
		b.WriteString(" scripts/" + script)
	} else {
		b.WriteString(" " + script)
	}
	return b.String()
}

// stepsFor writes the srun steps that run cmd (none when cmd is empty:
// the batch script does the work).
func (s *submission) stepsFor(cmd string) []stepText {
	if cmd == "" {
		return nil
	}
	full := cmd
	if !strings.HasPrefix(cmd, "srun") {
		full = "srun " + cmd
	}
	return []stepText{{name: exeName(cmd), cmd: full}}
}

// exeName is the step name sacct shows: the executable srun started.
func exeName(cmd string) string {
	for _, f := range strings.Fields(cmd) {
		if f == "srun" || strings.HasPrefix(f, "-") || strings.Contains(f, "=") {
			continue
		}
		if i := strings.LastIndexByte(f, '/'); i >= 0 {
			f = f[i+1:]
		}
		return f
	}
	return "bash"
}

var dateStamps = []string{"20261103", "1105", "2026-11-09", "1112", "20261116", "v2", "r3", "0901"}

// nameShape writes a job name around a word as users do.
func nameShape(r *rand.Rand, w string) string {
	clean := strings.NewReplacer(" ", "_", "+", "p").Replace(w)
	switch r.IntN(9) {
	case 0:
		return clean
	case 1:
		return clean + "_gpt"
	case 2:
		return camel(pick(r, []string{"my", "new", "big", "test"}), clean)
	case 3:
		return clean + strconv.Itoa(1+r.IntN(12))
	case 4:
		return clean + "_" + pick(r, dateStamps)
	case 5:
		return pick(r, cnWords) + "_" + clean
	case 6:
		return clean + pick(r, cnWords)
	case 7:
		return strings.ToUpper(clean[:1]) + clean[1:] + "-" + pick(r, []string{"exp", "run", "base", "7b", "large", "v3"})
	}
	return pick(r, []string{"exp", "job", "x"}) + strconv.Itoa(r.IntN(100)) + "-" + clean
}

// camel joins a prefix and a word in camelCase: "my" + "vasp" = "myVasp".
func camel(prefix, w string) string {
	if w == "" {
		return prefix
	}
	return prefix + strings.ToUpper(w[:1]) + w[1:]
}

// scriptShape writes a batch script name around a word.
func scriptShape(r *rand.Rand, w string) string {
	clean := strings.NewReplacer(" ", "_", "+", "p").Replace(w)
	switch r.IntN(5) {
	case 0:
		return "run_" + clean + ".sh"
	case 1:
		return clean + ".sh"
	case 2:
		return clean + "_" + pick(r, dateStamps) + ".slurm"
	case 3:
		return "sub_" + strings.ToLower(clean) + ".sbatch"
	}
	return camel("run", clean) + ".sh"
}

// dirShape writes a work directory around a word.
func dirShape(r *rand.Rand, w string, s *submission) string {
	clean := strings.NewReplacer(" ", "_", "+", "p").Replace(w)
	switch r.IntN(4) {
	case 0:
		return "/data/" + s.u.name + "/" + strings.ToUpper(clean[:1]) + clean[1:] + "-LM"
	case 1:
		return "/gpfs/" + s.u.account.name + "/" + s.u.name + "/" + clean + "/exp" + strconv.Itoa(r.IntN(30))
	case 2:
		return "/home/" + s.u.name + "/proj/" + clean + "_2026"
	}
	return "/scratch/" + s.u.name + "/" + strings.ToLower(clean)
}
