package accel

import "testing"

func TestOrigin(t *testing.T) {
	site, err := NewTable([]Rule{
		{Name: "gpu", Type: "c500*", Kind: KindGPU, Vendor: "MetaX", Model: "C500"},
		{Name: "gpu", Type: "s4000*", Kind: KindGPU, Vendor: "Moore Threads", Model: "MTT S4000"},
		// A site may class a device differently from its vendor's origin.
		{Name: "gpu", Type: "h20*", Kind: KindGPU, Vendor: "nvidia", Model: "H20", Origin: OriginDomestic},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		table      *Table
		name, typ  string
		wantOrigin string
	}{
		{Default(), "gpu", "a100", OriginImported},
		{Default(), "gpu", "mi250x", OriginImported},
		{Default(), "npu", "910b", OriginDomestic},
		{Default(), "dcu", "k100", OriginDomestic},
		{Default(), "mlu", "mlu370", OriginDomestic},
		{Default(), "xpu", "p800", OriginDomestic},
		{Default(), "xpu", "", OriginDomestic},
		{Default(), "gpu", "", OriginUnknown}, // untyped: vendor unknown
		{Default(), "gpu", "h20", OriginImported},
		{site, "gpu", "c500", OriginDomestic},
		{site, "gpu", "s4000", OriginDomestic},
		{site, "gpu", "h20", OriginDomestic},
		{site, "gpu", "h100", OriginImported},
	} {
		d, res := tt.table.Lookup(tt.name, tt.typ)
		if res != Accelerator {
			t.Fatalf("%s:%s: not an accelerator", tt.name, tt.typ)
		}
		if got := tt.table.Origin(d); got != tt.wantOrigin {
			t.Errorf("%s:%s (%+v): origin %q, want %q", tt.name, tt.typ, d, got, tt.wantOrigin)
		}
	}
	for v, want := range map[string]string{"Kunlunxin": OriginDomestic, "Iluvatar": OriginDomestic, "Enflame": OriginDomestic,
		"Biren": OriginDomestic, "Cambricon": OriginDomestic, "Intel": OriginImported, "AMD": OriginImported, "acme": OriginUnknown, "": OriginUnknown} {
		if got := VendorOrigin(v); got != want {
			t.Errorf("vendor %q: %q, want %q", v, got, want)
		}
	}
	if _, err := NewTable([]Rule{{Name: "gpu", Type: "x", Kind: KindGPU, Origin: "local"}}); err == nil {
		t.Error("origin \"local\" accepted")
	}
}
