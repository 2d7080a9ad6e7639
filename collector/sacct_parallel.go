package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/scmon/scmon/job"
)

// A large sacct file is read in chunks by several goroutines and the
// results are handed out in file order, so that records, skipped lines
// (with their line numbers and messages) and notes are exactly those of
// reading it in one pass.
//
// A chunk starts only where reading in one pass would be in a plain
// state: at an allocation line with the full field count whose line parses,
// right after a non-blank line with at least the full field count (so no
// record broken over lines is being joined and no continuation line can
// follow). Each chunk is read by its own SacctReader, given the header of
// the file and the number of lines before it; steps and continuation lines
// always follow their allocation inside its chunk. At most a few chunks
// are read ahead of the caller, so memory stays bounded.
var (
	// parallelMinBytes is the least size of a file read in chunks.
	parallelMinBytes int64 = 64 << 20
	// parallelChunkBytes is the target size of a chunk.
	parallelChunkBytes int64 = 16 << 20
	// parallelWindow bounds the chunks read ahead of the caller.
	parallelWindow = 4
)

// sacctItem is one outcome of Next: a record or an error.
type sacctItem struct {
	rec *job.Record
	err error
}

// sacctChunk is the outcome of reading one chunk.
type sacctChunk struct {
	start, end int64
	lines      int           // lines of the chunk, known once counted
	counted    chan struct{} // closed when lines is set
	done       chan struct{} // closed when items, notes and fatal are set
	items      []sacctItem
	notes      map[string]int
	fatal      error
}

// sacctParallel is the shared state of a chunked read; the workers hold
// it, never the SacctReader, so that a reader dropped before its end is
// collected and its cleanup stops them.
type sacctParallel struct {
	f      *os.File
	opts   Options
	first  []byte // the first non-blank line (header, or the first record)
	firstN int    // its line number
	chunks []*sacctChunk

	// bufs holds the buffers of chunks already read, for the next ones:
	// records never point into them (their text is copied).
	bufs chan []byte

	mu       sync.Mutex
	cond     *sync.Cond
	next     int // the next chunk to hand to a worker
	consumed int // chunks the reader has handed out whole
	stopped  bool
}

// parallelFile returns the file of r when it is a plain (not compressed)
// regular file large enough to read in chunks, with more than one CPU to
// read it with.
func parallelFile(r io.Reader) (*os.File, int64, bool) {
	pf, ok := r.(*plainFile)
	if !ok || runtime.GOMAXPROCS(0) < 2 {
		return nil, 0, false
	}
	st, err := pf.f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < parallelMinBytes {
		return nil, 0, false
	}
	return pf.f, st.Size(), true
}

// startParallel plans the chunks of f and starts the workers; it returns
// nil when the file cannot be split (then it is read in one pass, from the
// start, as it has not been read yet).
func startParallel(f *os.File, size int64, opts Options) *sacctParallel {
	// The first non-blank line, read as the one-pass reader reads it.
	lr := newCappedLineReader(io.NewSectionReader(f, 0, size), opts.MaxLine)
	var first []byte
	for {
		line, err := lr.next()
		if err != nil {
			return nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			first = bytes.Clone(line)
			break
		}
	}
	p := &sacctParallel{f: f, opts: opts, first: first, firstN: lr.line}
	p.cond = sync.NewCond(&p.mu)
	tmpl := p.chunkReader(nil, 0)
	starts := []int64{0}
	for t := parallelChunkBytes; t < size; {
		b, searched, ok := tmpl.boundary(f, t, size)
		if !ok {
			t = searched // nothing in the window: search after it
			continue
		}
		starts = append(starts, b)
		t = b + parallelChunkBytes
	}
	if len(starts) < 2 {
		return nil
	}
	for i, s := range starts {
		end := size
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		p.chunks = append(p.chunks, &sacctChunk{start: s, end: end, counted: make(chan struct{}), done: make(chan struct{})})
	}
	workers := min(runtime.GOMAXPROCS(0), 4)
	p.bufs = make(chan []byte, workers)
	for range workers {
		go p.work()
	}
	return p
}

// chunkReader returns a reader over data that starts after lines lines of
// the file, in the state reading the file in one pass has there; nil data
// gives a template that has only read the first line.
func (p *sacctParallel) chunkReader(data []byte, lines int) *SacctReader {
	opts := p.opts
	opts.Strings = nil // a pool each: pools are not safe for concurrent use
	s := &SacctReader{readerBase: newReaderBase(opts), delim: []byte{'|'}}
	s.lines = newMemLineReader(data, s.opts.MaxLine)
	_ = s.start(p.first, p.firstN) // an error here is reported by the first chunk
	s.seen = true
	s.lines.line = lines
	return s
}

// boundary returns the first chunk start after offset t (see the comment
// on parallelMinBytes), searching a window after t; when there is none,
// ok is false and searched is where the window ended.
func (s *SacctReader) boundary(f *os.File, t, size int64) (b, searched int64, ok bool) {
	win := min(int64(1<<20), max(parallelChunkBytes, 64<<10))
	if t+win > size {
		win = size - t
	}
	searched = t + win
	if win < 0 {
		return 0, size, false
	}
	buf := make([]byte, win)
	if _, err := f.ReadAt(buf, t); err != nil && !errors.Is(err, io.EOF) {
		return 0, size, false
	}
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		return 0, searched, false
	}
	ps := i + 1 // the line P before the candidate
	for {
		pe := bytes.IndexByte(buf[ps:], '\n')
		if pe < 0 {
			return 0, searched, false
		}
		pe += ps
		le := bytes.IndexByte(buf[pe+1:], '\n')
		if le < 0 {
			return 0, searched, false
		}
		le += pe + 1
		prev := bytes.TrimSuffix(buf[ps:pe], []byte{'\r'})
		line := bytes.TrimSuffix(buf[pe+1:le], []byte{'\r'})
		if s.safeStart(prev, line) {
			return t + int64(pe+1), 0, true
		}
		ps = pe + 1
	}
}

// safeStart reports whether line, after prev, can start a chunk.
func (s *SacctReader) safeStart(prev, line []byte) bool {
	if len(prev) > s.opts.MaxLine || len(line) > s.opts.MaxLine ||
		len(bytes.TrimSpace(prev)) == 0 || len(bytes.TrimSpace(line)) == 0 {
		return false
	}
	if s.count(prev) < len(s.fields) || s.count(line) != len(s.fields) {
		return false
	}
	cells := s.split(line, len(s.fields))
	id := s.cell(cells, s.cols.jobID)
	if len(id) == 0 || bytes.IndexByte(id, '.') >= 0 || !plausibleJobID(id) {
		return false
	}
	_, err := s.parseAlloc(cells, 0)
	return err == nil
}

// work reads chunks until none is left or the read is stopped.
func (p *sacctParallel) work() {
	for {
		p.mu.Lock()
		for !p.stopped && p.next < len(p.chunks) && p.next >= p.consumed+parallelWindow {
			p.cond.Wait()
		}
		if p.stopped || p.next >= len(p.chunks) {
			p.mu.Unlock()
			return
		}
		k := p.next
		p.next++
		p.mu.Unlock()
		p.read(k)
	}
}

// read reads chunk k.
func (p *sacctParallel) read(k int) {
	c := p.chunks[k]
	defer close(c.done)
	var data []byte
	select {
	case data = <-p.bufs:
	default:
	}
	if int64(cap(data)) < c.end-c.start {
		data = make([]byte, c.end-c.start)
	}
	data = data[:c.end-c.start]
	defer func() {
		select {
		case p.bufs <- data:
		default:
		}
	}()
	_, err := p.f.ReadAt(data, c.start)
	if err != nil && !errors.Is(err, io.EOF) {
		c.fatal = fmt.Errorf("read %s: %w", p.f.Name(), err)
		close(c.counted)
		return
	}
	c.lines = bytes.Count(data, []byte{'\n'})
	close(c.counted)
	lines := 0
	for _, prev := range p.chunks[:k] {
		<-prev.counted
		lines += prev.lines
	}
	var r *SacctReader
	if k == 0 {
		opts := p.opts
		opts.Strings = nil
		r = NewSacctReader(bytes.NewReader(data), opts)
		r.lines = newMemLineReader(data, r.opts.MaxLine)
	} else {
		r = p.chunkReader(data, lines)
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *LineError
		if err != nil && !errors.As(err, &le) {
			c.fatal = err
			break
		}
		c.items = append(c.items, sacctItem{rec, err})
	}
	c.notes = r.notes
}

// stop ends the workers (the reader was dropped before its end).
func (p *sacctParallel) stop() {
	p.mu.Lock()
	p.stopped = true
	p.cond.Broadcast()
	p.mu.Unlock()
}

// nextParallel is Next for a file read in chunks.
func (s *SacctReader) nextParallel() (*job.Record, error) {
	p := s.par
	for s.parChunk < len(p.chunks) {
		c := p.chunks[s.parChunk]
		<-c.done
		if s.parPos < len(c.items) {
			it := c.items[s.parPos]
			s.parPos++
			return it.rec, it.err
		}
		for k, v := range c.notes {
			s.notes[k] += v
		}
		c.items, c.notes = nil, nil
		s.parChunk++
		s.parPos = 0
		p.mu.Lock()
		p.consumed = s.parChunk
		p.cond.Broadcast()
		p.mu.Unlock()
		if c.fatal != nil {
			s.parChunk = len(p.chunks)
			s.err = c.fatal
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	return nil, io.EOF
}
