package classify

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
)

// ContextSettings configure the context stage: a job the rules and the
// lexicon leave undecided (or whose subtype they leave unclear) takes
// evidence from the confident decisions of other jobs with the same
// account, user, work directory or name family.
type ContextSettings struct {
	// Enabled switches the stage on.
	Enabled bool `mapstructure:"enabled" json:"enabled"`
	// MinJobs is the least number of confidently decided jobs a key needs
	// before it says anything.
	MinJobs int `mapstructure:"min_jobs" json:"min_jobs"`
	// MinShare is the least share of those jobs the key's leading class
	// needs.
	MinShare float64 `mapstructure:"min_share" json:"min_share"`
	// Weight is the evidence one key adds, times the leading class's share.
	Weight float64 `mapstructure:"weight" json:"weight"`
}

// LearnedSettings configure the learned stage: a naive Bayes model over
// the tokens of the confidently decided jobs of the same input, applied to
// the jobs still undecided after the context stage.
type LearnedSettings struct {
	// Enabled switches the stage on.
	Enabled bool `mapstructure:"enabled" json:"enabled"`
	// MinExamples is the least number of confident decisions the model
	// is fitted on; with fewer, the stage abstains.
	MinExamples int `mapstructure:"min_examples" json:"min_examples"`
	// MinProbability is the least posterior probability of the leading
	// class.
	MinProbability float64 `mapstructure:"min_probability" json:"min_probability"`
	// MinTokens is the least number of a job's tokens the model must know.
	MinTokens int `mapstructure:"min_tokens" json:"min_tokens"`
}

// DefaultContextSettings returns the context stage's built-in settings.
func DefaultContextSettings() ContextSettings {
	return ContextSettings{Enabled: true, MinJobs: 5, MinShare: 0.8, Weight: 2.5}
}

// DefaultLearnedSettings returns the learned stage's built-in settings.
func DefaultLearnedSettings() LearnedSettings {
	return LearnedSettings{Enabled: true, MinExamples: 50, MinProbability: 0.95, MinTokens: 2}
}

func (s ContextSettings) validate() error {
	switch {
	case s.MinJobs < 1:
		return fmt.Errorf("min_jobs must be 1 or more, not %d", s.MinJobs)
	case !(s.MinShare > 0.5 && s.MinShare <= 1):
		return fmt.Errorf("min_share must be above 0.5 and at most 1, not %v", s.MinShare)
	case !(s.Weight > 0) || math.IsInf(s.Weight, 0):
		return fmt.Errorf("weight must be a positive number, not %v", s.Weight)
	}
	return nil
}

func (s LearnedSettings) validate() error {
	switch {
	case s.MinExamples < 1:
		return fmt.Errorf("min_examples must be 1 or more, not %d", s.MinExamples)
	case !(s.MinProbability > 0.5 && s.MinProbability < 1):
		return fmt.Errorf("min_probability must be above 0.5 and below 1, not %v", s.MinProbability)
	case s.MinTokens < 1:
		return fmt.Errorf("min_tokens must be 1 or more, not %d", s.MinTokens)
	}
	return nil
}

// decodeStrict decodes a section of a rules file into out, refusing
// unknown keys; a missing section leaves out as it is.
func decodeStrict(raw map[string]any, out any, known ...string) error {
	if raw == nil {
		return nil
	}
	var unknown []string
	for k := range raw {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown key %q (known: %s)", unknown[0], strings.Join(known, ", "))
	}
	d, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{ErrorUnused: true, Result: out, WeaklyTypedInput: false})
	if err != nil {
		return err
	}
	return d.Decode(raw)
}

// Context returns the context stage's settings.
func (rs *RuleSet) Context() ContextSettings { return rs.context }

// Learned returns the learned stage's settings.
func (rs *RuleSet) Learned() LearnedSettings { return rs.learned }
