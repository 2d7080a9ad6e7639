// Command gendump writes a large sacct dump made by replicating the built-in
// sample log, for the peer benchmark (scripts/bench-peers.sh) and the
// end-to-end report benchmark. Each copy of the sample keeps its times,
// fields and step lines; only the leading number of JobID and JobIDRaw is
// moved by a multiple of 10^8 per copy, so that every allocation is a new
// run and none is deduplicated away.
//
// Usage:
//
//	gendump -n 1000000 [-steps] [-o dump.psv]
//
// The dump ends after exactly n allocations (with their step lines when
// -steps is given). It also prints the number of copies it needed on
// stderr, which scales the capacity of the benchmark's inventory.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/scmon/scmon/seeds"
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
	if *n <= 0 {
		return errors.New("-n must be positive")
	}
	header, lines, err := sampleLines()
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	copies, err := write(bw, header, lines, *n, *steps)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && *out != "" {
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "copies %d\n", copies)
	return nil
}

// sampleLines returns the sample log's header and its record lines.
func sampleLines() ([]byte, [][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(seeds.SacctLog()))
	if err != nil {
		return nil, nil, fmt.Errorf("sample log: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, nil, fmt.Errorf("sample log: %w", err)
	}
	all := bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n"))
	return all[0], all[1:], nil
}

// isStep reports whether a sample line is a step line ("123.batch").
func isStep(line []byte) bool {
	id, _, _ := bytes.Cut(line, []byte("|"))
	return bytes.IndexByte(id, '.') >= 0
}

// write writes the header and copies of lines until n allocations are out;
// it returns the number of copies begun.
func write(w *bufio.Writer, header []byte, lines [][]byte, n int64, steps bool) (int64, error) {
	w.Write(header)
	w.WriteByte('\n')
	var done, copies int64
	for done < n {
		shift := copies * 100000000
		copies++
		for _, l := range lines {
			step := isStep(l)
			if !step {
				if done == n {
					break
				}
				done++
			} else if !steps {
				continue
			}
			writeShifted(w, l, shift)
		}
	}
	return copies, w.Flush()
}

// writeShifted writes a line with the leading number of its first two
// fields (JobID, JobIDRaw) increased by shift.
func writeShifted(w *bufio.Writer, line []byte, shift int64) {
	for f := 0; f < 2; f++ {
		i := bytes.IndexByte(line, '|')
		cell := line[:i]
		k := 0
		for k < len(cell) && cell[k] >= '0' && cell[k] <= '9' {
			k++
		}
		v, _ := strconv.ParseInt(string(cell[:k]), 10, 64)
		w.WriteString(strconv.FormatInt(v+shift, 10))
		w.Write(cell[k:])
		w.WriteByte('|')
		line = line[i+1:]
	}
	w.Write(line)
	w.WriteByte('\n')
}
