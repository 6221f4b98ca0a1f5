package model

import (
	"reflect"
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
