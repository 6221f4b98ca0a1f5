package plan

import (
	"reflect"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
)

func urlOf(k model.EndpointKey) string { return "http://h/" + k.Model + "/" + k.Slot + "/invocations" }

func withTags(v model.DesiredVersion, kv ...string) model.DesiredVersion {
	v.Tags = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Tags[kv[i]] = kv[i+1]
	}
	return v
}

func TestTags(t *testing.T) {
	ready := func(m string, vs ...int) []model.ActualVersion {
		var out []model.ActualVersion
		for _, v := range vs {
			out = append(out, av(m, v, model.StatusReady))
		}
		return out
	}
	prodURL := urlOf(key("iris", "Production"))
	tests := []struct {
		name     string
		desired  model.Desired
		actual   model.Actual
		failures map[model.VersionRef]string
		want     []TagOp
	}{
		{
			name: "served everywhere: DEPLOYED with URLs, stages first",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "champion", ws(1, 1)), de("iris", "Production", ws(1, 1)), de("iris", "Latest", ws(1, 1))},
			},
			actual: model.Actual{
				Versions: ready("iris", 1),
				Endpoints: []model.ActualEndpoint{
					ae("iris", "Latest", model.StatusReady, ws(1, 1)),
					ae("iris", "Production", model.StatusReady, ws(1, 1)),
					ae("iris", "champion", model.StatusReady, ws(1, 1)),
				},
			},
			want: []TagOp{{Ref: ref("iris", 1), Set: map[string]string{
				model.TagDeployState: model.StateDeployed,
				model.TagDeployURL:   prodURL + "," + urlOf(key("iris", "Latest")) + "," + urlOf(key("iris", "champion")),
			}}},
		},
		{
			name: "no change: nothing written",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{withTags(dv("iris", 1), model.TagDeployState, model.StateDeployed, model.TagDeployURL, prodURL, "owner", "ana")},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{Versions: ready("iris", 1), Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusReady, ws(1, 1))}},
		},
		{
			name: "target URL wins over the fallback",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{Versions: ready("iris", 1), Endpoints: []model.ActualEndpoint{{
				Key: key("iris", "Production"), Status: model.StatusReady, Versions: ws(1, 1), URL: "https://runtime/endpoints/brdg-iris-production/invocations",
			}}},
			want: []TagOp{{Ref: ref("iris", 1), Set: map[string]string{
				model.TagDeployState: model.StateDeployed, model.TagDeployURL: "https://runtime/endpoints/brdg-iris-production/invocations",
			}}},
		},
		{
			name: "recorded failure: FAILED with one-line reason, old error replaced",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{withTags(dv("iris", 2), model.TagDeployState, model.StateUpdating, model.TagDeployError, "old")},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(2, 1))},
			},
			actual:   model.Actual{Versions: ready("iris", 1), Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusReady, ws(1, 1))}},
			failures: map[model.VersionRef]string{ref("iris", 2): "load model:\nno MLmodel"},
			want: []TagOp{{Ref: ref("iris", 2), Set: map[string]string{
				model.TagDeployState: model.StateFailed, model.TagDeployError: "load model: no MLmodel",
			}}},
		},
		{
			name: "failed version on the target",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{Versions: []model.ActualVersion{{Ref: ref("iris", 1), Status: model.StatusFailed, Message: "image pull failed"}}},
			want: []TagOp{{Ref: ref("iris", 1), Set: map[string]string{
				model.TagDeployState: model.StateFailed, model.TagDeployError: "image pull failed",
			}}},
		},
		{
			name: "failed endpoint on the target",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{dv("iris", 1)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual: model.Actual{Versions: ready("iris", 1), Endpoints: []model.ActualEndpoint{{
				Key: key("iris", "Production"), Status: model.StatusFailed, Versions: ws(1, 1), Message: "capacity",
			}}},
			want: []TagOp{{Ref: ref("iris", 1), Set: map[string]string{
				model.TagDeployState: model.StateFailed, model.TagDeployError: "endpoint iris/Production: capacity",
			}}},
		},
		{
			name: "served on one endpoint, pending on another: UPDATING with the serving URL, error cleared",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{withTags(dv("iris", 1), model.TagDeployState, model.StateFailed, model.TagDeployError, "x")},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1)), de("iris", "Staging", ws(1, 1))},
			},
			actual: model.Actual{Versions: ready("iris", 1), Endpoints: []model.ActualEndpoint{
				ae("iris", "Production", model.StatusPending, ws(1, 1)),
				ae("iris", "Staging", model.StatusReady, ws(1, 1)),
			}},
			want: []TagOp{{
				Ref:    ref("iris", 1),
				Set:    map[string]string{model.TagDeployState: model.StateUpdating, model.TagDeployURL: urlOf(key("iris", "Staging"))},
				Delete: []string{model.TagDeployError},
			}},
		},
		{
			name: "deployed wins over a stale failure",
			desired: model.Desired{
				Versions:  []model.DesiredVersion{withTags(dv("iris", 1), model.TagDeployState, model.StateDeployed, model.TagDeployURL, prodURL)},
				Endpoints: []model.DesiredEndpoint{de("iris", "Production", ws(1, 1))},
			},
			actual:   model.Actual{Versions: ready("iris", 1), Endpoints: []model.ActualEndpoint{ae("iris", "Production", model.StatusReady, ws(1, 1))}},
			failures: map[model.VersionRef]string{ref("iris", 1): "earlier failure"},
		},
		{
			name:    "versions no longer served lose their tags",
			desired: model.Desired{Tagged: []model.VersionRef{ref("iris", 1)}},
			want:    []TagOp{{Ref: ref("iris", 1), Delete: []string{model.TagDeployError, model.TagDeployState, model.TagDeployURL}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Tags(tt.desired, tt.actual, tt.failures, urlOf)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Tags:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestUpdating(t *testing.T) {
	desired := model.Desired{Versions: []model.DesiredVersion{
		dv("iris", 1),
		withTags(dv("iris", 2), model.TagDeployState, model.StateUpdating),
		dv("iris", 3),
		dv("iris", 4),
	}}
	actions := []Action{
		CreateVersion{Ref: ref("iris", 2)},
		Route{Key: key("iris", "Production"), Versions: ws(1, 0.5, 2, 0.5)},
		DeleteVersion{Ref: ref("iris", 3)},
	}
	got := Updating(desired, actions)
	want := []TagOp{{Ref: ref("iris", 1), Set: map[string]string{model.TagDeployState: model.StateUpdating}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Updating = %v, want %v", got, want)
	}
}
