package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/demo"
	"github.com/bridgeops/bridge/internal/model"
)

// TestDemo seeds the example model, checks that the printed curl commands'
// endpoints answer, and that a second start on the same home adds nothing.
func TestDemo(t *testing.T) {
	c := testConfig(t)
	for run := 1; run <= 2; run++ {
		a := startTestApp(t, c)
		var out bytes.Buffer
		if err := seedAndWait(t.Context(), a, &out); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		reg := mlflowREST{t, a.RegistryURL()}
		for v, stage := range map[int]string{1: model.StageProduction, 2: model.StageStaging} {
			if got := reg.tags(demo.ModelName, v)[model.TagDeployState]; got != model.StateDeployed {
				t.Fatalf("run %d: version %d (%s) is %q", run, v, stage, got)
			}
		}
		if _, res := reg.call("GET", "model-versions/get?name=iris&version=3", nil); res["model_version"] != nil {
			t.Fatalf("run %d added a version: %v", run, res)
		}
		// Every printed invocation URL answers the three flowers.
		urls := regexp.MustCompile(`curl -i -X POST (\S+)`).FindAllStringSubmatch(out.String(), -1)
		if len(urls) != 2 {
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
		a.Stop()
		if err := a.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}
