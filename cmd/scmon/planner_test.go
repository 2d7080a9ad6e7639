package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHelpNamesOwnFlags: every --flag a subcommand's help mentions is one
// of its own flags (or another program's, named as such).
func TestHelpNamesOwnFlags(t *testing.T) {
	others := map[string]bool{"web.enable-remote-write-receiver": true} // Prometheus's
	re := regexp.MustCompile(`--([a-z][a-z0-9.-]*)`)
	root := newRootCommand(nil, nil)
	var check func(c *cobra.Command)
	check = func(c *cobra.Command) {
		var b strings.Builder
		c.SetOut(&b)
		if err := c.Help(); err != nil {
			t.Fatal(err)
		}
		text := b.String()
		c.Flags().VisitAll(func(f *pflag.Flag) { text += " " + f.Usage })
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			name := m[1]
			if others[name] || name == "help" || c.Flags().Lookup(name) != nil || c.InheritedFlags().Lookup(name) != nil {
				continue
			}
			t.Errorf("scmon %s: help names --%s, which it does not have", c.Name(), name)
		}
		for _, sub := range c.Commands() {
			check(sub)
		}
	}
	check(root)
}

func TestVersionFlag(t *testing.T) {
	code, out, _ := scmon(t, "--version")
	_, out2, _ := scmon(t, "version")
	if code != 0 || !strings.HasPrefix(out, "scmon ") || out != out2 {
		t.Errorf("--version: exit %d %q; version %q", code, out, out2)
	}
}

// TestHeaderlessDumpMessage: a headerless dump in another field order says
// so and names --sacct-fields; with the fields given it reads.
func TestHeaderlessDumpMessage(t *testing.T) {
	in := "slurm-sacct:../../collector/testdata/sacct/xdmod-accounting.sacct"
	code, _, errOut := scmon(t, "report", "-q", "--input", in)
	if code != 1 || !strings.Contains(errOut, "--sacct-fields jobid,jobidraw,cluster,partition,qos,account,group,gid,user,uid,submit,eligible") ||
		strings.Contains(errOut, "give --from and --to") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	code, out, errOut := scmon(t, "report", "-q", "--input", in, "--sacct-fields", strings.Join(xdmodFields, ","))
	if code != 0 {
		t.Fatalf("with the fields: exit %d: %s", code, errOut)
	}
	// No capacity: utilization cannot be computed and prints "-".
	if !regexp.MustCompile(`(?m)^cpu cores\s+0\s+[\d,]+\s+-\s`).MatchString(out) || !strings.Contains(out, "utilization -,") || strings.Contains(out, "utilization 0.0%") {
		t.Errorf("no capacity: want '-' for utilization:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^accelerators\s+0\s+0\s+-\s+-\s+-$`).MatchString(out) {
		t.Errorf("no accelerators: want '-' for their shares:\n%s", out)
	}
}

func TestReportViews(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--view", "mix", "--every", "week"}, []string{"AI training and inference", "by origin", "domestic", "2026-10-26"}},
		{[]string{"--statement"}, []string{"Statements per account", "TOTAL"}},
		{nil, []string{"Headline", "Why capacity sat idle", "note: held jobs", "AI training and inference", "Adaptation friction", "Ascend 910B"}},
	} {
		code, out, errOut := scmon(t, append([]string{"report", "-q"}, tt.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q", tt.args, w)
			}
		}
	}
	// JSON carries the views beside the report.
	code, out, _ := scmon(t, "report", "-q", "-o", "json")
	var r struct {
		Headline struct{ Utilization float64 }
		Idle     *struct {
			Cores struct {
				Capacity int64 `json:"capacity_seconds"`
			}
		} `json:"idle_split"`
		Mix      *struct{ Rows []any } `json:"ai_mix"`
		Friction *struct{ Rows []any } `json:"friction"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	if r.Headline.Utilization == 0 || r.Idle == nil || r.Idle.Cores.Capacity == 0 || r.Mix == nil || len(r.Mix.Rows) == 0 || r.Friction == nil {
		t.Errorf("JSON lacks the views: %+v", r)
	}
	// CSV of each view is rectangular.
	for _, v := range []string{"idle", "mix", "friction", "statement"} {
		code, out, errOut := scmon(t, "report", "-q", "--view", v, "-o", "csv")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", v, code, errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Errorf("%s CSV: %d rows, %v", v, len(rows), err)
		}
	}
	for _, bad := range [][]string{{"--view", "nope"}, {"--statement", "--view", "idle"}, {"--plot", "x.gif"}} {
		if code, _, _ := scmon(t, append([]string{"report", "-q"}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	file := filepath.Join(t.TempDir(), "p.svg")
	if code, _, errOut := scmon(t, "report", "-q", "--plot", file, "--every", "week"); code != 0 {
		t.Fatalf("plot: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(file); err != nil || !strings.HasPrefix(string(b), "<svg") {
		t.Errorf("plot: %v", err)
	}
}
