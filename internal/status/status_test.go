package status

import (
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/target"
)

type urlTarget struct{ target.Target }

func (urlTarget) Name() string { return "localhost" }
func (urlTarget) URL(k model.EndpointKey) string {
	return "http://127.0.0.1:3000/" + k.Model + "/" + k.Slot + "/invocations"
}

func TestFromTagsAndFailing(t *testing.T) {
	tagged := func(v int, stage, state, reason string) model.ModelVersion {
		tags := map[string]string{}
		if state != "" {
			tags[model.TagDeployState] = state
		}
		if reason != "" {
			tags[model.TagDeployError] = reason
		}
		return model.ModelVersion{Name: "iris", Version: v, Stage: stage, Tags: tags}
	}
	for _, tc := range []struct {
		name     string
		versions []model.ModelVersion
		state    string // of iris/Production
		failing  string
	}{
		{"deployed", []model.ModelVersion{tagged(1, model.StageProduction, model.StateDeployed, "")}, model.StateDeployed, ""},
		{"stopped", []model.ModelVersion{tagged(1, model.StageProduction, model.StateStopped, "")}, model.StateStopped, ""},
		{"updating", []model.ModelVersion{tagged(1, model.StageProduction, "", "")}, model.StateUpdating, ""},
		{"failed", []model.ModelVersion{tagged(1, model.StageProduction, model.StateFailed, "no MLmodel")}, model.StateFailed, "1 version(s) failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := FromTags(urlTarget{}, tc.versions)
			if len(d.Endpoints) != 1 || d.Endpoints[0].State != tc.state || d.Source != "registry" {
				t.Fatalf("endpoints %+v", d.Endpoints)
			}
			if got := d.Failing(); !strings.Contains(got, tc.failing) || (tc.failing == "") != (got == "") {
				t.Fatalf("Failing() = %q, want %q", got, tc.failing)
			}
		})
	}
	// A target observed directly (SageMaker): a Failed endpoint fails.
	d := FromActual("sagemaker", model.Actual{Endpoints: []model.ActualEndpoint{{Key: model.EndpointKey{Model: "iris", Slot: "Production"}, Status: model.StatusFailed}}})
	if !strings.Contains(d.Failing(), "1 endpoint(s) failed") {
		t.Fatalf("a failed endpoint: %q", d.Failing())
	}
	d = Doc{Reconcile: &Pass{Failed: map[string]string{"iris": "boom"}}}
	if !strings.Contains(d.Failing(), "1 model") {
		t.Fatalf("a failed pass: %q", d.Failing())
	}
	d = Doc{Reconcile: &Pass{Error: "read registry: connection refused"}}
	if !strings.Contains(d.Failing(), "connection refused") {
		t.Fatalf("an unfinished pass: %q", d.Failing())
	}
}
