// Package model holds Bridge's domain types: registry versions, the desired
// serving state derived from them, and the actual state a target reports.
package model

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Registry stages. StageNone is MLflow's "None"; Bridge serves the newest
// version without a stage on the Latest endpoint.
const (
	StageNone       = "None"
	StageStaging    = "Staging"
	StageProduction = "Production"
	StageArchived   = "Archived"

	// SlotLatest is the endpoint slot for the newest version in stage None.
	SlotLatest = "Latest"
)

// Deploy tags Bridge writes back to registry versions.
const (
	TagDeployState = "bridge_deploy_state"
	TagDeployURL   = "bridge_deploy_url"
	TagDeployError = "bridge_deploy_error"

	StateUpdating = "UPDATING"
	StateDeployed = "DEPLOYED"
	StateFailed   = "FAILED"
	// StateStopped marks versions a process-bound target (localhost) served
	// until its bridge run stopped cleanly: nothing serves them now.
	StateStopped = "STOPPED"
)

// ModelVersion is one registered model version as the registry reports it.
type ModelVersion struct {
	Name        string
	Version     int
	Source      string // artifact URI as registered (file://, s3://, mlflow-artifacts:/, runs:/, models:/ ...)
	RunID       string
	Stage       string // None, Staging, Production, Archived
	Aliases     []string
	Tags        map[string]string
	Description string
	Created     time.Time
	Updated     time.Time
}

// Ref returns the version's reference.
func (v ModelVersion) Ref() VersionRef { return VersionRef{Model: v.Name, Version: v.Version} }

// VersionRef names one model version.
type VersionRef struct {
	Model   string
	Version int
}

func (r VersionRef) String() string { return r.Model + "/" + strconv.Itoa(r.Version) }

// Less orders refs by model name, then version number.
func (r VersionRef) Less(o VersionRef) bool {
	if r.Model != o.Model {
		return r.Model < o.Model
	}
	return r.Version < o.Version
}

// EndpointKey names one stable endpoint: a model and a slot, where the slot is
// a stage (Latest, Staging, Production) or an alias (champion, ...).
type EndpointKey struct {
	Model string
	Slot  string
}

func (k EndpointKey) String() string { return k.Model + "/" + k.Slot }

// Less orders keys by model, then slot.
func (k EndpointKey) Less(o EndpointKey) bool {
	if k.Model != o.Model {
		return k.Model < o.Model
	}
	return k.Slot < o.Slot
}

// WeightedVersion is one version behind an endpoint with its share of traffic.
type WeightedVersion struct {
	Version int
	Weight  float64 // 0..1; weights of one endpoint sum to 1
}

// DesiredVersion is a version some endpoint must serve.
type DesiredVersion struct {
	Ref    VersionRef
	Source string
	Tags   map[string]string // tags currently on the version in the registry
}

// DesiredEndpoint is an endpoint and the versions it must serve.
type DesiredEndpoint struct {
	Key      EndpointKey
	Versions []WeightedVersion // sorted by version
}

// Desired is the serving state the registry asks for.
type Desired struct {
	Versions  []DesiredVersion  // sorted by ref
	Endpoints []DesiredEndpoint // sorted by key
	// Tagged lists versions that carry bridge deploy tags but that no endpoint
	// serves: the reconciler removes their tags.
	Tagged []VersionRef
}

// Status of a resource on a target.
type Status string

const (
	StatusReady   Status = "Ready"   // serving
	StatusPending Status = "Pending" // being created or updated; look again later
	StatusFailed  Status = "Failed"  // failed; Message says why
)

// ActualVersion is a version's resources as the target has them.
type ActualVersion struct {
	Ref     VersionRef
	Status  Status
	Message string
	Runtime string // what serves it ("native", "python"), when the target knows
}

// ActualEndpoint is an endpoint as the target has it.
type ActualEndpoint struct {
	Key      EndpointKey
	Versions []WeightedVersion // sorted by version
	Status   Status
	Message  string
	URL      string
	// Outdated says the target serves the right versions, but with
	// settings (instance type or count, data capture) that differ from its
	// configuration now: the planner routes the endpoint again so they apply.
	Outdated bool
}

// Actual is what a target serves now.
type Actual struct {
	Versions  []ActualVersion  // sorted by ref
	Endpoints []ActualEndpoint // sorted by key
}

// DesiredFrom computes the desired serving state from all registry versions:
// one endpoint per (model, stage) for Staging and Production with every
// version in that stage sharing traffic evenly; one Latest endpoint per model
// serving the newest version in stage None; one endpoint per (model, alias).
// Archived versions are served by no stage endpoint (an alias may still name one).
func DesiredFrom(versions []ModelVersion) Desired {
	// Work model by model, versions in ascending order: every output list
	// then comes out sorted without maps keyed by strings, which keeps this
	// cheap at tens of thousands of versions (it runs on every pass).
	order := make([]int, len(versions))
	for i := range order {
		order[i] = i
	}
	less := func(a, b int) bool {
		va, vb := &versions[a], &versions[b]
		if va.Name != vb.Name {
			return va.Name < vb.Name
		}
		return va.Version < vb.Version
	}
	if !sort.SliceIsSorted(order, func(i, j int) bool { return less(order[i], order[j]) }) {
		sort.SliceStable(order, func(i, j int) bool { return less(order[i], order[j]) })
	}
	var d Desired
	var group []int // indexes into versions of one model, by version; a repeated version keeps its last entry
	for start := 0; start < len(order); {
		name := versions[order[start]].Name
		group = group[:0]
		end := start
		for ; end < len(order) && versions[order[end]].Name == name; end++ {
			if n := len(group); n > 0 && versions[group[n-1]].Version == versions[order[end]].Version {
				group[n-1] = order[end]
				continue
			}
			group = append(group, order[end])
		}
		start = end
		desiredForModel(&d, versions, group)
	}
	return d
}

// desiredForModel adds one model's endpoints, served versions and tagged
// versions to d; group indexes its versions in ascending version order.
func desiredForModel(d *Desired, versions []ModelVersion, group []int) {
	type slot struct {
		name string
		vs   []int // ascending
	}
	var slots []slot
	add := func(name string, v int) {
		for i := range slots {
			if slots[i].name == name {
				if n := len(slots[i].vs); n == 0 || slots[i].vs[n-1] != v {
					slots[i].vs = append(slots[i].vs, v)
				}
				return
			}
		}
		slots = append(slots, slot{name, []int{v}})
	}
	latest := 0
	for _, i := range group {
		v := &versions[i]
		switch v.Stage {
		case StageStaging, StageProduction:
			add(v.Stage, v.Version)
		case StageNone, "":
			latest = v.Version // ascending: the last one is the newest
		}
		for _, a := range v.Aliases {
			add(a, v.Version)
		}
	}
	if latest > 0 {
		add(SlotLatest, latest)
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].name < slots[j].name })
	name := versions[group[0]].Name
	total := 0
	for _, s := range slots {
		ep := DesiredEndpoint{Key: EndpointKey{name, s.name}, Versions: make([]WeightedVersion, len(s.vs))}
		w := 1.0 / float64(len(s.vs))
		for i, v := range s.vs {
			ep.Versions[i] = WeightedVersion{Version: v, Weight: w}
		}
		total += len(s.vs)
		d.Endpoints = append(d.Endpoints, ep)
	}
	// served: a scan of the few slots, or a set when there are many.
	var set map[int]bool
	if total > 16 {
		set = make(map[int]bool, total)
		for _, s := range slots {
			for _, v := range s.vs {
				set[v] = true
			}
		}
	}
	served := func(v int) bool {
		if set != nil {
			return set[v]
		}
		for _, s := range slots {
			for _, x := range s.vs {
				if x == v {
					return true
				}
			}
		}
		return false
	}
	for _, i := range group {
		v := &versions[i]
		if served(v.Version) {
			d.Versions = append(d.Versions, DesiredVersion{Ref: v.Ref(), Source: v.Source, Tags: v.Tags})
			continue
		}
		if _, ok := v.Tags[TagDeployState]; ok {
			d.Tagged = append(d.Tagged, v.Ref())
		} else if _, ok := v.Tags[TagDeployURL]; ok {
			d.Tagged = append(d.Tagged, v.Ref())
		} else if _, ok := v.Tags[TagDeployError]; ok {
			d.Tagged = append(d.Tagged, v.Ref())
		}
	}
}

// ParseVersion parses a registry version string ("3") into its number.
func ParseVersion(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("invalid model version %q: want a positive integer", s)
	}
	return n, nil
}
