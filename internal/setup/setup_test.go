package setup

import (
	"strings"
	"testing"
	"time"
)

func TestSample(t *testing.T) {
	inv, err := SampleInventory()
	if err != nil {
		t.Fatal(err)
	}
	loc, err := Location("", inv)
	if err != nil || loc.String() != "Asia/Shanghai" {
		t.Errorf("location %v %v", loc, err)
	}
	if loc, err := Location("UTC", inv); err != nil || loc != time.UTC {
		t.Errorf("named location %v %v", loc, err)
	}
	rs, err := Rules("", inv)
	if err != nil {
		t.Fatal(err)
	}
	forced := rs.Forced()
	if len(forced) == 0 || forced[len(forced)-1].Partition != "dcu" {
		t.Errorf("the sample's forced DCU partition is not declared: %+v", forced)
	}
	if _, err := Table(inv); err != nil {
		t.Error(err)
	}
}

func TestErrors(t *testing.T) {
	if _, err := Capacity("center.yaml", nil, ""); err == nil || !strings.Contains(err.Error(), "want FORMAT:PATH") {
		t.Errorf("capacity without format: %v", err)
	}
	if _, err := Location("Mars/Olympus", nil); err == nil {
		t.Error("unknown zone accepted")
	}
	if loc, err := Location("", nil); err != nil || loc != time.UTC {
		t.Errorf("default location %v %v", loc, err)
	}
	if _, err := Rules("/nonexistent/rules.yaml", nil); err == nil {
		t.Error("missing rules file accepted")
	}
}
