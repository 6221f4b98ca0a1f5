// Package status is the wire format of GET /status (what bridge status and
// bridge plan read from a running bridge run) and its rules: a status from
// an observed target, from the registry's deploy tags, whether it is
// failing, and its table form.
package status

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/plan"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/target"
)

// Doc is the JSON form of GET /status and bridge status -o json.
type Doc struct {
	Target string `json:"target"`
	// Source says where the view comes from: "target" (observed), or
	// "registry" (deploy tags, when bridge run is not answering).
	Source    string     `json:"source"`
	Endpoints []Endpoint `json:"endpoints"`
	Versions  []Version  `json:"versions"`
	Reconcile *Pass      `json:"reconcile,omitempty"`
}

type Endpoint struct {
	Model    string   `json:"model"`
	Slot     string   `json:"slot"`
	Versions []Weight `json:"versions"`
	State    string   `json:"state"`
	Message  string   `json:"message,omitempty"`
	URL      string   `json:"url"`
}

type Weight struct {
	Version int     `json:"version"`
	Weight  float64 `json:"weight"`
}

type Version struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	Runtime string `json:"runtime,omitempty"` // native or python (localhost)
}

type Pass struct {
	LastPass time.Time         `json:"last_pass"`
	Duration string            `json:"duration"`
	Error    string            `json:"error,omitempty"`
	Failed   map[string]string `json:"failed,omitempty"`
	Deferred []string          `json:"deferred,omitempty"`
	Actions  []string          `json:"actions,omitempty"` // what the pass did, one line each
}

func FromActual(targetName string, a model.Actual) Doc {
	doc := Doc{Target: targetName, Source: "target", Endpoints: []Endpoint{}, Versions: []Version{}}
	for _, e := range a.Endpoints {
		ed := Endpoint{Model: e.Key.Model, Slot: e.Key.Slot, State: string(e.Status), Message: e.Message, URL: e.URL, Versions: []Weight{}}
		for _, w := range e.Versions {
			ed.Versions = append(ed.Versions, Weight{w.Version, w.Weight})
		}
		doc.Endpoints = append(doc.Endpoints, ed)
	}
	for _, v := range a.Versions {
		doc.Versions = append(doc.Versions, Version{Model: v.Ref.Model, Version: v.Ref.Version, State: string(v.Status), Message: v.Message, Runtime: v.Runtime})
	}
	return doc
}

// Failing says, in one line, why the status is not healthy: the last pass
// could not finish or a model failed; without a pass (read from the
// registry's tags, or a target observed directly), a version or endpoint
// is failed. Empty means healthy.
func (d Doc) Failing() string {
	if r := d.Reconcile; r != nil {
		if r.Error != "" {
			return "the last reconcile pass failed: " + r.Error
		}
		if len(r.Failed) > 0 {
			return fmt.Sprintf("the last reconcile pass failed for %d model(s)", len(r.Failed))
		}
		return ""
	}
	n := 0
	for _, v := range d.Versions {
		if v.State == string(model.StatusFailed) || v.State == model.StateFailed {
			n++
		}
	}
	if n > 0 {
		return fmt.Sprintf("%d version(s) failed to deploy", n)
	}
	for _, e := range d.Endpoints {
		if e.State == string(model.StatusFailed) || e.State == model.StateFailed {
			n++
		}
	}
	if n > 0 {
		return fmt.Sprintf("%d endpoint(s) failed", n)
	}
	return ""
}

// actual turns an observed status back into the target's actual state.
func (d Doc) Actual() model.Actual {
	var a model.Actual
	for _, e := range d.Endpoints {
		ae := model.ActualEndpoint{Key: model.EndpointKey{Model: e.Model, Slot: e.Slot}, Status: model.Status(e.State), Message: e.Message, URL: e.URL}
		for _, w := range e.Versions {
			ae.Versions = append(ae.Versions, model.WeightedVersion{Version: w.Version, Weight: w.Weight})
		}
		a.Endpoints = append(a.Endpoints, ae)
	}
	for _, v := range d.Versions {
		a.Versions = append(a.Versions, model.ActualVersion{Ref: model.VersionRef{Model: v.Model, Version: v.Version}, Status: model.Status(v.State), Message: v.Message, Runtime: v.Runtime})
	}
	sort.Slice(a.Endpoints, func(i, j int) bool { return a.Endpoints[i].Key.Less(a.Endpoints[j].Key) })
	sort.Slice(a.Versions, func(i, j int) bool { return a.Versions[i].Ref.Less(a.Versions[j].Ref) })
	return a
}

// FromTags builds a status from registry deploy tags: the endpoints
// the registry asks for, each in the state its versions' tags record.
func FromTags(t target.Target, versions []model.ModelVersion) Doc {
	tags := map[model.VersionRef]map[string]string{}
	for _, v := range versions {
		tags[v.Ref()] = v.Tags
	}
	d := model.DesiredFrom(versions)
	doc := Doc{Target: t.Name(), Source: "registry", Endpoints: []Endpoint{}, Versions: []Version{}}
	for _, e := range d.Endpoints {
		ed := Endpoint{Model: e.Key.Model, Slot: e.Key.Slot, URL: t.URL(e.Key), Versions: []Weight{}, State: model.StateDeployed}
		for _, w := range e.Versions {
			ed.Versions = append(ed.Versions, Weight{w.Version, w.Weight})
			vt := tags[model.VersionRef{Model: e.Key.Model, Version: w.Version}]
			switch st := vt[model.TagDeployState]; {
			case st == model.StateFailed:
				ed.State, ed.Message = model.StateFailed, fmt.Sprintf("v%d: %s", w.Version, vt[model.TagDeployError])
			case st == model.StateStopped && ed.State == model.StateDeployed:
				ed.State = model.StateStopped
			case st != model.StateDeployed && ed.State != model.StateFailed:
				ed.State = model.StateUpdating
			}
		}
		doc.Endpoints = append(doc.Endpoints, ed)
	}
	for _, v := range d.Versions {
		st := v.Tags[model.TagDeployState]
		if st == "" {
			st = "(no tag)"
		}
		doc.Versions = append(doc.Versions, Version{Model: v.Ref.Model, Version: v.Ref.Version, State: st, Message: v.Tags[model.TagDeployError]})
	}
	return doc
}

func Print(w io.Writer, doc Doc) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ENDPOINT\tVERSIONS\tSTATE\tURL\n")
	for _, e := range doc.Endpoints {
		ws := make([]model.WeightedVersion, len(e.Versions))
		for i, v := range e.Versions {
			ws[i] = model.WeightedVersion{Version: v.Version, Weight: v.Weight}
		}
		state := e.State
		if e.Message != "" {
			state += " (" + e.Message + ")"
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\n", e.Model, e.Slot, plan.FormatWeights(ws), state, e.URL)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(doc.Endpoints) == 0 {
		fmt.Fprintf(w, "no endpoints on %s\n", doc.Target)
	}
	for _, v := range doc.Versions {
		if v.State == string(model.StatusFailed) || v.State == model.StateFailed {
			fmt.Fprintf(w, "version %s/%d failed: %s\n", v.Model, v.Version, v.Message)
		} else if v.Runtime != "" {
			fmt.Fprintf(w, "version %s/%d: %s runtime\n", v.Model, v.Version, v.Runtime)
		}
	}
	if r := doc.Reconcile; r != nil {
		if r.Error != "" {
			fmt.Fprintf(w, "last reconcile pass (%s) could not finish: %s\n", r.LastPass.Format(time.RFC3339), r.Error)
		}
		models := make([]string, 0, len(r.Failed))
		for m := range r.Failed {
			models = append(models, m)
		}
		sort.Strings(models)
		for _, m := range models {
			fmt.Fprintf(w, "model %s failing: %s\n", m, r.Failed[m])
		}
	}
	return nil
}

// Handler answers GET /status: what t serves now and how the last pass
// (last, the loop's Last) went.
func Handler(t target.Target, last func() (reconcile.Result, error, time.Time)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		actual, err := t.Observe(r.Context())
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf("observe %s target: %v", t.Name(), err)})
			return
		}
		res, lastErr, at := last()
		doc := FromActual(t.Name(), actual)
		doc.Reconcile = &Pass{LastPass: at, Duration: res.Duration.String(), Failed: res.Failed, Deferred: res.Deferred, Actions: Actions(res)}
		if lastErr != nil {
			doc.Reconcile.Error = lastErr.Error()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(doc)
	})
}

// Actions says what a pass did, one line per action.
func Actions(res reconcile.Result) []string {
	var out []string
	for _, ap := range res.Actions {
		switch {
		case ap.Skipped:
			out = append(out, fmt.Sprintf("skipped %s", ap.Action))
		case ap.Err != nil:
			out = append(out, fmt.Sprintf("FAILED %s: %v", ap.Action, ap.Err))
		default:
			out = append(out, fmt.Sprintf("done %s", ap.Action))
		}
	}
	return out
}
