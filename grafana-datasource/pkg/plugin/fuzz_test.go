package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/scmon/scmon/grafana-datasource/internal/scmontest"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// FuzzParseQuery feeds arbitrary query JSON to the parser: it may refuse,
// never panic, and what it accepts is valid.
func FuzzParseQuery(f *testing.F) {
	for _, c := range scmontest.LoadCases(f, casesDir) {
		f.Add(c.QueryType, string(c.Model))
	}
	f.Add("", `{"figures":"utilization,,ai_share","groupBy":["model",""],"every":"TOTAL"}`)
	f.Add("table", `{"groupBy":"account","orderBy":"allocated_hours","limit":1000}`)
	f.Add("jobs", `{"states":"running, pending","classes":null,"limit":0}`)
	f.Add("", `{"resource":null,"figures":[1,2]}`)
	f.Fuzz(func(t *testing.T, queryType, js string) {
		m, err := parseQuery(queryType, json.RawMessage(js))
		if err != nil {
			return
		}
		switch m.QueryType {
		case QueryTypeFigures:
			if len(m.Figures) == 0 || m.Every == "" || m.Resource == "" {
				t.Errorf("accepted an incomplete figures query: %+v", m)
			}
		case QueryTypeTable:
			if len(m.GroupBy) == 0 || m.Limit < 1 || m.Limit > MaxTableLimit {
				t.Errorf("accepted a bad table query: %+v", m)
			}
		case QueryTypeJobs:
			if m.Limit < 1 || m.Limit > MaxJobsLimit {
				t.Errorf("accepted a bad jobs query: %+v", m)
			}
		default:
			t.Errorf("accepted query type %q", m.QueryType)
		}
	})
}

// FuzzFrames decodes arbitrary answers of scmon as a figures report and a
// jobs page and builds every kind of frame from them: odd or hostile
// answers (missing groups, keys, series; nulls) must not panic.
func FuzzFrames(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(exchangesDir, "*.json"))
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var e scmontest.Exchange
		if err := json.Unmarshal(raw, &e); err != nil {
			f.Fatal(err)
		}
		if len(e.Body) > 0 && len(e.Body) < 20_000 {
			f.Add(string(e.Body))
		}
	}
	f.Add(`{"groups":[{"keys":null,"series":null}],"series":[{}],"headline":{"basis":"weird"}}`)
	f.Add(`{"groups":[{"keys":{"partition":"a"}},{"keys":{"partition":"a"}}]}`)
	f.Add(`{"jobs":[{"accelerators":[null],"rules":null,"start":"0001-01-01T00:00:00Z"}],"more":true}`)
	models := []queryModel{
		{QueryType: QueryTypeFigures, Resource: "primary", Figures: knownFigures, Every: "day"},
		{QueryType: QueryTypeFigures, Resource: "nodes", Figures: knownFigures, Every: "total", GroupBy: []string{"partition"}},
		{QueryType: QueryTypeFigures, Resource: "accelerator", Figures: defaultFigures, Every: "week", GroupBy: []string{"model", "class"}},
		{QueryType: QueryTypeTable, Resource: "billing", GroupBy: []string{"account"}, OrderBy: FigureAIShare, Limit: 3},
	}
	f.Fuzz(func(t *testing.T, js string) {
		var r apiv1.Report
		if json.Unmarshal([]byte(js), &r) == nil {
			for _, m := range models {
				if m.QueryType == QueryTypeTable {
					tableFrame(&r, m, "")
					continue
				}
				_, _ = figuresFrames(&r, m, "")
			}
		}
		var p apiv1.JobsPage
		if json.Unmarshal([]byte(js), &p) == nil {
			jobsFrame(&p, queryModel{Limit: 10}, "")
		}
	})
}
