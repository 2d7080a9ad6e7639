package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/internal/testutil"
	"github.com/scmon/scmon/snapshot"
)

// chromiumPath finds Debian's chromium. The test is skipped without it,
// and fails instead when SCMON_TEST_REQUIRE_TOOLS=1 (as in CI, where
// scripts/testenv/install.sh installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testutil.Missing(t, testutil.EnvRequireTools, "chromium is not installed (scripts/testenv/install.sh)")
	return ""
}

// runChromium runs headless chromium with args after the common ones and
// returns its standard output. Its whole process group is killed when the
// run takes too long, so that no renderer outlives the test.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	common := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, bin, append(common, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("chromium %v took %s", args, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("chromium %v: %v\nstderr:\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// TestStatusPageInChromium loads the status page in a real browser and
// requires that it shows what the JSON API returns. Set
// SCMON_WEB_SCREENSHOT to a file name to keep the screenshot.
func TestStatusPageInChromium(t *testing.T) {
	bin := chromiumPath(t)
	f := newFake()
	s := newTestServer(t, f, Options{Title: "Example Center", Version: "test"})
	srv := serve(t, s, "http")
	client := newClient(t, nil)

	code, body := get(t, client, srv.url+"/api/v1/summary", "", "")
	if code != 200 {
		t.Fatalf("summary: status %d: %s", code, body)
	}
	var sum apiv1.Summary
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatal(err)
	}
	// The chart's days as the figures API returns them for the same range.
	if q := f.figuresCalls(); len(q) != 0 {
		t.Fatalf("figures asked before the page: %v", q)
	}

	dom := runChromium(t, bin, "--virtual-time-budget=5000", "--dump-dom", srv.url+"/")
	p := readPage(t, dom)
	checkPageAgainstSummary(t, p, &sum)

	calls := f.figuresCalls()
	if len(calls) != 1 {
		t.Fatalf("%d figures queries for one page view", len(calls))
	}
	fq := calls[0]
	code, body = get(t, client, fmt.Sprintf("%s/api/v1/figures?from=%s&to=%s&every=day", srv.url,
		fq.From.Format(time.RFC3339), fq.To.Format(time.RFC3339)), "", "")
	if code != 200 {
		t.Fatalf("figures: status %d: %s", code, body)
	}
	var rep struct {
		Series []struct {
			From time.Time `json:"from"`
		} `json:"series"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	var apiDays []string
	for _, b := range rep.Series {
		apiDays = append(apiDays, b.From.UTC().Format("2006-01-02"))
	}
	if fmt.Sprint(p.days) != fmt.Sprint(apiDays) || len(p.days) != 30 {
		t.Errorf("chart points on days %v, the API's series has %v", p.days, apiDays)
	}
	if p.svgTitles != 3*len(apiDays) {
		t.Errorf("%d tooltips for %d days", p.svgTitles, len(apiDays))
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	runChromium(t, bin, "--window-size=1280,1900", "--screenshot="+shot, srv.url+"/")
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 1280 || r.Dy() != 1900 {
		t.Errorf("screenshot is %v", r)
	}
	// A blank page is a single colour; a rendered one is not.
	colours := map[[4]uint32]bool{}
	for y := 0; y < img.Bounds().Dy() && len(colours) < 50; y += 7 {
		for x := 0; x < img.Bounds().Dx(); x += 7 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colours) < 10 {
		t.Errorf("the screenshot has %d colours: the page looks blank", len(colours))
	}
	if keep := os.Getenv("SCMON_WEB_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			t.Error(err)
		}
	}
	srv.stop()
}

// TestPlannerPanelsInChromium loads the status page with the planner's
// panels in a real browser: the rows show the figures computed by hand,
// and the rows idle while jobs of the same partition wait are visibly
// highlighted (the screenshot holds wide bands of the highlight colour,
// which the same page without waiting jobs does not).
func TestPlannerPanelsInChromium(t *testing.T) {
	bin := chromiumPath(t)
	highlight := func(snap *snapshot.Snapshot) (int, []byte) {
		f := newFake()
		f.snap = snap
		srv := serve(t, newTestServer(t, f, Options{Title: "Example Center"}), "http")
		defer srv.stop()
		dom := runChromium(t, bin, "--virtual-time-budget=5000", "--dump-dom", srv.url+"/")
		shot := filepath.Join(t.TempDir(), "planner.png")
		runChromium(t, bin, "--window-size=1280,2400", "--force-prefers-color-scheme=light", "--screenshot="+shot, srv.url+"/")
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		// The light theme's highlight, --bad-bg: #ffebe9.
		n := 0
		for y := 0; y < img.Bounds().Dy(); y++ {
			for x := 0; x < img.Bounds().Dx(); x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r>>8 == 0xff && g>>8 == 0xeb && bl>>8 == 0xe9 {
					n++
				}
			}
		}
		if keep := os.Getenv("SCMON_WEB_SCREENSHOT"); keep != "" && len(snap.Pending) > 1 {
			if err := os.WriteFile(keep, b, 0o644); err != nil {
				t.Error(err)
			}
		}
		return n, dom
	}
	n, dom := highlight(plannerSnapshot())
	checkPlannerPanels(t, readPlannerPanels(t, dom))
	quiet := plannerSnapshot()
	quiet.Pending = nil
	m, _ := highlight(quiet)
	t.Logf("highlight pixels: %d with waiting jobs, %d without", n, m)
	// Three highlighted rows across a 1200-pixel table are well over
	// 20,000 pixels; without waiting jobs only small badges remain.
	if n < 20000 || m > n/4 {
		t.Errorf("highlight pixels: %d with waiting jobs, %d without: the rows idle while jobs wait are not visibly highlighted", n, m)
	}
}
