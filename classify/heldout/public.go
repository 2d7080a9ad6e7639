package heldout

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
)

// XDMoDFields is the column order of the headerless Open XDMoD dumps.
var XDMoDFields = []string{"JobID", "JobIDRaw", "Cluster", "Partition", "QOS", "Account", "Group", "GID", "User", "UID", "Submit", "Eligible", "Start", "End", "Elapsed", "ExitCode", "State", "NNodes", "NCPUS", "ReqCPUS", "ReqMem", "ReqTRES", "AllocTRES", "Timelimit", "NodeList", "JobName"}

// PublicDump is one real, unlabelled sacct dump or set of dumps read as
// one center.
type PublicDump struct {
	// Name labels the dump in the report.
	Name string
	// Files are paths relative to the public data directory.
	Files []string
	// Fields names the columns of headerless files; nil for a header.
	Fields []string
}

// PublicDumps are the real dumps of testdata/public (see ORIGIN.md there).
var PublicDumps = []PublicDump{
	{Name: "XDMoD Phillips reference", Files: []string{"xdmod-reference-phillips.sacct.gz"}, Fields: XDMoDFields},
	{Name: "XDMoD shredder samples", Files: []string{"xdmod-accounting.sacct", "xdmod-job-arrays.sacct", "xdmod-non-ended.sacct", "xdmod-unknown-state.sacct", "xdmod-utf8.sacct"}, Fields: XDMoDFields},
	{Name: "Slurm 22.05 lab cluster", Files: []string{"slurm-lab-sacct_fields.psv"}},
}

// DumpFigures are what the classifier makes of an unlabelled dump, on
// each basis (indexed by classify.Basis: jobs, core-hours, accel-hours).
type DumpFigures struct {
	Name    string
	Records int
	// Total is the weight on each basis.
	Total [3]float64
	// Unknown and AI are the shares of the weight decided unknown and
	// AI (training or inference).
	Unknown, AI [3]float64
}

// ClassifyPublic reads and classifies one public dump from dir.
func ClassifyPublic(dir string, p PublicDump, rs *classify.RuleSet, table *accel.Table) (*DumpFigures, error) {
	if table == nil {
		table = accel.Default()
	}
	var recs []*job.Record
	for _, f := range p.Files {
		path := filepath.Join(dir, f)
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("public dump %s: %w", p.Name, err)
		}
		rs, err := ReadSacct(fh, path, p.Fields)
		fh.Close()
		if err != nil {
			return nil, err
		}
		recs = append(recs, rs...)
	}
	return Figures(p.Name, recs, rs, table), nil
}

// Figures classifies records as a batch and sums the shares. Running
// allocations are weighed up to the latest time the records name.
func Figures(name string, recs []*job.Record, rs *classify.RuleSet, table *accel.Table) *DumpFigures {
	ds := classify.New(rs, classify.Options{Accel: table}).ClassifyBatch(recs)
	end := latest(recs)
	f := &DumpFigures{Name: name, Records: len(recs)}
	for i, r := range recs {
		var hours float64
		if r.Started() {
			e := r.End
			if e.IsZero() {
				e = end
			}
			if e.After(r.Start) {
				hours = e.Sub(r.Start).Hours()
			}
		}
		var accels int64
		for _, a := range r.Accels {
			if _, res := table.Lookup(a.Name, a.Type); res == accel.Accelerator {
				accels += a.Count
			}
		}
		w := [3]float64{1, float64(r.Cores) * hours, float64(accels) * hours}
		for b := range w {
			f.Total[b] += w[b]
			switch {
			case ds[i].Class == classify.Unknown:
				f.Unknown[b] += w[b]
			case ds[i].Class.IsAI():
				f.AI[b] += w[b]
			}
		}
	}
	for b := range f.Total {
		if f.Total[b] > 0 {
			f.Unknown[b] /= f.Total[b]
			f.AI[b] /= f.Total[b]
		}
	}
	return f
}

// WritePublicMarkdown writes the public dumps' figures as a table.
func WritePublicMarkdown(w io.Writer, figs []*DumpFigures) error {
	var b strings.Builder
	b.WriteString("| dump | records | unknown jobs / core-h / accel-h | AI jobs / core-h / accel-h |\n|---|---|---|---|\n")
	share := func(x [3]float64, tot [3]float64) string {
		parts := make([]string, 3)
		for i := range x {
			if tot[i] == 0 {
				parts[i] = "-"
				continue
			}
			parts[i] = fmt.Sprintf("%.1f%%", 100*x[i])
		}
		return strings.Join(parts, " / ")
	}
	for _, f := range figs {
		fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", f.Name, f.Records, share(f.Unknown, f.Total), share(f.AI, f.Total))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
