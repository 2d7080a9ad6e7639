package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scmon/scmon/collector"
)

// checkFormat validates a file source's format against the registry.
func checkFormat(format, key string, fail failFunc) {
	if format == "" {
		fail(key+".format", "required: one of %s", strings.Join(collector.FormatNames(), ", "))
		return
	}
	if _, ok := collector.LookupFormat(format); !ok {
		fail(key+".format", "%q: want one of %s", format, strings.Join(collector.FormatNames(), ", "))
	}
}

// checkPath opens what a file source names, as its first poll would: the
// directory holding path must exist (a typo there is never fixed by
// waiting); path itself may appear later (a log written at the first job's
// end, a dump copied in after the start), but when it exists it must be
// readable and of the kind the source reads: a regular file, or a
// directory when dirs allows one.
func checkPath(key, path string, dirs bool) error {
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return fmt.Errorf("%s: %s: directory %s: %w", key, path, filepath.Dir(path), err)
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	switch {
	case fi.IsDir() && dirs:
		_, err = os.ReadDir(path)
	case fi.IsDir():
		err = errors.New("is a directory; this format reads files")
	case !fi.Mode().IsRegular():
		err = errors.New("not a regular file")
	default:
		var f *os.File
		if f, err = os.Open(path); err == nil {
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", key, path, err)
	}
	return nil
}
