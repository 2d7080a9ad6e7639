// Package collector reads job records and capacity from scheduler outputs.
//
// Every input format lives in one file of this package, registered once
// with registerFormat; adding a format touches that file, its test, its
// fixtures under testdata/ and the README, nothing else. Parsers are pure:
// bytes in, records out, no clock and no global state, so that the same code
// serves one-shot reports, the daemon's tailers and the tests.
package collector

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/scmon/scmon/internal/intern"
	"github.com/scmon/scmon/job"
)

// Reader is a pull iterator over the records of one input.
//
// Next returns the next record, or io.EOF when the input is exhausted. Each
// record is newly allocated and owned by the caller. An error of type
// *LineError means that one input line was skipped; the reader stays usable
// and the caller decides whether to stop (strict mode) or go on. Any other
// error is an I/O failure and ends the stream.
type Reader interface {
	Next() (*job.Record, error)
}

// Options carries what a parser needs to know that its input does not say.
type Options struct {
	// Name names the input in messages (usually the file path).
	Name string
	// Location is the zone of timestamps written without an offset
	// (sacct, PBS, jobcomp). Nil means UTC.
	Location *time.Location
	// Cluster names the cluster when the records do not.
	Cluster string
	// Fields is the sacct field list of a dump written without a header;
	// nil means DefaultSacctFields.
	Fields []string
	// Strings interns repeated values; nil gives the reader its own pool.
	Strings *intern.Pool
	// MaxLine is the longest line, or record joined from several lines, a
	// reader accepts, in bytes; a longer one is skipped with reason
	// line_too_long without being held in memory. Zero means DefaultMaxLine.
	MaxLine int
}

func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Strings == nil {
		o.Strings = intern.New()
	}
	if o.MaxLine <= 0 {
		o.MaxLine = DefaultMaxLine
	}
	return o
}

// Format describes one registered input format.
type Format struct {
	// Name is the FORMAT of --input FORMAT:PATH.
	Name string
	// Description is one line for help texts.
	Description string
	// NewReader returns a reader over one stream of the format.
	NewReader func(r io.Reader, opts Options) (Reader, error)
	// Directories reports whether a directory path is accepted; its regular
	// files are then read in name order (PBS daily files).
	Directories bool
	// WindowFromSubmit reports whether the default report window of this
	// format starts at the first submission (SWF) instead of the first start.
	WindowFromSubmit bool
}

var formats []Format

func registerFormat(f Format) {
	formats = append(formats, f)
	sort.Slice(formats, func(i, j int) bool { return formats[i].Name < formats[j].Name })
}

// Formats returns the registered record formats in name order.
func Formats() []Format { return slices.Clone(formats) }

// LookupFormat returns the format registered under name.
func LookupFormat(name string) (Format, bool) {
	for _, f := range formats {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// FormatNames returns the names of the registered formats.
func FormatNames() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.Name
	}
	return names
}

// Open opens path (a file, gzip-compressed or not, or a directory for
// formats that accept one) and returns a reader of the named format. The
// returned closer releases the files; call it when done.
func Open(format, path string, opts Options) (Reader, io.Closer, error) {
	f, ok := LookupFormat(format)
	if !ok {
		return nil, nil, fmt.Errorf("unknown input format %q (known: %v)", format, FormatNames())
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s input: %w", format, err)
	}
	var files []string
	if st.IsDir() {
		if !f.Directories {
			return nil, nil, fmt.Errorf("open %s input %s: is a directory, and this format reads files only", format, path)
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, nil, fmt.Errorf("open %s input: %w", format, err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && e.Name()[0] != '.' {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("open %s input %s: directory holds no files", format, path)
		}
	} else {
		files = []string{path}
	}
	m := &multiReader{format: f, files: files, opts: opts.withDefaults()}
	return m, m, nil
}

// multiReader reads the files of one input in turn.
type multiReader struct {
	format Format
	files  []string
	opts   Options
	cur    Reader
	closer io.Closer
	// lastHint keeps the capacity hint of the last finished file.
	lastHint *CapacityHint
	// notes sums the notes of finished files.
	notes map[string]int
}

func (m *multiReader) Next() (*job.Record, error) {
	for {
		if m.cur == nil {
			if len(m.files) == 0 {
				return nil, io.EOF
			}
			name := m.files[0]
			m.files = m.files[1:]
			rc, err := OpenFile(name)
			if err != nil {
				return nil, err
			}
			opts := m.opts
			opts.Name = name
			r, err := m.format.NewReader(rc, opts)
			if err != nil {
				rc.Close()
				return nil, fmt.Errorf("read %s: %w", name, err)
			}
			m.cur, m.closer = r, rc
		}
		rec, err := m.cur.Next()
		if errors.Is(err, io.EOF) {
			if h, ok := m.cur.(capacityHinter); ok && h.Capacity() != nil {
				m.lastHint = h.Capacity()
			}
			if n, ok := m.cur.(Noter); ok {
				if m.notes == nil {
					m.notes = map[string]int{}
				}
				for k, v := range n.Notes() {
					m.notes[k] += v
				}
			}
			m.closer.Close()
			m.cur, m.closer = nil, nil
			continue
		}
		return rec, err
	}
}

// Capacity passes on a capacity hint of the current file's reader (SWF
// headers), so that callers can use it after reading.
func (m *multiReader) Capacity() *CapacityHint {
	if h, ok := m.cur.(capacityHinter); ok {
		return h.Capacity()
	}
	return m.lastHint
}

// Notes sums the notes of the files read so far.
func (m *multiReader) Notes() map[string]int {
	out := map[string]int{}
	for k, v := range m.notes {
		out[k] += v
	}
	if n, ok := m.cur.(Noter); ok {
		for k, v := range n.Notes() {
			out[k] += v
		}
	}
	return out
}

func (m *multiReader) Close() error {
	if m.closer != nil {
		return m.closer.Close()
	}
	return nil
}

// OpenFile opens a file for reading, decompressing it transparently when it
// starts with the gzip magic number, whatever its name.
func OpenFile(name string) (io.ReadCloser, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		return &gzipFile{Reader: zr, f: f}, nil
	}
	return &plainFile{Reader: br, f: f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Close() error {
	err := g.Reader.Close()
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	return err
}

type plainFile struct {
	io.Reader
	f *os.File
}

func (p *plainFile) Close() error { return p.f.Close() }

// MaybeGzip wraps r in a gzip reader when its data starts with the gzip
// magic number; it serves embedded and in-memory inputs.
func MaybeGzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}
