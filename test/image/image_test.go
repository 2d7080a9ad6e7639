// Package image checks the container images' recipes, Dockerfile (a static
// binary on an empty base) and Dockerfile.slurm (with Debian's Slurm client
// and munge), as far as a machine without a container engine can: the
// files every COPY names exist, the build stage's go build command runs as
// written and makes a static binary whose version command works, the
// entrypoint is where the build puts the binary, and every Debian package
// the Slurm variant installs exists in the configured apt sources and
// ships the commands scmon runs. `make image` (scripts/image.sh) builds and
// runs the images where an engine is available.
package image

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the repository's root, the Dockerfiles' build context.
const repoRoot = "../.."

// dockerfiles are the recipes checked.
var dockerfiles = []string{"Dockerfile", "Dockerfile.slurm"}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // first line, 1-based
	cmd  string // upper-case: FROM, RUN, COPY, ...
	args string
}

// stage is a build stage: its FROM and what follows.
type stage struct {
	name  string // the AS name, or ""
	from  string
	insns []instruction
}

// parseDockerfile reads the instructions of a Dockerfile into stages;
// instructions before the first FROM (ARG) go into a stage with no from.
func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stages := []stage{{}}
	sc := bufio.NewScanner(f)
	var cur strings.Builder
	n, first := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			first = n
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{line: first, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			from, as, _ := strings.Cut(in.args, " AS ")
			stages = append(stages, stage{name: strings.TrimSpace(as), from: strings.TrimSpace(from)})
			continue
		}
		stages[len(stages)-1].insns = append(stages[len(stages)-1].insns, in)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stages) < 3 {
		t.Fatalf("%s: %d stages, want a build stage and a final one", path, len(stages)-1)
	}
	return stages
}

// goBuild returns the go build command of a RUN instruction (up to its
// first &&), or "".
func goBuild(run string) string {
	i := strings.Index(run, "go build")
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(run[:i], "&&") + 1 // the env assignments before it
	cmd := run[start:]
	if j := strings.Index(cmd, "&&"); j >= 0 {
		cmd = cmd[:j]
	}
	return strings.TrimSpace(cmd)
}

// TestDockerfilesBuildStage runs each Dockerfile's go build command as
// written (the build context is the repository root), with its /out
// directory moved into a temporary one and VERSION set, and requires a
// static binary, at the path the final stage copies and runs, that prints
// its version.
func TestDockerfilesBuildStage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds scmon")
	}
	built := map[string]string{} // command -> output directory
	for _, df := range dockerfiles {
		stages := parseDockerfile(t, filepath.Join(repoRoot, df))
		build, final := stages[1], stages[len(stages)-1]
		var cmd string
		for _, in := range build.insns {
			if in.cmd == "RUN" && goBuild(in.args) != "" {
				cmd = goBuild(in.args)
			}
		}
		if cmd == "" || !strings.Contains(cmd, "CGO_ENABLED=0") || !strings.Contains(cmd, "./cmd/scmon") {
			t.Fatalf("%s: build stage %q has no static go build of ./cmd/scmon: %q", df, build.name, cmd)
		}
		out, ok := built[cmd]
		if !ok {
			out = t.TempDir()
			sh := strings.ReplaceAll(strings.ReplaceAll(cmd, "${VERSION}", "image-test"), "/out/", out+"/")
			c := exec.Command("sh", "-c", sh)
			c.Dir = repoRoot
			if b, err := c.CombinedOutput(); err != nil {
				t.Fatalf("%s: %s: %v\n%s", df, sh, err, b)
			}
			built[cmd] = out
		}

		// The final stage copies the binary from the build stage and runs it.
		var copied, entry string
		for _, in := range final.insns {
			if in.cmd == "COPY" && strings.Contains(in.args, "--from="+build.name) {
				f := strings.Fields(in.args)
				switch src, dst := f[len(f)-2], f[len(f)-1]; {
				case src == "/out/" && dst == "/" && strings.Contains(cmd, "-o /out/usr/local/bin/scmon "):
					copied = "/usr/local/bin/scmon" // the whole tree the build stage made
				case strings.HasSuffix(src, "/bin/scmon") && strings.Contains(cmd, "-o "+src+" "):
					copied = dst
				}
			}
			if in.cmd == "ENTRYPOINT" {
				var argv []string
				if err := json.Unmarshal([]byte(in.args), &argv); err != nil {
					t.Fatalf("%s:%d: ENTRYPOINT %s: %v", df, in.line, in.args, err)
				}
				entry = argv[0]
			}
		}
		if copied == "" || entry != copied {
			t.Errorf("%s: the final stage copies the binary to %q and runs %q", df, copied, entry)
		}
		bin := filepath.Join(out, "usr", "local", "bin", "scmon")
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: %v", df, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: the binary needs a dynamic loader: not static, it cannot run FROM scratch", df)
			}
		}
		f.Close()
		v, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil || !strings.Contains(string(v), "scmon image-test") {
			t.Errorf("%s: scmon version: %v: %q", df, err, v)
		}
		fi, _ := os.Stat(bin)
		t.Logf("%s: static binary %.1f MB, %s", df, float64(fi.Size())/1e6, strings.TrimSpace(string(v)))
	}
}

// TestDockerfilesCopySources requires every file a COPY takes from the
// build context to exist.
func TestDockerfilesCopySources(t *testing.T) {
	for _, df := range dockerfiles {
		for _, st := range parseDockerfile(t, filepath.Join(repoRoot, df)) {
			for _, in := range st.insns {
				if in.cmd != "COPY" || strings.Contains(in.args, "--from=") {
					continue
				}
				f := strings.Fields(in.args)
				for _, src := range f[:len(f)-1] {
					if strings.HasPrefix(src, "--") {
						continue
					}
					if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
						t.Errorf("%s:%d: COPY %s: %v", df, in.line, src, err)
					}
				}
			}
		}
	}
}

// slurmPackages returns the packages the Slurm variant installs.
func slurmPackages(t *testing.T) []string {
	t.Helper()
	stages := parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile.slurm"))
	for _, in := range stages[len(stages)-1].insns {
		if in.cmd != "RUN" {
			continue
		}
		_, rest, ok := strings.Cut(in.args, "apt-get install")
		if !ok {
			continue
		}
		rest, _, _ = strings.Cut(rest, "&&")
		var pkgs []string
		for _, w := range strings.Fields(rest) {
			if !strings.HasPrefix(w, "-") {
				pkgs = append(pkgs, w)
			}
		}
		return pkgs
	}
	t.Fatal("Dockerfile.slurm: no apt-get install in the final stage")
	return nil
}

// TestSlurmVariantPackages requires every package Dockerfile.slurm installs
// to exist in the apt sources of this Debian (the image's base release), and
// the Slurm client and munge packages to ship the commands scmon and Slurm
// run: sacct, scontrol, munge. A missing apt-cache skips the test, or fails
// it where SCMON_TEST_REQUIRE_TOOLS=1.
func TestSlurmVariantPackages(t *testing.T) {
	pkgs := slurmPackages(t)
	for _, want := range []string{"slurm-client", "munge"} {
		if !slices.Contains(pkgs, want) {
			t.Errorf("Dockerfile.slurm installs %v, not %s", pkgs, want)
		}
	}
	if _, err := exec.LookPath("apt-cache"); err != nil {
		if os.Getenv("SCMON_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("apt-cache is required (SCMON_TEST_REQUIRE_TOOLS=1): %v", err)
		}
		t.Skipf("apt-cache not installed: %v", err)
	}
	out, err := exec.Command("apt-cache", append([]string{"show", "--no-all-versions"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Errorf("apt-cache show %v: %v\n%s", pkgs, err, out)
	}
	found := map[string]string{}
	var name string
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Package: "); ok {
			name = v
		}
		if v, ok := strings.CutPrefix(l, "Version: "); ok && name != "" {
			found[name] = v
		}
	}
	for _, p := range pkgs {
		if found[p] == "" {
			t.Errorf("package %s: not in apt's sources (apt-cache show)", p)
			continue
		}
		t.Logf("%s %s", p, found[p])
	}
	// Which package ships each command: dpkg knows for installed packages
	// (scripts/testenv/install.sh installs slurm-client and munge).
	for cmd, pkg := range map[string]string{"/usr/bin/sacct": "slurm-client", "/usr/bin/scontrol": "slurm-client", "/usr/bin/munge": "munge", "/usr/sbin/munged": "munge"} {
		out, err := exec.Command("dpkg", "-S", cmd).CombinedOutput()
		if err != nil {
			if os.Getenv("SCMON_TEST_REQUIRE_TOOLS") == "1" {
				t.Errorf("dpkg -S %s: %v: %s (install.sh installs %s)", cmd, err, out, pkg)
			} else {
				t.Logf("dpkg -S %s: %v (not installed here)", cmd, err)
			}
			continue
		}
		if got, _, _ := strings.Cut(strings.TrimSpace(string(out)), ":"); got != pkg {
			t.Errorf("%s comes from %q, the Dockerfile installs %s", cmd, got, pkg)
		}
	}
}
