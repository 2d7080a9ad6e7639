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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Config is the daemon's whole configuration, decoded strictly from a YAML
// file, SCMON_* environment variables and flags (in rising precedence).
//
// Loading reports errors in a fixed order, and stops at the first step that
// fails: (1) the file cannot be read; (2) it is not YAML; (3) it uses the
// old `sources:` map layout (the message prints the equivalent list); (4)
// keys and value types, in the order of the file: unknown, duplicate and
// mis-cased keys, values of the wrong type (a duration without a unit),
// each with its line; (5) environment and flag values that do not decode;
// (6) values, in the order of the fields of Config (timezone, cluster,
// sample and sources, store, capacity, sources in list order, metrics).
// Every message names the key at fault, and its line when it comes from
// the file.
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
	// Sample runs the built-in sample center, shifted to end now. It must
	// be asked for: a configuration without a job source is refused, so
	// that the sample is never served under an operator's cluster name by
	// mistake. Only `scmon serve` without any configuration (no file, and
	// no SCMON_* variable or flag other than where data is kept:
	// SCMON_DATA_DIR, SCMON_STORE, --store) serves it unasked, as a
	// demonstration.
	Sample bool `mapstructure:"sample"`

	// Sources are the sources, in the order they are listed.
	Sources []SourceConfig `mapstructure:"-"`
	Metrics MetricsConfig  `mapstructure:"metrics"`
}

// MetricsConfig configures what is exported.
type MetricsConfig struct {
	// Windows are the trailing windows of the ratio gauges.
	Windows []time.Duration `mapstructure:"windows"`
	// AccountLabel adds an account label to the allocation counters. Off
	// by default: the number of accounts is not bounded by the operator.
	AccountLabel bool `mapstructure:"account_label"`
}

// DefaultTimeout bounds a scheduler command when the configuration does
// not say.
const DefaultTimeout = 2 * time.Minute

// DefaultWindows are the ratio gauges' windows.
var DefaultWindows = []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// FlagKeys maps the flags of `scmon serve` that override configuration
// keys to those keys; LoadConfig binds the ones present in its flag set.
var FlagKeys = map[string]string{
	"sample": "sample",
	"store":  "store",
}

// LoadConfig reads a configuration file (none when path is empty), with
// SCMON_* environment variables and the flags of FlagKeys that were set in
// flags (nil: none) on top. The returned config is validated and has its
// defaults set; raw identifies its content (Hash).
func LoadConfig(path string, flags *pflag.FlagSet) (*Config, []byte, error) {
	where := path
	if where == "" {
		where = "environment"
	}
	c, raw, err := loadConfig(path, flags)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", where, err)
	}
	return c, raw, nil
}

func loadConfig(path string, flags *pflag.FlagSet) (*Config, []byte, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	var raw []byte
	var rawSources []any
	var lines map[string]int
	explicit := false
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("read: %w", err)
		}
		raw = b
		explicit = true
		doc, err := parseYAML(b)
		if err != nil {
			return nil, nil, err
		}
		if lines, err = checkDocument(doc, path); err != nil {
			return nil, nil, err
		}
		if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
			return nil, nil, err
		}
		if s, ok := v.Get("sources").([]any); ok {
			rawSources = s
		}
	}
	// Every scalar key can be set from the environment: SCMON_DATA_DIR,
	// SCMON_METRICS_ACCOUNT_LABEL...
	v.SetEnvPrefix("SCMON")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	for _, key := range envKeys() {
		if err := v.BindEnv(key); err != nil {
			return nil, nil, err
		}
		name := "SCMON_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if val, ok := os.LookupEnv(name); ok && val != "" {
			raw = append(raw, []byte("\n#env "+name+"="+val)...)
			// Where data is kept (a container image sets SCMON_DATA_DIR)
			// says nothing of what to count.
			explicit = explicit || (key != "data_dir" && key != "store")
		}
	}
	if flags != nil {
		for flag, key := range FlagKeys {
			if f := flags.Lookup(flag); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					return nil, nil, err
				}
				if f.Changed {
					raw = append(raw, []byte("\n#flag --"+flag+"="+f.Value.String())...)
					explicit = explicit || key != "store"
				}
			}
		}
	}
	// The sources list is decoded entry by entry, each by its kind.
	var w struct {
		Config  `mapstructure:",squash"`
		Sources any `mapstructure:"sources"`
	}
	err := v.UnmarshalExact(&w, func(dc *mapstructure.DecoderConfig) {
		dc.DecodeHook = strictHooks
		dc.WeaklyTypedInput = false
		dc.ErrorUnused = true
	})
	if err != nil {
		return nil, nil, err
	}
	c := w.Config
	for i, rs := range rawSources {
		s, err := decodeSource(rs, fmt.Sprintf("sources[%d]", i))
		if err != nil {
			return nil, nil, err
		}
		c.Sources = append(c.Sources, s)
	}
	if !explicit {
		// `scmon serve` with nothing configured: the demonstration.
		c.Sample = true
	}
	if err := c.validate(path, lines); err != nil {
		return nil, nil, err
	}
	return &c, raw, nil
}

// envKeys lists the configuration keys that the environment can set: every
// scalar key (lists and sources are set in the file only).
func envKeys() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for f := range fieldsOf(t) {
			key := prefix + f.name
			switch {
			case f.typ.Kind() == reflect.Struct && f.typ != durationType:
				walk(f.typ, key+".")
			case f.typ.Kind() == reflect.Slice:
			default:
				keys = append(keys, key)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return keys
}

var durationType = reflect.TypeFor[time.Duration]()

// strictHooks decode what the environment and flags give as text (a
// duration with its unit, a boolean, a comma-separated list). Values from
// the file were type-checked by checkDocument before, so that `interval:
// 60` (60 what?) is refused there with its line instead of loading as 60
// nanoseconds.
var strictHooks = mapstructure.ComposeDecodeHookFunc(
	yamlTimeToString,
	func(from, to reflect.Type, data any) (any, error) {
		if to != durationType {
			return data, nil
		}
		s, ok := data.(string)
		if !ok {
			return nil, fmt.Errorf("%v: want a duration with a unit, such as \"60s\"", data)
		}
		return parseDuration(s)
	},
	func(from, to reflect.Type, data any) (any, error) {
		s, ok := data.(string)
		if !ok || to.Kind() != reflect.Bool {
			return data, nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q: want true or false", s)
		}
		return b, nil
	},
	mapstructure.StringToSliceHookFunc(","),
)

// parseDuration reads a duration that names its unit ("90s", "1h30m").
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration with a unit, such as \"60s\"", s)
	}
	return d, nil
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

// HasJobSources reports whether any job source is configured (the built-in
// sample counts as one).
func (c *Config) HasJobSources() bool {
	for _, s := range c.Sources {
		if s.spec.jobs() {
			return true
		}
	}
	return false
}

// validate checks the configuration and fills in defaults. Each message
// names the key at fault, with its line in the file at path when lines
// (from checkDocument) has it; the messages come in the order of Config's
// fields, then of the sources list.
func (c *Config) validate(path string, lines map[string]int) error {
	var errs []error
	fail := func(key, format string, args ...any) {
		if line, ok := lines[key]; ok {
			errs = append(errs, fmt.Errorf("%s:%d: %s: %s", path, line, key, fmt.Sprintf(format, args...)))
			return
		}
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
	sampleListed := slices.ContainsFunc(c.Sources, func(s SourceConfig) bool { return s.Kind == "sample" })
	switch {
	case c.Sample && len(c.Sources) > 0 && !(sampleListed && len(c.Sources) == 1):
		fail("sample", "the built-in sample cannot be combined with sources")
	case sampleListed && len(c.Sources) > 1:
		fail("sources", "a source of kind sample cannot be combined with other sources")
	case c.Sample && len(c.Sources) == 0:
		c.Sources = []SourceConfig{{Kind: "sample", spec: &SampleSource{}}}
	case sampleListed:
		c.Sample = true
	}
	if !c.HasJobSources() {
		fail("sources", "no job source (sacct, tail, dump): scmon would have nothing to count; list one, or set sample: true to serve the built-in sample center")
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
	for i := range c.Sources {
		s := &c.Sources[i]
		key := fmt.Sprintf("sources[%d]", i)
		name, interval := s.spec.defaults()
		if s.Name == "" {
			s.Name = name
		}
		if prev, dup := names[s.Name]; dup {
			fail(key+".name", "%q is also the name of %s; give each source its own name", s.Name, prev)
		}
		names[s.Name] = key
		if s.Interval == 0 {
			s.Interval = interval
		}
		if s.Interval < 0 {
			fail(key+".interval", "must be positive, got %s", s.Interval)
		}
		s.spec.validate(c, key, fail)
	}
	if len(c.Metrics.Windows) == 0 {
		c.Metrics.Windows = slices.Clone(DefaultWindows)
	}
	for i, w := range c.Metrics.Windows {
		if w <= 0 {
			fail(fmt.Sprintf("metrics.windows[%d]", i), "must be positive, got %s", w)
		}
	}
	slices.Sort(c.Metrics.Windows)
	return errors.Join(errs...)
}

// positive sets *d to def when zero and fails when negative.
func positive(fail failFunc, key string, d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
	if *d < 0 {
		fail(key, "must be positive, got %s", *d)
	}
}

// failFunc records a validation error of key.
type failFunc func(key, format string, args ...any)

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
