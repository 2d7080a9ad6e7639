package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func buildVersion() (ver, revision, goVersion string) {
	ver, revision, goVersion = version, "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return ver, revision, goVersion
}

// versionText is what `scmon version` and `scmon --version` print after
// "scmon ".
func versionText() string {
	v, rev, gov := buildVersion()
	return fmt.Sprintf("%s (revision %s, %s)", v, rev, gov)
}

func newVersionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(stdout, "scmon %s\n", versionText())
			return err
		},
	}
}
