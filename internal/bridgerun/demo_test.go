package bridgerun_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/demo"
	"github.com/bridgeops/bridge/internal/model"
)

// TestDemo seeds the example model, checks that the printed curl commands'
// endpoints answer, promotes the Staging version as printed, and that a
// second start on the same home adds nothing and offers no promotion.
func TestDemo(t *testing.T) {
	c := runtest.Config(t)
	for run := 1; run <= 2; run++ {
		a := runtest.Start(t, c)
		var out bytes.Buffer
		if err := a.SeedDemo(t.Context(), &out); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		reg := runtest.MLflowREST{T: t, Base: a.RegistryURL()}
		want := map[int]string{1: model.StageProduction, 2: model.StageStaging}
		if run == 2 {
			want = map[int]string{2: model.StageProduction}
		}
		for v, stage := range want {
			if got := reg.Tags(demo.ModelName, v)[model.TagDeployState]; got != model.StateDeployed {
				t.Fatalf("run %d: version %d (%s) is %q", run, v, stage, got)
			}
		}
		if _, res := reg.Call("GET", "model-versions/get?name=iris&version=3", nil); res["model_version"] != nil {
			t.Fatalf("run %d added a version: %v", run, res)
		}
		promote := regexp.MustCompile(`transition-stage .*\n\s*-d '(\{.*\})'`).FindStringSubmatch(out.String())
		if (promote != nil) != (run == 1) {
			t.Fatalf("run %d: promotion offered = %v, want %v:\n%s", run, promote != nil, run == 1, out.String())
		}
		// Every printed invocation URL answers the three flowers.
		urls := regexp.MustCompile(`curl -i -X POST (\S+)`).FindAllStringSubmatch(out.String(), -1)
		if len(urls) != len(want) {
			t.Fatalf("run %d printed %d invocation commands:\n%s", run, len(urls), out.String())
		}
		body := regexp.MustCompile(`-d '(\{"dataframe_split".*\})'`).FindStringSubmatch(out.String())
		if body == nil {
			t.Fatalf("no request body in:\n%s", out.String())
		}
		for _, u := range urls {
			resp, err := http.Post(u[1], "application/json", strings.NewReader(body[1]))
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ Predictions []string }
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || len(got.Predictions) != 3 || got.Predictions[0] != "setosa" {
				t.Fatalf("%s answered %d %v %v", u[1], resp.StatusCode, got, err)
			}
			if strings.Contains(u[1], "Staging") && !reflect.DeepEqual(got.Predictions, []string{"setosa", "versicolor", "virginica"}) {
				t.Fatalf("the converged Staging model predicts %v", got.Predictions)
			}
		}
		if run == 1 {
			// Promote as printed; the restart then finds Staging empty.
			var in map[string]any
			if err := json.Unmarshal([]byte(promote[1]), &in); err != nil || in["version"] != "2" {
				t.Fatalf("promotion body %s: %v", promote[1], err)
			}
			reg.Must("POST", "model-versions/transition-stage", in)
			runtest.Eventually(t, 20*time.Second, "v2 DEPLOYED on Production", func() bool {
				tags := reg.Tags(demo.ModelName, 2)
				return tags[model.TagDeployState] == model.StateDeployed && strings.Contains(tags[model.TagDeployURL], "/Production/")
			})
		}
		a.Stop()
		if err := a.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}
