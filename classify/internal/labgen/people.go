package labgen

import (
	"math/rand/v2"
	"strconv"
)

// account is a Slurm account with its habits: which partitions its users
// submit to, how its work splits between the classes, and which families
// its words come from. Account names are project codes and principal
// investigators, as centers assign them: they say nothing of the class.
type account struct {
	name string
	// users is how many users submit under the account.
	users int
	// activity weighs how many of the center's jobs are the account's.
	activity float64
	// kinds weighs the partition kinds its jobs go to.
	kinds map[string]float64
	// classes weighs training, inference and other.
	classes [3]float64
	// families weighs the families its jobs of a class take their words
	// from; families not listed are never used by the account.
	families map[string]float64
	// bare and silent are the shares of its jobs run as a bare
	// `python x.py` and with no evidence at all.
	bare, silent float64
	// wckey is written on its jobs when set.
	wckey string
}

// accounts of the generated center: a pretraining group that mostly
// trains, a lab that mostly serves, Ascend, DCU and Cambricon/Kunlun
// groups, simulation labs that mostly run HPC codes with a little machine
// learning, and mixed departments.
var accounts = []account{
	{name: "p2026a017", users: 6, activity: 9, kinds: map[string]float64{"gpu": 85, "npu": 8, "cpu": 7},
		classes: [3]float64{82, 10, 8}, bare: 0.05, silent: 0.03,
		families: map[string]float64{TrainFrameworks: 4, FinetuneRL: 2, ModelFamilies: 3, EvalHarnesses: 2, ServingEngines: 1, Analysis: 2, Binaries: 0.5}},
	{name: "zhanglab", users: 8, activity: 8, kinds: map[string]float64{"gpu": 90, "cpu": 10},
		classes: [3]float64{45, 35, 20}, bare: 0.08, silent: 0.04,
		families: map[string]float64{FinetuneRL: 3, EvalHarnesses: 3, ServingEngines: 2, ModelFamilies: 3, TrainFrameworks: 1, Analysis: 2, Binaries: 1}},
	{name: "wangsvc", users: 4, activity: 4, kinds: map[string]float64{"gpu": 80, "dcu": 10, "npu": 10},
		classes: [3]float64{10, 80, 10}, bare: 0.03, silent: 0.03,
		families: map[string]float64{ServingEngines: 4, EvalHarnesses: 2, ModelFamilies: 2, FinetuneRL: 1, Analysis: 1, Binaries: 1, DomesticStacks: 1}},
	{name: "ascend01", users: 6, activity: 6, kinds: map[string]float64{"npu": 92, "cpu": 8},
		classes: [3]float64{65, 25, 10}, bare: 0.05, silent: 0.03, wckey: "asc-llm",
		families: map[string]float64{DomesticStacks: 4, ModelFamilies: 2, TrainFrameworks: 1, FinetuneRL: 1, EvalHarnesses: 1, ServingEngines: 1, Analysis: 1, Binaries: 0.3}},
	{name: "hy_apps", users: 5, activity: 5, kinds: map[string]float64{"dcu": 100},
		classes: [3]float64{35, 10, 55}, bare: 0.05, silent: 0.04,
		families: map[string]float64{DomesticStacks: 3, Materials: 2, Climate: 1, Bio: 1, CFD: 1, ModelFamilies: 1, Binaries: 1, Analysis: 1, TrainFrameworks: 0.5, Chemistry: 0.5}},
	{name: "pi_liu", users: 6, activity: 6, kinds: map[string]float64{"cpu": 88, "gpu": 12},
		classes: [3]float64{3, 2, 95}, bare: 0.03, silent: 0.03,
		families: map[string]float64{Chemistry: 4, Bio: 1, Analysis: 1, Binaries: 1, ModelFamilies: 0.5, FinetuneRL: 0.5, EvalHarnesses: 0.5}},
	{name: "pi_chen", users: 6, activity: 6, kinds: map[string]float64{"cpu": 75, "gpu": 10, "dcu": 15},
		classes: [3]float64{5, 2, 93}, bare: 0.03, silent: 0.03,
		families: map[string]float64{Materials: 4, Chemistry: 1, Analysis: 1, Binaries: 1, TrainFrameworks: 0.5, ModelFamilies: 0.5, ServingEngines: 0.3}},
	{name: "atm2203", users: 5, activity: 5, kinds: map[string]float64{"cpu": 90, "gpu": 10},
		classes: [3]float64{6, 3, 91}, bare: 0.04, silent: 0.03,
		families: map[string]float64{Climate: 4, Analysis: 2, Binaries: 1, TrainFrameworks: 1, ModelFamilies: 1, EvalHarnesses: 0.3}},
	{name: "eng_zhou", users: 4, activity: 4, kinds: map[string]float64{"cpu": 95, "gpu": 5},
		classes: [3]float64{2, 1, 97}, bare: 0.03, silent: 0.03,
		families: map[string]float64{CFD: 4, Binaries: 2, Analysis: 1, FinetuneRL: 0.3, ModelFamilies: 0.3}},
	{name: "astro_gx", users: 4, activity: 3, kinds: map[string]float64{"cpu": 95, "gpu": 5},
		classes: [3]float64{2, 1, 97}, bare: 0.03, silent: 0.03,
		families: map[string]float64{Astrophysics: 4, Analysis: 2, Binaries: 1, ModelFamilies: 0.3, TrainFrameworks: 0.3}},
	{name: "bio_wu", users: 6, activity: 5, kinds: map[string]float64{"gpu": 50, "cpu": 50},
		classes: [3]float64{8, 7, 85}, bare: 0.04, silent: 0.03,
		families: map[string]float64{Bio: 4, Analysis: 2, ModelFamilies: 1, FinetuneRL: 1, EvalHarnesses: 0.5, Binaries: 0.5}},
	{name: "cs_dept", users: 10, activity: 6, kinds: map[string]float64{"gpu": 60, "cpu": 30, "mlu": 5, "xpu": 5},
		classes: [3]float64{35, 25, 40}, bare: 0.08, silent: 0.05,
		families: map[string]float64{TrainFrameworks: 1, FinetuneRL: 1, ServingEngines: 1, EvalHarnesses: 1, ModelFamilies: 1, DomesticStacks: 0.5,
			Chemistry: 0.3, Materials: 0.3, CFD: 0.5, Bio: 0.3, Analysis: 1, Binaries: 2}},
	{name: "edu2026", users: 12, activity: 2, kinds: map[string]float64{"gpu": 50, "cpu": 50},
		classes: [3]float64{30, 20, 50}, bare: 0.20, silent: 0.10,
		families: map[string]float64{TrainFrameworks: 1, ModelFamilies: 1, FinetuneRL: 0.5, ServingEngines: 0.5, EvalHarnesses: 0.5, Binaries: 3, Analysis: 1, CFD: 0.5}},
	{name: "mk_ai", users: 4, activity: 2, kinds: map[string]float64{"mlu": 60, "xpu": 40},
		classes: [3]float64{60, 30, 10}, bare: 0.05, silent: 0.03,
		families: map[string]float64{DomesticStacks: 4, ModelFamilies: 1, Analysis: 1, Binaries: 0.5}},
}

// user is one login with its account.
type user struct {
	name     string
	uid      int
	account  *account
	activity float64
}

var surnames = []string{"zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu", "guo", "he", "lin", "gao", "luo", "zheng", "xie", "song", "tang", "han", "feng", "deng", "cao", "peng", "xiao"}
var givens = []string{"wei", "fang", "min", "jing", "lei", "jun", "yang", "yong", "yan", "jie", "tao", "ming", "chao", "xia", "ping", "hui", "bo", "lin", "hao", "yu"}
var western = []string{"jsmith", "mgarcia", "akumar", "tnguyen", "rmueller", "lrossi", "kim_s", "opetrov"}

// makeUsers gives every account its users: distinct logins, a few heavy
// submitters and many light ones.
func makeUsers(r *rand.Rand) []*user {
	seen := map[string]bool{}
	var out []*user
	uid := 20001
	for i := range accounts {
		a := &accounts[i]
		h := 0.0
		for k := 1; k <= a.users; k++ {
			h += 1 / float64(k)
		}
		for k := 0; k < a.users; k++ {
			var name string
			for {
				if r.IntN(8) == 0 {
					name = western[r.IntN(len(western))]
				} else {
					name = surnames[r.IntN(len(surnames))] + givens[r.IntN(len(givens))]
				}
				if seen[name] {
					name += strconv.Itoa(1 + r.IntN(9))
				}
				if !seen[name] {
					break
				}
			}
			seen[name] = true
			// Zipf-like activity inside the account.
			out = append(out, &user{name: name, uid: uid, account: a, activity: a.activity / float64(k+1) / h})
			uid++
		}
	}
	return out
}
