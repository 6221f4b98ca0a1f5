package config

import (
	"strings"
	"testing"
)

func TestWriteEffective(t *testing.T) {
	var b strings.Builder
	err := WriteEffective(&b, []Effective{
		{Name: "BRIDGE_HOME", Value: "/srv/bridge", Source: "flag", Help: "state directory"},
		{Name: "BRIDGE_REGISTRY_TOKEN", Value: "", Source: "default", Help: "registry token"},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := [][]string{
		{"SETTING", "VALUE", "SOURCE", "MEANING"},
		{"BRIDGE_HOME", "/srv/bridge", "flag", "state", "directory"},
		{"BRIDGE_REGISTRY_TOKEN", "(unset)", "default", "registry", "token"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	col := strings.Index(lines[0], "VALUE")
	for i, l := range lines {
		if got := strings.Fields(l); strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("line %d = %q, want fields %v", i, l, want[i])
		}
		if i > 0 && strings.Index(l, want[i][1]) != col {
			t.Errorf("line %d: value not aligned under VALUE:\n%s", i, b.String())
		}
	}
}
