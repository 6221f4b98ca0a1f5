// Package plan computes what must change on a deploy target so that it serves
// what the registry asks for. Plan is a pure function of the desired and the
// actual state: no I/O, deterministic order, so a plan can be printed,
// compared and tested like data (as Terraform's plan).
package plan

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/bridgeops/bridge/internal/model"
)

// Kinds of actions, as they appear in JSON and in metrics labels.
const (
	KindCreateVersion  = "create_version"
	KindRoute          = "route"
	KindDeleteEndpoint = "delete_endpoint"
	KindDeleteVersion  = "delete_version"
)

// Action is one step that changes a target. The concrete types are
// CreateVersion, Route, DeleteEndpoint and DeleteVersion.
type Action interface {
	// Kind is one of the Kind* constants.
	Kind() string
	// Model is the registered model the action belongs to; the reconcile
	// loop applies each model's actions on their own.
	Model() string
	// String is a one-line human-readable form.
	String() string
}

// CreateVersion creates the resources of a version (loads the model).
type CreateVersion struct {
	Ref    model.VersionRef
	Source string // the artifact URI the registry reports
}

// Route points an endpoint at exactly these versions with these weights.
type Route struct {
	Key      model.EndpointKey
	Versions []model.WeightedVersion
	// Refresh says the endpoint already serves these versions, with
	// settings that differ from the target's configuration now (the target
	// reported it Outdated): routing it again applies them.
	Refresh bool
}

// DeleteEndpoint removes an endpoint.
type DeleteEndpoint struct {
	Key model.EndpointKey
	// Retry says the endpoint failed with the very configuration the Route
	// after this action gives it again: recreating it retries a failure
	// the target reported. The reconcile loop paces retries with the
	// model's backoff.
	Retry bool
}

// DeleteVersion removes a version's resources.
type DeleteVersion struct {
	Ref model.VersionRef
}

// Kind implements Action.
func (CreateVersion) Kind() string { return KindCreateVersion }

// Kind implements Action.
func (Route) Kind() string { return KindRoute }

// Kind implements Action.
func (DeleteEndpoint) Kind() string { return KindDeleteEndpoint }

// Kind implements Action.
func (DeleteVersion) Kind() string { return KindDeleteVersion }

// Model implements Action.
func (a CreateVersion) Model() string { return a.Ref.Model }

// Model implements Action.
func (a Route) Model() string { return a.Key.Model }

// Model implements Action.
func (a DeleteEndpoint) Model() string { return a.Key.Model }

// Model implements Action.
func (a DeleteVersion) Model() string { return a.Ref.Model }

func (a CreateVersion) String() string {
	return fmt.Sprintf("create version %s from %s", a.Ref, a.Source)
}

func (a Route) String() string {
	s := fmt.Sprintf("route %s -> %s", a.Key, FormatWeights(a.Versions))
	if a.Refresh {
		s += " (apply changed settings)"
	}
	return s
}

func (a DeleteEndpoint) String() string {
	if a.Retry {
		return "delete endpoint " + a.Key.String() + " (failed; recreate to retry)"
	}
	return "delete endpoint " + a.Key.String()
}

func (a DeleteVersion) String() string { return "delete version " + a.Ref.String() }

// FormatWeights renders versions and weights as "v1 50%, v2 50%".
func FormatWeights(vs []model.WeightedVersion) string {
	if len(vs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = "v" + strconv.Itoa(v.Version) + " " + strconv.FormatFloat(v.Weight*100, 'f', -1, 64) + "%"
	}
	return strings.Join(parts, ", ")
}

// jsonAction is the JSON form shared by every action kind.
type jsonAction struct {
	Kind     string         `json:"kind"`
	Model    string         `json:"model"`
	Version  int            `json:"version,omitempty"`
	Slot     string         `json:"slot,omitempty"`
	Source   string         `json:"source,omitempty"`
	Versions []jsonWeighted `json:"versions,omitempty"`
	Refresh  bool           `json:"refresh,omitempty"`
	Retry    bool           `json:"retry,omitempty"`
	Text     string         `json:"text"`
}

type jsonWeighted struct {
	Version int     `json:"version"`
	Weight  float64 `json:"weight"`
}

// MarshalJSON implements json.Marshaler.
func (a CreateVersion) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonAction{Kind: a.Kind(), Model: a.Ref.Model, Version: a.Ref.Version, Source: a.Source, Text: a.String()})
}

// MarshalJSON implements json.Marshaler.
func (a Route) MarshalJSON() ([]byte, error) {
	ws := make([]jsonWeighted, len(a.Versions))
	for i, v := range a.Versions {
		ws[i] = jsonWeighted{v.Version, v.Weight}
	}
	return json.Marshal(jsonAction{Kind: a.Kind(), Model: a.Key.Model, Slot: a.Key.Slot, Versions: ws, Refresh: a.Refresh, Text: a.String()})
}

// MarshalJSON implements json.Marshaler.
func (a DeleteEndpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonAction{Kind: a.Kind(), Model: a.Key.Model, Slot: a.Key.Slot, Retry: a.Retry, Text: a.String()})
}

// MarshalJSON implements json.Marshaler.
func (a DeleteVersion) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonAction{Kind: a.Kind(), Model: a.Ref.Model, Version: a.Ref.Version, Text: a.String()})
}

// weightTolerance is how far two weights may differ and still count as
// equal (targets may round, e.g. SageMaker's variant weights).
const weightTolerance = 1e-6

// SameVersions reports whether two weighted version lists (each sorted by
// version) name the same versions with the same weights.
func SameVersions(a, b []model.WeightedVersion) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Version != b[i].Version || math.Abs(a[i].Weight-b[i].Weight) > weightTolerance {
			return false
		}
	}
	return true
}

// Plan returns the actions that make actual match desired, in this order:
// version creates; endpoint routes (a Failed endpoint is deleted right
// before it is routed again, so it is recreated);
// deletes of endpoints no longer desired; deletes of versions no endpoint
// will use. Within each group actions are sorted by model, then slot or
// version. Rules:
//
//   - a desired version that the target lacks or reports Failed is created
//     (retrying failures is the reconcile loop's business: its backoff);
//   - a desired endpoint whose actual versions or weights differ is routed;
//     one the target reports Ready with the right versions but Outdated
//     (settings changed since it was configured) is routed again
//     (Route.Refresh); an endpoint the target reports Pending gets no
//     action this pass;
//   - a Failed endpoint is deleted and routed again: with other versions
//     because the wish changed, with the desired ones as a retry
//     (DeleteEndpoint.Retry; pacing retries is the reconcile loop's
//     business) unless one of its versions is reported Failed or Pending
//     too (the version is created again, or awaited, and the endpoint
//     follows it);
//   - a desired endpoint that needs a version the target reports Pending
//     waits too;
//   - an actual endpoint no longer desired is deleted (unless Pending);
//   - an actual version is deleted only when it is not desired and no
//     endpoint uses it after this plan (an endpoint left Pending or
//     unchanged still counts), so a routed version is never deleted.
func Plan(desired model.Desired, actual model.Actual) []Action {
	dvs, avs := sortedDesiredVersions(desired.Versions), sortedActualVersions(actual.Versions)
	des, aes := sortedDesiredEndpoints(desired.Endpoints), sortedActualEndpoints(actual.Endpoints)
	var creates, routes, epDeletes, vDeletes []Action

	// Versions: merge the two sorted lists. Actual versions that are not
	// desired are candidates for deletion.
	var candidates []model.VersionRef
	i, j := 0, 0
	for i < len(dvs) || j < len(avs) {
		switch {
		case j == len(avs) || (i < len(dvs) && dvs[i].Ref.Less(avs[j].Ref)):
			creates = append(creates, CreateVersion{Ref: dvs[i].Ref, Source: dvs[i].Source})
			i++
		case i == len(dvs) || avs[j].Ref.Less(dvs[i].Ref):
			candidates = append(candidates, avs[j].Ref)
			j++
		default:
			if avs[j].Status == model.StatusFailed {
				creates = append(creates, CreateVersion{Ref: dvs[i].Ref, Source: dvs[i].Source})
			}
			i++
			j++
		}
	}

	// Endpoints: merge too. kept are actual endpoints that go on routing to
	// their actual versions after this plan; they matter only when some
	// version may be deleted.
	var kept []model.ActualEndpoint
	keep := func(ae model.ActualEndpoint) {
		if len(candidates) > 0 {
			kept = append(kept, ae)
		}
	}
	i, j = 0, 0
	for i < len(des) || j < len(aes) {
		switch {
		case j == len(aes) || (i < len(des) && des[i].Key.Less(aes[j].Key)):
			if !waitsForPending(des[i], avs) {
				routes = append(routes, Route{Key: des[i].Key, Versions: cloneWeights(des[i].Versions)})
			}
			i++
		case i == len(des) || aes[j].Key.Less(des[i].Key):
			if aes[j].Status == model.StatusPending {
				keep(aes[j])
			} else {
				epDeletes = append(epDeletes, DeleteEndpoint{Key: aes[j].Key})
			}
			j++
		default:
			de, ae := des[i], aes[j]
			i++
			j++
			// Pending: wait. Same versions: Ready (routed again when
			// Outdated), or Failed with the configuration we want (retried
			// when its versions are fine).
			// (Cheap tests first: most endpoints are Ready and in sync.)
			if ae.Status == model.StatusPending {
				keep(ae)
				continue
			}
			if SameVersions(ae.Versions, de.Versions) {
				refresh := ae.Status == model.StatusReady && ae.Outdated
				retry := ae.Status == model.StatusFailed
				if (refresh || retry) && !waitsForPending(de, avs) {
					if refresh {
						routes = append(routes, Route{Key: de.Key, Versions: cloneWeights(de.Versions), Refresh: true})
					} else if !needsFailedVersion(de, avs) {
						routes = append(routes, DeleteEndpoint{Key: de.Key, Retry: true}, Route{Key: de.Key, Versions: cloneWeights(de.Versions)})
					}
				}
				keep(ae)
				continue
			}
			if waitsForPending(de, avs) {
				keep(ae)
				continue
			}
			if ae.Status == model.StatusFailed {
				routes = append(routes, DeleteEndpoint{Key: de.Key})
			}
			routes = append(routes, Route{Key: de.Key, Versions: cloneWeights(de.Versions)})
		}
	}

	if len(candidates) > 0 {
		inUse := map[model.VersionRef]bool{}
		for _, ae := range kept {
			for _, w := range ae.Versions {
				inUse[model.VersionRef{Model: ae.Key.Model, Version: w.Version}] = true
			}
		}
		for _, ref := range candidates {
			if !inUse[ref] {
				vDeletes = append(vDeletes, DeleteVersion{Ref: ref})
			}
		}
	}

	out := make([]Action, 0, len(creates)+len(routes)+len(epDeletes)+len(vDeletes))
	out = append(out, creates...)
	out = append(out, routes...)
	out = append(out, epDeletes...)
	return append(out, vDeletes...)
}

// needsFailedVersion reports whether an endpoint routes to a version the
// target reports Failed; avs is sorted by ref.
func needsFailedVersion(de model.DesiredEndpoint, avs []model.ActualVersion) bool {
	return needsVersionIn(de, avs, model.StatusFailed)
}

// waitsForPending reports whether an endpoint needs a version the target
// reports Pending; avs is sorted by ref.
func waitsForPending(de model.DesiredEndpoint, avs []model.ActualVersion) bool {
	return needsVersionIn(de, avs, model.StatusPending)
}

// needsVersionIn reports whether an endpoint routes to a version the target
// reports in status; avs is sorted by ref.
func needsVersionIn(de model.DesiredEndpoint, avs []model.ActualVersion, status model.Status) bool {
	for _, w := range de.Versions {
		ref := model.VersionRef{Model: de.Key.Model, Version: w.Version}
		k := sort.Search(len(avs), func(i int) bool { return !avs[i].Ref.Less(ref) })
		if k < len(avs) && avs[k].Ref == ref && avs[k].Status == status {
			return true
		}
	}
	return false
}

func cloneWeights(vs []model.WeightedVersion) []model.WeightedVersion {
	return append([]model.WeightedVersion(nil), vs...)
}

// The inputs are documented as sorted; these helpers sort only when they are
// not, so Plan stays deterministic whatever it is given, at no cost in the
// common case.

func sortedDesiredVersions(vs []model.DesiredVersion) []model.DesiredVersion {
	less := func(i, j int) bool { return vs[i].Ref.Less(vs[j].Ref) }
	if sort.SliceIsSorted(vs, less) {
		return vs
	}
	vs = append([]model.DesiredVersion(nil), vs...)
	sort.Slice(vs, func(i, j int) bool { return vs[i].Ref.Less(vs[j].Ref) })
	return vs
}

func sortedDesiredEndpoints(es []model.DesiredEndpoint) []model.DesiredEndpoint {
	if sort.SliceIsSorted(es, func(i, j int) bool { return es[i].Key.Less(es[j].Key) }) {
		return es
	}
	es = append([]model.DesiredEndpoint(nil), es...)
	sort.Slice(es, func(i, j int) bool { return es[i].Key.Less(es[j].Key) })
	return es
}

func sortedActualEndpoints(es []model.ActualEndpoint) []model.ActualEndpoint {
	if sort.SliceIsSorted(es, func(i, j int) bool { return es[i].Key.Less(es[j].Key) }) {
		return es
	}
	es = append([]model.ActualEndpoint(nil), es...)
	sort.Slice(es, func(i, j int) bool { return es[i].Key.Less(es[j].Key) })
	return es
}

func sortedActualVersions(vs []model.ActualVersion) []model.ActualVersion {
	if sort.SliceIsSorted(vs, func(i, j int) bool { return vs[i].Ref.Less(vs[j].Ref) }) {
		return vs
	}
	vs = append([]model.ActualVersion(nil), vs...)
	sort.Slice(vs, func(i, j int) bool { return vs[i].Ref.Less(vs[j].Ref) })
	return vs
}
