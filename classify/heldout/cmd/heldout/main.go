// Command heldout prints the classifier's held-out evaluation as the
// README shows it: the leave-one-family-out table on a generated center
// and the shares on the real public sacct dumps. Run it from the
// repository root:
//
//	go run ./classify/heldout/cmd/heldout
//
// With -readme README.md it also writes its output into the README,
// between the lines <!-- heldout-output --> and <!-- /heldout-output -->,
// so that the README's figures are the command's.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/classify/heldout"
	"github.com/scmon/scmon/classify/internal/labgen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("heldout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", heldout.DefaultSeed, "generator seed")
	jobs := fs.Int("jobs", labgen.DefaultJobs, "submissions in the generated center")
	public := fs.String("public", "classify/heldout/testdata/public", "directory of the public sacct dumps")
	readme := fs.String("readme", "", "also write the output into this file, between the lines "+beginMarker+" and "+endMarker)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var out bytes.Buffer
	if err := write(&out, *seed, *jobs, *public); err != nil {
		fmt.Fprintln(stderr, "heldout:", err)
		return 1
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintln(stderr, "heldout:", err)
		return 1
	}
	if *readme != "" {
		if err := updateFile(*readme, out.Bytes()); err != nil {
			fmt.Fprintln(stderr, "heldout:", err)
			return 1
		}
	}
	return 0
}

// The lines that enclose the command's output in the README.
const (
	beginMarker = "<!-- heldout-output -->"
	endMarker   = "<!-- /heldout-output -->"
)

// updateFile replaces what lies between the markers in the file with out.
func updateFile(path string, out []byte) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc, err := replaceBlock(old, out)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, doc, 0o644)
}

// replaceBlock returns doc with the text between its marker lines replaced
// by out. Both markers must be present once, in order.
func replaceBlock(doc, out []byte) ([]byte, error) {
	begin := []byte(beginMarker + "\n")
	end := []byte(endMarker + "\n")
	i := bytes.Index(doc, begin)
	j := bytes.Index(doc, end)
	switch {
	case i < 0 || j < 0:
		return nil, errors.New("no " + beginMarker + " ... " + endMarker + " lines")
	case j < i || bytes.Count(doc, begin) != 1 || bytes.Count(doc, end) != 1:
		return nil, errors.New("the markers must appear once each, " + beginMarker + " first")
	}
	var b bytes.Buffer
	b.Write(doc[:i+len(begin)])
	b.WriteString("\n")
	b.Write(bytes.TrimSpace(out))
	b.WriteString("\n\n")
	b.Write(doc[j:])
	return b.Bytes(), nil
}

func write(w io.Writer, seed uint64, jobs int, public string) error {
	rs, err := classify.DefaultRules()
	if err != nil {
		return err
	}
	d, err := heldout.Load(labgen.Config{Seed: seed, Jobs: jobs})
	if err != nil {
		return err
	}
	rep := heldout.Evaluate(d, rs, nil)
	fmt.Fprintf(w, "Generated center: seed %d, %d job ids, %d runs, %d sacct lines.\n\n", seed, rep.Jobs, rep.Records, d.DumpLines)
	var never []string
	for _, f := range rep.Declared {
		held := false
		for _, names := range heldout.Mapping {
			held = held || slices.Contains(names, f)
		}
		if !held {
			never = append(never, f)
		}
	}
	fmt.Fprintf(w, "Lexicon families no generator family holds out: %s.\n\n", strings.Join(never, ", "))
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "MAPPING:", p)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintln(w)
	}
	if err := rep.WriteMarkdown(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := rep.WriteFamiliesMarkdown(w); err != nil {
		return err
	}
	for _, row := range rep.Rows {
		if row.HeldOut != "" && len(row.Removed) == 0 {
			continue
		}
		name := "nothing"
		if row.HeldOut != "" {
			name = row.HeldOut
		}
		unk, wrong := heldout.Misses(row.Center, classify.ByJobs)
		fmt.Fprintf(w, "\n%s held out: %.0f runs unknown, %.0f runs of a wrong class.", name, unk, wrong)
	}
	fmt.Fprintln(w)
	if s := rep.Shortfalls(heldout.DefaultGoals); len(s) > 0 {
		fmt.Fprintf(w, "\n%d figures miss the goals:\n", len(s))
		for _, x := range s {
			fmt.Fprintln(w, "-", x)
		}
	} else {
		fmt.Fprintln(w, "\nEvery figure meets the goals.")
	}
	fmt.Fprintln(w)
	var figs []*heldout.DumpFigures
	for _, p := range heldout.PublicDumps {
		f, err := heldout.ClassifyPublic(public, p, rs, nil)
		if err != nil {
			return err
		}
		figs = append(figs, f)
	}
	return heldout.WritePublicMarkdown(w, figs)
}
