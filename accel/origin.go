package accel

import (
	"fmt"
	"strings"
)

// Origins of accelerators: where the chip is designed, which decides what
// software stack a job has to be ported to and what a center may buy.
const (
	OriginDomestic = "domestic"
	OriginImported = "imported"
	OriginUnknown  = "unknown"
)

// Origins lists the origins, a closed label set, in display order.
var Origins = []string{OriginDomestic, OriginImported, OriginUnknown}

// vendorOrigin gives the origin of the vendors scmon knows, by the lower-
// cased vendor name as rules and inventories spell it.
var vendorOrigin = map[string]string{
	"huawei": OriginDomestic, "ascend": OriginDomestic,
	"hygon":     OriginDomestic,
	"cambricon": OriginDomestic,
	"kunlunxin": OriginDomestic, "kunlun": OriginDomestic,
	"metax":         OriginDomestic,
	"moore threads": OriginDomestic, "moorethreads": OriginDomestic, "mthreads": OriginDomestic,
	"iluvatar": OriginDomestic, "iluvatar corex": OriginDomestic,
	"enflame": OriginDomestic,
	"biren":   OriginDomestic,
	"nvidia":  OriginImported,
	"amd":     OriginImported,
	"intel":   OriginImported,
}

// VendorOrigin returns the origin of a vendor by name, OriginUnknown for
// a vendor scmon does not know (or none: an untyped GPU).
func VendorOrigin(vendor string) string {
	if o, ok := vendorOrigin[strings.ToLower(strings.TrimSpace(vendor))]; ok {
		return o
	}
	return OriginUnknown
}

func validOrigin(o string) bool {
	return o == "" || o == OriginDomestic || o == OriginImported || o == OriginUnknown
}

// Origin returns the origin of a device: the first rule that sets an
// origin and names the device's kind and vendor (and its model, when the
// rule names one) wins, so that an inventory can override; otherwise the
// vendor's.
func (t *Table) Origin(d Device) string {
	for _, r := range t.rules {
		if r.Origin == "" || r.Ignore || r.Kind != d.Kind || !strings.EqualFold(r.Vendor, d.Vendor) {
			continue
		}
		if r.Model == "" || r.Model == d.Model {
			return r.Origin
		}
	}
	return VendorOrigin(d.Vendor)
}

func checkOrigin(i int, r Rule) error {
	if !validOrigin(r.Origin) {
		return fmt.Errorf("accelerator rule %d (%s): origin %q is not one of %v", i+1, r.Name, r.Origin, Origins)
	}
	return nil
}
