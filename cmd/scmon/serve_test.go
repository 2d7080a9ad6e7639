package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeConfigCheck: --config.check reads what a start reads, the web
// configuration included, and says what it would serve.
func TestServeConfigCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.yaml", "data_dir: "+dir+"\nsources:\n  - {name: history, kind: dump, format: swf, paths: ["+dir+"/trace.swf]}\n")
	noSource := write("nosource.yaml", "cluster: c\n")
	badWeb := write("web.yaml", "tls_server_config:\n  cert_file: /nonexistent/cert.pem\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"good", []string{"--config.file", good}, 0, "configuration OK (dump history)"},
		{"no job source", []string{"--config.file", noSource}, 1, "no job source"},
		{"no job source, sample asked for by flag", []string{"--config.file", noSource, "--sample"}, 0, "the built-in sample center"},
		{"web configuration broken", []string{"--config.file", good, "--web.config.file", badWeb}, 1, "web configuration"},
		{"nothing configured: the demonstration", nil, 0, "the built-in sample center"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := scmon(t, append([]string{"serve", "--config.check"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, output %q %q; want exit %d and %q", code, out, errOut, tc.code, tc.want)
			}
		})
	}
}
