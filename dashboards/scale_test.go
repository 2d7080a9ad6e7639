package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scmon/scmon/internal/testutil"
)

// TestScale measures what the README's "Scale" section states, and prints
// it (go test -v; scripts/scale.sh runs it): how many series one scmon
// exports and how long a scrape takes, for the sample center and for a
// bigger generated one, with and without the account label; how fast
// scmon backfill writes into VictoriaMetrics and what a sample costs there
// on disk; and, from those, the arithmetic of a central store for many
// centers. It asserts only that the measurements were made (it is a
// measurement, not a timing test) and runs only with SCMON_SCALE=1.
func TestScale(t *testing.T) {
	if os.Getenv("SCMON_SCALE") != "1" {
		t.Skip("a measurement: run with SCMON_SCALE=1 (scripts/scale.sh)")
	}
	logLoad(t, "at the start")
	defer logLoad(t, "at the end")
	work := t.TempDir()
	bin := testutil.ScmonBinary(t)

	// The big center: 12 partitions, 8 accelerator models, 200 accounts,
	// 30 days.
	base := time.Now().Truncate(time.Hour)
	big := filepath.Join(work, "big")
	if err := os.MkdirAll(big, 0o755); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(big, "inventory.yaml")
	writeFile(t, inv, bigInventory())
	dump := filepath.Join(big, "sacct.psv")
	jobs := writeBigDump(t, dump, base.Add(-30*24*time.Hour), base)
	t.Logf("big center: %d partitions, %d nodes, %d accounts, %d jobs over 30 days", len(bigPartitions), bigNodes(), bigAccounts, jobs)

	type measured struct {
		series, bytes int
		scrape        time.Duration
	}
	// serve starts scmon and waits until it has stored stored records (0:
	// any) and publishes counters with data, the same series twice in a
	// row.
	nonzero := regexp.MustCompile(`(?m)^scmon_allocated_core_seconds_total\{.*\} [1-9]`)
	serve := func(name, cfg string, stored int) measured {
		addr := testutil.FreeAddr(t)
		file := strings.NewReplacer(" ", "-", ",", "").Replace(name)
		cfgPath := filepath.Join(work, file+".yml")
		writeFile(t, cfgPath, cfg)
		// Started here and stopped when measured, so that it loads no
		// later measurement.
		cmd := exec.Command(bin, "serve", "--config.file", cfgPath, "--web.listen-address", addr)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
		defer stop()
		began := time.Now()
		last := -1
		waitFor(t, 5*time.Minute, name+"'s counters", func() bool {
			body, err := httpGet("http://" + addr + "/metrics")
			if err != nil || !nonzero.MatchString(body) {
				return false
			}
			if stored > 0 && !strings.Contains(body, fmt.Sprintf("scmon_records_total{result=\"stored\",source=\"dumps\"} %d\n", stored)) {
				return false
			}
			n := strings.Count(body, "\n")
			settled := n == last
			last = n
			return settled
		})
		ready := time.Since(began)
		var m measured
		var took []time.Duration
		for range 21 {
			t0 := time.Now()
			body, err := httpGet("http://" + addr + "/metrics")
			took = append(took, time.Since(t0))
			if err != nil {
				t.Fatal(err)
			}
			m.bytes = len(body)
			m.series = 0
			for _, l := range strings.Split(body, "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					m.series++
				}
			}
		}
		slices.Sort(took)
		m.scrape = took[len(took)/2]
		t.Logf("%-26s %6d series, %8d bytes, scrape %6.1f ms (median of 21); figures published %.1f s after start", name, m.series, m.bytes, float64(m.scrape.Microseconds())/1000, ready.Seconds())
		return m
	}
	serve("sample", "sample: true\n", 0)
	serve("sample, account label", "sample: true\nmetrics:\n  account_label: true\n", 0)
	bigCfg := func(account bool) string {
		return fmt.Sprintf("timezone: UTC\ndata_dir: %s\ncapacity: inventory:%s\nmetrics:\n  account_label: %v\nsources:\n  - {kind: dump, format: slurm-sacct, paths: [%s]}\n",
			filepath.Join(work, fmt.Sprintf("big-data-%v", account)), inv, account, dump)
	}
	bigM := serve("big center", bigCfg(false), jobs)
	bigA := serve("big center, account label", bigCfg(true), jobs)

	// Backfill into VictoriaMetrics: the big center's 30 days at 5 min
	// (without the account label: 100 times the series, and the time).
	vm := testutil.StartVictoriaMetrics(t, filepath.Join(work, "vm"))
	cmd := exec.Command(bin, "backfill", "--input", "slurm-sacct:"+dump, "--capacity", "inventory:"+inv, "--timezone", "UTC",
		"--from", base.Add(-30*24*time.Hour).Format(time.RFC3339), "--to", base.Format(time.RFC3339), "--step", "5m",
		"--remote-write", vm+"/api/v1/write", "--label", "job=scmon")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("scmon backfill: %v\n%s", err, stderr.String())
	}
	wall := time.Since(t0)
	m := regexp.MustCompile(`(\d+) series, (\d+) samples each \((\d+) in all\).* in ([0-9.]+) s`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no summary from scmon backfill:\n%s", stderr.String())
	}
	samples, _ := strconv.ParseFloat(m[3], 64)
	sendSecs, _ := strconv.ParseFloat(m[4], 64)
	t.Logf("backfill into VictoriaMetrics: %s series x %s samples = %s samples sent in %s s (%.0f samples/s); %.1f s with reading and computing", m[1], m[2], m[3], m[4], samples/sendSecs, wall.Seconds())
	vmFlush(t, vm)
	// Let VictoriaMetrics merge its first parts, then read its own figures.
	time.Sleep(5 * time.Second)
	vmFlush(t, vm)
	metrics, err := httpGet(vm + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	dataBytes := sumMetric(metrics, "vm_data_size_bytes")
	rows := sumMetric(metrics, "vm_rows{")
	rss := sumMetric(metrics, "process_resident_memory_bytes")
	if rows < samples {
		t.Errorf("VictoriaMetrics holds %.0f rows, %.0f were sent", rows, samples)
	}
	bps := dataBytes / rows
	t.Logf("VictoriaMetrics after the backfill: %.0f rows in %.0f bytes on disk (%.2f bytes per sample), %.0f MB resident", rows, dataBytes, bps, rss/1e6)

	// The arithmetic of a central store, at a 30 s scrape interval: what
	// 50 centers like the big one send, against what this VictoriaMetrics
	// took from the backfill and what a sample cost it on disk.
	ingest := samples / sendSecs
	for _, c := range []struct {
		what   string
		series int
	}{{"without the account label", bigM.series}, {"with the account label", bigA.series}} {
		rate := float64(c.series) / 30
		t.Logf("central store, big centers %s: %d series each = %.0f samples/s at 30 s; 50 centers: %d active series, %.0f samples/s (%.1f%% of the %.0f samples/s ingested here), %.1f GB per year at %.2f bytes per sample",
			c.what, c.series, rate, 50*c.series, 50*rate, 100*50*rate/ingest, ingest, 50*rate*86400*365*bps/1e9, bps)
	}
}

// logLoad prints the machine's load average: the times measured here are
// only as good as the machine was quiet.
func logLoad(t *testing.T, when string) {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		t.Logf("load average %s: %s %s %s on %d CPUs", when, f[0], f[1], f[2], runtime.NumCPU())
	}
}

// sumMetric adds up every sample of the families whose lines start with
// prefix in a Prometheus text exposition.
func sumMetric(exposition, prefix string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		f := strings.Fields(l)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// bigPartition is a partition of the big generated center: nodes of one
// kind, each running two jobs side by side.
type bigPartition struct {
	name         string
	nodes, cores int
	gres         string // name:type, or ""
	count        int
}

var bigPartitions = []bigPartition{
	{"cpu-a", 128, 64, "", 0}, {"cpu-b", 128, 64, "", 0}, {"cpu-c", 64, 128, "", 0}, {"bigmem", 16, 128, "", 0},
	{"gpu-a100", 32, 64, "gpu:a100", 8}, {"gpu-h100", 32, 64, "gpu:h100", 8}, {"gpu-h200", 16, 64, "gpu:h200", 8},
	{"gpu-l40s", 16, 32, "gpu:l40s", 4}, {"npu", 32, 192, "npu:910b", 8}, {"dcu", 64, 32, "dcu:k100", 4},
	{"mlu", 16, 64, "mlu:mlu590", 8}, {"gpu-v100", 16, 32, "gpu:v100", 4},
}

// bigAccounts is the number of accounts jobs are charged to.
const bigAccounts = 200

func bigNodes() int {
	n := 0
	for _, p := range bigPartitions {
		n += p.nodes
	}
	return n
}

// bigInventory is the big center's capacity.
func bigInventory() string {
	var b strings.Builder
	b.WriteString("clusters:\n  - name: big\n    timezone: UTC\n    primary: billing\n    nodegroups:\n")
	for _, p := range bigPartitions {
		fmt.Fprintf(&b, "      - name: %s\n        nodes: %d\n        cores: %d\n", p.name, p.nodes, p.cores)
		if p.gres != "" {
			fmt.Fprintf(&b, "        accelerators:\n          - gres: %s\n            count: %d\n", p.gres, p.count)
		}
	}
	b.WriteString("    partitions:\n")
	for _, p := range bigPartitions {
		fmt.Fprintf(&b, "      - name: %s\n        nodegroups: [%s]\n        billing_weights: {cpu: 1", p.name, p.name)
		if p.gres != "" {
			fmt.Fprintf(&b, ", gres/%s: 30", strings.Split(p.gres, ":")[0])
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// writeBigDump writes the big center's jobs from from to to as a sacct
// dump (every job ended by to) and returns how many it wrote.
func writeBigDump(t *testing.T, path string, from, to time.Time) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 0xb16))
	ts := func(x time.Time) string { return x.UTC().Format("2006-01-02T15:04:05") }
	fmt.Fprintln(w, southFields)
	commands := []struct{ name, command string }{
		{"pretrain", "srun torchrun --nproc_per_node=4 pretrain_gpt.py"},
		{"serve", "srun vllm serve /models/qwen --tensor-parallel-size 2"},
		{"lj", "srun lmp -in in.lj"},
		{"wrf", "srun wrf.exe"},
		{"post", "srun ./analyse.sh"},
	}
	id, n := 2_000_000, 0
	for _, p := range bigPartitions {
		for node := 0; node < p.nodes; node++ {
			for lane := 0; lane < 2; lane++ {
				at := from.Add(time.Duration(rng.IntN(3600)) * time.Second)
				for {
					dur := time.Duration(1800+rng.IntN(12*3600)) * time.Second
					if at.Add(dur).After(to) {
						break
					}
					id++
					n++
					c := commands[rng.IntN(len(commands))]
					cores := p.cores / 2
					tres := fmt.Sprintf("billing=%d,cpu=%d,node=1", cores, cores)
					if p.gres != "" {
						k := p.count / 2
						tres += fmt.Sprintf(",gres/%s=%d,gres/%s=%d", p.gres, k, strings.Split(p.gres, ":")[0], k)
					}
					fmt.Fprintf(w, "%d|%d|big|%s|acct%03d|user%03d|%s|%s|%s|COMPLETED|1|%d|%s|%s|%s\n", id, id, p.name,
						rng.IntN(bigAccounts), rng.IntN(400), ts(at.Add(-time.Minute)), ts(at), ts(at.Add(dur)), cores, tres, c.name, c.command)
					at = at.Add(dur + time.Duration(rng.IntN(1800))*time.Second)
				}
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, to, to); err != nil {
		t.Fatal(err)
	}
	return n
}
