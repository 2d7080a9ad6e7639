package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/job"
)

// DefaultTailMaxBytes bounds the bytes one tail poll reads when the
// configuration does not say; a longer backlog is read over several polls
// with Batch.More set.
const DefaultTailMaxBytes = 64 << 20

// checkLen is how many bytes before the cursor's offset its checksum
// covers: enough to tell a rewritten file from the one that was read.
const checkLen = 64

// TailConfig configures a file tailer.
type TailConfig struct {
	// Name names the source in cursors, logs and metrics; default the
	// format's name.
	Name string
	// Format is the registered record format of the log
	// (collector.LookupFormat): jobcomp, pbs, swf, ...
	Format string
	// Path is the log file (a jobcomp log), or, for a format that reads
	// directories (collector.Format.Directories), the directory of daily
	// files named YYYYMMDD (a PBS server_priv/accounting).
	Path string
	// Location is the zone of the logs' wall-clock timestamps (the zone
	// slurmctld or the PBS server runs in); nil means UTC.
	Location *time.Location
	// Cluster names the cluster of records that do not name one.
	Cluster string
	// FromEnd makes a first poll (no cursor) start after the last complete
	// line present (of the newest daily file, for PBS) instead of at the
	// beginning, for a site that imports the history another way.
	FromEnd bool
	// MaxBytes bounds the bytes one poll reads; default
	// DefaultTailMaxBytes.
	MaxBytes int64
	// MaxErrors bounds the line-error messages a batch keeps; default
	// DefaultMaxErrors.
	MaxErrors int
	// Logger receives rotations, truncations and lost files; nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock of Batch.Complete; nil means time.Now.
	Now func() time.Time
}

// Tail follows an append-only accounting log of any registered record
// format: one file, rotated by renaming or by copy and truncate (the Slurm
// jobcomp/filetxt log, an SWF trace being written), or, for a format that
// reads directories, a directory with a new file each day (PBS accounting). It keeps no state between
// polls: the cursor says everything, so a new Tail given an old cursor
// goes on exactly where the old one stopped.
//
// A poll reads only complete lines: a last line still missing its newline
// is left for the next poll, and the cursor's offset is the byte just after
// the last complete line returned. Line numbers in records and in
// Batch.Errors are 1-based line numbers within the named file, counted from
// its first byte (the cursor carries the count), so an operator can open
// the file at that line.
//
// Following the file across the ways it changes:
//   - Appended: the new complete lines are read.
//   - Renamed away and replaced by a new file (logrotate's default): the
//     old file is found again by its identity (device and inode) in the
//     same directory and read to its last complete line; the tailer stays
//     on it while the new file is empty, since the writer may append to
//     the old one until it reopens, and moves to the new one at offset 0
//     once that has data. An incomplete last line left in the old file at
//     that point is counted as skipped.
//   - Copied and truncated (logrotate's copytruncate), or truncated to
//     zero: the file is shorter than the offset, or the bytes before the
//     offset are no longer those that were read (a checksum of them is in
//     the cursor). The copy, when one in the same directory holds the same
//     bytes, is read from the offset first, so that lines written between
//     the last poll and the truncation are not lost; then the file is read
//     again from offset 0. Batch.Notes says "truncated".
//   - Gone with no trace (rotated and compressed before the tailer saw
//     it): the new file is read from 0, Notes says "rotated_lost".
//   - Daily files: when a later daily file exists the server has moved
//     on, so the current one is final; the tailer finishes it and goes to
//     the next.
//
// A same-content file under a new identity (restored, or a device
// renumbered after a reboot) is recognised by the checksum and continued;
// a new file that reuses the old one's inode number is told apart by the
// same checksum and read from the start.
type Tail struct {
	cfg    TailConfig
	format collector.Format
	log    *slog.Logger
}

// tailCursor is the persisted position of a Tail. Encoded as JSON:
//
//	{"file":"20240311","dev":2049,"ino":1311,"offset":5120,"line":40,"check":"9f2c..."}
//
// file is the daily file's name (absent for a single log), dev and ino the
// identity of the file being read, offset the byte just after the last
// complete line returned, line the number of lines before offset, check the
// first 16 bytes (hex) of the SHA-256 of the up to 64 bytes before offset.
// head and head_lines (absent when zero) are the bytes and lines of the
// file's prelude, the lines before its first record (a sacct header line,
// the comment header of an SWF trace): a read from the middle of the file
// is given them first, since the reader needs them to read the rest (the
// field order, the trace's start time).
type tailCursor struct {
	File      string `json:"file,omitempty"`
	Dev       uint64 `json:"dev"`
	Ino       uint64 `json:"ino"`
	Offset    int64  `json:"offset"`
	Line      int64  `json:"line"`
	Check     string `json:"check,omitempty"`
	Head      int64  `json:"head,omitempty"`
	HeadLines int64  `json:"head_lines,omitempty"`
}

type fileID struct{ dev, ino uint64 }

func (c *tailCursor) id() fileID { return fileID{c.Dev, c.Ino} }

func (c *tailCursor) setID(id fileID) { c.Dev, c.Ino = id.dev, id.ino }

// NewTail returns a tailer of a log of cfg.Format. A format that reads
// directories is followed as a directory of daily files named YYYYMMDD,
// read in name order. Records linked across lines (a PBS job's deletion
// record and its end record) are linked within one read only: across two
// polls that link is lost (a deleted PBS job then reads FAILED; its
// resources are counted all the same).
func NewTail(cfg TailConfig) (*Tail, error) {
	if cfg.Name == "" {
		cfg.Name = cfg.Format
	}
	f, err := lookupFormat(cfg.Name, cfg.Format)
	if err != nil {
		return nil, err
	}
	if cfg.Path == "" {
		return nil, fmt.Errorf("source %s: path is empty", cfg.Name)
	}
	if cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("source %s: max bytes %d is negative", cfg.Name, cfg.MaxBytes)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultTailMaxBytes
	}
	if cfg.MaxErrors <= 0 {
		cfg.MaxErrors = DefaultMaxErrors
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Tail{cfg: cfg, format: f, log: orDiscard(cfg.Logger)}, nil
}

// Name returns the source's name.
func (t *Tail) Name() string { return t.cfg.Name }

// Kind returns the format's name (jobcomp, pbs, ...), the kind of source
// for health metrics.
func (t *Tail) Kind() string { return t.format.Name }

// tailPoll is the state of one poll.
type tailPoll struct {
	b      *Batch
	budget int64
	more   bool
}

// errMissing reports that neither the file at the path nor the one the
// cursor was in can be found.
var errMissing = errors.New("no such file")

// Poll reads the complete lines written since cursor (nil: from the
// beginning, or the end with FromEnd) and returns their records with the
// cursor after them. Batch.Complete is the time of the read.
func (t *Tail) Poll(ctx context.Context, cursor []byte) (*Batch, error) {
	var cur tailCursor
	first := len(bytes.TrimSpace(cursor)) == 0
	if !first {
		dec := json.NewDecoder(bytes.NewReader(cursor))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cur); err != nil {
			return nil, errCursor(t.cfg.Name, err)
		}
		if cur.Offset < 0 || cur.Line < 0 {
			return nil, errCursor(t.cfg.Name, fmt.Errorf("negative offset %d or line %d", cur.Offset, cur.Line))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &tailPoll{b: newBatch(t.cfg.Name), budget: t.cfg.MaxBytes}
	var err error
	if t.format.Directories && isDir(t.cfg.Path) {
		err = t.pollDaily(&cur, first, p)
	} else {
		err = t.pollFile(&cur, first, p)
	}
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", t.cfg.Name, err)
	}
	if p.b.Cursor, err = json.Marshal(cur); err != nil {
		return nil, err
	}
	p.b.Complete = t.cfg.Now()
	p.b.More = p.more
	return p.b, nil
}

func (t *Tail) pollFile(cur *tailCursor, first bool, p *tailPoll) error {
	if first && t.cfg.FromEnd {
		if err := t.startAtEnd(t.cfg.Path, cur); err != nil {
			return err
		}
	}
	_, err := t.follow(t.cfg.Path, cur, p)
	if errors.Is(err, errMissing) {
		return fmt.Errorf("%s log %s: %w", t.format.Name, t.cfg.Path, err)
	}
	return err
}

func (t *Tail) pollDaily(cur *tailCursor, first bool, p *tailPoll) error {
	dir := t.cfg.Path
	names, err := dailyFiles(dir)
	if err != nil {
		return err
	}
	if cur.File == "" {
		if len(names) == 0 {
			return nil
		}
		if first && t.cfg.FromEnd {
			cur.File = names[len(names)-1]
			if err := t.startAtEnd(filepath.Join(dir, cur.File), cur); err != nil {
				return err
			}
		} else {
			*cur = tailCursor{File: names[0]}
		}
	}
	for {
		path := filepath.Join(dir, cur.File)
		rest, err := t.follow(path, cur, p)
		missing := errors.Is(err, errMissing)
		if err != nil && !missing {
			return err
		}
		if p.more {
			return nil
		}
		i, _ := slices.BinarySearch(names, cur.File)
		for i < len(names) && names[i] <= cur.File {
			i++
		}
		if i == len(names) {
			if missing {
				t.log.Warn("tail_file_missing", "source", t.cfg.Name, "file", path)
			}
			return nil
		}
		// A later daily file exists: the server writes there now, and this
		// one is final. An unterminated last line will never be completed.
		if rest > 0 {
			p.b.skip(collector.ReasonRecord, fmt.Sprintf("%s:%d: incomplete last line (%d bytes without a newline) in a file the server no longer writes", path, cur.Line+1, rest), t.cfg.MaxErrors)
		}
		if missing {
			p.b.Notes["file_lost"]++
			t.log.Warn("tail_file_lost", "source", t.cfg.Name, "file", path, "offset", cur.Offset)
		}
		*cur = tailCursor{File: names[i]}
	}
}

// isDir reports whether path is a directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// dailyFiles lists the daily files (YYYYMMDD) of dir in name order.
func dailyFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if isDailyName(e.Name()) && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil // ReadDir sorts by name
}

func isDailyName(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// startAtEnd points cur after the last complete line of path.
func (t *Tail) startAtEnd(path string, cur *tailCursor) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	end, err := lastLineEnd(f, 0, fi.Size(), 0)
	if err != nil {
		return err
	}
	lines, err := countLines(f, end)
	if err != nil {
		return err
	}
	cur.setID(identity(fi))
	cur.Offset, cur.Line = end, lines
	cur.Check, err = checksum(f, end)
	return err
}

// follow brings cur up to date with the file at path, reading what is new
// in the file the cursor is in and, after a rotation, in the file now at
// path. It returns how many bytes of the file the cursor ends in are left
// after the last complete line (a partial line, or more than the budget).
// It returns errMissing when neither file exists.
func (t *Tail) follow(path string, cur *tailCursor, p *tailPoll) (rest int64, err error) {
	f, fi, err := openRegular(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	if f != nil {
		defer f.Close()
	}
	if f != nil && identity(fi) == cur.id() {
		return t.continueOn(f, cur.id(), path, fi.Size(), cur, p)
	}

	// The file at path is not the one the cursor is in: a first read, a
	// rotation, or the same file under a new identity.
	if cur.id() != (fileID{}) {
		dir := filepath.Dir(path)
		if oldPath, of, ofi := findFile(dir, cur, func(id fileID) bool { return id == cur.id() }); of != nil {
			defer of.Close()
			rest, err := t.readLines(of, oldPath, ofi.Size(), cur, p)
			if err != nil || p.more {
				return rest, err
			}
			if f == nil || fi.Size() == 0 {
				// The writer may still append to the old file until it
				// reopens the path: stay on it until the new one has data.
				return rest, nil
			}
			if rest > 0 {
				p.b.skip(collector.ReasonRecord, fmt.Sprintf("%s:%d: incomplete last line (%d bytes without a newline) in a rotated file", oldPath, cur.Line+1, rest), t.cfg.MaxErrors)
			}
			t.log.Info("tail_rotated", "source", t.cfg.Name, "old", oldPath, "new", path)
			p.b.Notes["rotated"]++
		} else if f != nil && sameBytes(f, fi.Size(), cur) {
			t.log.Info("tail_identity_changed", "source", t.cfg.Name, "file", path)
			p.b.Notes["identity_changed"]++
			cur.setID(identity(fi))
			return t.continueOn(f, cur.id(), path, fi.Size(), cur, p)
		} else {
			t.log.Warn("tail_rotated_file_lost", "source", t.cfg.Name, "file", path, "offset", cur.Offset)
			p.b.Notes["rotated_lost"]++
		}
	}
	if f == nil {
		return 0, errMissing
	}
	file := cur.File
	*cur = tailCursor{File: file}
	cur.setID(identity(fi))
	return t.continueOn(f, cur.id(), path, fi.Size(), cur, p)
}

// continueOn reads f (the file the cursor is in, identity id) from the
// cursor, after checking that it was not truncated or rewritten since.
func (t *Tail) continueOn(f *os.File, id fileID, path string, size int64, cur *tailCursor, p *tailPoll) (int64, error) {
	if !sameBytes(f, size, cur) {
		t.log.Warn("tail_truncated", "source", t.cfg.Name, "file", path, "size", size, "offset", cur.Offset)
		p.b.Notes["truncated"]++
		// copytruncate: the copy holds what was written between the last
		// read and the truncation. Point the cursor at it; follow reads it
		// from the offset and moves to the truncated file once it is done.
		if cur.Offset > 0 {
			if _, cf, cfi := findFile(filepath.Dir(path), cur, func(other fileID) bool { return other != id }); cf != nil {
				cf.Close()
				cur.setID(identity(cfi))
				return t.follow(path, cur, p)
			}
		}
		file := cur.File
		*cur = tailCursor{File: file}
		cur.setID(id)
	}
	return t.readLines(f, path, size, cur, p)
}

// readLines parses the complete lines of f after cur.Offset, at most about
// the poll's budget, into the batch, and moves cur past them. It returns
// how many bytes are left after the last complete line read.
func (t *Tail) readLines(f *os.File, name string, size int64, cur *tailCursor, p *tailPoll) (int64, error) {
	if p.budget <= 0 {
		if size > cur.Offset {
			p.more = true
		}
		return size - cur.Offset, nil
	}
	limited := cur.Offset+p.budget < size
	end, err := lastLineEnd(f, cur.Offset, size, p.budget)
	if err != nil {
		return 0, err
	}
	if end > cur.Offset {
		lc := &lineCounter{r: io.NewSectionReader(f, cur.Offset, end-cur.Offset)}
		var in io.Reader = lc
		// base turns the reader's line numbers into the file's.
		base := int(cur.Line)
		if cur.Offset > 0 && cur.Head > 0 {
			in = io.MultiReader(io.NewSectionReader(f, 0, cur.Head), lc)
			base -= int(cur.HeadLines)
		}
		// While nothing but the prelude was read, the first item of this
		// read ends it.
		open := cur.Head == cur.Offset
		first := 0
		r, err := t.format.NewReader(in, collector.Options{Name: name, Location: t.cfg.Location, Cluster: t.cfg.Cluster})
		if err == nil {
			_, err = ingest.Drain(r, &p.b.Stats, t.cfg.MaxErrors, func(rec *job.Record, le *collector.LineError) bool {
				var line *int
				if le != nil {
					line = &le.Line
				} else {
					line = &rec.Line
				}
				if first == 0 && *line > 0 {
					first = base + *line
				}
				*line += base
				if rec != nil {
					p.b.Records = append(p.b.Records, rec)
				}
				return true
			})
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", name, err)
		}
		p.b.AddNotes(r)
		p.budget -= end - cur.Offset
		cur.Offset, cur.Line = end, cur.Line+lc.lines
		if open {
			if first == 0 {
				cur.Head, cur.HeadLines = cur.Offset, cur.Line
			} else if cur.Head, err = lineOffset(f, int64(first-1)); err != nil {
				return 0, err
			} else {
				cur.HeadLines = int64(first - 1)
			}
		}
		if cur.Check, err = checksum(f, end); err != nil {
			return 0, err
		}
	}
	rest := size - cur.Offset
	if rest > 0 && (limited || p.budget <= 0) {
		p.more = true
	}
	return rest, nil
}

// findFile looks in dir for a regular file accepted by want whose bytes
// before cur.Offset are those the cursor read, and returns it open.
func findFile(dir string, cur *tailCursor, want func(fileID) bool) (string, *os.File, os.FileInfo) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, nil
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !want(identity(info)) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, fi, err := openRegular(path)
		if err != nil {
			continue
		}
		if want(identity(fi)) && sameBytes(f, fi.Size(), cur) {
			return path, f, fi
		}
		f.Close()
	}
	return "", nil, nil
}

// openRegular opens path and returns it with its stat; a path that is not
// a regular file is an error.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, fi, nil
}

// identity returns a file's device and inode.
func identity(fi os.FileInfo) fileID {
	if fi == nil {
		return fileID{}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}
}

// sameBytes reports whether f, of the given size, still holds what the
// cursor read: it is not shorter than the offset, and the bytes before the
// offset have the cursor's checksum.
func sameBytes(f io.ReaderAt, size int64, cur *tailCursor) bool {
	if size < cur.Offset {
		return false
	}
	if cur.Offset == 0 || cur.Check == "" {
		return true
	}
	sum, err := checksum(f, cur.Offset)
	return err == nil && sum == cur.Check
}

// checksum returns the hex of the first 16 bytes of the SHA-256 of the up
// to checkLen bytes before off ("" at offset 0).
func checksum(f io.ReaderAt, off int64) (string, error) {
	if off <= 0 {
		return "", nil
	}
	lo := max(0, off-checkLen)
	buf := make([]byte, off-lo)
	if _, err := f.ReadAt(buf, lo); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16]), nil
}

// lastLineEnd returns the offset just after the last newline in
// [off, min(size, off+budget)), or, when that range holds none and the
// file goes on, after the first newline beyond it (a line longer than the
// budget is read whole). It returns off when there is no complete line.
// A budget of 0 means no bound.
func lastLineEnd(f io.ReaderAt, off, size, budget int64) (int64, error) {
	limit := size
	if budget > 0 && off+budget < size {
		limit = off + budget
	}
	buf := make([]byte, 64<<10)
	for hi := limit; hi > off; {
		lo := max(off, hi-int64(len(buf)))
		n, err := f.ReadAt(buf[:hi-lo], lo)
		if err != nil && !errors.Is(err, io.EOF) {
			return off, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return lo + int64(i) + 1, nil
		}
		hi = lo
	}
	for lo := limit; lo < size; {
		hi := min(size, lo+int64(len(buf)))
		n, err := f.ReadAt(buf[:hi-lo], lo)
		if err != nil && !errors.Is(err, io.EOF) {
			return off, err
		}
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return lo + int64(i) + 1, nil
		}
		if n == 0 {
			break
		}
		lo += int64(n)
	}
	return off, nil
}

// lineOffset returns the offset of the start of the line after the first
// n lines of f.
func lineOffset(f io.ReaderAt, n int64) (int64, error) {
	if n <= 0 {
		return 0, nil
	}
	buf := make([]byte, 64<<10)
	var off int64
	for {
		k, err := f.ReadAt(buf, off)
		for i := 0; i < k; {
			j := bytes.IndexByte(buf[i:k], '\n')
			if j < 0 {
				break
			}
			i += j + 1
			if n--; n == 0 {
				return off + int64(i), nil
			}
		}
		off += int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return off, nil
			}
			return 0, err
		}
	}
}

// countLines counts the newlines in the first n bytes of f.
func countLines(f io.ReaderAt, n int64) (int64, error) {
	lc := &lineCounter{r: io.NewSectionReader(f, 0, n)}
	_, err := io.Copy(io.Discard, lc)
	return lc.lines, err
}

// lineCounter counts the newlines that pass through it.
type lineCounter struct {
	r     io.Reader
	lines int64
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	return n, err
}
