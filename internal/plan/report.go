package plan

import (
	"fmt"
	"io"

	"github.com/bridgeops/bridge/internal/model"
)

// Report is what bridge plan prints: the actions the next pass would apply
// on a target and, when none is due, the deploy tags it would rewrite.
type Report struct {
	Target  string      `json:"target"`
	Actions []Action    `json:"actions"`
	Tags    []TagReport `json:"tags"`
}

// TagReport is one version's deploy-tag writes.
type TagReport struct {
	Model   string            `json:"model"`
	Version int               `json:"version"`
	Set     map[string]string `json:"set,omitempty"`
	Delete  []string          `json:"delete,omitempty"`
}

// NewReport builds the report of a plan for the target named target; its
// lists are empty rather than null in JSON.
func NewReport(target string, actions []Action, tags []TagOp) Report {
	r := Report{Target: target, Actions: actions, Tags: []TagReport{}}
	if r.Actions == nil {
		r.Actions = []Action{}
	}
	for _, op := range tags {
		r.Tags = append(r.Tags, TagReport{Model: op.Ref.Model, Version: op.Ref.Version, Set: op.Set, Delete: op.Delete})
	}
	return r
}

// Changes reports whether the next pass would change anything.
func (r Report) Changes() bool { return len(r.Actions) > 0 || len(r.Tags) > 0 }

// WriteText writes the report for people, one action or tag write a line.
func (r Report) WriteText(w io.Writer) error {
	if !r.Changes() {
		_, err := fmt.Fprintf(w, "No changes: the %s target serves what the registry asks for.\n", r.Target)
		return err
	}
	for _, a := range r.Actions {
		fmt.Fprintf(w, "  %s\n", a)
	}
	for _, t := range r.Tags {
		fmt.Fprintf(w, "  %s\n", TagOp{Ref: model.VersionRef{Model: t.Model, Version: t.Version}, Set: t.Set, Delete: t.Delete})
	}
	_, err := fmt.Fprintf(w, "Plan: %d action(s), %d version(s) to retag on %s.\n", len(r.Actions), len(r.Tags), r.Target)
	return err
}
