package backfill

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/seeds"

	"github.com/scmon/scmon/internal/testutil"
)

// runScmon runs the binary and returns its exit status and output.
func runScmon(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(testutil.ScmonBinary(t), args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// TestCommandLineErrors: misuse exits 2 with a message naming the flag.
func TestCommandLineErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "give one of --openmetrics FILE and --remote-write URL"},
		{[]string{"--openmetrics", "x", "--remote-write", "http://x"}, "give one of"},
		{[]string{"--openmetrics", "x", "--step", "30s"}, "--step 30s: want whole seconds from 1m0s to 1h0m0s"},
		{[]string{"--openmetrics", "x", "--step", "2h"}, "--step 2h0m0s"},
		{[]string{"--openmetrics", "x", "--batch", "0"}, "--batch 0"},
		{[]string{"--openmetrics", "x", "--label", "job"}, `--label "job": want K=V`},
		{[]string{"--openmetrics", "x", "--label", "cluster=a"}, `label "cluster": scmon's series already carry it`},
		{[]string{"--remote-write", "http://x", "--remote-write.header", "=v"}, "--remote-write.header"},
		{[]string{"--openmetrics", "x", "--from", "yesterday"}, `--from "yesterday"`},
		{[]string{"--openmetrics", "x", "--from", "2026-10-20", "--to", "2026-10-10"}, "is empty"},
		{[]string{"--openmetrics", "x", "--input", "nonsense:file"}, `unknown format "nonsense"`},
	} {
		code, _, stderr := runScmon(t, append([]string{"backfill"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("backfill %v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestCommandLineOpenMetrics: the sample center's default window, written
// to a file readable by other users (promtool may run as one), with the
// summary on stderr; "-" writes to stdout.
func TestCommandLineOpenMetrics(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sample.om")
	code, stdout, stderr := runScmon(t, "backfill", "--openmetrics", out, "--step", "1h", "--label", "job=scmon", "--label", "instance=host:9814")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" || !strings.Contains(stderr, "115 series, 721 samples each") || !strings.Contains(stderr, "(the sample's 30 days)") {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	samples := parseOM(t, string(text))
	from, to := seeds.Window()
	if samples[0].ts != from.Unix() || samples[720].ts != to.Unix() || len(samples) != 115*721 {
		t.Errorf("first series from %d to %d (%d samples in all), want %d to %d", samples[0].ts, samples[720].ts, len(samples), from.Unix(), to.Unix())
	}
	if !strings.Contains(samples[0].series, `,job="scmon",instance="host:9814"}`) {
		t.Errorf("series %s", samples[0].series)
	}

	code, stdout, stderr = runScmon(t, "backfill", "-q", "--openmetrics", "-", "--spool-dir", dir,
		"--from", to.Add(-time.Hour).Format(time.RFC3339), "--to", to.Format(time.RFC3339))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(parseOM(t, stdout)); n != 115*13 {
		t.Errorf("%d samples on stdout", n)
	}
}

// TestCommandLineRemoteWrite: headers and labels reach the receiver; a
// refusal exits 1 with the receiver's message.
func TestCommandLineRemoteWrite(t *testing.T) {
	rcv, srv := newReceiver()
	defer srv.Close()
	_, to := seeds.Window()
	code, _, stderr := runScmon(t, "backfill", "--remote-write", srv.URL+"/api/v1/write", "--remote-write.header", "X-Scope-OrgID=center-a",
		"--from", to.Add(-time.Hour).Format(time.RFC3339), "--batch", "500")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "in "+strconv.Itoa(len(rcv.requests))+" requests (0 retried)") || len(rcv.series) != 115 {
		t.Errorf("%d requests, %d series; stderr %s", len(rcv.requests), len(rcv.series), stderr)
	}
	if h := rcv.headers[0]; h.Get("X-Scope-OrgID") != "center-a" || !strings.HasPrefix(h.Get("User-Agent"), "scmon-backfill/") {
		t.Errorf("headers %v", h)
	}

	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "out of bounds", http.StatusBadRequest)
	}))
	defer refuse.Close()
	code, _, stderr = runScmon(t, "backfill", "--remote-write", refuse.URL)
	if code != 1 || !strings.Contains(stderr, "400 Bad Request: out of bounds") || !strings.Contains(stderr, "out_of_order_time_window") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}
