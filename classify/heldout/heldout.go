// Package heldout measures the classifier on what it did not see: a
// generated center (classify/internal/labgen) classified once with the
// whole rule set and once per term family with that family's lexicon terms
// and rules removed (leave one family out), scored on the family's jobs
// and on the whole center, by jobs, core-hours and accelerator-hours.
//
// The center goes through the same path as a real one: it is written as a
// `sacct --parsable2` dump, read back by the project's sacct reader,
// deduplicated by record key (the last version of a run wins) and
// classified as a batch, so that the context and learned stages see the
// whole center as they would in production.
package heldout

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/classify/internal/labgen"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/job"
)

// Mapping names, for every generator family with vocabulary, the
// classifier's lexicon families that hold the same kind of tool. Holding a
// generator family out removes all of them. The generator's families
// without vocabulary (bare python, no evidence) map to nothing: there is
// nothing to remove, and their rows show what resources and context alone
// decide.
var Mapping = map[string][]string{
	labgen.TrainFrameworks: {"train_frameworks", "launchers", "dl_frameworks"},
	labgen.FinetuneRL:      {"finetune_toolkits", "rl_toolkits"},
	labgen.ServingEngines:  {"serving_engines"},
	labgen.EvalHarnesses:   {"eval_harnesses", "eval_benchmarks"},
	labgen.ModelFamilies:   {"model_families"},
	labgen.DomesticStacks:  {"domestic_stacks"},
	labgen.Chemistry:       {"hpc_chemistry", "hpc_dft"},
	labgen.Materials:       {"hpc_dft", "hpc_md"},
	labgen.Climate:         {"hpc_climate"},
	labgen.CFD:             {"hpc_cfd"},
	labgen.Astrophysics:    {"hpc_physics"},
	labgen.Bio:             {"hpc_bio", "hpc_md", "hpc_cryoem"},
	labgen.Analysis:        {"analysis"},
	labgen.Binaries:        {"hpc_benchmarks"},
}

// Resolve matches Mapping against the families a rule set declares. It
// returns, per generator family, the classifier families to remove, and a
// message for every mismatch: a generator family with vocabulary that maps
// to nothing, or a mapped name the rule set does not declare. A mismatch
// means that family's row would hold nothing out, so callers must not let
// it pass silently.
func Resolve(declared []string) (map[string][]string, []string) {
	out := map[string][]string{}
	var problems []string
	for _, fam := range labgen.Families() {
		names := Mapping[fam]
		if !labgen.HasVocabulary(fam) {
			if len(names) > 0 {
				problems = append(problems, fmt.Sprintf("generator family %s has no vocabulary but maps to %v", fam, names))
			}
			continue
		}
		if len(names) == 0 {
			problems = append(problems, fmt.Sprintf("generator family %s maps to no classifier family", fam))
			continue
		}
		for _, n := range names {
			if !slices.Contains(declared, n) {
				problems = append(problems, fmt.Sprintf("generator family %s maps to %q, which the rule set does not declare (it declares %v)", fam, n, declared))
				continue
			}
			out[fam] = append(out[fam], n)
		}
	}
	return out, problems
}

// Dataset is a generated center as the classifier sees it.
type Dataset struct {
	// Seed is the generator's seed.
	Seed uint64
	// Center is the generated center with its truth.
	Center *labgen.Center
	// Records are the runs read back from the dump, deduplicated.
	Records []*job.Record
	// Labels hold the true class of every job id; Family the labels of
	// each generator family's jobs only.
	Labels classify.Labels
	Family map[string]classify.Labels
	// DumpBytes and DumpLines measure the dump that was read.
	DumpBytes, DumpLines int
}

// Load generates a center, writes its sacct dump and reads it back.
func Load(cfg labgen.Config) (*Dataset, error) {
	c := labgen.Generate(cfg)
	var buf bytes.Buffer
	if err := c.WriteSacct(&buf); err != nil {
		return nil, fmt.Errorf("write generated dump: %w", err)
	}
	d := &Dataset{Seed: cfg.Seed, Center: c, Labels: classify.Labels{}, Family: map[string]classify.Labels{},
		DumpBytes: buf.Len(), DumpLines: bytes.Count(buf.Bytes(), []byte{'\n'})}
	recs, err := ReadSacct(&buf, "generated center", nil)
	if err != nil {
		return nil, err
	}
	d.Records = recs
	for id, t := range c.Truth {
		cls, err := classify.ParseClass(t.Class)
		if err != nil {
			return nil, fmt.Errorf("truth of job %s: %w", id, err)
		}
		d.Labels[id] = cls
		if d.Family[t.Family] == nil {
			d.Family[t.Family] = classify.Labels{}
		}
		d.Family[t.Family][id] = cls
	}
	return d, nil
}

// ReadSacct reads a sacct dump with the project's reader and keeps the
// last version of every run, as `scmon classify` does. fields names the
// columns of a dump without a header (nil: the default list). A bad line
// is an error naming the input and the line: the inputs used here are
// expected to be clean.
func ReadSacct(r io.Reader, name string, fields []string) ([]*job.Record, error) {
	zr, err := collector.MaybeGzip(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	rd := collector.NewSacctReader(zr, collector.Options{Name: name, Fields: fields})
	index := map[string]int{}
	var out []*job.Record
	var bad error
	_, err = ingest.Drain(rd, nil, 0, func(rec *job.Record, le *collector.LineError) bool {
		if le != nil {
			bad = le
			return false
		}
		if i, ok := index[rec.Key()]; ok {
			out[i] = rec
			return true
		}
		index[rec.Key()] = len(out)
		out = append(out, rec)
		return true
	})
	if bad == nil {
		bad = err
	}
	if bad != nil {
		return nil, fmt.Errorf("read %s: %w", name, bad)
	}
	return out, nil
}

// Row is the evaluation of one held-out family (or of none).
type Row struct {
	// HeldOut is the generator family held out; empty for the run with
	// the whole rule set.
	HeldOut string
	// Removed are the classifier families removed.
	Removed []string
	// Family scores the held-out family's jobs; nil when nothing is held
	// out. Center scores every job of the center in the same run.
	Family, Center *classify.Evaluation
}

// Report is a leave-one-family-out evaluation.
type Report struct {
	// Seed and Jobs describe the generated center.
	Seed uint64
	// Jobs counts the job ids, Records the runs classified.
	Jobs, Records int
	// Declared lists the classifier's families.
	Declared []string
	// Problems lists mapping mismatches (see Resolve).
	Problems []string
	// Rows holds the run with nothing held out first, then one per
	// generator family in labgen.Families order.
	Rows []Row
	// Whole scores each generator family's runs as the whole rule set
	// classifies them (nothing held out): where the misses come from.
	Whole map[string]*classify.Evaluation
}

// Evaluate runs the leave-one-family-out evaluation of rs on the dataset.
// The center's forced-accelerator partitions are declared as its
// inventory would. table resolves GRES (nil: accel.Default()).
func Evaluate(d *Dataset, rs *classify.RuleSet, table *accel.Table) *Report {
	if table == nil {
		table = accel.Default()
	}
	rs = rs.WithForced(classify.ForcedOnPartitions(d.Center.Forced...))
	rep := &Report{Seed: d.Seed, Jobs: len(d.Labels), Records: len(d.Records), Declared: rs.Families()}
	removed, problems := Resolve(rep.Declared)
	rep.Problems = problems
	rep.Rows = make([]Row, 1+len(labgen.Families()))
	for i, fam := range labgen.Families() {
		rep.Rows[i+1] = Row{HeldOut: fam, Removed: removed[fam]}
	}
	// Weigh running allocations up to the dump, as a report counts them.
	weighed := make([]*job.Record, len(d.Records))
	for i, r := range d.Records {
		weighed[i] = r
		if r.Running() {
			cp := *r
			cp.End = d.Center.End
			weighed[i] = &cp
		}
	}
	// Each family's runs, so that scoring a family reads only its own.
	famRuns := map[string][]int{}
	for k, r := range d.Records {
		if t, ok := d.Center.Truth[r.JobID]; ok {
			famRuns[t.Family] = append(famRuns[t.Family], k)
		}
	}
	var base []classify.Decision // the first row's decisions
	run := func(row *Row) {
		c := classify.New(rs.Without(row.Removed...), classify.Options{Accel: table})
		ds := c.ClassifyBatch(d.Records)
		if row.HeldOut == "" {
			base = ds
		}
		all := classify.NewEvaluator(d.Labels, table)
		for k, r := range weighed {
			all.Add(r, ds[k].Class)
		}
		row.Center = all.Report()
		if row.HeldOut != "" {
			row.Family = scoreFamily(d.Family[row.HeldOut], famRuns[row.HeldOut], weighed, ds, table)
		}
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if i > 0 && len(row.Removed) == 0 {
			continue // the same rule set as the first row: scored below
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			run(row)
		}()
	}
	wg.Wait()
	// Rows that remove nothing classify as the first row does; only their
	// family's jobs need scoring.
	rep.Whole = map[string]*classify.Evaluation{}
	for _, fam := range labgen.Families() {
		rep.Whole[fam] = scoreFamily(d.Family[fam], famRuns[fam], weighed, base, table)
	}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if i == 0 || len(row.Removed) > 0 {
			continue
		}
		row.Center, row.Family = rep.Rows[0].Center, rep.Whole[row.HeldOut]
	}
	return rep
}

// DefaultSeed is the seed of the center the README reports.
const DefaultSeed = 8

// Misses counts, on one basis of an evaluation, the weight decided
// unknown and the weight decided as a wrong class.
func Misses(ev *classify.Evaluation, b classify.Basis) (unknown, wrong float64) {
	br := basis(ev, b)
	if br == nil {
		return 0, 0
	}
	for t := range br.Confusion {
		for p, w := range br.Confusion[t] {
			switch {
			case classify.Class(p) == classify.Unknown:
				unknown += w
			case t != p:
				wrong += w
			}
		}
	}
	return unknown, wrong
}

// scoreFamily scores the runs of one family.
func scoreFamily(labels classify.Labels, runs []int, recs []*job.Record, ds []classify.Decision, table *accel.Table) *classify.Evaluation {
	e := classify.NewEvaluator(labels, table)
	for _, k := range runs {
		e.Add(recs[k], ds[k].Class)
	}
	return e.Report()
}

// Goals are what the held-out evaluation must reach.
type Goals struct {
	// MinF1 is the least F1 of every class, on core-hours and on
	// accelerator-hours.
	MinF1 float64
	// MaxShareError is the largest AI-share error, in percentage points,
	// on core-hours and on accelerator-hours.
	MaxShareError float64
	// MaxUnknown is the largest share of hours decided unknown.
	MaxUnknown float64
	// MinSupport is the least share of a held-out family's weight a class
	// needs for its F1 on that family to count: a handful of hours of a
	// class inside a family makes an F1 of noise.
	MinSupport float64
}

// DefaultGoals are the goals of the classifier.
var DefaultGoals = Goals{MinF1: 0.95, MaxShareError: 1, MaxUnknown: 0.03, MinSupport: 0.05}

var hourBases = []classify.Basis{classify.ByCoreHours, classify.ByAccelHours}

var scoredClasses = []classify.Class{classify.AITraining, classify.AIInference, classify.Other}

// Shortfalls lists every figure that misses a goal. On the whole center
// (every row) it checks F1 of every class, the AI-share error and the
// unknown share, on core-hours and accelerator-hours. On a held-out
// family's own jobs it checks F1 of the classes with enough support;
// families without vocabulary are not checked on their own jobs, since
// a job with no evidence is expected to stay unknown.
func (r *Report) Shortfalls(g Goals) []string {
	var out []string
	for _, row := range r.Rows {
		label := "nothing held out"
		if row.HeldOut != "" {
			label = row.HeldOut + " held out"
		}
		for _, b := range hourBases {
			if row.HeldOut != "" && len(row.Removed) == 0 {
				break // the same center as the first row's
			}
			br := basis(row.Center, b)
			if br == nil || br.Total == 0 {
				continue
			}
			for _, c := range scoredClasses {
				m := br.Class(c)
				if m.Support+m.Predicted > 0 && m.F1 < g.MinF1 {
					out = append(out, fmt.Sprintf("%s, center: F1 %s by %s %.3f < %.2f", label, c, b, m.F1, g.MinF1))
				}
			}
			if e := 100 * (br.AIShare - br.AIShareTruth); e > g.MaxShareError || e < -g.MaxShareError {
				out = append(out, fmt.Sprintf("%s, center: AI share error by %s %+.2f pp, beyond %.1f", label, b, e, g.MaxShareError))
			}
			if u := 1 - br.Coverage; u > g.MaxUnknown {
				out = append(out, fmt.Sprintf("%s, center: unknown %.1f%% of %s > %.0f%%", label, 100*u, b, 100*g.MaxUnknown))
			}
		}
		if row.Family == nil || !labgen.HasVocabulary(row.HeldOut) {
			continue
		}
		for _, b := range hourBases {
			br := basis(row.Family, b)
			if br == nil || br.Total == 0 {
				continue
			}
			for _, c := range scoredClasses {
				m := br.Class(c)
				if m.Support < g.MinSupport*br.Total {
					continue
				}
				if m.F1 < g.MinF1 {
					out = append(out, fmt.Sprintf("%s, its jobs: F1 %s by %s %.3f < %.2f", label, c, b, m.F1, g.MinF1))
				}
			}
		}
	}
	return out
}

func basis(ev *classify.Evaluation, b classify.Basis) *classify.BasisReport {
	if ev == nil {
		return nil
	}
	for i := range ev.Bases {
		if ev.Bases[i].Basis == b {
			return &ev.Bases[i]
		}
	}
	return nil
}

// WriteMarkdown writes the report as the README's table: one row for the
// run with nothing held out, then two per held-out family (its own jobs,
// then the whole center).
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| held out | scored on | runs | F1 trn / inf / oth by jobs | by core-h | by accel-h | AI share error (pp) jobs / core-h / accel-h | unknown jobs / core-h / accel-h |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	write := func(held, on string, ev *classify.Evaluation) {
		jobs := basis(ev, classify.ByJobs)
		core, acc := basis(ev, classify.ByCoreHours), basis(ev, classify.ByAccelHours)
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s / %s / %s | %s / %s / %s |\n", held, on, int(jobs.Total),
			f1s(jobs), f1s(core), f1s(acc), shareErr(jobs), shareErr(core), shareErr(acc), unknown(jobs), unknown(core), unknown(acc))
	}
	for _, row := range r.Rows {
		if row.HeldOut == "" {
			write("none", "center", row.Center)
			continue
		}
		held := row.HeldOut
		if len(row.Removed) == 0 && labgen.HasVocabulary(row.HeldOut) {
			held += " (nothing removed)"
		}
		write(held, "its jobs", row.Family)
		write(held, "center", row.Center)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFamiliesMarkdown writes, per generator family, how the whole rule
// set does on its runs: the runs decided unknown and of a wrong class, F1
// by core-hours and the AI-share error.
func (r *Report) WriteFamiliesMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| family (nothing held out) | runs | unknown | wrong class | F1 trn / inf / oth by core-h | AI share error (pp) core-h / accel-h |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, fam := range labgen.Families() {
		ev := r.Whole[fam]
		if ev == nil {
			continue
		}
		unk, wrong := Misses(ev, classify.ByJobs)
		core, acc := basis(ev, classify.ByCoreHours), basis(ev, classify.ByAccelHours)
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %s | %s / %s |\n", fam, ev.Labelled, unk, wrong, f1s(core), shareErr(core), shareErr(acc))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func f1s(br *classify.BasisReport) string {
	parts := make([]string, len(scoredClasses))
	for i, c := range scoredClasses {
		m := br.Class(c)
		if m.Support+m.Predicted == 0 {
			parts[i] = "-"
			continue
		}
		parts[i] = fmt.Sprintf("%.2f", m.F1)
	}
	return strings.Join(parts, " / ")
}

func shareErr(br *classify.BasisReport) string {
	if br.Total == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f", 100*(br.AIShare-br.AIShareTruth))
}

func unknown(br *classify.BasisReport) string {
	if br.Total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*(1-br.Coverage))
}

// latest returns the latest time a set of records names, the instant
// running allocations are weighed up to.
func latest(recs []*job.Record) time.Time {
	var t time.Time
	for _, r := range recs {
		for _, x := range []time.Time{r.Submit, r.Start, r.End} {
			if x.After(t) {
				t = x
			}
		}
	}
	return t
}
