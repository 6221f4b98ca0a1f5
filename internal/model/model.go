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
}

// ActualEndpoint is an endpoint as the target has it.
type ActualEndpoint struct {
	Key      EndpointKey
	Versions []WeightedVersion // sorted by version
	Status   Status
	Message  string
	URL      string
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
	eps := map[EndpointKey]map[int]bool{}
	add := func(k EndpointKey, v int) {
		m := eps[k]
		if m == nil {
			m = map[int]bool{}
			eps[k] = m
		}
		m[v] = true
	}
	latest := map[string]int{}
	byRef := map[VersionRef]ModelVersion{}
	for _, v := range versions {
		byRef[v.Ref()] = v
		switch v.Stage {
		case StageStaging, StageProduction:
			add(EndpointKey{v.Name, v.Stage}, v.Version)
		case StageNone, "":
			if v.Version > latest[v.Name] {
				latest[v.Name] = v.Version
			}
		}
		for _, a := range v.Aliases {
			add(EndpointKey{v.Name, a}, v.Version)
		}
	}
	for name, v := range latest {
		add(EndpointKey{name, SlotLatest}, v)
	}
	var d Desired
	served := map[VersionRef]bool{}
	for k, vs := range eps {
		ep := DesiredEndpoint{Key: k}
		w := 1.0 / float64(len(vs))
		for v := range vs {
			ep.Versions = append(ep.Versions, WeightedVersion{Version: v, Weight: w})
			served[VersionRef{k.Model, v}] = true
		}
		sort.Slice(ep.Versions, func(i, j int) bool { return ep.Versions[i].Version < ep.Versions[j].Version })
		d.Endpoints = append(d.Endpoints, ep)
	}
	sort.Slice(d.Endpoints, func(i, j int) bool { return d.Endpoints[i].Key.Less(d.Endpoints[j].Key) })
	for ref := range served {
		mv := byRef[ref]
		d.Versions = append(d.Versions, DesiredVersion{Ref: ref, Source: mv.Source, Tags: mv.Tags})
	}
	sort.Slice(d.Versions, func(i, j int) bool { return d.Versions[i].Ref.Less(d.Versions[j].Ref) })
	for _, v := range versions {
		if served[v.Ref()] {
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
	sort.Slice(d.Tagged, func(i, j int) bool { return d.Tagged[i].Less(d.Tagged[j]) })
	return d
}

// ParseVersion parses a registry version string ("3") into its number.
func ParseVersion(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("invalid model version %q: want a positive integer", s)
	}
	return n, nil
}
