package backfill

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Stats says what a writer wrote.
type Stats struct {
	// Series and Samples count what was written.
	Series  int
	Samples int64
	// Bytes is the size of the OpenMetrics text, or of the remote-write
	// request bodies as sent (compressed).
	Bytes int64
	// Requests and Retries count remote-write requests: those that
	// succeeded, and the attempts that failed and were retried.
	Requests, Retries int
}

// spooled is where one chunk's values lie in the spool file.
type spooled struct {
	off int64
	n   int
}

// bandBudget bounds the values WriteOpenMetrics holds while it turns the
// spool's time slices into series: 16 MiB, as many series at a time as
// fit (at least one). A variable so that tests can make bands small.
var bandBudget = 16 << 20

// WriteOpenMetrics writes every series of g as OpenMetrics text with
// timestamps (in seconds), the input of `promtool tsdb
// create-blocks-from openmetrics`: family after family, each series'
// samples together and in time order (OpenMetrics forbids interleaving a
// series' samples with another's), ending with "# EOF".
//
// The Generator yields time slices of all series, while the text wants
// series after series, so the chunks are first written to a spool file in
// spoolDir ("" for the system's temporary directory), 8 bytes per sample,
// and read back a band of series at a time: memory stays bounded (one
// chunk, and at most 16 MiB of values, or one series if that is more)
// whatever the length of the history. The spool file is removed before
// returning. g must be at its start (new or Reset).
func WriteOpenMetrics(w io.Writer, g *Generator, spoolDir string) (st Stats, err error) {
	f, err := os.CreateTemp(spoolDir, "scmon-backfill-*.spool")
	if err != nil {
		return st, fmt.Errorf("spool: %w", err)
	}
	defer func() {
		cerr := f.Close()
		rerr := os.Remove(f.Name())
		if err == nil {
			err = errors.Join(cerr, rerr)
		}
	}()

	// Phase 1: the chunks, in time order, to the spool.
	var chunks []spooled
	sw := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	var off int64
	for {
		c, err := g.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, err
		}
		buf = buf[:0]
		for _, v := range c.Values {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		if _, err := sw.Write(buf); err != nil {
			return st, fmt.Errorf("spool: %w", err)
		}
		chunks = append(chunks, spooled{off: off, n: c.Len})
		off += int64(len(buf))
	}
	if err := sw.Flush(); err != nil {
		return st, fmt.Errorf("spool: %w", err)
	}

	// Phase 2: series after series, read back from the spool a band of
	// series at a time (one read per chunk and band), at most bandBudget
	// bytes of values held.
	cw := &countingWriter{w: w}
	out := bufio.NewWriterSize(cw, 1<<20)
	fams := g.Families()
	series := g.Series()
	points := g.Points()
	band := max(1, bandBudget/(8*points))
	vals := make([]float64, min(band, len(series))*points)
	var line []byte
	for s0 := 0; s0 < len(series); s0 += band {
		s1 := min(s0+band, len(series))
		first := 0
		for _, c := range chunks {
			seg := buf[:(s1-s0)*c.n*8]
			if _, err := f.ReadAt(seg, c.off+int64(s0)*int64(c.n)*8); err != nil {
				return st, fmt.Errorf("spool: %w", err)
			}
			for s := range s1 - s0 {
				v := vals[s*points+first : s*points+first+c.n]
				for i := range v {
					v[i] = math.Float64frombits(binary.LittleEndian.Uint64(seg[(s*c.n+i)*8:]))
				}
			}
			first += c.n
		}
		for s := s0; s < s1; s++ {
			fam := &fams[series[s].Family]
			line = line[:0]
			if s == 0 || series[s-1].Family != series[s].Family {
				mf := fam.MetricFamily()
				line = append(line, "# HELP "...)
				line = append(line, mf...)
				line = append(line, ' ')
				line = appendEscaped(line, fam.Help)
				line = append(line, "\n# TYPE "...)
				line = append(line, mf...)
				line = append(line, " counter\n# UNIT "...)
				line = append(line, mf...)
				line = append(line, " seconds\n"...)
			}
			prefix := appendSeriesName(nil, fam, series[s].Values, g.Labels())
			prefix = append(prefix, ' ')
			ts := g.from
			for i, v := range vals[(s-s0)*points : (s-s0+1)*points] {
				line = append(line, prefix...)
				line = appendValue(line, v)
				line = append(line, ' ')
				line = strconv.AppendInt(line, ts, 10)
				line = append(line, '\n')
				ts += g.step
				if len(line) >= 1<<16 || i == points-1 {
					if _, err := out.Write(line); err != nil {
						return st, err
					}
					line = line[:0]
				}
			}
			st.Samples += int64(points)
		}
	}
	if _, err := out.WriteString("# EOF\n"); err != nil {
		return st, err
	}
	if err := out.Flush(); err != nil {
		return st, err
	}
	st.Series = len(series)
	st.Bytes = cw.n
	return st, nil
}

// appendSeriesName appends name{label="value",...} with the family's
// labels, then the extra ones.
func appendSeriesName(b []byte, fam *Family, values []string, extra []Label) []byte {
	b = append(b, fam.Name...)
	b = append(b, '{')
	for i, name := range fam.Labels {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLabel(b, name, values[i])
	}
	for _, l := range extra {
		b = append(b, ',')
		b = appendLabel(b, l.Name, l.Value)
	}
	return append(b, '}')
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value)
	return append(b, '"')
}

// appendEscaped escapes a label value or HELP text for OpenMetrics:
// backslash, newline and double quote.
func appendEscaped(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\\\n\"") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '"':
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendValue formats a value: integers (every counter but billing) as
// integers, anything else in the shortest form that reads back exactly.
func appendValue(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
