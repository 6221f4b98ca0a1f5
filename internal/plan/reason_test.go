package plan

import (
	"testing"

	"github.com/bridgeops/bridge/internal/model"
)

// TestFailedTagStartsWithTheCause: bridge_deploy_error sits on the version
// it is about, so the steps that only name that version ("create version
// m/1: ", "load m/1: ") are dropped and the tag starts with the root cause;
// steps that say something more (a source, an endpoint) stay.
func TestFailedTagStartsWithTheCause(t *testing.T) {
	r := ref("churn", 2)
	tests := []struct{ reason, want string }{
		{"create version churn/2: load churn/2: cannot load the model: ValueError: bad value (model server exited before it was ready: exit status 3; log /h/logs/churn-2.log)",
			"cannot load the model: ValueError: bad value (model server exited before it was ready: exit status 3; log /h/logs/churn-2.log)"},
		{"create version churn/2: ERROR: No matching distribution found for nope==1 (virtualenv for requirements.txt: pip install failed: exit status 1; log /h/envs/x.log)",
			"ERROR: No matching distribution found for nope==1 (virtualenv for requirements.txt: pip install failed: exit status 1; log /h/envs/x.log)"},
		{"create version churn/2: fetch churn/2 from file:///nope: file:///nope does not exist",
			"fetch churn/2 from file:///nope: file:///nope does not exist"},
		{"route churn/Production: endpoint failed", "route churn/Production: endpoint failed"},
		{"create version churn/21: load churn/21: x", "create version churn/21: load churn/21: x"}, // another version
		{"create version churn/2: ", "create version churn/2: "},                                   // nothing after: keep it
		{"load churn/2: create version churn/2: boom", "boom"},
	}
	for _, tt := range tests {
		if got := failedReason(r, tt.reason); got != tt.want {
			t.Errorf("failedReason(%q)\n = %q\nwant %q", tt.reason, got, tt.want)
		}
	}

	// Through Tags: the FAILED tag carries the trimmed reason.
	d := model.Desired{Versions: []model.DesiredVersion{dv("churn", 2)}, Endpoints: []model.DesiredEndpoint{de("churn", "Latest", ws(2, 1))}}
	ops := Tags(d, model.Actual{}, map[model.VersionRef]string{r: tests[0].reason}, urlOf)
	if len(ops) != 1 || ops[0].Set[model.TagDeployError] != tests[0].want || ops[0].Set[model.TagDeployState] != model.StateFailed {
		t.Fatalf("Tags: %+v", ops)
	}
}
