// Package sacctgen makes large sacct dumps by replicating the built-in
// sample log, for the benchmarks of `scmon report` (the end-to-end Go
// benchmark and scripts/bench-peers.sh). Each copy of the sample keeps its
// times, fields and step lines; only the leading number of JobID and
// JobIDRaw is moved by a multiple of 10^8 per copy, so that every
// allocation is a new run and none is deduplicated away.
package sacctgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"

	"github.com/scmon/scmon/seeds"
)

// Write writes a dump of exactly n allocations to w (with their step lines
// when steps is set) and returns the number of copies of the sample it
// began, which scales a capacity to match.
func Write(w io.Writer, n int64, steps bool) (copies int64, err error) {
	if n <= 0 {
		return 0, fmt.Errorf("sacctgen: %d allocations: want at least one", n)
	}
	header, lines, err := sampleLines()
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	return write(bw, header, lines, n, steps)
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
