package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
)

type classifyFlags struct {
	sourceFlags
	output     string
	explain    []string
	eval       string
	hits       bool
	printRules bool
	quiet      bool
}

func newClassifyCommand(stdout, stderr io.Writer) *cobra.Command {
	var f classifyFlags
	c := &cobra.Command{
		Use:   "classify",
		Short: "Classify every allocation as ai_training, ai_inference, other or unknown, and say why",
		Long: `Classify prints one row per allocation with its class and the ids of the
rules that decided it. --explain shows, for given job ids, the evidence read,
every rule that fired with the text it matched, the scores and the decision.
--eval compares the classes with labels (job_id,class CSV) and prints the
confusion matrix, precision, recall and F1 per job and weighted by core- and
accelerator-hours, the coverage, and the AI share by truth and by the
classifier. With no --input it classifies the built-in sample center.`,
		Example: `  scmon classify --input slurm-sacct:jobs.psv -o jsonl
  scmon classify --input slurm-sacct:jobs.psv --explain 4100123
  scmon classify --input slurm-sacct:jobs.psv --rules site.yaml --eval labels.csv
  scmon classify --print-rules > site.yaml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runClassify(f, stdout, stderr) },
	}
	addSourceFlags(c, &f.sourceFlags)
	fl := c.Flags()
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, jsonl or csv")
	fl.StringSliceVar(&f.explain, "explain", nil, "explain the decision for these job ids (as the scheduler prints them, or raw ids)")
	fl.StringVar(&f.eval, "eval", "", "evaluate against labels: a CSV file of job_id,class")
	fl.BoolVar(&f.hits, "hits", false, "print how often each rule fired instead of the rows")
	fl.BoolVar(&f.printRules, "print-rules", false, "print the built-in rules file, to start a site's own")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "do not log skipped lines on stderr (they are still counted)")
	return c
}

func runClassify(f classifyFlags, stdout, stderr io.Writer) error {
	if f.printRules {
		_, err := stdout.Write(classify.DefaultRulesYAML())
		return err
	}
	switch f.output {
	case "table", "jsonl", "csv":
	default:
		return usagef("--output %q: want table, jsonl or csv", f.output)
	}
	var labels classify.Labels
	if f.eval != "" {
		var err error
		if labels, err = classify.ReadLabelsFile(f.eval); err != nil {
			return err
		}
	}
	l, err := load(f.sourceFlags, newLogger(stderr, f.quiet))
	if err != nil {
		return err
	}
	recs, err := readRecords(f.sourceFlags, l)
	if err != nil {
		return err
	}
	// Every stage over the whole input: the context and learned stages
	// draw on the other jobs of the input.
	batch := l.classer.NewBatch(recs)
	switch {
	case len(f.explain) > 0:
		return explain(stdout, batch, recs, f.explain)
	case labels != nil:
		return evaluate(stdout, l, recs, batch.Decisions(), labels)
	}
	decisions := batch.Decisions()
	if f.hits {
		return writeHits(stdout, l.rules, decisions)
	}
	return writeClasses(stdout, f.output, recs, decisions)
}

// readRecords reads the inputs again as full records (the store keeps only
// what the figures need), keeping the last version of each run.
func readRecords(f sourceFlags, l *loaded) ([]*job.Record, error) {
	opts := collector.Options{Location: l.location, Cluster: f.cluster, MaxLine: f.maxLine}
	if f.fields != "" {
		opts.Fields = strings.Split(f.fields, ",")
	}
	var readers []collector.Reader
	if l.sample {
		zr, err := collector.MaybeGzip(strings.NewReader(string(seeds.SacctLog())))
		if err != nil {
			return nil, err
		}
		o := opts
		o.Cluster, o.Name = seeds.ClusterName, "built-in sample log"
		readers = append(readers, collector.NewSacctReader(zr, o))
	}
	for _, s := range f.inputs {
		in, err := parseInput(s)
		if err != nil {
			return nil, err
		}
		r, c, err := collector.Open(in.Format, in.Path, opts)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		readers = append(readers, r)
	}
	index := map[string]int{}
	var out []*job.Record
	for _, r := range readers {
		var strictErr error
		_, err := ingest.Drain(r, nil, 0, func(rec *job.Record, le *collector.LineError) bool {
			if le != nil {
				if f.strict {
					strictErr = fmt.Errorf("strict mode: %w", le)
					return false
				}
				return true // counted and logged by load
			}
			if i, ok := index[rec.Key()]; ok {
				out[i] = rec
				return true
			}
			index[rec.Key()] = len(out)
			out = append(out, rec)
			return true
		})
		if strictErr != nil {
			return nil, strictErr
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func accelText(r *job.Record) string {
	parts := make([]string, 0, len(r.Accels))
	for _, a := range r.Accels {
		name := a.Name
		if a.Type != "" {
			name += ":" + a.Type
		}
		parts = append(parts, name+"="+strconv.FormatInt(a.Count, 10))
	}
	return strings.Join(parts, ",")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

type classRow struct {
	JobID        string   `json:"job_id"`
	RawID        string   `json:"raw_id,omitempty"`
	Cluster      string   `json:"cluster,omitempty"`
	Partition    string   `json:"partition,omitempty"`
	Account      string   `json:"account,omitempty"`
	User         string   `json:"user,omitempty"`
	Name         string   `json:"name,omitempty"`
	State        string   `json:"state"`
	Start        string   `json:"start,omitempty"`
	End          string   `json:"end,omitempty"`
	Cores        int64    `json:"cores"`
	Accelerators string   `json:"accelerators,omitempty"`
	Class        string   `json:"class"`
	Rules        []string `json:"rules"`
}

func rowOf(r *job.Record, d classify.Decision) classRow {
	row := classRow{JobID: r.JobID, RawID: r.RawID, Cluster: r.Cluster, Partition: r.Partition, Account: r.Account, User: r.User,
		Name: r.Name, State: r.State.String(), Cores: r.Cores, Accelerators: accelText(r), Class: d.Class.String(), Rules: d.Rules}
	if row.Rules == nil {
		row.Rules = []string{}
	}
	if !r.Start.IsZero() {
		row.Start = r.Start.Format(time.RFC3339)
	}
	if !r.End.IsZero() {
		row.End = r.End.Format(time.RFC3339)
	}
	return row
}

func writeClasses(w io.Writer, format string, recs []*job.Record, ds []classify.Decision) error {
	switch format {
	case "jsonl":
		enc := json.NewEncoder(w)
		for i, r := range recs {
			if err := enc.Encode(rowOf(r, ds[i])); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write([]string{"job_id", "raw_id", "cluster", "partition", "account", "user", "name", "state", "start", "end", "cores", "accelerators", "class", "rules"}); err != nil {
			return err
		}
		for i, r := range recs {
			row := rowOf(r, ds[i])
			if err := cw.Write([]string{row.JobID, row.RawID, row.Cluster, row.Partition, row.Account, row.User, row.Name, row.State, row.Start, row.End,
				strconv.FormatInt(row.Cores, 10), row.Accelerators, row.Class, strings.Join(row.Rules, " ")}); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	ew := &lineWriter{w: w}
	ew.printf("%-14s %-10s %-14s %6s %-18s %-13s %-30s %s\n", "JOBID", "PARTITION", "ACCOUNT", "CORES", "ACCELERATORS", "CLASS", "RULES", "NAME")
	for i, r := range recs {
		ew.printf("%-14s %-10s %-14s %6d %-18s %-13s %-30s %s\n", clip(r.JobID, 14), clip(r.Partition, 10), clip(r.Account, 14), r.Cores,
			clip(accelText(r), 18), ds[i].Class, clip(strings.Join(ds[i].Rules, ","), 30), clip(r.Name, 40))
	}
	return ew.err
}

func writeHits(w io.Writer, rs *classify.RuleSet, ds []classify.Decision) error {
	h := classify.NewHitCounter(rs)
	for _, d := range ds {
		h.Add(d, 1)
	}
	hits := h.Counts()
	ids := make([]string, 0, len(hits))
	for id := range hits {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if hits[ids[i]] != hits[ids[j]] {
			return hits[ids[i]] > hits[ids[j]]
		}
		return ids[i] < ids[j]
	})
	ew := &lineWriter{w: w}
	ew.printf("%-40s %10s\n", "RULE", "HITS")
	for _, id := range ids {
		ew.printf("%-40s %10d\n", id, hits[id])
	}
	return ew.err
}

func explain(w io.Writer, b *classify.Batch, recs []*job.Record, ids []string) error {
	var missing []string
	for _, id := range ids {
		found := false
		for i, r := range recs {
			if r.JobID == id || (r.RawID != "" && r.RawID == id) {
				found = true
				if err := b.Explain(i).WriteText(w); err != nil {
					return err
				}
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
		}
		if !found {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no allocation with job id %s in the inputs", strings.Join(missing, ", "))
	}
	return nil
}

// evaluate compares classes with labels. Running allocations are weighed
// up to the latest time the inputs name, as a report would count them.
func evaluate(w io.Writer, l *loaded, recs []*job.Record, ds []classify.Decision, labels classify.Labels) error {
	var latest time.Time
	for _, r := range recs {
		for _, t := range []time.Time{r.Submit, r.Start, r.End} {
			if t.After(latest) {
				latest = t
			}
		}
	}
	ev := classify.NewEvaluator(labels, l.table)
	for i, r := range recs {
		d := ds[i]
		if r.Running() {
			cp := *r
			cp.End = latest
			r = &cp
		}
		ev.Add(r, d.Class)
	}
	return ev.Report().WriteText(w)
}

type lineWriter struct {
	w   io.Writer
	err error
}

func (l *lineWriter) printf(format string, args ...any) {
	if l.err == nil {
		_, l.err = fmt.Fprintf(l.w, format, args...)
	}
}
