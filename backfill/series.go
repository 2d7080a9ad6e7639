package backfill

import (
	"fmt"

	"github.com/scmon/scmon/exporter"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// The families a Generator produces, in the order of their names (the
// order OpenMetrics output lists them in).
const (
	AllocatedAccelerator = iota
	AllocatedBilling
	AllocatedCore
	AllocatedNode
	CapacityAccelerator
	CapacityBilling
	CapacityCore
	numFamilies
)

// Label names, spelled as the exporter spells them.
const (
	labelCluster   = "cluster"
	labelPartition = "partition"
	labelAccount   = "account"
	labelClass     = "class"
	labelKind      = "kind"
	labelModel     = "model"
	labelState     = "state"
	labelOrigin    = "origin"
)

// Family is one counter family: its series name, a HELP text and its label
// names in the order the daemon's exporter declares them.
type Family struct {
	// Name is the name of the series, with the counter's _total suffix.
	Name string
	// Help describes the family (OpenMetrics HELP).
	Help string
	// Labels are the label names of every series of the family, extra
	// labels (Options.Labels) excluded.
	Labels []string
}

// MetricFamily returns the OpenMetrics family name: Name without the
// _total suffix that OpenMetrics reserves for a counter's samples.
func (f *Family) MetricFamily() string { return strings.TrimSuffix(f.Name, "_total") }

// backfilled names the counter families a Generator produces, by index,
// with a HELP text of the backfill's own (what the family holds, and that
// it was backfilled). Names, types and labels come from the exporter's
// contract (exporter.Families).
var backfilled = [numFamilies]struct{ name, help string }{
	AllocatedAccelerator: {"scmon_allocated_accelerator_seconds_total",
		"Accelerator-seconds (devices x seconds) allocated to jobs since the start of the job history, by accelerator kind, model and origin (domestic, imported, unknown)."},
	AllocatedBilling: {"scmon_allocated_billing_seconds_total",
		"Billing-seconds (the scheduler's billing weight x seconds) allocated to jobs since the start of the job history."},
	AllocatedCore: {"scmon_allocated_core_seconds_total",
		"Core-seconds (cores x seconds) allocated to jobs since the start of the job history."},
	AllocatedNode: {"scmon_allocated_node_seconds_total",
		"Node-seconds (nodes x seconds) allocated to jobs since the start of the job history."},
	CapacityAccelerator: {"scmon_capacity_accelerator_seconds_total",
		"Accelerator-seconds (devices x seconds) of capacity since the start of the job history, by accelerator kind, model and origin (domestic, imported, unknown) and node state; the states sum to the total capacity."},
	CapacityBilling: {"scmon_capacity_billing_seconds_total",
		"Billing-seconds (billing units x seconds, with the partition's billing weights) of capacity since the start of the job history, by node state; the states sum to the total."},
	CapacityCore: {"scmon_capacity_core_seconds_total",
		"Core-seconds (cores x seconds) of capacity since the start of the job history, by node state; the states of a partition sum to its total capacity, and a node shared by several partitions counts in its first partition only."},
}

// families returns the seven counter families with the exporter's labels,
// the account label after partition on the allocated ones when account is
// set (as the exporter does when metrics.account_label is on).
func families(account bool) ([numFamilies]Family, error) {
	const note = " Backfilled from the job history by scmon backfill."
	var out [numFamilies]Family
	for i, b := range backfilled {
		f, ok := exporter.FamilyByName(b.name)
		if !ok || f.Type != "counter" {
			return out, fmt.Errorf("backfill: %s is not a counter of the metric contract", b.name)
		}
		out[i] = Family{Name: f.Name, Help: b.help + note, Labels: f.LabelNames(account)}
	}
	return out, nil
}

// Label is a name and a value.
type Label struct {
	Name, Value string
}

// Series is one output series.
type Series struct {
	// Family indexes Generator.Families.
	Family int
	// Values holds one value per label name of the family, in order.
	Values []string
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// checkExtraLabels validates the constant labels added to every series:
// valid names, not reserved, not one of the families' own labels, no
// duplicates.
func checkExtraLabels(extra []Label) error {
	own := []string{labelCluster, labelPartition, labelAccount, labelClass, labelKind, labelModel, labelOrigin, labelState}
	seen := map[string]bool{}
	for _, l := range extra {
		switch {
		case !labelNameRE.MatchString(l.Name):
			return fmt.Errorf("label %q: not a valid label name", l.Name)
		case strings.HasPrefix(l.Name, "__"):
			return fmt.Errorf("label %q: names starting with __ are reserved", l.Name)
		case slices.Contains(own, l.Name):
			return fmt.Errorf("label %q: scmon's series already carry it", l.Name)
		case seen[l.Name]:
			return fmt.Errorf("label %q is given twice", l.Name)
		case !utf8.ValidString(l.Value):
			return fmt.Errorf("label %q: value is not valid UTF-8", l.Name)
		}
		seen[l.Name] = true
	}
	return nil
}

// validUTF8 returns v with invalid UTF-8 replaced, as the exporter repairs
// label values (a mangled partition name in a scheduler's output), so that
// backfilled and scraped series carry the same values.
func validUTF8(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}
