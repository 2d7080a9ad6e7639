// Command scmon measures how much of a supercomputing center's capacity is
// used, and how much of that use is AI training and inference, from the
// scheduler's own records.
//
// Usage:
//
//	scmon report [--input FORMAT:PATH]... [--capacity FORMAT:PATH] [flags]
//	scmon version
//
// With no --input, scmon report runs on the built-in sample center.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// usageError marks errors in how scmon was called (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// run executes the command line and returns the exit status: 0 success,
// 1 failure, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "scmon: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isFlagError(err) {
		return 2
	}
	return 1
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "scmon",
		Short:         "Utilization and AI share of a supercomputing center, from its scheduler's records",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(),
	}
	root.SetVersionTemplate("scmon {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return flagError{err} })
	root.AddCommand(newReportCommand(stdout, stderr), newClassifyCommand(stdout, stderr), newServeCommand(stdout, stderr), newBackfillCommand(stdout, stderr), newVersionCommand(stdout))
	return root
}

type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }

func isFlagError(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}
