// Command gen regenerates the sample center's job log, seeds/sample.sacct.gz,
// from the generator in seeds/internal/gen. Run it from the repository root:
//
//	go run ./seeds/gen
//
// The output is the same on every run; the seeds test fails when the
// committed file and the generator disagree.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/scmon/scmon/seeds/internal/gen"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "seeds/sample.sacct.gz", "output file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := os.Stat(filepath.Dir(*out)); err != nil {
		fmt.Fprintf(stderr, "gen: %v (run from the repository root, or give -o)\n", err)
		return 1
	}
	began := time.Now()
	var buf bytes.Buffer
	s, err := gen.Write(&buf)
	if err != nil {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "wrote %s: %d bytes, %d jobs, %d allocation records, %d lines, %d calibration rounds, %.1fs\n",
		*out, buf.Len(), s.Jobs, s.Records, s.Lines, s.Rounds, time.Since(began).Seconds())
	fmt.Fprintf(stderr, "billing utilization %.4f%%:", 100*s.Utilization)
	for _, p := range s.Partitions {
		fmt.Fprintf(stderr, " %s %.2f%%", p.Name, 100*p.Utilization)
	}
	fmt.Fprintf(stderr, "\nintended classes (billing): training %.2f%%, inference %.2f%%, other %.2f%%, unknown %.2f%%\n",
		100*s.Classes[0], 100*s.Classes[1], 100*s.Classes[2], 100*s.Classes[3])
	return 0
}
