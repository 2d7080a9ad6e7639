package gen

import (
	"math/rand/v2"
	"strconv"
)

// account is a Slurm account: a research group, an AI lab, a company
// buying compute, or the center's own operations team. Its unix group has
// the same name, as many centers set it up.
type account struct {
	name string
	// field chooses the workloads its users run (see workload.fields).
	field string
	// users is how many users the account has.
	users int
	// wckey, when set, is written on the jobs of some users (companies
	// bill projects by WCKey).
	wckey string
}

// accounts of the sample center: about forty, grouped by field.
var accounts = []account{
	{name: "phys_cmt", field: "dft", users: 6},
	{name: "phys_plasma", field: "mdsim", users: 3},
	{name: "phys_optics", field: "dft", users: 3},
	{name: "phys_stat", field: "misc", users: 3},
	{name: "chem_qc", field: "quantchem", users: 6},
	{name: "chem_cat", field: "dft", users: 6},
	{name: "chem_polymer", field: "mdsim", users: 4},
	{name: "chem_theory", field: "quantchem", users: 3},
	{name: "mat_energy", field: "dft", users: 6},
	{name: "mat_alloy", field: "mdsim", users: 4},
	{name: "mat_2d", field: "dft", users: 4},
	{name: "mat_ml", field: "ai4s", users: 4},
	{name: "atm_wrf", field: "weather", users: 5},
	{name: "climate_esm", field: "climate", users: 4},
	{name: "ocean_dyn", field: "climate", users: 3},
	{name: "bio_md", field: "biomd", users: 6},
	{name: "bio_struct", field: "cryoem", users: 4},
	{name: "bio_genomics", field: "genomics", users: 4},
	{name: "bio_drug", field: "biomd", users: 4},
	{name: "med_imaging", field: "cv", users: 3},
	{name: "cfd_aero", field: "cfd", users: 5},
	{name: "eng_comb", field: "cfd", users: 3},
	{name: "eng_struct", field: "cfd", users: 3},
	{name: "math_opt", field: "misc", users: 3},
	{name: "ai_nlp", field: "llm", users: 6},
	{name: "ai_cv", field: "cv", users: 5},
	{name: "ai_mm", field: "llm", users: 4},
	{name: "ai_speech", field: "cv", users: 3},
	{name: "ai4s_lab", field: "ai4s", users: 4},
	{name: "llm_lab", field: "llm", users: 6},
	{name: "ascend_lab", field: "ascend", users: 5},
	{name: "ent_hanhai", field: "llmcorp", users: 3, wckey: "hh-llm-2026"},
	{name: "ent_xingyun", field: "llmcorp", users: 3, wckey: "xy-sft"},
	{name: "ent_qingniao", field: "ascendcorp", users: 3, wckey: "qn-pretrain"},
	{name: "ent_zhiheng", field: "ascendcorp", users: 2},
	{name: "ent_lanjing", field: "servingcorp", users: 2},
	{name: "hygon_app", field: "dcuport", users: 3},
	{name: "edu_course", field: "course", users: 4},
	{name: "hpc_ops", field: "ops", users: 2},
}

// user is one login of the center.
type user struct {
	name    string
	uid     int
	account *account
	// activity weighs how often the user submits, against the other users
	// of the same field: a few heavy users and many light ones.
	activity float64
}

var surnames = []string{
	"zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou",
	"xu", "sun", "ma", "zhu", "hu", "guo", "he", "lin", "gao", "luo",
	"zheng", "liang", "xie", "song", "tang", "han", "feng", "deng", "cao", "peng",
	"zeng", "xiao", "tian", "dong", "pan", "yuan", "cai", "jiang", "yu", "du",
	"ye", "cheng", "wei", "su", "lu", "ding", "ren", "shen", "yao", "qian",
}

var givenNames = []string{
	"wei", "fang", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong",
	"yan", "jie", "tao", "ming", "chao", "xiulan", "xia", "ping", "gang", "hui",
	"hao", "yu", "xin", "yi", "bo", "rui", "kai", "peng", "jian", "ning",
	"zihan", "yuxuan", "haoran", "yichen", "zhiyuan", "junjie", "siyu", "mengqi",
	"xiaoming", "jiahui", "shuang", "tingting", "wenjie", "zhihao", "yuqi", "ruoxi",
	"hang", "chen", "long", "xue", "dan", "lu", "qian", "shan",
}

// initials abbreviates a given name the way some centers make logins:
// xiulan -> xl.
var initials = map[string]string{
	"xiulan": "xl", "zihan": "zh", "yuxuan": "yx", "haoran": "hr", "yichen": "yc",
	"zhiyuan": "zy", "junjie": "jj", "siyu": "sy", "mengqi": "mq", "xiaoming": "xm",
	"jiahui": "jh", "tingting": "tt", "wenjie": "wj", "zhihao": "zh", "ruoxi": "rx",
}

// makeUsers invents the center's users: pinyin logins (zhangwei, wangxl,
// liyang2), uids from 10001, each in one account.
func makeUsers(r *rand.Rand) []*user {
	var users []*user
	taken := map[string]bool{"root": true}
	uid := 10001
	for ai := range accounts {
		a := &accounts[ai]
		for k := 0; k < a.users; k++ {
			var name string
			if a.field == "ops" {
				name = []string{"hpcadmin", "opsyang"}[k%2]
			} else {
				sur := surnames[r.IntN(len(surnames))]
				given := givenNames[r.IntN(len(givenNames))]
				name = sur + given
				if ab, ok := initials[given]; ok && r.IntN(3) == 0 {
					name = sur + ab
				}
			}
			base := name
			for n := 2; taken[name]; n++ {
				name = base + strconv.Itoa(n)
			}
			taken[name] = true
			// Pareto-like activity: most users submit a little, a few a lot.
			act := 1 / (0.15 + r.Float64())
			users = append(users, &user{name: name, uid: uid, account: a, activity: act})
			uid++
		}
	}
	return users
}
