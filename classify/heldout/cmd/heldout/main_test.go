package main

import (
	"strings"
	"testing"
)

func TestReplaceBlock(t *testing.T) {
	const b, e = beginMarker + "\n", endMarker + "\n"
	for _, tt := range []struct {
		name, doc, want, err string
	}{
		{"replaces", "intro\n" + b + "old\ntable\n" + e + "after\n", "intro\n" + b + "\nnew\n\n" + e + "after\n", ""},
		{"empty block", b + e, b + "\nnew\n\n" + e, ""},
		{"no markers", "intro\n", "", "no <!-- heldout-output -->"},
		{"end first", e + b, "", "must appear once each"},
		{"twice", b + e + b + e, "", "must appear once each"},
	} {
		got, err := replaceBlock([]byte(tt.doc), []byte("new\n"))
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case string(got) != tt.want:
			t.Errorf("%s: got\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}
