package classify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/job"
)

// Labels maps job ids, as the scheduler prints them, to their true class.
type Labels map[string]Class

// labelLine remembers where a label was read, for duplicate messages.
type labelLine struct {
	class Class
	line  int
}

// ReadLabelsFile reads a labels CSV file (see ReadLabels).
func ReadLabelsFile(file string) (Labels, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read labels: %w", err)
	}
	defer f.Close()
	return ReadLabels(f, file)
}

// ReadLabels reads labels in CSV form: one "job_id,class" row per job, an
// optional "job_id,class" header, '#' comment lines; further columns (a
// note) are ignored. Errors name the input and the line. A job labelled
// twice with different classes is an error.
func ReadLabels(r io.Reader, name string) (Labels, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	labels := Labels{}
	seen := map[string]labelLine{}
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %w", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("read labels %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if first {
			first = false
			if len(rec) >= 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "job_id") && strings.EqualFold(strings.TrimSpace(rec[1]), "class") {
				continue
			}
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("%s:%d: want job_id,class, got %d field", name, line, len(rec))
		}
		id, cls := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if id == "" {
			return nil, fmt.Errorf("%s:%d: empty job id", name, line)
		}
		c, err := ParseClass(cls)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: job %s: %w", name, line, id, err)
		}
		if prev, dup := seen[id]; dup && prev.class != c {
			return nil, fmt.Errorf("%s:%d: job %s labelled %s here and %s at line %d", name, line, id, c, prev.class, prev.line)
		}
		seen[id] = labelLine{c, line}
		labels[id] = c
	}
	return labels, nil
}

// Basis is what an evaluation weighs each record by.
type Basis uint8

// The bases of an evaluation.
const (
	// ByJobs counts every record once.
	ByJobs Basis = iota
	// ByCoreHours weighs records by cores x elapsed hours.
	ByCoreHours
	// ByAccelHours weighs records by accelerators x elapsed hours.
	ByAccelHours
	numBases
)

// Bases lists the bases in report order.
var Bases = []Basis{ByJobs, ByCoreHours, ByAccelHours}

var basisNames = [numBases]string{"jobs", "core_hours", "accel_hours"}

// String returns the basis name used in reports.
func (b Basis) String() string {
	if b < numBases {
		return basisNames[b]
	}
	return "basis(" + strconv.Itoa(int(b)) + ")"
}

// MarshalText writes the basis name.
func (b Basis) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

const nClasses = len(classNames)

// Evaluator accumulates predictions against labels, one record at a time,
// so that a stream of any length can be scored. It is not safe for
// concurrent use.
type Evaluator struct {
	labels     Labels
	table      *accel.Table
	m          [numBases][nClasses][nClasses]float64
	found      map[string]bool
	records    int
	unlabelled int
}

// NewEvaluator returns an evaluator for the labels; table resolves GRES to
// accelerators for accelerator-hours (nil means accel.Default()).
func NewEvaluator(labels Labels, table *accel.Table) *Evaluator {
	if table == nil {
		table = accel.Default()
	}
	return &Evaluator{labels: labels, table: table, found: map[string]bool{}}
}

// Add scores one record's predicted class. It reports false, and counts the
// record as unlabelled, when the labels have neither its JobID nor its
// RawID. A record still running (no end) weighs zero hours.
func (e *Evaluator) Add(r *job.Record, predicted Class) bool {
	e.records++
	id := r.JobID
	truth, ok := e.labels[id]
	if !ok && r.RawID != "" {
		id = r.RawID
		truth, ok = e.labels[id]
	}
	if !ok {
		e.unlabelled++
		return false
	}
	e.found[id] = true
	var hours float64
	if !r.Start.IsZero() && !r.End.IsZero() && r.End.After(r.Start) {
		hours = r.End.Sub(r.Start).Hours()
	}
	var accels int64
	for _, a := range r.Accels {
		if _, res := e.table.Lookup(a.Name, a.Type); res == accel.Accelerator {
			accels += a.Count
		}
	}
	if int(truth) >= nClasses || int(predicted) >= nClasses {
		return true
	}
	e.m[ByJobs][truth][predicted]++
	e.m[ByCoreHours][truth][predicted] += float64(r.Cores) * hours
	e.m[ByAccelHours][truth][predicted] += float64(accels) * hours
	return true
}

// Evaluation is the score of a classifier against labels.
type Evaluation struct {
	// Records is the number of records seen, Labelled of those with a
	// label, Unlabelled without.
	Records int `json:"records"`
	// Labelled counts the records with a label.
	Labelled int `json:"labelled"`
	// Unlabelled counts the records without one; they are not scored.
	Unlabelled int `json:"unlabelled"`
	// MissingRecords lists labelled job ids no record carried, sorted.
	MissingRecords []string `json:"missing_records,omitempty"`
	// Bases holds one report per basis, in Bases order.
	Bases []BasisReport `json:"bases"`
}

// BasisReport is the evaluation on one basis.
type BasisReport struct {
	// Basis is what the figures are weighted by.
	Basis Basis `json:"basis"`
	// Confusion is indexed [truth][predicted] by Class.
	Confusion [nClasses][nClasses]float64 `json:"confusion"`
	// Total is the labelled weight.
	Total float64 `json:"total"`
	// Classes holds per-class figures for ai_training, ai_inference and
	// other.
	Classes []ClassMetrics `json:"classes"`
	// Accuracy is the share of the weight predicted as its true class;
	// unknown predictions count as wrong.
	Accuracy float64 `json:"accuracy"`
	// Coverage is the share of the weight not predicted unknown.
	Coverage float64 `json:"coverage"`
	// AIShareTruth is the AI share by the labels.
	AIShareTruth float64 `json:"ai_share_truth"`
	// AIShare is the classifier's AI share with unknown counted out (as
	// not AI); AIShareUpper counts unknown in (as AI). The truth lies
	// between them when the classifier makes no other error.
	AIShare float64 `json:"ai_share"`
	// AIShareUpper is the classifier's AI share with unknown counted in.
	AIShareUpper float64 `json:"ai_share_upper"`
}

// ClassMetrics are one class's figures on one basis. Precision (recall) is
// zero when nothing was predicted as (labelled) the class.
type ClassMetrics struct {
	// Class is the class the figures are about.
	Class Class `json:"class"`
	// Precision is the share of the weight predicted as the class that
	// truly is.
	Precision float64 `json:"precision"`
	// Recall is the share of the weight truly of the class that was
	// predicted as it.
	Recall float64 `json:"recall"`
	// F1 is the harmonic mean of precision and recall.
	F1 float64 `json:"f1"`
	// Support is the weight labelled with the class, Predicted the weight
	// predicted as it.
	Support float64 `json:"support"`
	// Predicted is the weight predicted as the class.
	Predicted float64 `json:"predicted"`
}

// Class returns the figures of one class.
func (b *BasisReport) Class(c Class) ClassMetrics {
	for _, m := range b.Classes {
		if m.Class == c {
			return m
		}
	}
	return ClassMetrics{Class: c}
}

// Report computes the evaluation of what was added so far.
func (e *Evaluator) Report() *Evaluation {
	ev := &Evaluation{Records: e.records, Labelled: e.records - e.unlabelled, Unlabelled: e.unlabelled}
	for id := range e.labels {
		if !e.found[id] {
			ev.MissingRecords = append(ev.MissingRecords, id)
		}
	}
	sort.Strings(ev.MissingRecords)
	for _, b := range Bases {
		ev.Bases = append(ev.Bases, basisReport(b, &e.m[b]))
	}
	return ev
}

func basisReport(b Basis, m *[nClasses][nClasses]float64) BasisReport {
	r := BasisReport{Basis: b, Confusion: *m}
	var diag, predUnknown, aiTruth, aiPred float64
	for t := range nClasses {
		for p := range nClasses {
			w := m[t][p]
			r.Total += w
			if t == p {
				diag += w
			}
			if Class(p) == Unknown {
				predUnknown += w
			}
			if Class(t).IsAI() {
				aiTruth += w
			}
			if Class(p).IsAI() {
				aiPred += w
			}
		}
	}
	for _, c := range Classes {
		if c == Unknown {
			continue
		}
		cm := ClassMetrics{Class: c}
		for k := range nClasses {
			cm.Support += m[c][k]
			cm.Predicted += m[k][c]
		}
		tp := m[c][c]
		cm.Precision = ratio(tp, cm.Predicted)
		cm.Recall = ratio(tp, cm.Support)
		if cm.Precision+cm.Recall > 0 {
			cm.F1 = 2 * cm.Precision * cm.Recall / (cm.Precision + cm.Recall)
		}
		r.Classes = append(r.Classes, cm)
	}
	r.Accuracy = ratio(diag, r.Total)
	if r.Total > 0 {
		r.Coverage = 1 - predUnknown/r.Total
	}
	r.AIShareTruth = ratio(aiTruth, r.Total)
	r.AIShare = ratio(aiPred, r.Total)
	r.AIShareUpper = ratio(aiPred+predUnknown, r.Total)
	return r
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Evaluate classifies every record and scores the result against the
// labels.
func Evaluate(c Classifier, records []*job.Record, labels Labels, table *accel.Table) *Evaluation {
	e := NewEvaluator(labels, table)
	if bc, ok := c.(BatchClassifier); ok {
		for i, d := range bc.ClassifyBatch(records) {
			e.Add(records[i], d.Class)
		}
		return e.Report()
	}
	for _, r := range records {
		e.Add(r, c.Classify(r).Class)
	}
	return e.Report()
}

// String renders the evaluation as WriteText does.
func (ev *Evaluation) String() string {
	var b strings.Builder
	_ = ev.WriteText(&b)
	return b.String()
}

// WriteText renders the evaluation for a terminal: per basis, the
// confusion matrix, per-class precision, recall and F1, accuracy,
// coverage and the AI share with its bounds.
func (ev *Evaluation) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("records: %d, labelled %d, unlabelled %d, labels without a record %d\n",
		ev.Records, ev.Labelled, ev.Unlabelled, len(ev.MissingRecords))
	for _, b := range ev.Bases {
		num := func(f float64) string {
			if b.Basis == ByJobs {
				return strconv.FormatFloat(f, 'f', 0, 64)
			}
			return strconv.FormatFloat(f, 'f', 1, 64)
		}
		ew.printf("\n== by %s (total %s) ==\n", b.Basis, num(b.Total))
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "truth \\ predicted\t")
		for _, p := range Classes {
			fmt.Fprintf(tw, "%s\t", p)
		}
		fmt.Fprintln(tw)
		for _, t := range Classes {
			fmt.Fprintf(tw, "%s\t", t)
			for _, p := range Classes {
				fmt.Fprintf(tw, "%s\t", num(b.Confusion[t][p]))
			}
			fmt.Fprintln(tw)
		}
		fmt.Fprintln(tw)
		fmt.Fprint(tw, "class\tprecision\trecall\tF1\tsupport\tpredicted\t\n")
		for _, c := range b.Classes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Class,
				pct(c.Precision, c.Predicted), pct(c.Recall, c.Support), pct(c.F1, c.Support+c.Predicted),
				num(c.Support), num(c.Predicted))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		ew.printf("accuracy %s, coverage %s\n", pct(b.Accuracy, b.Total), pct(b.Coverage, b.Total))
		ew.printf("AI share: truth %s, classifier %s (unknown counted out) .. %s (unknown counted in), error %+.1f points\n",
			pct(b.AIShareTruth, b.Total), pct(b.AIShare, b.Total), pct(b.AIShareUpper, b.Total), 100*(b.AIShare-b.AIShareTruth))
	}
	return ew.err
}

// pct renders a ratio as a percentage, or "-" when its denominator is
// zero and the ratio means nothing.
func pct(f, denom float64) string {
	if denom == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}
