package plan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
)

func ref(m string, v int) model.VersionRef { return model.VersionRef{Model: m, Version: v} }
func key(m, s string) model.EndpointKey    { return model.EndpointKey{Model: m, Slot: s} }

func ws(pairs ...float64) []model.WeightedVersion {
	var out []model.WeightedVersion
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, model.WeightedVersion{Version: int(pairs[i]), Weight: pairs[i+1]})
	}
	return out
}

func dv(m string, v int) model.DesiredVersion {
	return model.DesiredVersion{Ref: ref(m, v), Source: "file:///m/" + m + "/" + string(rune('0'+v))}
}

func av(m string, v int, st model.Status) model.ActualVersion {
	return model.ActualVersion{Ref: ref(m, v), Status: st}
}

func de(m, slot string, w []model.WeightedVersion) model.DesiredEndpoint {
	return model.DesiredEndpoint{Key: key(m, slot), Versions: w}
}

func ae(m, slot string, st model.Status, w []model.WeightedVersion) model.ActualEndpoint {
	return model.ActualEndpoint{Key: key(m, slot), Status: st, Versions: w}
}

// outdated is an endpoint the target reports Outdated.
func outdated(e model.ActualEndpoint) model.ActualEndpoint {
	e.Outdated = true
	return e
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name    string
		desired model.Desired
		actual  model.Actual
		want    []string
	}{
		{
			name: "nothing desired, nothing served",
		},
		{
			name: "new model: create then route",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			want: []string{"create version iris/1 from file:///m/iris/1", "route iris/Production -> v1 100%"},
		},
		{
			name: "in sync: no action",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusReady, ws(1, 1))},
			},
		},
		{
			name: "weights within tolerance are equal",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("a", 1), dv("a", 2), dv("a", 3)},
				Endpoints: []model.DesiredEndpoint{de("a", "Staging", ws(1, 1.0/3, 2, 1.0/3, 3, 1.0/3))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("a", 1, model.StatusReady), av("a", 2, model.StatusReady), av("a", 3, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("a", "Staging", model.StatusReady, ws(1, 0.3333333, 2, 0.3333333, 3, 0.3333334))},
			},
		},
		{
			name: "promotion with archive: create v2, route, delete v1",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 2)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(2, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusReady, ws(1, 1))},
			},
			want: []string{"create version iris/2 from file:///m/iris/2", "route iris/Production -> v2 100%", "delete version iris/1"},
		},
		{
			name: "second version joins the stage: traffic shared",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1), dv("iris", 2)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 0.5, 2, 0.5))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusReady, ws(1, 1))},
			},
			want: []string{"create version iris/2 from file:///m/iris/2", "route iris/Production -> v1 50%, v2 50%"},
		},
		{
			name: "failed version is created again",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions: []model.ActualVersion{av("iris", 1, model.StatusFailed)},
			},
			want: []string{"create version iris/1 from file:///m/iris/1", "route iris/Production -> v1 100%"},
		},
		{
			name: "pending endpoint waits, and keeps its versions",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 2)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(2, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady), av("iris", 2, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusPending, ws(1, 1))},
			},
		},
		{
			name: "pending version: endpoint waits, no create",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions: []model.ActualVersion{av("iris", 1, model.StatusPending)},
			},
		},
		{
			name: "failed endpoint with other config is recreated",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 2)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(2, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady), av("iris", 2, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusFailed, ws(1, 1))},
			},
			want: []string{"delete endpoint iris/Production", "route iris/Production -> v2 100%", "delete version iris/1"},
		},
		{
			name: "failed endpoint with the desired config is recreated as a retry",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusFailed, ws(1, 1))},
			},
			want: []string{"delete endpoint iris/Production (failed; recreate to retry)", "route iris/Production -> v1 100%"},
		},
		{
			name: "failed endpoint with the desired config and a failed version: the version is created again",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusFailed)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusFailed, ws(1, 1))},
			},
			want: []string{"create version iris/1 from file:///m/iris/1"},
		},
		{
			name: "failed endpoint with the desired config and a pending version waits",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1), dv("iris", 2)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 0.5, 2, 0.5))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady), av("iris", 2, model.StatusPending)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusFailed, ws(1, 0.5, 2, 0.5))},
			},
		},
		{
			name: "outdated failed endpoint: retried, not refreshed",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{outdated(ae("iris", "Production", model.StatusFailed, ws(1, 1)))},
			},
			want: []string{"delete endpoint iris/Production (failed; recreate to retry)", "route iris/Production -> v1 100%"},
		},
		{
			name: "outdated ready endpoint is routed again to the same versions",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{outdated(ae("iris", "Production", model.StatusReady, ws(1, 1)))},
			},
			want: []string{"route iris/Production -> v1 100% (apply changed settings)"},
		},
		{
			name: "outdated pending endpoint waits",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{outdated(ae("iris", "Production", model.StatusPending, ws(1, 1)))},
			},
		},
		{
			name: "outdated endpoint needing a pending version waits",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusPending)},
				Endpoints: []model.ActualEndpoint{outdated(ae("iris", "Production", model.StatusReady, ws(1, 1)))},
			},
		},
		{
			name: "outdated endpoint with other versions: one ordinary route",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 2)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(2, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady), av("iris", 2, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{outdated(ae("iris", "Production", model.StatusReady, ws(1, 1)))},
			},
			want: []string{"route iris/Production -> v2 100%", "delete version iris/1"},
		},
		{
			name:    "outdated endpoint no longer desired is deleted",
			desired: model.Desired{},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{outdated(ae("iris", "Production", model.StatusReady, ws(1, 1)))},
			},
			want: []string{"delete endpoint iris/Production", "delete version iris/1"},
		},
		{
			name:    "everything archived: endpoint then versions deleted",
			desired: model.Desired{},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady), av("iris", 2, model.StatusFailed)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusReady, ws(1, 1))},
			},
			want: []string{"delete endpoint iris/Production", "delete version iris/1", "delete version iris/2"},
		},
		{
			name:    "undesired pending endpoint waits and protects its version",
			desired: model.Desired{},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusReady), av("iris", 3, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusPending, ws(1, 1))},
			},
			want: []string{"delete version iris/3"},
		},
		{
			name: "version still routed by an unchanged failed endpoint is kept",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 2)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1)), de("iris", "Staging", ws(2, 1))},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("iris", 1, model.StatusFailed), av("iris", 2, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusFailed, ws(1, 1)), ae("iris", "Staging", model.StatusReady, ws(2, 1))},
			},
		},
		{
			name: "several models: grouped by kind, sorted by model",
			desired: model.Desired{
				Versions: []model.DesiredVersion{dv("b", 1), dv("a", 1)}, // unsorted input
				Endpoints: []model.DesiredEndpoint{
					de("b", "Production", ws(1, 1)), de("a", "champion", ws(1, 1)), de("a", "Latest", ws(1, 1)),
				},
			},
			actual: model.Actual{
				Versions:  []model.ActualVersion{av("c", 4, model.StatusReady)},
				Endpoints: []model.ActualEndpoint{ae("c", "Staging", model.StatusReady, ws(4, 1))},
			},
			want: []string{
				"create version a/1 from file:///m/a/1", "create version b/1 from file:///m/b/1",
				"route a/Latest -> v1 100%", "route a/champion -> v1 100%", "route b/Production -> v1 100%",
				"delete endpoint c/Staging", "delete version c/4",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Plan(tt.desired, tt.actual)
			var lines []string
			for _, a := range got {
				lines = append(lines, a.String())
			}
			if !reflect.DeepEqual(lines, tt.want) {
				t.Fatalf("Plan:\n got %q\nwant %q", lines, tt.want)
			}
			// Deterministic: same inputs, same plan.
			if again := Plan(tt.desired, tt.actual); !reflect.DeepEqual(again, got) {
				t.Fatalf("Plan is not deterministic: %v then %v", got, again)
			}
		})
	}
}

// TestPlanConverges checks the level-based property: applying a plan to the
// actual state yields a state for which Plan returns nothing.
func TestPlanConverges(t *testing.T) {
	versions := []model.ModelVersion{
		{Name: "a", Version: 1, Stage: model.StageArchived},
		{Name: "a", Version: 2, Stage: model.StageProduction},
		{Name: "a", Version: 3, Stage: model.StageProduction, Aliases: []string{"champion"}},
		{Name: "a", Version: 4, Stage: model.StageNone},
		{Name: "b", Version: 1, Stage: model.StageStaging},
	}
	desired := model.DesiredFrom(versions)
	actual := model.Actual{
		Versions: []model.ActualVersion{av("a", 1, model.StatusReady), av("a", 2, model.StatusFailed), av("b", 1, model.StatusReady), av("z", 9, model.StatusReady)},
		Endpoints: []model.ActualEndpoint{ae("a", "Production", model.StatusReady, ws(1, 1)),
			outdated(ae("b", "Staging", model.StatusReady, ws(1, 1))), ae("z", "Latest", model.StatusReady, ws(9, 1)),
			ae("a", "champion", model.StatusFailed, ws(3, 1))},
	}
	for pass := 0; pass < 3; pass++ {
		actions := Plan(desired, actual)
		if pass > 0 && len(actions) != 0 {
			t.Fatalf("pass %d: not converged: %v", pass, actions)
		}
		actual = apply(actual, actions)
	}
}

// apply simulates a target that carries out every action.
func apply(a model.Actual, actions []Action) model.Actual {
	vs := map[model.VersionRef]model.ActualVersion{}
	for _, v := range a.Versions {
		vs[v.Ref] = v
	}
	es := map[model.EndpointKey]model.ActualEndpoint{}
	for _, e := range a.Endpoints {
		es[e.Key] = e
	}
	for _, act := range actions {
		switch x := act.(type) {
		case CreateVersion:
			vs[x.Ref] = av(x.Ref.Model, x.Ref.Version, model.StatusReady)
		case Route:
			es[x.Key] = ae(x.Key.Model, x.Key.Slot, model.StatusReady, x.Versions)
		case DeleteEndpoint:
			delete(es, x.Key)
		case DeleteVersion:
			for _, e := range es {
				for _, w := range e.Versions {
					if e.Key.Model == x.Ref.Model && w.Version == x.Ref.Version {
						panic("plan deleted version " + x.Ref.String() + " still routed by " + e.Key.String())
					}
				}
			}
			delete(vs, x.Ref)
		}
	}
	var out model.Actual
	for _, v := range vs {
		out.Versions = append(out.Versions, v)
	}
	for _, e := range es {
		out.Endpoints = append(out.Endpoints, e)
	}
	return out
}

func TestActionJSON(t *testing.T) {
	tests := []struct {
		a    Action
		want map[string]any
	}{
		{CreateVersion{Ref: ref("iris", 2), Source: "s3://b/k"}, map[string]any{"kind": "create_version", "model": "iris", "version": 2.0, "source": "s3://b/k", "text": "create version iris/2 from s3://b/k"}},
		{Route{Key: key("iris", "Production"), Versions: ws(1, 0.5, 2, 0.5)}, map[string]any{
			"kind": "route", "model": "iris", "slot": "Production", "text": "route iris/Production -> v1 50%, v2 50%",
			"versions": []any{map[string]any{"version": 1.0, "weight": 0.5}, map[string]any{"version": 2.0, "weight": 0.5}},
		}},
		{Route{Key: key("iris", "Production"), Versions: ws(1, 1), Refresh: true}, map[string]any{
			"kind": "route", "model": "iris", "slot": "Production", "refresh": true, "text": "route iris/Production -> v1 100% (apply changed settings)",
			"versions": []any{map[string]any{"version": 1.0, "weight": 1.0}},
		}},
		{DeleteEndpoint{Key: key("iris", "Production"), Retry: true}, map[string]any{"kind": "delete_endpoint", "model": "iris", "slot": "Production", "retry": true, "text": "delete endpoint iris/Production (failed; recreate to retry)"}},
		{DeleteEndpoint{Key: key("iris", "champion")}, map[string]any{"kind": "delete_endpoint", "model": "iris", "slot": "champion", "text": "delete endpoint iris/champion"}},
		{DeleteVersion{Ref: ref("iris", 1)}, map[string]any{"kind": "delete_version", "model": "iris", "version": 1.0, "text": "delete version iris/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.a.Kind(), func(t *testing.T) {
			b, err := json.Marshal([]Action{tt.a})
			if err != nil {
				t.Fatal(err)
			}
			var got []map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[0], tt.want) {
				t.Fatalf("JSON %s\nwant %v", b, tt.want)
			}
			if tt.a.Model() != "iris" {
				t.Fatalf("Model() = %q", tt.a.Model())
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("é", 400)
	tests := []struct{ in, want string }{
		{"load model:\n  bad   file\n", "load model: bad file"},
		{"", ""},
		{long, long[:MaxErrorLen-3-1] + "..."},
	}
	for _, tt := range tests {
		if got := OneLine(tt.in); got != tt.want {
			t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
