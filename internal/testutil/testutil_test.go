package testutil

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestReadEnvFile(t *testing.T) {
	f := func(content string, want map[string]string, wantErr bool) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "env.sh")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadEnvFile(path)
		if (err != nil) != wantErr {
			t.Fatalf("%q: error %v, want error %v", content, err, wantErr)
		}
		if wantErr {
			return
		}
		if len(got) != len(want) {
			t.Errorf("%q: %v, want %v", content, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%q: %s=%q, want %q", content, k, got[k], v)
			}
		}
	}
	f("", map[string]string{}, false)
	f("# comment\nexport A='1'\n  export B='x y=z'\nunset C\n", map[string]string{"A": "1", "B": "x y=z"}, false)
	f("export A=1\n", nil, true)
	f("export A='1\n", nil, true)
	f("export A\n", nil, true)
}

func TestTail(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{{"", 3, ""}, {"ab", 3, "ab"}, {"abcdef", 3, "def"}, {"abc", 0, ""}} {
		if got := Tail(c.s, c.n); got != c.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// TestFreeAddr: the address is on loopback and can be listened on.
func TestFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	l.Close()
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Errorf("port %d", p)
	}
}

func TestRepoRoot(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "internal", "testutil", "testutil.go")); err != nil {
		t.Errorf("RepoRoot %s: %v", root, err)
	}
}

// TestStartProcess: the process runs until the test ends, and its exit is
// reported on the channel.
func TestStartProcess(t *testing.T) {
	sh := RequireTool(t, "sh")
	exited := StartProcess(t, filepath.Join(t.TempDir(), "log"), sh, "-c", "echo started; exit 3")
	if err := <-exited; err == nil || err.Error() != "exit status 3" {
		t.Errorf("exit %v, want exit status 3", err)
	}
}
