package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	toolkit "github.com/prometheus/exporter-toolkit/web"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/scmon/scmon/daemon"
	"github.com/scmon/scmon/exporter"
	"github.com/scmon/scmon/web"
)

type serveFlags struct {
	configFile  string
	configCheck bool
	listen      []string
	webConfig   string
	logLevel    string
	logFormat   string
	// flags hold the flags that override configuration keys
	// (daemon.FlagKeys), bound by the configuration loader.
	flags *pflag.FlagSet
}

func newServeCommand(stdout, stderr io.Writer) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: collect, store, export to Prometheus, serve the status page and API",
		Long: `Serve polls the scheduler (sacct, scontrol, jobcomp logs, PBS accounting
files) into a durable job store and publishes utilization and AI share as
Prometheus metrics on /metrics, a status page on / and a JSON API under
/api/v1. SIGHUP or POST /-/reload reads the configuration again; a bad
configuration is refused and the one in force kept.

With no configuration at all (no file, and no SCMON_* variable or flag other
than where data is kept: SCMON_DATA_DIR, SCMON_STORE, --store) it serves the
built-in sample center, moved in time so that its
month ends now. A configuration without a job source is refused unless it sets
sample: true.

--config.check loads the configuration and prepares everything a start
prepares (capacity, rules, the web configuration, the files the sources name)
without opening the job store, and fails exactly when that would fail.`,
		Example: `  scmon serve
  scmon serve --config.file /etc/scmon/scmon.yaml --web.listen-address :9814
  scmon serve --config.file /etc/scmon/scmon.yaml --config.check`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runServe(f, stdout, stderr) },
	}
	fl := c.Flags()
	fl.StringVar(&f.configFile, "config.file", "", "configuration file (YAML); SCMON_* environment variables override its scalar keys (SCMON_DATA_DIR for data_dir)")
	fl.BoolVar(&f.configCheck, "config.check", false, "check the configuration and exit")
	fl.StringArrayVar(&f.listen, "web.listen-address", []string{web.DefaultListenAddress}, "address to listen on (repeatable)")
	fl.StringVar(&f.webConfig, "web.config.file", "", "exporter-toolkit web configuration: TLS and basic authentication")
	fl.StringVar(&f.logLevel, "log.level", "info", "log level: debug, info, warn, error")
	fl.StringVar(&f.logFormat, "log.format", "logfmt", "log format: logfmt or json")
	fl.Bool("sample", false, "serve the built-in sample center (the configuration key sample)")
	fl.String("store", "", "job store, overriding the configuration key store: sqlite://PATH, postgres://..., memory")
	f.flags = fl
	return c
}

func serveLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log.level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "logfmt":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log.format %q: want logfmt or json", format)
}

func runServe(f serveFlags, stdout, stderr io.Writer) error {
	logger, err := serveLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	cfg, raw, err := daemon.LoadConfig(f.configFile, f.flags)
	if err != nil {
		return err
	}
	if f.webConfig != "" {
		if err := toolkit.Validate(f.webConfig); err != nil {
			return fmt.Errorf("web configuration %s: %w", f.webConfig, err)
		}
	}
	if f.configCheck {
		if err := daemon.Check(cfg, raw, f.configFile); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "configuration OK (%s)\n", describe(cfg))
		return err
	}
	ver, rev, _ := buildVersion()
	d, err := daemon.New(cfg, raw, daemon.Options{ConfigPath: f.configFile, Flags: f.flags, Logger: logger, Version: ver, Revision: rev})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		exporter.New(d.Snapshot, exporter.Options{AccountLabel: cfg.Metrics.AccountLabel, Version: ver, Revision: rev}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	srv := web.New(d.WebBackend(), web.Options{ListenAddresses: f.listen, ConfigFile: f.webConfig, Gatherer: reg, Registerer: reg,
		Logger: logger, Location: d.Runtime().Location})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := d.Reload(ctx); err != nil {
					logger.Error("reload on SIGHUP refused", "err", err)
				}
			}
		}
	}()

	errc := make(chan error, 2)
	go func() { errc <- d.Run(ctx) }()
	go func() { errc <- srv.ListenAndServe(ctx) }()
	logger.Info("scmon serving", "listen", strings.Join(f.listen, ","), "config", describe(cfg), "version", ver)
	err = <-errc
	stop()
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

func describe(c *daemon.Config) string {
	if c.Sample {
		return "the built-in sample center"
	}
	var parts []string
	for _, s := range c.Sources {
		parts = append(parts, s.Kind+" "+s.Name)
	}
	return strings.Join(parts, ", ")
}
