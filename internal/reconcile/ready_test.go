package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
)

// TestReady: ready once a pass succeeded and every desired endpoint is
// served; not ready before the first pass, while an endpoint is pending,
// while a model fails, or when the registry cannot be read.
func TestReady(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{})
	if err := r.Ready(); err == nil || !strings.Contains(err.Error(), "no reconcile pass") {
		t.Fatalf("before any pass: %v", err)
	}
	mustOnce(t, r)
	if err := r.Ready(); err != nil {
		t.Fatalf("nothing desired: %v", err)
	}

	tgt.setEndpointBehaviour(key("iris", model.StageProduction), 1, "")
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	if err := r.Ready(); err == nil || !strings.Contains(err.Error(), "iris/Production") {
		t.Fatalf("endpoint pending: %v", err)
	}
	mustOnce(t, r)
	if err := r.Ready(); err != nil {
		t.Fatalf("endpoint served: %v", err)
	}

	tgt.setFailCreate(ref("wine", 1), errors.New("no MLmodel file"))
	reg.put(model.ModelVersion{Name: "wine", Version: 1, Stage: model.StageStaging})
	mustOnce(t, r)
	if err := r.Ready(); err == nil || !strings.Contains(err.Error(), "wine") || !strings.Contains(err.Error(), "no MLmodel") {
		t.Fatalf("model failing: %v", err)
	}

	reg.setDown(true)
	r.RunOnce(context.Background())
	if err := r.Ready(); err == nil || !strings.Contains(err.Error(), "registry") {
		t.Fatalf("registry down: %v", err)
	}
}

// TestMarkStopped: DEPLOYED and UPDATING versions become STOPPED without a
// URL; FAILED ones keep their reason.
func TestMarkStopped(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{})
	tgt.setFailCreate(ref("bad", 1), errors.New("broken"))
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	reg.put(model.ModelVersion{Name: "bad", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	if got := reg.tags(ref("iris", 1))[model.TagDeployState]; got != model.StateDeployed {
		t.Fatalf("iris/1 is %q before the stop", got)
	}
	n, err := r.MarkStopped(context.Background())
	if err != nil || n == 0 {
		t.Fatalf("MarkStopped = %d, %v", n, err)
	}
	if tags := reg.tags(ref("iris", 1)); tags[model.TagDeployState] != model.StateStopped || tags[model.TagDeployURL] != "" {
		t.Fatalf("iris/1 tags after the stop: %v", tags)
	}
	if tags := reg.tags(ref("bad", 1)); tags[model.TagDeployState] != model.StateFailed || !strings.Contains(tags[model.TagDeployError], "broken") {
		t.Fatalf("bad/1 tags after the stop: %v", tags)
	}
	// The next pass (a restart) deploys and retags as usual.
	r2 := newLoop(t, reg, newMemTarget(), Options{})
	mustOnce(t, r2)
	if got := reg.tags(ref("iris", 1))[model.TagDeployState]; got != model.StateDeployed {
		t.Fatalf("iris/1 is %q after a restart", got)
	}
}

// TestPreviewChangesNothing: Preview shows the pass's actions without
// applying them or writing tags; once a pass has run it shows nothing.
func TestPreviewChangesNothing(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{})
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	p, err := r.Preview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 2 || p.Actions[0].Kind() != "create_version" || len(p.Tags) != 0 {
		t.Fatalf("preview: %v, tags %v", p.Actions, p.Tags)
	}
	if calls := tgt.takeCalls(); len(calls) != 0 {
		t.Fatalf("Preview called the target: %v", calls)
	}
	if tags := reg.tags(ref("iris", 1)); len(tags) != 0 {
		t.Fatalf("Preview wrote tags: %v", tags)
	}
	res := mustOnce(t, r)
	if len(res.Actions) != len(p.Actions) {
		t.Fatalf("the pass applied %d actions, the preview showed %d", len(res.Actions), len(p.Actions))
	}
	if p, err = r.Preview(context.Background()); err != nil || len(p.Actions) != 0 || len(p.Tags) != 0 {
		t.Fatalf("preview after the pass: %v %v %v", p.Actions, p.Tags, err)
	}
	// A tag edited by hand shows as a tag write.
	reg.SetVersionTag(context.Background(), ref("iris", 1), model.TagDeployState, model.StateFailed)
	if p, err = r.Preview(context.Background()); err != nil || len(p.Actions) != 0 || len(p.Tags) != 1 {
		t.Fatalf("preview of a wrong tag: %v %v %v", p.Actions, p.Tags, err)
	}
}
