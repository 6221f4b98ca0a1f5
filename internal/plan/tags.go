package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bridgeops/bridge/internal/model"
)

// TagOp is the change to one version's bridge deploy tags: the tags to set
// and the tags to remove. It holds only what differs from the version's
// current tags, so a pass that changes nothing writes nothing.
type TagOp struct {
	Ref    model.VersionRef
	Set    map[string]string
	Delete []string // sorted
}

// Empty reports whether the op changes nothing.
func (o TagOp) Empty() bool { return len(o.Set) == 0 && len(o.Delete) == 0 }

func (o TagOp) String() string {
	keys := make([]string, 0, len(o.Set))
	for k := range o.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+len(o.Delete))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, o.Set[k]))
	}
	for _, k := range o.Delete {
		parts = append(parts, "-"+k)
	}
	return "tag " + o.Ref.String() + " " + strings.Join(parts, " ")
}

// MaxErrorLen bounds bridge_deploy_error values (MLflow tag values are
// limited; a reason should fit on one line of a UI).
const MaxErrorLen = 500

// OneLine turns an error message into a single bounded line for
// bridge_deploy_error.
func OneLine(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > MaxErrorLen {
		cut := MaxErrorLen - len("...")
		for cut > 0 && !utf8Start(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return msg
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// bridgeTags are the tags Bridge owns on registry versions.
var bridgeTags = []string{model.TagDeployError, model.TagDeployState, model.TagDeployURL}

// Updating returns the tag ops that mark as UPDATING every desired version
// that actions will touch (created, or routed to by an endpoint), before the
// actions are applied. Versions already UPDATING get no op.
func Updating(desired model.Desired, actions []Action) []TagOp {
	touched := map[model.VersionRef]bool{}
	for _, a := range actions {
		switch a := a.(type) {
		case CreateVersion:
			touched[a.Ref] = true
		case Route:
			for _, w := range a.Versions {
				touched[model.VersionRef{Model: a.Key.Model, Version: w.Version}] = true
			}
		}
	}
	var out []TagOp
	for _, v := range desired.Versions {
		if !touched[v.Ref] || v.Tags[model.TagDeployState] == model.StateUpdating {
			continue
		}
		out = append(out, TagOp{Ref: v.Ref, Set: map[string]string{model.TagDeployState: model.StateUpdating}})
	}
	return out
}

// Tags returns the tag ops that make every version's bridge tags tell what
// the target serves:
//
//   - a desired version that every endpoint wanting it serves (endpoint
//     Ready, version in its routes) gets DEPLOYED and bridge_deploy_url;
//   - one with a failure (failures, recorded by the loop from failed
//     actions; a Failed version or endpoint on the target) gets FAILED and
//     a one-line bridge_deploy_error;
//   - any other desired version is UPDATING;
//   - versions in desired.Tagged (tagged, but served by no endpoint) lose
//     every bridge tag.
//
// bridge_deploy_url lists the URLs of all Ready endpoints serving the
// version, stage endpoints (Production, Staging, Latest) first, then
// aliases, comma-separated; it is removed when none serves it.
// bridge_deploy_error is removed unless the state is FAILED. url gives an
// endpoint's URL when the target reports none. Ops are sorted by version.
func Tags(desired model.Desired, actual model.Actual, failures map[model.VersionRef]string, url func(model.EndpointKey) string) []TagOp {
	actualV := make(map[model.VersionRef]model.ActualVersion, len(actual.Versions))
	for _, v := range actual.Versions {
		actualV[v.Ref] = v
	}
	actualE := make(map[model.EndpointKey]model.ActualEndpoint, len(actual.Endpoints))
	for _, e := range actual.Endpoints {
		actualE[e.Key] = e
	}
	// wanted: the endpoints that must serve each desired version.
	wanted := make(map[model.VersionRef][]model.EndpointKey, len(desired.Versions))
	for _, de := range desired.Endpoints {
		for _, w := range de.Versions {
			ref := model.VersionRef{Model: de.Key.Model, Version: w.Version}
			wanted[ref] = append(wanted[ref], de.Key)
		}
	}
	// serving: the Ready endpoints that route to each version now.
	serving := map[model.VersionRef][]model.EndpointKey{}
	for _, ae := range actual.Endpoints {
		if ae.Status != model.StatusReady {
			continue
		}
		for _, w := range ae.Versions {
			ref := model.VersionRef{Model: ae.Key.Model, Version: w.Version}
			serving[ref] = append(serving[ref], ae.Key)
		}
	}

	var out []TagOp
	for _, dv := range sortedDesiredVersions(desired.Versions) {
		want := map[string]string{}
		servedBy := serving[dv.Ref]
		if len(servedBy) > 0 {
			want[model.TagDeployURL] = joinURLs(servedBy, actualE, url)
		}
		state, reason := versionState(dv.Ref, wanted[dv.Ref], servedBy, actualV, actualE, failures)
		want[model.TagDeployState] = state
		if state == model.StateFailed {
			want[model.TagDeployError] = OneLine(failedReason(dv.Ref, reason))
		}
		if op := diff(dv.Ref, dv.Tags, want); !op.Empty() {
			out = append(out, op)
		}
	}
	for _, ref := range desired.Tagged {
		// Tagged versions' current tags are unknown here beyond their having
		// some bridge tag: remove all three (deleting a missing tag is a no-op).
		out = append(out, TagOp{Ref: ref, Delete: append([]string(nil), bridgeTags...)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref.Less(out[j].Ref) })
	return out
}

func versionState(ref model.VersionRef, wanted, servedBy []model.EndpointKey, actualV map[model.VersionRef]model.ActualVersion,
	actualE map[model.EndpointKey]model.ActualEndpoint, failures map[model.VersionRef]string) (state, reason string) {
	av, loaded := actualV[ref]
	deployed := loaded && av.Status == model.StatusReady && len(wanted) > 0
	for _, k := range wanted {
		if !containsKey(servedBy, k) {
			deployed = false
			break
		}
	}
	if deployed {
		return model.StateDeployed, ""
	}
	if msg, ok := failures[ref]; ok {
		return model.StateFailed, msg
	}
	if loaded && av.Status == model.StatusFailed {
		return model.StateFailed, nonEmpty(av.Message, "the target reports the version failed")
	}
	for _, k := range wanted {
		if ae, ok := actualE[k]; ok && ae.Status == model.StatusFailed {
			return model.StateFailed, fmt.Sprintf("endpoint %s: %s", k, nonEmpty(ae.Message, "the target reports the endpoint failed"))
		}
	}
	return model.StateUpdating, ""
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func containsKey(keys []model.EndpointKey, k model.EndpointKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// slotRank orders stage endpoints before aliases.
func slotRank(slot string) int {
	switch slot {
	case model.StageProduction:
		return 0
	case model.StageStaging:
		return 1
	case model.SlotLatest:
		return 2
	}
	return 3
}

func joinURLs(keys []model.EndpointKey, actualE map[model.EndpointKey]model.ActualEndpoint, url func(model.EndpointKey) string) string {
	keys = append([]model.EndpointKey(nil), keys...)
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := slotRank(keys[i].Slot), slotRank(keys[j].Slot)
		if ri != rj {
			return ri < rj
		}
		return keys[i].Slot < keys[j].Slot
	})
	urls := make([]string, 0, len(keys))
	for _, k := range keys {
		u := actualE[k].URL
		if u == "" && url != nil {
			u = url(k)
		}
		if u != "" {
			urls = append(urls, u)
		}
	}
	return strings.Join(urls, ",")
}

// diff returns the op that turns the bridge tags in have into want.
func diff(ref model.VersionRef, have, want map[string]string) TagOp {
	op := TagOp{Ref: ref}
	for _, k := range bridgeTags {
		w, wok := want[k]
		h, hok := have[k]
		switch {
		case wok && (!hok || h != w):
			if op.Set == nil {
				op.Set = map[string]string{}
			}
			op.Set[k] = w
		case !wok && hok:
			op.Delete = append(op.Delete, k)
		}
	}
	return op
}

// Stopped returns the tag ops for a clean stop of a target whose endpoints
// end with the process (localhost): every desired version tagged DEPLOYED
// or UPDATING becomes STOPPED and loses bridge_deploy_url, since nothing
// serves it any more. FAILED versions keep their reason. The next pass
// retags them as usual.
func Stopped(desired model.Desired) []TagOp {
	var out []TagOp
	for _, dv := range sortedDesiredVersions(desired.Versions) {
		switch dv.Tags[model.TagDeployState] {
		case model.StateDeployed, model.StateUpdating:
		default:
			continue
		}
		if op := diff(dv.Ref, dv.Tags, map[string]string{model.TagDeployState: model.StateStopped}); !op.Empty() {
			out = append(out, op)
		}
	}
	return out
}
