package source

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/scmon/scmon/internal/runner"
)

// DefaultSlurmTimeout bounds one run of a Slurm client when the
// configuration does not say.
const DefaultSlurmTimeout = 2 * time.Minute

// DefaultPassEnv lists the variables a Slurm client inherits from the
// daemon's environment when SlurmClient.PassEnv is nil: PATH and HOME for
// the client itself, SLURM_CONF because without it Slurm 22.05 and later
// try a DNS lookup for configless mode and fail.
var DefaultPassEnv = []string{"PATH", "HOME", "SLURM_CONF"}

// forcedSlurmEnv is set over everything else: timestamps come out in UTC
// and in the one shape the parsers expect, whatever the daemon's own
// environment or the site's profile says (an inherited SLURM_TIME_FORMAT
// changes every timestamp's format).
var forcedSlurmEnv = []string{"TZ=UTC", "SLURM_TIME_FORMAT=standard"}

// SlurmClient says how to run one Slurm command-line client (sacct,
// scontrol). The zero value runs the client found in PATH with the
// defaults.
type SlurmClient struct {
	// Path is the program; empty means the client's usual name ("sacct",
	// "scontrol") looked up in PATH. Tests point it at a stand-in.
	Path string
	// Timeout bounds one run; the process group is killed when it
	// expires. Zero means DefaultSlurmTimeout.
	Timeout time.Duration
	// PassEnv lists the variables inherited from the daemon's environment;
	// nil means DefaultPassEnv. Nothing else is inherited, so that stray
	// SACCT_* or SLURM_* settings cannot change the output.
	PassEnv []string
	// Env adds KEY=value entries, for example SLURM_CONF of another
	// cluster. TZ=UTC and SLURM_TIME_FORMAT=standard are always set over
	// these and over inherited values.
	Env []string
}

// command returns the runner command for args.
func (c SlurmClient) command(defaultPath string, args []string) runner.Command {
	path := c.Path
	if path == "" {
		path = defaultPath
	}
	pass := c.PassEnv
	if pass == nil {
		pass = DefaultPassEnv
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultSlurmTimeout
	}
	set := append(append([]string(nil), c.Env...), forcedSlurmEnv...)
	return runner.Command{Path: path, Args: args, Env: runner.Environ(pass, set...), Timeout: timeout}
}

// run runs the client and logs what it wrote to stderr when it succeeded
// anyway (a failure carries its stderr in the error, which the caller
// logs once).
func (c SlurmClient) run(ctx context.Context, log *slog.Logger, source, defaultPath string, args []string) (*runner.Result, error) {
	res, err := runner.Run(ctx, c.command(defaultPath, args))
	if err != nil {
		return nil, err
	}
	if len(res.Stderr) > 0 {
		log.Warn("slurm_client_stderr", "source", source, "program", defaultPath,
			"stderr", strings.TrimSpace(string(res.Stderr)), "stderr_dropped_bytes", res.StderrDropped)
	}
	return res, nil
}
