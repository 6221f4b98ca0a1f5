package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
)

func TestReport(t *testing.T) {
	cases := []struct {
		name    string
		tags    []TagOp
		changes bool
		json    string // part of the JSON
		text    string // part of the text
	}{
		{"in sync", nil, false, `"actions": [],`, "No changes: the localhost target serves"},
		{"retag", []TagOp{{Ref: model.VersionRef{Model: "iris", Version: 2}, Delete: []string{model.TagDeployError}}}, true,
			`"model": "iris",`, "Plan: 0 action(s), 1 version(s) to retag on localhost."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReport("localhost", nil, c.tags)
			if r.Changes() != c.changes {
				t.Errorf("Changes() = %v", r.Changes())
			}
			b, _ := json.MarshalIndent(r, "", "  ")
			if !strings.Contains(string(b), c.json) || !strings.Contains(string(b), `"tags": [`) {
				t.Errorf("JSON lacks %q or a tags list:\n%s", c.json, b)
			}
			var out bytes.Buffer
			if err := r.WriteText(&out); err != nil || !strings.Contains(out.String(), c.text) {
				t.Errorf("text = %q, %v; want %q", out.String(), err, c.text)
			}
		})
	}
}
