package model

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
)

func TestDesiredFrom(t *testing.T) {
	ref := func(m string, v int) VersionRef { return VersionRef{m, v} }
	w := func(pairs ...float64) []WeightedVersion {
		var out []WeightedVersion
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, WeightedVersion{Version: int(pairs[i]), Weight: pairs[i+1]})
		}
		return out
	}
	deployed := map[string]string{TagDeployState: StateDeployed}
	tests := []struct {
		name      string
		versions  []ModelVersion
		endpoints []DesiredEndpoint
		served    []VersionRef
		tagged    []VersionRef
	}{
		{name: "empty registry"},
		{
			name: "newest version without a stage is Latest",
			versions: []ModelVersion{
				{Name: "iris", Version: 1, Stage: StageNone},
				{Name: "iris", Version: 3, Stage: ""},
				{Name: "iris", Version: 2, Stage: StageNone},
			},
			endpoints: []DesiredEndpoint{{Key: EndpointKey{"iris", SlotLatest}, Versions: w(3, 1)}},
			served:    []VersionRef{ref("iris", 3)},
		},
		{
			name: "versions sharing a stage share its traffic evenly",
			versions: []ModelVersion{
				{Name: "iris", Version: 4, Stage: StageProduction},
				{Name: "iris", Version: 2, Stage: StageProduction},
				{Name: "iris", Version: 3, Stage: StageStaging},
			},
			endpoints: []DesiredEndpoint{
				{Key: EndpointKey{"iris", StageProduction}, Versions: w(2, 0.5, 4, 0.5)},
				{Key: EndpointKey{"iris", StageStaging}, Versions: w(3, 1)},
			},
			served: []VersionRef{ref("iris", 2), ref("iris", 3), ref("iris", 4)},
		},
		{
			name: "aliases get endpoints, even on archived versions; archived stage is not served",
			versions: []ModelVersion{
				{Name: "iris", Version: 1, Stage: StageArchived, Aliases: []string{"champion"}},
				{Name: "iris", Version: 2, Stage: StageArchived, Tags: deployed},
				{Name: "wine", Version: 1, Stage: StageProduction, Aliases: []string{"challenger", "champion"}},
			},
			endpoints: []DesiredEndpoint{
				{Key: EndpointKey{"iris", "champion"}, Versions: w(1, 1)},
				{Key: EndpointKey{"wine", StageProduction}, Versions: w(1, 1)},
				{Key: EndpointKey{"wine", "challenger"}, Versions: w(1, 1)},
				{Key: EndpointKey{"wine", "champion"}, Versions: w(1, 1)},
			},
			served: []VersionRef{ref("iris", 1), ref("wine", 1)},
			tagged: []VersionRef{ref("iris", 2)},
		},
		{
			name: "only versions with bridge tags are listed for untagging",
			versions: []ModelVersion{
				{Name: "b", Version: 2, Stage: StageArchived, Tags: map[string]string{TagDeployError: "x"}},
				{Name: "a", Version: 1, Stage: StageArchived, Tags: map[string]string{TagDeployURL: "http://x"}},
				{Name: "a", Version: 2, Stage: StageArchived, Tags: map[string]string{"owner": "ana"}},
			},
			tagged: []VersionRef{ref("a", 1), ref("b", 2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DesiredFrom(tt.versions)
			if !reflect.DeepEqual(d.Endpoints, tt.endpoints) {
				t.Errorf("endpoints\n got %v\nwant %v", d.Endpoints, tt.endpoints)
			}
			var served []VersionRef
			for _, v := range d.Versions {
				served = append(served, v.Ref)
			}
			if !reflect.DeepEqual(served, tt.served) {
				t.Errorf("versions %v, want %v", served, tt.served)
			}
			if !reflect.DeepEqual(d.Tagged, tt.tagged) {
				t.Errorf("tagged %v, want %v", d.Tagged, tt.tagged)
			}
		})
	}
}

func TestDesiredFromCarriesSourceAndTags(t *testing.T) {
	tags := map[string]string{TagDeployState: StateUpdating}
	d := DesiredFrom([]ModelVersion{{Name: "iris", Version: 7, Stage: StageProduction, Source: "s3://b/k", Tags: tags}})
	if len(d.Versions) != 1 || d.Versions[0].Source != "s3://b/k" || !reflect.DeepEqual(d.Versions[0].Tags, tags) {
		t.Fatalf("versions %+v", d.Versions)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{{"3", 3, true}, {"0", 0, false}, {"-1", 0, false}, {"x", 0, false}, {"", 0, false}}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseVersion(%q) = %d, %v", tt.in, got, err)
		}
	}
}

// desiredFromReference is the first, map-based implementation of
// DesiredFrom, kept to check the faster one against.
func desiredFromReference(versions []ModelVersion) Desired {
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

// TestDesiredFromMatchesReference compares DesiredFrom with the reference
// implementation on random registries (shuffled input, stages, aliases,
// tags).
func TestDesiredFromMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	stages := []string{StageNone, "", StageStaging, StageProduction, StageArchived}
	aliases := []string{"champion", "challenger", "a", "Z"}
	tagSets := []map[string]string{nil, {TagDeployState: StateDeployed}, {TagDeployURL: "u"}, {TagDeployError: "e"}, {"other": "x"}}
	for round := 0; round < 500; round++ {
		var vs []ModelVersion
		for m := 0; m < rng.IntN(5)+1; m++ {
			perm := rng.Perm(rng.IntN(40) + 1)
			for _, v := range perm {
				mv := ModelVersion{Name: fmt.Sprintf("m%d", rng.IntN(4)), Version: v + 1, Stage: stages[rng.IntN(len(stages))],
					Source: fmt.Sprintf("s%d", rng.IntN(100)), Tags: tagSets[rng.IntN(len(tagSets))]}
				for _, a := range aliases {
					if rng.IntN(6) == 0 {
						mv.Aliases = append(mv.Aliases, a)
					}
				}
				vs = append(vs, mv)
			}
		}
		// The reference merges repeated (model, version) entries; registries
		// never repeat one, so compare on unique refs only.
		seen := map[VersionRef]bool{}
		uniq := vs[:0]
		for _, v := range vs {
			if !seen[v.Ref()] {
				seen[v.Ref()] = true
				uniq = append(uniq, v)
			}
		}
		rng.Shuffle(len(uniq), func(i, j int) { uniq[i], uniq[j] = uniq[j], uniq[i] })
		got, want := DesiredFrom(uniq), desiredFromReference(uniq)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: input %+v\n got %+v\nwant %+v", round, uniq, got, want)
		}
	}
}

func BenchmarkDesiredFrom(b *testing.B) {
	var vs []ModelVersion
	for m := 0; m < 1000; m++ {
		for v := 1; v <= 10; v++ {
			mv := ModelVersion{Name: fmt.Sprintf("model-%04d", m), Version: v, Stage: StageArchived, Tags: map[string]string{TagDeployState: StateDeployed}}
			switch v {
			case 8:
				mv.Stage = StageStaging
			case 9:
				mv.Stage, mv.Aliases = StageProduction, []string{"champion"}
			case 10:
				mv.Stage = StageNone
			}
			vs = append(vs, mv)
		}
	}
	for _, impl := range []struct {
		name string
		f    func([]ModelVersion) Desired
	}{{"DesiredFrom", DesiredFrom}, {"reference", desiredFromReference}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				impl.f(vs)
			}
		})
	}
}
