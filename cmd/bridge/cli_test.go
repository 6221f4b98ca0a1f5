package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/status"
)

// execute runs the bridge command line in-process, as main does, and
// returns its output and exit status.
func execute(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		if ee.err != nil {
			errOut.WriteString(ee.err.Error())
		}
	default:
		code = 1
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

// seedStore registers models straight into the embedded store of home:
// name -> source, each version in Production.
func seedStore(t *testing.T, home string, models map[string]string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, src := range models {
		if _, err := st.CreateRegisteredModel(ctx, name, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateModelVersion(ctx, store.VersionSpec{Name: name, Source: src}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.TransitionStage(ctx, name, 1, model.StageProduction, false); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPlanStatusAndOnceCommands(t *testing.T) {
	home := t.TempDir()
	t.Setenv("BRIDGE_HOME", home)
	t.Setenv("BRIDGE_MLFLOW_URI", "")
	t.Setenv("BRIDGE_DEPLOY_KIND", "localhost")
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(home, "none.env"))
	seedStore(t, home, map[string]string{"iris": runtest.LinearModel(t, []float64{1, 1}, 0)})
	nobody := "127.0.0.1:1" // no bridge run there

	// Nothing serves yet: the plan has changes (exit 2) and changes nothing.
	out, errOut, code := execute(t, "plan", "--addr", nobody)
	if code != 2 || !strings.Contains(out, "create version iris/1") || !strings.Contains(out, "route iris/Production") || !strings.Contains(errOut, "not answering") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = execute(t, "plan", "--addr", nobody, "-o", "json")
	var p struct {
		Actions []map[string]any `json:"actions"`
	}
	if code != 2 || json.Unmarshal([]byte(out), &p) != nil || len(p.Actions) != 2 || p.Actions[0]["kind"] != "create_version" {
		t.Fatalf("plan -o json: exit %d: %s", code, out)
	}
	if _, _, code := execute(t, "plan", "-o", "yaml"); code != 1 {
		t.Fatalf("plan -o yaml: exit %d, want 1", code)
	}

	// status falls back to the registry's tags when bridge run is not there.
	out, errOut, code = execute(t, "status", "--addr", nobody)
	if code != 0 || !strings.Contains(out, "iris/Production") || !strings.Contains(errOut, "registry") {
		t.Fatalf("status without bridge run: exit %d\n%s\n%s", code, out, errOut)
	}

	// run --once: one pass, exit 0, tags written.
	out, errOut, code = execute(t, "run", "--once")
	if code != 0 || !strings.Contains(out, "done     route iris/Production") {
		t.Fatalf("run --once: exit %d\n%s\n%s", code, out, errOut)
	}
	// What run --once loaded stopped with it: the tags say so.
	out, errOut, code = execute(t, "status", "--addr", nobody)
	if code != 0 || !strings.Contains(out, model.StateStopped) {
		t.Fatalf("status after run --once: exit %d\n%s\n%s", code, out, errOut)
	}

	// A running bridge run serving the same home: plan says no changes.
	c := runtest.Config(t)
	c.Home, c.ModelCache = home, filepath.Join(home, "cache")
	a := runtest.Start(t, c)
	runtest.Eventually(t, 20*time.Second, "deployed", func() bool {
		res, err, at := a.Loop.Last()
		return err == nil && !at.IsZero() && len(res.Failed) == 0 && !res.Changed()
	})
	out, errOut, code = execute(t, "plan", "--addr", a.RouterAddr())
	if code != 0 || !strings.Contains(out, "No changes") {
		t.Fatalf("plan in sync: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = execute(t, "status", "--addr", a.RouterAddr(), "-o", "json")
	var doc status.Doc
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Source != "target" || len(doc.Endpoints) != 1 ||
		doc.Endpoints[0].URL != a.RouterURL()+"/iris/Production/invocations" || doc.Endpoints[0].State != "Ready" {
		t.Fatalf("status -o json: exit %d: %s", code, out)
	}
	out, _, code = execute(t, "status", "--addr", a.RouterAddr())
	if code != 0 || !strings.Contains(out, "iris/Production") || !strings.Contains(out, "v1 100%") || !strings.Contains(out, "Ready") {
		t.Fatalf("status: exit %d: %s", code, out)
	}
}

func TestRunOnceFailsOnBadModel(t *testing.T) {
	home := t.TempDir()
	t.Setenv("BRIDGE_HOME", home)
	t.Setenv("BRIDGE_MLFLOW_URI", "")
	t.Setenv("BRIDGE_DEPLOY_KIND", "localhost")
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(home, "none.env"))
	empty := t.TempDir() // no MLmodel
	seedStore(t, home, map[string]string{
		"broken": (&url.URL{Scheme: "file", Path: empty}).String(),
		"fine":   runtest.LinearModel(t, []float64{1}, 0),
	})
	out, errOut, code := execute(t, "run", "--once")
	if code != 1 || !strings.Contains(errOut, "broken") || strings.Contains(errOut, "fine:") || !strings.Contains(out, "done     route fine/Production") {
		t.Fatalf("run --once with a broken model: exit %d\n%s\n%s", code, out, errOut)
	}
	// bridge status fails too: from the registry's tags...
	out, errOut, code = execute(t, "status", "--addr", "127.0.0.1:1")
	if code != 1 || !strings.Contains(out, "broken/Production") || !strings.Contains(errOut, "1 version(s) failed") {
		t.Fatalf("status after the failed pass: exit %d\n%s\n%s", code, out, errOut)
	}
	// ...and from a running bridge run whose last pass failed for a model.
	c := runtest.Config(t)
	c.Home, c.ModelCache = home, filepath.Join(home, "cache")
	a := runtest.Start(t, c)
	runtest.Eventually(t, 20*time.Second, "a pass", func() bool { res, err, _ := a.Loop.Last(); return err == nil && len(res.Failed) > 0 })
	out, errOut, code = execute(t, "status", "--addr", a.RouterAddr())
	if code != 1 || !strings.Contains(errOut, "last reconcile pass failed for 1 model") {
		t.Fatalf("status with a failing model: exit %d\n%s\n%s", code, out, errOut)
	}
}
