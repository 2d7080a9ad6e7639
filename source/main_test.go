package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/scmon/scmon/job"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// copyFile copies a fixture to dst with the given mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// keys returns the record keys of a batch, in order.
func keys(recs []*job.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Key()
	}
	return out
}

// byJob returns the records of a batch by JobID; a JobID seen twice (a
// requeued job) keeps the last run.
func byJob(recs []*job.Record) map[string]*job.Record {
	m := map[string]*job.Record{}
	for _, r := range recs {
		m[r.JobID] = r
	}
	return m
}

// writeFile writes (or replaces) a file, creating parent directories.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendFile appends to a file.
func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// jobIDs returns the JobIDs of records, in order.
func jobIDs(recs []*job.Record) string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.JobID
	}
	return strings.Join(ids, ",")
}
