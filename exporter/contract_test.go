package exporter

import (
	"slices"
	"testing"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
)

// TestLabelSetsMatchTheirSources: the class and skip-reason label values
// the exporter emits are the classifier's classes and the readers'
// reasons, in their order.
func TestLabelSetsMatchTheirSources(t *testing.T) {
	var classes []string
	for _, c := range classify.Classes {
		classes = append(classes, c.String())
	}
	if !slices.Equal(classes, ClassNames) {
		t.Errorf("ClassNames %v, the classifier's classes %v", ClassNames, classes)
	}
	if !slices.Equal(collector.Reasons, SkipReasons) {
		t.Errorf("SkipReasons %v, the readers' reasons %v", SkipReasons, collector.Reasons)
	}
}
