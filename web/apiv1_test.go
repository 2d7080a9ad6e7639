package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/usage"
)

// fill sets every field of v, recursively, to a value other than its zero
// value, so that a comparison of two encodings sees every field.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 10, 1, 0, 0, *n, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		fill(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

// TestAPIReportKeepsEveryField requires the figures API's document to be
// exactly the report's JSON (`scmon report -o json`), field for field: a
// field added to the report and forgotten in the API, or the reverse,
// fails here.
func TestAPIReportKeepsEveryField(t *testing.T) {
	var rep report.Report
	n := 0
	fill(reflect.ValueOf(&rep).Elem(), &n)
	want, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(apiReport(&rep))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the API's figures differ from the report's JSON:\n api    %s\n report %s", got, want)
	}
	// And a client decoding the API's document strictly reads it all.
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.DisallowUnknownFields()
	var back apiv1.Report
	if err := dec.Decode(&back); err != nil {
		t.Errorf("decode the API's figures as apiv1.Report: %v", err)
	}
}

// TestRequestsParse requires what a client of package api/v1 sends to be
// read by the server as meant.
func TestRequestsParse(t *testing.T) {
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(48 * time.Hour)
	t.Run("figures", func(t *testing.T) {
		req := apiv1.FiguresRequest{From: from, To: to, Every: "day", By: []string{"cluster", "kind"}, Timezone: "Europe/Berlin"}
		q, err := parseFigures(httptest.NewRequest("GET", apiv1.PathFigures+"?"+req.Values().Encode(), nil))
		if err != nil {
			t.Fatal(err)
		}
		if !q.From.Equal(from) || !q.To.Equal(to) || q.Every != usage.Day || q.Location == nil || q.Location.String() != "Europe/Berlin" {
			t.Errorf("parsed %+v from %+v", q, req)
		}
		if len(q.By) != 2 || string(q.By[0]) != "cluster" || string(q.By[1]) != "kind" {
			t.Errorf("by %v, want [cluster kind]", q.By)
		}
	})
	t.Run("jobs", func(t *testing.T) {
		req := apiv1.JobsRequest{From: from, To: to, Clusters: []string{"alpha", "beta"}, Partitions: []string{"gpu"},
			Accounts: []string{"ml"}, Users: []string{"ada"}, Classes: []string{"ai_training", "unknown"},
			States: []string{"RUNNING", "COMPLETED"}, Limit: 50, Offset: 100}
		q, err := parseJobs(httptest.NewRequest("GET", apiv1.PathJobs+"?"+req.Values().Encode(), nil))
		if err != nil {
			t.Fatal(err)
		}
		var classes, states []string
		for _, c := range q.Classes {
			classes = append(classes, c.String())
		}
		for _, s := range q.States {
			states = append(states, s.String())
		}
		if !q.From.Equal(from) || !q.To.Equal(to) || !slices.Equal(q.Clusters, req.Clusters) || !slices.Equal(q.Partitions, req.Partitions) ||
			!slices.Equal(q.Accounts, req.Accounts) || !slices.Equal(q.Users, req.Users) || !slices.Equal(classes, req.Classes) ||
			!slices.Equal(states, req.States) || q.Limit != 50 || q.Offset != 100 {
			t.Errorf("parsed %+v from %+v", q, req)
		}
		q, err = parseJobs(httptest.NewRequest("GET", apiv1.PathJobs+"?"+apiv1.JobsRequest{}.Values().Encode(), nil))
		if err != nil || q.Limit != apiv1.DefaultJobsLimit {
			t.Errorf("empty request: limit %d, err %v; want %d", q.Limit, err, apiv1.DefaultJobsLimit)
		}
	})
}
