package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/job"
)

// DefaultDumpMaxRecords bounds the records of one dump batch when the
// configuration does not say.
const DefaultDumpMaxRecords = 50000

// DumpConfig configures a one-time import of dump files.
type DumpConfig struct {
	// Name names the source in cursors, logs and metrics; default
	// "dump".
	Name string
	// Format is the registered record format of the files
	// (collector.LookupFormat); default slurm-sacct.
	Format string
	// Paths are the dump files, imported in this order. A file is known by
	// its path as written here.
	Paths []string
	// Location is the zone of the dumps' timestamps (the TZ sacct ran
	// in); nil means UTC.
	Location *time.Location
	// Cluster names the cluster of records that do not name one.
	Cluster string
	// Fields names the columns of sacct dumps written without a header
	// line; nil means collector.DefaultSacctFields. Dumps with a header
	// say it themselves.
	Fields []string
	// MaxRecords bounds the records of one batch: a larger file is
	// imported over several polls (Batch.More); default
	// DefaultDumpMaxRecords.
	MaxRecords int
	// MaxErrors bounds the line-error messages a batch keeps; default
	// DefaultMaxErrors.
	MaxErrors int
	// Logger receives changed and duplicate files; nil discards them.
	Logger *slog.Logger
}

// Dump imports dump files of any registered record format (sacct
// --parsable2 output with or without a header, an SWF trace, a jobcomp or
// PBS accounting file...), gzip-compressed or not, once each. Re-running never imports a
// file twice: the cursor lists every file done with its size, modification
// time and SHA-256. A done file whose content later changes is reported
// once (Batch.Errors, Notes "dump_changed") and not imported again, since
// re-importing an edited dump silently could replace good records with
// edited ones; a file with the same content as one already done under
// another path is skipped (Notes "dump_duplicate").
//
// Each batch holds records of one file only, and at most MaxRecords of
// them; the cursor then says how far into the file the import got, and the
// next poll goes on from there: the importer keeps the file open and its
// reader where the last batch stopped, so a file is read once however many
// batches it takes (after a restart, or when the daemon could not commit a
// batch, the part already returned is parsed again once and dropped).
//
// Batch.Complete is the latest instant any record of the file names (a
// submission, a start or an end): the dump was written at or after it, so
// every job the dump shows running was running then, while the file's
// modification time can be much later than the dump (a copy of an old dump
// is as new as the copy), and a job it shows running is not known to have
// run on after the last instant the file names. Only the batch that
// finishes a file claims it: a batch that leaves part of the file for the
// next poll has a zero Complete, since that part can hold records of any
// time (claiming the time early has the daemon count capacity as idle that
// the rest of the file then shows allocated, which counters that never go
// down cannot take back). A batch with no file to import has a zero
// Complete. Pending jobs in a dump are past demand, not current: they are
// dropped (Notes "pending_skipped"). Line numbers in errors are those of
// the file.
type Dump struct {
	cfg    DumpConfig
	format collector.Format
	log    *slog.Logger

	// open is the file being imported in parts, positioned after the
	// items the last batch returned; nil between files.
	open *openDump
	// opens counts the files opened for reading (tests check that a file
	// in parts is read once).
	opens int
}

// openDump is a dump file kept open between the batches of its import.
type openDump struct {
	path string
	ver  dumpVersion
	f    io.Closer
	r    collector.Reader
	// items are the records and skipped lines read so far; notes the
	// reader's notes already reported.
	items int64
	notes map[string]int
}

// dumpCursor is the persisted state of a Dump. Encoded as JSON:
//
//	{"done":[{"path":"/srv/dumps/2025.psv.gz","size":1048576,"mtime":"2026-01-02T03:04:05.123456789Z",
//	          "sha256":"9f86...","changed":{"size":...,"mtime":...,"sha256":...}}],
//	 "current":{"path":"/srv/dumps/2026.psv","size":...,"mtime":...,"sha256":...,"items":50000}}
//
// done lists the imported files (changed: the last changed version
// reported), current a file being imported in parts, items the records and
// skipped lines of it already returned.
type dumpCursor struct {
	Done    []*dumpFile `json:"done"`
	Current *dumpPart   `json:"current,omitempty"`
}

type dumpVersion struct {
	Size   int64     `json:"size"`
	MTime  time.Time `json:"mtime"`
	SHA256 string    `json:"sha256"`
}

type dumpFile struct {
	Path string `json:"path"`
	dumpVersion
	Changed *dumpVersion `json:"changed,omitempty"`
}

type dumpPart struct {
	Path string `json:"path"`
	dumpVersion
	Items int64 `json:"items"`
	// Latest is the latest instant the records returned so far name.
	Latest time.Time `json:"latest,omitzero"`
}

// NewDump returns a dump importer, or an error naming the invalid setting.
func NewDump(cfg DumpConfig) (*Dump, error) {
	if cfg.Format == "" {
		cfg.Format = "slurm-sacct"
	}
	if cfg.Name == "" {
		cfg.Name = "dump"
	}
	f, err := lookupFormat(cfg.Name, cfg.Format)
	if err != nil {
		return nil, err
	}
	if len(cfg.Paths) == 0 {
		return nil, fmt.Errorf("source %s: no paths", cfg.Name)
	}
	for i, p := range cfg.Paths {
		if p == "" || slices.Contains(cfg.Paths[:i], p) {
			return nil, fmt.Errorf("source %s: path %q is empty or listed twice", cfg.Name, p)
		}
	}
	if cfg.MaxRecords < 0 {
		return nil, fmt.Errorf("source %s: max records %d is negative", cfg.Name, cfg.MaxRecords)
	}
	if cfg.MaxRecords == 0 {
		cfg.MaxRecords = DefaultDumpMaxRecords
	}
	if cfg.MaxErrors <= 0 {
		cfg.MaxErrors = DefaultMaxErrors
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Dump{cfg: cfg, format: f, log: orDiscard(cfg.Logger)}, nil
}

// Name returns the source's name.
func (d *Dump) Name() string { return d.cfg.Name }

// Kind returns "dump", the kind of source, for health metrics.
func (d *Dump) Kind() string { return "dump" }

// Poll imports the next part of the next file not yet done.
func (d *Dump) Poll(ctx context.Context, cursor []byte) (*Batch, error) {
	var cur dumpCursor
	if len(bytes.TrimSpace(cursor)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(cursor))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cur); err != nil {
			return nil, errCursor(d.cfg.Name, err)
		}
	}
	b := newBatch(d.cfg.Name)
	if err := d.poll(ctx, &cur, b); err != nil {
		return nil, fmt.Errorf("source %s: %w", d.cfg.Name, err)
	}
	var err error
	if b.Cursor, err = json.Marshal(cur); err != nil {
		return nil, err
	}
	return b, nil
}

func (d *Dump) poll(ctx context.Context, cur *dumpCursor, b *Batch) error {
	for _, path := range d.cfg.Paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("dump %s is not a regular file", path)
		}
		now := dumpVersion{Size: fi.Size(), MTime: fi.ModTime().UTC()}
		if done := cur.done(path); done != nil {
			if err := d.checkDone(done, path, now, b); err != nil {
				return err
			}
			continue
		}
		part := cur.Current
		if part != nil && part.Path == path && part.Size == now.Size && part.MTime.Equal(now.MTime) {
			// Hashed when its import began; as for done files, the same
			// size and time mean the same file.
			now.SHA256 = part.SHA256
		} else if now.SHA256, err = hashFile(path); err != nil {
			return err
		}
		if part != nil && part.Path == path && !part.same(now) {
			d.log.Warn("dump_changed_during_import", "source", d.cfg.Name, "path", path)
			b.Notes["dump_restarted"]++
			part = nil
		}
		if part == nil || part.Path != path {
			if twin := cur.sameContent(now.SHA256); twin != nil {
				d.log.Warn("dump_duplicate", "source", d.cfg.Name, "path", path, "same_as", twin.Path)
				b.Notes["dump_duplicate"]++
				cur.Done = append(cur.Done, &dumpFile{Path: path, dumpVersion: now})
				continue
			}
			part = &dumpPart{Path: path, dumpVersion: now}
		}
		finished, err := d.read(part, b)
		if err != nil {
			return err
		}
		if finished {
			b.Complete = part.Latest
			cur.Current = nil
			cur.Done = append(cur.Done, &dumpFile{Path: path, dumpVersion: now})
			b.More = slices.ContainsFunc(d.cfg.Paths, func(p string) bool { return cur.done(p) == nil })
			b.Done = !b.More
		} else {
			// The rest of the file can hold records of any time: no claim
			// until it is read (see Dump).
			cur.Current = part
			b.More = true
		}
		return nil
	}
	// Every file is imported: nothing more will come.
	b.Done = true
	return nil
}

// checkDone reports, once, a done file whose content has changed.
func (d *Dump) checkDone(done *dumpFile, path string, now dumpVersion, b *Batch) error {
	if done.Size == now.Size && done.MTime.Equal(now.MTime) {
		return nil
	}
	if done.Changed != nil && done.Changed.Size == now.Size && done.Changed.MTime.Equal(now.MTime) {
		return nil // reported already
	}
	sum, err := hashFile(path)
	if err != nil {
		return err
	}
	now.SHA256 = sum
	if sum == done.SHA256 {
		done.dumpVersion = now // touched, not changed
		return nil
	}
	if done.Changed == nil || done.Changed.SHA256 != sum {
		d.log.Warn("dump_changed", "source", d.cfg.Name, "path", path, "imported_sha256", done.SHA256, "sha256", sum)
		b.Notes["dump_changed"]++
		b.Errors = append(b.Errors, fmt.Sprintf("dump %s changed since it was imported (sha256 %s, now %s, %d bytes); it is not imported again: give the new version a new path to import it", path, done.SHA256, sum, now.Size))
	}
	done.Changed = &now
	return nil
}

// read imports the next part of a file: it goes on from the open reader
// when it stopped where part says, else opens the file and skips the items
// already returned, and reads up to MaxRecords records. finished reports
// the end of the file, after which the file is closed.
func (d *Dump) read(part *dumpPart, b *Batch) (finished bool, err error) {
	op := d.open
	if op == nil || op.path != part.Path || !op.ver.same(part.dumpVersion) || op.items != part.Items {
		d.Close()
		if op, err = d.openAt(part); err != nil {
			return false, err
		}
		d.open = op
	}
	finish := func(done bool) (bool, error) {
		notes := readerNotes(op.r)
		for k, v := range notes {
			if n := v - op.notes[k]; n > 0 {
				b.Note(k, n)
			}
		}
		op.notes = notes
		part.Items = op.items
		if done {
			d.Close()
		}
		return done, nil
	}
	records := 0
	eof, err := ingest.Drain(op.r, &b.Stats, d.cfg.MaxErrors, func(rec *job.Record, le *collector.LineError) bool {
		op.items++
		if le != nil {
			return true
		}
		records++
		part.Latest = latest(part.Latest, rec)
		if rec.State == job.StatePending {
			b.Note("pending_skipped", 1)
		} else {
			b.Records = append(b.Records, rec)
		}
		return records < d.cfg.MaxRecords
	})
	if err != nil {
		d.Close()
		return false, fmt.Errorf("read %s: %w", part.Path, err)
	}
	return finish(eof)
}

// openAt opens part's file and reads past the items an earlier batch
// returned, without returning them again.
func (d *Dump) openAt(part *dumpPart) (*openDump, error) {
	f, err := collector.OpenFile(part.Path)
	if err != nil {
		return nil, err
	}
	d.opens++
	r, err := d.format.NewReader(f, collector.Options{
		Name: part.Path, Location: d.cfg.Location, Cluster: d.cfg.Cluster, Fields: d.cfg.Fields,
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", part.Path, err)
	}
	op := &openDump{path: part.Path, ver: part.dumpVersion, f: f, r: r}
	if part.Items > 0 {
		_, err := ingest.Drain(op.r, nil, 0, func(*job.Record, *collector.LineError) bool {
			op.items++
			return op.items < part.Items
		})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read %s: %w", part.Path, err)
		}
	}
	// Notes count from here: those of the part already returned were
	// reported with it.
	op.notes = readerNotes(op.r)
	return op, nil
}

// Close closes the file being imported, if any. The next poll opens it
// again where its cursor says.
func (d *Dump) Close() error {
	if d.open == nil {
		return nil
	}
	err := d.open.f.Close()
	d.open = nil
	return err
}

// readerNotes returns a copy of a reader's notes so far (none when it
// keeps none).
func readerNotes(r collector.Reader) map[string]int {
	if n, ok := r.(collector.Noter); ok {
		return maps.Clone(n.Notes())
	}
	return nil
}

// latest returns the later of t and the latest instant r names.
func latest(t time.Time, r *job.Record) time.Time {
	for _, x := range []time.Time{r.Submit, r.Start, r.End} {
		if x.After(t) {
			t = x
		}
	}
	return t
}

func (v dumpVersion) same(o dumpVersion) bool {
	return v.Size == o.Size && v.MTime.Equal(o.MTime) && v.SHA256 == o.SHA256
}

func (c *dumpCursor) done(path string) *dumpFile {
	for _, f := range c.Done {
		if f.Path == path {
			return f
		}
	}
	return nil
}

func (c *dumpCursor) sameContent(sum string) *dumpFile {
	for _, f := range c.Done {
		if f.SHA256 == sum {
			return f
		}
	}
	return nil
}

// hashFile returns the hex SHA-256 of a file's bytes as stored.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
