// Command gendump writes a large sacct dump made by replicating the
// built-in sample log (see package sacctgen), for scripts/bench-peers.sh.
//
// Usage:
//
//	gendump -n 1000000 [-steps] [-o dump.psv]
//
// The dump ends after exactly n allocations (with their step lines when
// -steps is given). The number of copies of the sample it needed goes to
// standard error ("copies N"), to scale the benchmark's capacity.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/scmon/scmon/bench/sacctgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gendump:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gendump", flag.ContinueOnError)
	n := fs.Int64("n", 100000, "allocations to write")
	steps := fs.Bool("steps", false, "keep the step lines of each allocation")
	out := fs.String("o", "", "output file (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := stdout
	var f *os.File
	if *out != "" {
		var err error
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	copies, err := sacctgen.Write(w, *n, *steps)
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "copies %d\n", copies)
	return nil
}
