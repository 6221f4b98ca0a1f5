// Package registrytest holds behaviour tests every MLflow-compatible
// registry must pass, run through Bridge's MLflow client: against Bridge's
// own server in Bridge's tests, and against any MLflow server by pointing
// BRIDGE_TEST_MLFLOW_URI at it.
package registrytest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

// Env names an external MLflow server to run the behaviour tests against.
const Env = "BRIDGE_TEST_MLFLOW_URI"

// Target is a registry under test.
type Target struct {
	// Client talks to the registry's REST API.
	Client *mlflow.Client
	// Registry is the registry.Registry implementation under test (the
	// client itself, or the embedded store behind the server).
	Registry registry.Registry
	// Artifacts reports whether the server serves mlflow-artifacts.
	Artifacts bool
}

// New returns a fresh, empty registry for one test.
type New func(t *testing.T) Target

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// uniq returns a model name unique to this test run, so the tests can share
// an external server.
func uniq(t *testing.T, base string) string {
	return fmt.Sprintf("%s-%s-%d", base, strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
}

// Run runs every behaviour test.
func Run(t *testing.T, newTarget New) {
	t.Run("Models", func(t *testing.T) { testModels(t, newTarget(t)) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, newTarget(t)) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, newTarget(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, newTarget(t)) })
	t.Run("RegistryInterface", func(t *testing.T) { testRegistry(t, newTarget(t)) })
	t.Run("Artifacts", func(t *testing.T) {
		tg := newTarget(t)
		if !tg.Artifacts {
			t.Skip("server does not serve mlflow-artifacts")
		}
		testArtifacts(t, tg)
	})
}

// must(f())(t) returns f's value, failing the test on f's error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func testModels(t *testing.T, tg Target) {
	c, x := tg.Client, ctx(t)
	name := uniq(t, "m")
	m := must(c.CreateRegisteredModel(x, name, "desc", map[string]string{"team": "ml"}))(t)
	if m.Name != name || m.Description != "desc" || m.TagMap()["team"] != "ml" || m.CreationTimestamp == 0 {
		t.Fatalf("created %+v", m)
	}
	if _, err := c.CreateRegisteredModel(x, name, "", nil); !mlflow.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := c.GetRegisteredModel(x, name+"-missing"); !mlflow.IsNotFound(err) {
		t.Fatalf("get missing: %v", err)
	}
	if m = must(c.UpdateRegisteredModel(x, name, "new"))(t); m.Description != "new" {
		t.Fatalf("update: %+v", m)
	}
	if err := c.SetRegisteredModelTag(x, name, "owner", "ana"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRegisteredModelTag(x, name, "team"); err != nil {
		t.Fatal(err)
	}
	if tags := must(c.GetRegisteredModel(x, name))(t).TagMap(); tags["owner"] != "ana" || tags["team"] != "" {
		t.Fatalf("tags %v", tags)
	}
	renamed := name + "-renamed"
	if m = must(c.RenameRegisteredModel(x, name, renamed))(t); m.Name != renamed {
		t.Fatalf("rename: %+v", m)
	}
	if _, err := c.GetRegisteredModel(x, name); !mlflow.IsNotFound(err) {
		t.Fatalf("old name after rename: %v", err)
	}
	if err := c.DeleteRegisteredModel(x, renamed); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRegisteredModel(x, renamed); !mlflow.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
}

func testVersions(t *testing.T, tg Target) {
	c, x := tg.Client, ctx(t)
	name := uniq(t, "v")
	must(c.CreateRegisteredModel(x, name, "", nil))(t)
	for i := 1; i <= 3; i++ {
		v := must(c.CreateModelVersion(x, mlflow.VersionSpec{Name: name, Source: fmt.Sprintf("s3://bucket/%d", i), RunID: fmt.Sprintf("run%d", i),
			Tags: map[string]string{"i": fmt.Sprint(i)}}))(t)
		if v.Version != fmt.Sprint(i) || v.CurrentStage != "None" || v.Status != "READY" {
			t.Fatalf("created version %+v", v)
		}
	}
	if _, err := c.CreateModelVersion(x, mlflow.VersionSpec{Name: name + "-missing", Source: "s3://x"}); !mlflow.IsNotFound(err) {
		t.Fatalf("version of missing model: %v", err)
	}
	if _, err := c.GetModelVersion(x, name, 99); !mlflow.IsNotFound(err) {
		t.Fatalf("get missing version: %v", err)
	}
	if v := must(c.UpdateModelVersion(x, name, 1, "first"))(t); v.Description != "first" {
		t.Fatalf("update: %+v", v)
	}
	if v := must(c.TransitionStage(x, name, 1, "Production", false))(t); v.CurrentStage != "Production" {
		t.Fatalf("transition: %+v", v)
	}
	if _, err := c.TransitionStage(x, name, 1, "Bogus", false); !mlflow.IsInvalid(err) {
		t.Fatalf("bad stage: %v", err)
	}
	must(c.TransitionStage(x, name, 2, "Production", true))(t)
	if v := must(c.GetModelVersion(x, name, 1))(t); v.CurrentStage != "Archived" {
		t.Fatalf("archive_existing_versions left v1 in %s", v.CurrentStage)
	}
	latest := must(c.GetLatestVersions(x, name, "Production", "None"))(t)
	got := map[string]string{}
	for _, v := range latest {
		got[v.CurrentStage] = v.Version
	}
	if len(latest) != 2 || got["Production"] != "2" || got["None"] != "3" {
		t.Fatalf("latest versions %v", got)
	}
	if err := c.SetAlias(x, name, "champion", 3); err != nil {
		t.Fatal(err)
	}
	if v := must(c.GetVersionByAlias(x, name, "champion"))(t); v.Version != "3" {
		t.Fatalf("alias → %s", v.Version)
	}
	if err := c.SetAlias(x, name, "bad alias", 3); !mlflow.IsInvalid(err) {
		t.Fatalf("invalid alias: %v", err)
	}
	if err := c.SetModelVersionTag(x, name, 3, model.TagDeployState, model.StateDeployed); err != nil {
		t.Fatal(err)
	}
	if v := must(c.GetModelVersion(x, name, 3))(t); v.TagMap()[model.TagDeployState] != model.StateDeployed || v.TagMap()["i"] != "3" {
		t.Fatalf("tags %v", v.TagMap())
	}
	if err := c.DeleteModelVersionTag(x, name, 3, model.TagDeployState); err != nil {
		t.Fatal(err)
	}
	if u := must(c.GetDownloadURI(x, name, 2))(t); u != "s3://bucket/2" {
		t.Fatalf("download uri %q", u)
	}
	vs := must(c.AllModelVersions(x, mlflow.SearchOptions{Filter: "run_id = 'run2'"}))(t)
	found := false
	for _, v := range vs {
		found = found || v.Name == name && v.Version == "2"
	}
	if !found {
		t.Fatalf("search by run_id did not find version 2: %+v", vs)
	}
	if err := c.DeleteAlias(x, name, "champion"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetVersionByAlias(x, name, "champion"); !mlflow.IsNotFound(err) {
		t.Fatalf("deleted alias: %v", err)
	}
	if err := c.DeleteModelVersion(x, name, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetModelVersion(x, name, 3); !mlflow.IsNotFound(err) {
		t.Fatalf("deleted version: %v", err)
	}
}

func testPagination(t *testing.T, tg Target) {
	c, x := tg.Client, ctx(t)
	prefix := uniq(t, "p")
	var names []string
	for i := 0; i < 5; i++ {
		n := fmt.Sprintf("%s-%d", prefix, i)
		names = append(names, n)
		must(c.CreateRegisteredModel(x, n, "", nil))(t)
	}
	for i := 0; i < 23; i++ {
		must(c.CreateModelVersion(x, mlflow.VersionSpec{Name: names[0], Source: "s3://b/k"}))(t)
	}
	ms := must(c.AllRegisteredModels(x, mlflow.SearchOptions{Filter: "name LIKE '" + prefix + "-%'", MaxResults: 2}))(t)
	var got []string
	for _, m := range ms {
		got = append(got, m.Name)
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("paged model search = %v, want %v", got, names)
	}
	page, next, err := c.SearchModelVersions(x, mlflow.SearchOptions{Filter: "name = '" + names[0] + "'", MaxResults: 10})
	if err != nil || len(page) != 10 || next == "" {
		t.Fatalf("first page: %d versions, next %q, %v", len(page), next, err)
	}
	vs := must(c.AllModelVersions(x, mlflow.SearchOptions{Filter: "name = '" + names[0] + "'", MaxResults: 7}))(t)
	seen := map[string]bool{}
	for _, v := range vs {
		seen[v.Version] = true
	}
	if len(vs) != 23 || len(seen) != 23 {
		t.Fatalf("paged version search: %d versions, %d distinct, want 23", len(vs), len(seen))
	}
}

func testConcurrentWriters(t *testing.T, tg Target) {
	c, x := tg.Client, ctx(t)
	name := uniq(t, "c")
	must(c.CreateRegisteredModel(x, name, "", nil))(t)
	const writers, each = 8, 200
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  []string
		errs []error
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				v, err := c.CreateModelVersion(x, mlflow.VersionSpec{Name: name, Source: "s3://b/k"})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					got = append(got, v.Version)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d creations failed, first: %v", len(errs), errs[0])
	}
	seen := map[string]bool{}
	for _, v := range got {
		if seen[v] {
			t.Fatalf("version %s assigned twice", v)
		}
		seen[v] = true
	}
	for i := 1; i <= writers*each; i++ {
		if !seen[fmt.Sprint(i)] {
			t.Fatalf("version %d missing", i)
		}
	}
	vs := must(c.AllModelVersions(x, mlflow.SearchOptions{Filter: "name = '" + name + "'", MaxResults: 500}))(t)
	if len(vs) != writers*each {
		t.Fatalf("registry holds %d versions, want %d", len(vs), writers*each)
	}
}

func testRegistry(t *testing.T, tg Target) {
	c, r, x := tg.Client, tg.Registry, ctx(t)
	name := uniq(t, "r")
	must(c.CreateRegisteredModel(x, name, "", nil))(t)
	for i := 1; i <= 3; i++ {
		must(c.CreateModelVersion(x, mlflow.VersionSpec{Name: name, Source: fmt.Sprintf("s3://bucket/%d", i)}))(t)
	}
	must(c.TransitionStage(x, name, 1, "Staging", false))(t)
	if err := c.SetAlias(x, name, "champion", 2); err != nil {
		t.Fatal(err)
	}
	ref := model.VersionRef{Model: name, Version: 2}
	if err := r.SetVersionTag(x, ref, model.TagDeployState, model.StateUpdating); err != nil {
		t.Fatal(err)
	}
	all := must(r.Versions(x))(t)
	var mine []model.ModelVersion
	for _, v := range all {
		if v.Name == name {
			mine = append(mine, v)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Version < mine[j].Version })
	if len(mine) != 3 || mine[0].Stage != model.StageStaging || mine[2].Stage != model.StageNone ||
		len(mine[1].Aliases) != 1 || mine[1].Aliases[0] != "champion" || mine[1].Tags[model.TagDeployState] != model.StateUpdating ||
		mine[1].Source != "s3://bucket/2" || mine[1].Created.IsZero() {
		t.Fatalf("Versions = %+v", mine)
	}
	d := model.DesiredFrom(mine)
	var keys []string
	for _, e := range d.Endpoints {
		keys = append(keys, fmt.Sprintf("%s=%v", e.Key.Slot, e.Versions[0].Version))
	}
	if strings.Join(keys, ",") != "Latest=3,Staging=1,champion=2" {
		t.Fatalf("desired endpoints %v", keys)
	}
	if u := must(r.DownloadURI(x, ref))(t); u != "s3://bucket/2" {
		t.Fatalf("DownloadURI %q", u)
	}
	if err := r.DeleteVersionTag(x, ref, model.TagDeployState); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteVersionTag(x, ref, model.TagDeployState); err != nil {
		t.Fatalf("deleting a missing tag: %v", err)
	}
	if v := must(c.GetModelVersion(x, name, 2))(t); v.TagMap()[model.TagDeployState] != "" {
		t.Fatalf("tag still there: %v", v.TagMap())
	}
	if _, err := r.DownloadURI(x, model.VersionRef{Model: name, Version: 42}); err == nil {
		t.Fatal("DownloadURI of a missing version succeeded")
	}
}

func testArtifacts(t *testing.T, tg Target) {
	c, x := tg.Client, ctx(t)
	src := t.TempDir()
	files := map[string]string{
		"MLmodel":                "flavors:\n  python_function: {}\n",
		"model.pkl":              strings.Repeat("\x00\x01pickle", 1000),
		"requirements.txt":       "scikit-learn\n",
		"data/nested/input.json": `{"a": 1}`,
		"with space.txt":         "spaced",
	}
	for p, body := range files {
		full := filepath.Join(src, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dest := uniq(t, "art") + "/model"
	if err := c.UploadDir(x, src, dest); err != nil {
		t.Fatal(err)
	}
	list := must(c.ListArtifacts(x, dest))(t)
	var names []string
	for _, f := range list {
		names = append(names, fmt.Sprintf("%s:%v", f.Path, f.IsDir))
	}
	if strings.Join(names, ",") != "MLmodel:false,data:true,model.pkl:false,requirements.txt:false,with space.txt:false" {
		t.Fatalf("listing %v", names)
	}
	rc := must(c.DownloadArtifact(x, dest+"/model.pkl"))(t)
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(b) != files["model.pkl"] {
		t.Fatalf("download: %d bytes, %v", len(b), err)
	}
	out := filepath.Join(t.TempDir(), "copy")
	if err := c.DownloadDir(x, dest, out); err != nil {
		t.Fatal(err)
	}
	for p, body := range files {
		got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
		if err != nil || string(got) != body {
			t.Fatalf("downloaded %s: %q, %v", p, got, err)
		}
	}
	if _, err := c.DownloadArtifact(x, dest+"/missing"); !mlflow.IsNotFound(err) {
		t.Fatalf("missing artifact: %v", err)
	}
	if err := c.DownloadDir(x, dest+"-missing", t.TempDir()); !mlflow.IsNotFound(err) {
		t.Fatalf("missing directory: %v", err)
	}
	if _, err := c.DownloadArtifact(x, "../etc/passwd"); err == nil {
		t.Fatal("client accepted a path with ..")
	}
	p, err := mlflow.ArtifactPath("mlflow-artifacts:/" + dest)
	if err != nil || p != dest {
		t.Fatalf("ArtifactPath = %q, %v", p, err)
	}
}
