package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's command outputs (and the sample plot) from the commands")

// outputMarker precedes a fenced block of README.md that shows a command's
// output: <!-- scmon-output: ARGS --> or, to show part of it,
// <!-- scmon-output: ARGS | FIRST .. LAST --> (from the first line starting
// with FIRST to the next starting with LAST).
var outputMarker = regexp.MustCompile("(?m)^<!-- scmon-output: (.*?) -->\n```\n((?s:.*?))```\n")

// TestREADMEOutputs runs every command whose output README.md shows and
// requires the block to be that output, so that the README cannot drift
// from the program. -update rewrites the blocks.
func TestREADMEOutputs(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	matches := outputMarker.FindAllSubmatchIndex(readme, -1)
	if len(matches) < 3 {
		t.Fatalf("README.md has %d command outputs, want at least 3", len(matches))
	}
	var out bytes.Buffer
	last := 0
	for _, m := range matches {
		spec := string(readme[m[2]:m[3]])
		shown := string(readme[m[4]:m[5]])
		want, err := commandOutput(t, spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if shown != want {
			if !*update {
				t.Errorf("README.md block for %q is not the command's output (go test ./cmd/scmon -run TestREADMEOutputs -update):\n--- README\n%s--- command\n%s", spec, shown, want)
			}
		}
		out.Write(readme[last:m[4]])
		out.WriteString(want)
		last = m[5]
	}
	out.Write(readme[last:])
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func commandOutput(t *testing.T, spec string) (string, error) {
	args, cut, _ := strings.Cut(spec, " | ")
	fields := strings.Fields(args)
	if len(fields) == 0 || fields[0] != "scmon" {
		return "", fmt.Errorf("the command must start with scmon")
	}
	code, out, errOut := scmon(t, append(fields[1:], "-q")...)
	if code != 0 {
		return "", fmt.Errorf("exit %d: %s", code, errOut)
	}
	if cut == "" {
		return out, nil
	}
	first, lastPrefix, ok := strings.Cut(cut, " .. ")
	if !ok {
		return "", fmt.Errorf("want | FIRST .. LAST")
	}
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(out, "\n") {
		if !in && strings.HasPrefix(line, first) {
			in = true
		}
		if in {
			b.WriteString(line)
			if strings.HasPrefix(line, lastPrefix) {
				return b.String(), nil
			}
		}
	}
	return "", fmt.Errorf("no lines from %q to %q in:\n%s", first, lastPrefix, out)
}

// TestSamplePlot requires docs/sample-planner.png to be what
// `scmon report --plot` draws for the sample (-update rewrites it).
func TestSamplePlot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.png")
	if code, _, errOut := scmon(t, "report", "-q", "--plot", file); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "..", "docs", "sample-planner.png")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/sample-planner.png differs from the plot of the sample (-update rewrites it)")
	}
}
