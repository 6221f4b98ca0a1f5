package sagemaker_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/model"
)

// TestAdoptsEndpointsOfTheOriginalBridge plants endpoints as the original
// Python Bridge named them, with the stage's case (brdg-wine-Production).
// SageMaker names are unique regardless of case, so Bridge recognises them,
// updates them in place under their own names (URLs keep their case) and
// deletes them when the stage empties; it never tries a case-twin.
func TestAdoptsEndpointsOfTheOriginalBridge(t *testing.T) {
	h := newHarness(t, harnessOpts{fake: awsfake.Options{CreateDelay: time.Millisecond, UpdateDelay: time.Millisecond, DeleteDelay: time.Millisecond}})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.fake.Plant("us-east-1", []string{"wine-legacy-model"}, []string{"brdg-wine-Production", "brdg-wine-Staging"}, testImage)
	v1 := h.register("wine")
	h.stage("wine", v1, model.StageProduction)
	v2 := h.register("wine")
	h.stage("wine", v2, model.StageStaging)
	mark := h.fake.Mark()

	h.converge(30 * time.Second)
	for _, c := range h.fake.CallsSince(mark) {
		if c.Operation == "CreateEndpoint" {
			t.Errorf("CreateEndpoint called (%s): the legacy endpoints must be updated in place", c.ErrorCode)
		}
	}
	var names []string
	for _, e := range h.fake.Endpoints() {
		names = append(names, e.Name)
	}
	// Latest (v2 is staged, so no version is left without a stage) is not
	// wanted; Production and Staging are the planted ones, updated.
	if want := []string{"brdg-wine-Production", "brdg-wine-Staging"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("endpoints %v, want %v", names, want)
	}
	if got := h.endpointModels("brdg-wine-Production"); !reflect.DeepEqual(got, []string{"brdg-wine-1"}) {
		t.Fatalf("brdg-wine-Production serves %v, want [brdg-wine-1]", got)
	}
	if got := h.endpointModels("brdg-wine-Staging"); !reflect.DeepEqual(got, []string{"brdg-wine-2"}) {
		t.Fatalf("brdg-wine-Staging serves %v, want [brdg-wine-2]", got)
	}
	tags := h.tags("wine", v1)
	if tags[model.TagDeployState] != model.StateDeployed ||
		tags[model.TagDeployURL] != "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/brdg-wine-Production/invocations" {
		t.Fatalf("tags of v1: %v", tags)
	}

	// Archiving the Staging version deletes the adopted Staging endpoint.
	h.stage("wine", v2, model.StageArchived)
	h.converge(30 * time.Second)
	names = nil
	for _, e := range h.fake.Endpoints() {
		names = append(names, e.Name)
	}
	if !reflect.DeepEqual(names, []string{"brdg-wine-Production"}) {
		t.Fatalf("after archiving v2: endpoints %v", names)
	}
	for _, c := range h.fake.EndpointConfigs() {
		if strings.HasPrefix(strings.ToLower(c), "brdg-wine-staging-") && c != "brdg-wine-Staging-cfg" {
			t.Errorf("config %s of the deleted Staging endpoint was left", c)
		}
	}
}
