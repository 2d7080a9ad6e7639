// Package daemon runs scmon as a service: sources poll the scheduler into a
// durable job store, the in-memory accounting engine follows the store, and
// after every poll a new immutable snapshot of the figures is published for
// Prometheus scrapes, the status page and the JSON API to read.
package daemon

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Config is the daemon's whole configuration, decoded strictly from a YAML
// file, SCMON_* environment variables and flags (in rising precedence).
type Config struct {
	// Cluster names the cluster of records that carry none, and of the
	// capacity when the capacity file does not name it.
	Cluster string `mapstructure:"cluster"`
	// Timezone is the zone of wall-clock times in file sources and of
	// calendar windows; default: the inventory's, else UTC.
	Timezone string `mapstructure:"timezone"`
	// DataDir holds the embedded store.
	DataDir string `mapstructure:"data_dir"`
	// Store selects the job store: empty means SQLite in DataDir;
	// "postgres://..." a PostgreSQL database; "memory" a store that is lost
	// at exit (the built-in sample).
	Store string `mapstructure:"store"`
	// Capacity is FORMAT:PATH as for `scmon report --capacity`.
	Capacity string `mapstructure:"capacity"`
	// Rules is a classification rules file; empty means the built-in rules.
	Rules string `mapstructure:"rules"`
	// Sample runs the built-in sample center, shifted to end now. It is the
	// default when no source is configured.
	Sample bool `mapstructure:"sample"`

	Sources SourcesConfig `mapstructure:"sources"`
	Metrics MetricsConfig `mapstructure:"metrics"`
}

// SourcesConfig lists the sources.
type SourcesConfig struct {
	Sacct   []SacctConfig `mapstructure:"sacct"`
	Nodes   []NodesConfig `mapstructure:"nodes"`
	Jobcomp []TailConfig  `mapstructure:"jobcomp"`
	PBS     []TailConfig  `mapstructure:"pbs"`
	Dumps   []DumpConfig  `mapstructure:"dumps"`
}

// SacctConfig configures one sacct poller.
type SacctConfig struct {
	Name     string        `mapstructure:"name"`
	Command  string        `mapstructure:"command"`
	Interval time.Duration `mapstructure:"interval"`
	Overlap  time.Duration `mapstructure:"overlap"`
	Chunk    time.Duration `mapstructure:"chunk"`
	Timeout  time.Duration `mapstructure:"timeout"`
	// Start is where a first run begins (RFC 3339); default one hour ago.
	Start    string   `mapstructure:"start"`
	Clusters []string `mapstructure:"clusters"`
	// Env adds KEY=VALUE entries to sacct's environment (SLURM_CONF is
	// passed through from scmon's own; TZ and SLURM_TIME_FORMAT are forced).
	Env []string `mapstructure:"env"`
	// Settle keeps each poll this far behind now, for a slurmdbd that
	// records job ends late; zero by default.
	Settle time.Duration `mapstructure:"settle"`
}

// NodesConfig configures one scontrol node poller.
type NodesConfig struct {
	Name     string        `mapstructure:"name"`
	Command  string        `mapstructure:"command"`
	Interval time.Duration `mapstructure:"interval"`
	Timeout  time.Duration `mapstructure:"timeout"`
	Cluster  string        `mapstructure:"cluster"`
	Env      []string      `mapstructure:"env"`
}

// TailConfig configures a tailed log (jobcomp file or PBS directory).
type TailConfig struct {
	Name     string        `mapstructure:"name"`
	Path     string        `mapstructure:"path"`
	Interval time.Duration `mapstructure:"interval"`
	Cluster  string        `mapstructure:"cluster"`
	// FromEnd starts a first run at the end of the existing log instead of
	// reading its history.
	FromEnd bool `mapstructure:"from_end"`
}

// DumpConfig imports sacct dump files once each.
type DumpConfig struct {
	Name  string   `mapstructure:"name"`
	Paths []string `mapstructure:"paths"`
	// Fields is the field list of dumps without a header line.
	Fields []string `mapstructure:"fields"`
	// Interval is how often the files are checked for new ones to import
	// (a file appended to Paths by a reload) or changed ones to report.
	Interval time.Duration `mapstructure:"interval"`
}

// MetricsConfig configures what is exported.
type MetricsConfig struct {
	// Windows are the trailing windows of the ratio gauges.
	Windows []time.Duration `mapstructure:"windows"`
	// AccountLabel adds an account label to the allocation counters. Off
	// by default: the number of accounts is not bounded by the operator.
	AccountLabel bool `mapstructure:"account_label"`
}

// Defaults.
const (
	DefaultSacctInterval = time.Minute
	DefaultNodesInterval = 30 * time.Second
	DefaultTailInterval  = 10 * time.Second
	DefaultDumpInterval  = 5 * time.Minute
	DefaultTimeout       = 2 * time.Minute
)

// DefaultWindows are the ratio gauges' windows.
var DefaultWindows = []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// LoadConfig reads a configuration file (none when path is empty) with
// SCMON_* environment overrides on top. Unknown keys are errors that name
// the key. The returned config is validated and has its defaults set.
func LoadConfig(path string, env []string) (*Config, []byte, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	var raw []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("read config: %w", err)
		}
		raw = b
		if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
			return nil, nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	// Environment overrides for the scalar keys: SCMON_STORE, SCMON_DATA_DIR...
	for _, key := range []string{"cluster", "timezone", "data_dir", "store", "capacity", "rules", "sample", "metrics.account_label"} {
		name := "SCMON_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		for _, kv := range env {
			if k, val, ok := strings.Cut(kv, "="); ok && k == name {
				v.Set(key, val)
				raw = append(raw, []byte("\n#env "+kv)...)
			}
		}
	}
	var c Config
	err := v.UnmarshalExact(&c, func(dc *mapstructure.DecoderConfig) {
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			yamlTimeToString,
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
		dc.ErrorUnused = true
	})
	if err != nil {
		where := path
		if where == "" {
			where = "environment"
		}
		return nil, nil, fmt.Errorf("config %s: %w", where, err)
	}
	if err := c.validate(); err != nil {
		where := path
		if where == "" {
			where = "environment"
		}
		return nil, nil, fmt.Errorf("config %s: %w", where, err)
	}
	return &c, raw, nil
}

// yamlTimeToString turns a timestamp that the YAML decoder recognised (an
// unquoted `start: 2026-01-01T00:00:00Z`) back into RFC 3339 text when the
// key is a string, so that it is read and validated like the quoted form
// instead of failing with a type error that does not say why.
func yamlTimeToString(_, to reflect.Type, data any) (any, error) {
	if t, ok := data.(time.Time); ok && to.Kind() == reflect.String {
		return t.Format(time.RFC3339Nano), nil
	}
	return data, nil
}

// Hash identifies a configuration's content (for the reload metric).
func Hash(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:8])
}

// HasSources reports whether any source is configured.
func (c *Config) HasSources() bool {
	s := c.Sources
	return len(s.Sacct)+len(s.Jobcomp)+len(s.PBS)+len(s.Dumps) > 0
}

// validate checks the configuration and fills in defaults. Each message
// names the key at fault.
func (c *Config) validate() error {
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Timezone != "" {
		if _, err := time.LoadLocation(c.Timezone); err != nil {
			fail("timezone", "%v", err)
		}
	}
	if c.Cluster == "" {
		c.Cluster = "default"
	}
	if !c.HasSources() {
		c.Sample = true
	}
	if c.Sample && c.HasSources() {
		fail("sample", "the built-in sample cannot be combined with sources")
	}
	if c.Store == "" && !c.Sample {
		if c.DataDir == "" {
			c.DataDir = "data"
		}
		c.Store = "sqlite://" + filepath.Join(c.DataDir, "scmon.db")
	}
	if c.Sample && c.Store == "" {
		c.Store = "memory"
	}
	if c.Capacity != "" {
		if f, p, ok := strings.Cut(c.Capacity, ":"); !ok || f == "" || p == "" {
			fail("capacity", "%q: want FORMAT:PATH, such as inventory:/etc/scmon/center.yaml", c.Capacity)
		}
	}
	names := map[string]string{}
	name := func(key, n, def string) string {
		if n == "" {
			n = def
		}
		if prev, dup := names[n]; dup {
			fail(key+".name", "%q is also the name of %s; give each source its own name", n, prev)
		}
		names[n] = key
		return n
	}
	positive := func(key string, d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
		if *d < 0 {
			fail(key, "must be positive, got %s", *d)
		}
	}
	for i := range c.Sources.Sacct {
		s := &c.Sources.Sacct[i]
		key := fmt.Sprintf("sources.sacct[%d]", i)
		s.Name = name(key, s.Name, "sacct")
		if s.Command == "" {
			s.Command = "sacct"
		}
		positive(key+".interval", &s.Interval, DefaultSacctInterval)
		positive(key+".overlap", &s.Overlap, 10*time.Minute)
		positive(key+".chunk", &s.Chunk, 24*time.Hour)
		positive(key+".timeout", &s.Timeout, DefaultTimeout)
		if s.Settle < 0 {
			fail(key+".settle", "must not be negative, got %s", s.Settle)
		}
		if s.Start != "" {
			if _, err := time.Parse(time.RFC3339, s.Start); err != nil {
				fail(key+".start", "%q is not an RFC 3339 time", s.Start)
			}
		}
	}
	for i := range c.Sources.Nodes {
		s := &c.Sources.Nodes[i]
		key := fmt.Sprintf("sources.nodes[%d]", i)
		s.Name = name(key, s.Name, "nodes")
		if s.Command == "" {
			s.Command = "scontrol"
		}
		positive(key+".interval", &s.Interval, DefaultNodesInterval)
		positive(key+".timeout", &s.Timeout, DefaultTimeout)
	}
	for kind, list := range map[string][]TailConfig{"jobcomp": c.Sources.Jobcomp, "pbs": c.Sources.PBS} {
		for i := range list {
			s := &list[i]
			key := fmt.Sprintf("sources.%s[%d]", kind, i)
			s.Name = name(key, s.Name, kind)
			if s.Path == "" {
				fail(key+".path", "required")
			}
			positive(key+".interval", &s.Interval, DefaultTailInterval)
		}
	}
	for i := range c.Sources.Dumps {
		s := &c.Sources.Dumps[i]
		key := fmt.Sprintf("sources.dumps[%d]", i)
		s.Name = name(key, s.Name, "dumps")
		if len(s.Paths) == 0 {
			fail(key+".paths", "required")
		}
		positive(key+".interval", &s.Interval, DefaultDumpInterval)
	}
	if len(c.Metrics.Windows) == 0 {
		c.Metrics.Windows = DefaultWindows
	}
	sort.Slice(c.Metrics.Windows, func(i, j int) bool { return c.Metrics.Windows[i] < c.Metrics.Windows[j] })
	for i, w := range c.Metrics.Windows {
		if w <= 0 {
			fail(fmt.Sprintf("metrics.windows[%d]", i), "must be positive, got %s", w)
		}
	}
	return errors.Join(errs...)
}

// WindowLabel formats a window for the window label: 1h, 24h, 7d, 30d.
func WindowLabel(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d >= 48*time.Hour {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// Equal reports whether two configurations are the same.
func (c *Config) Equal(o *Config) bool { return reflect.DeepEqual(c, o) }
