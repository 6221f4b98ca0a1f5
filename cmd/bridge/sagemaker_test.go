package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/iampolicy"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// cli runs a bridge command line in-process and returns its output.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// seedPolicyFor parses a policy from the repository copy of the seed guide.
func seedPolicyFor(t *testing.T, anchor, region string) *iampolicy.Policy {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "seeds", "000_9ad168cfbf4cc7b3.txt"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := iampolicy.SeedPolicy(string(raw), anchor)
	if err != nil {
		t.Fatal(err)
	}
	doc = strings.ReplaceAll(strings.ReplaceAll(doc, iampolicy.AccountPlaceholder, awsfake.DefaultAccount), iampolicy.RegionPlaceholder, region)
	p, err := iampolicy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func assertCallsAllowed(t *testing.T, f *awsfake.Server, mark int, anchor, what string) {
	t.Helper()
	calls := f.CallsSince(mark)
	if len(calls) == 0 {
		t.Fatalf("%s: no AWS calls recorded", what)
	}
	if v := awsfake.Violations(calls, seedPolicyFor(t, anchor, awsfake.DefaultRegion), "sts:GetCallerIdentity"); len(v) > 0 {
		t.Fatalf("%s made calls outside the %s:\n%s", what, anchor, strings.Join(v, "\n"))
	}
}

func TestPolicyCommand(t *testing.T) {
	f := awsfake.New(awsfake.Options{})
	defer f.Close()
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(t.TempDir(), "none.env"))
	for _, tc := range []struct {
		args            []string
		command, region string
		awsCalls        bool
	}{
		{[]string{"policy", "run", "--account", "210987654321", "--region", "eu-west-1"}, iampolicy.Run, "eu-west-1", false},
		{[]string{"policy", "init", "--account", "210987654321", "--region", "ap-south-1"}, iampolicy.Init, "ap-south-1", false},
		{[]string{"policy", "destroy", "--region", "eu-central-1"}, iampolicy.Destroy, "eu-central-1", true},
		{[]string{"policy", "run"}, iampolicy.Run, awsfake.DefaultRegion, true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			mark := f.Mark()
			out, err := cli(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			account := "210987654321"
			if tc.awsCalls {
				account = f.Account() // from sts get-caller-identity
			}
			want, _ := iampolicy.Render(tc.command, account, tc.region)
			if out != want {
				t.Fatalf("printed\n%s\nwant\n%s", out, want)
			}
			calls := f.CallsSince(mark)
			if tc.awsCalls != (len(calls) > 0) {
				t.Fatalf("AWS calls %v, want calls: %v", calls, tc.awsCalls)
			}
			for _, c := range calls {
				if c.Operation != "GetCallerIdentity" {
					t.Fatalf("policy called %s", c)
				}
			}
		})
	}
	if _, err := cli(t, "policy", "deploy", "--account", "210987654321", "--region", "eu-west-1"); err == nil {
		t.Fatal("policy deploy: want an error")
	}
	if _, err := cli(t, "policy", "run", "--account", "12", "--region", "eu-west-1"); err == nil || !strings.Contains(err.Error(), "12 digits") {
		t.Fatalf("short account: %v", err)
	}
}

// TestSageMakerCommands runs bridge init sagemaker, bridge run against
// SageMaker, bridge plan, bridge status and bridge destroy sagemaker (twice)
// against the AWS fake, and checks every command's calls against the seed
// guide's policies.
func TestSageMakerCommands(t *testing.T) {
	f := awsfake.New(awsfake.Options{CreateDelay: 5 * time.Millisecond, UpdateDelay: 5 * time.Millisecond, DeleteDelay: 5 * time.Millisecond})
	defer f.Close()
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	home := t.TempDir()
	t.Setenv("BRIDGE_HOME", home)
	t.Setenv("BRIDGE_DEPLOY_KIND", "sagemaker")
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(home, "none.env"))
	t.Setenv("BRDG_DEPLOY_AWS_IMAGE", "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:2.16.2")
	t.Setenv("BRDG_DEPLOY_AWS_POLL_INTERVAL_S", "0.005")
	t.Setenv("BRDG_DEPLOY_AWS_WAIT_TIMEOUT_S", "20")

	mark := f.Mark()
	if out, err := cli(t, "init", "sagemaker"); err != nil || !strings.Contains(out, "initialised") {
		t.Fatalf("init: %q %v", out, err)
	}
	assertCallsAllowed(t, f, mark, "init-destroy-policy", "bridge init sagemaker")

	mark = f.Mark()
	c := runtest.Config(t)
	c.Home, c.DeployKind, c.ModelCache = home, "sagemaker", filepath.Join(home, "cache")
	c.ScanInterval = 20 * time.Millisecond // SageMaker endpoints become InService between passes
	a := runtest.Start(t, c)
	reg := runtest.MLflowREST{T: t, Base: a.RegistryURL()}
	reg.CreateModel("reg")
	v1 := reg.CreateVersion("reg", runtest.LinearModel(t, []float64{1, 2}, 0))
	reg.Transition("reg", v1, model.StageProduction, false)
	// v1 is first served by the Latest endpoint, then by Production.
	const url = "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/brdg-reg-production/invocations"
	runtest.Eventually(t, 30*time.Second, "v1 DEPLOYED on SageMaker's Production endpoint", func() bool {
		tags := reg.Tags("reg", v1)
		eps := f.Endpoints()
		return tags[model.TagDeployState] == model.StateDeployed && tags[model.TagDeployURL] == url &&
			len(eps) == 1 && eps[0].Name == "brdg-reg-production" && eps[0].Status == awsfake.StatusInService
	})
	// The front door means the same as on localhost: alive, and ready once
	// every desired endpoint is InService.
	for path, want := range map[string]string{"/healthz": `"status":"alive"`, "/readyz": `"status":"ready"`} {
		runtest.Eventually(t, 20*time.Second, path+" 200", func() bool {
			resp, err := http.Get(a.RouterURL() + path)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode == 200 && strings.Contains(string(b), want)
		})
	}
	a.Stop()
	if err := a.Wait(); err != nil {
		t.Fatal(err)
	}
	// SageMaker endpoints outlive bridge run: the tags stay DEPLOYED.
	if vs, err := openTestStore(t, home).Versions(context.Background()); err != nil || len(vs) != 1 || vs[0].Tags[model.TagDeployState] != model.StateDeployed {
		t.Fatalf("after bridge run stopped: %+v %v, want v1 %s", vs, err, model.StateDeployed)
	}

	out, err := cli(t, "plan")
	if err != nil {
		t.Fatalf("plan after convergence: %v\n%s", err, out)
	}
	out, err = cli(t, "status")
	if err != nil || !strings.Contains(out, "Production") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	// A new version makes plan report changes (exit status 2), without applying them.
	st, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateModelVersion(context.Background(), store.VersionSpec{Name: "reg", Source: runtest.LinearModel(t, []float64{3, 4}, 0)}); err != nil {
		t.Fatal(err)
	}
	out, err = cli(t, "plan")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(out, "reg/2") {
		t.Fatalf("plan with a new version: %v\n%s", err, out)
	}
	if len(f.Endpoints()) != 1 {
		t.Fatalf("plan changed the endpoints: %+v", f.Endpoints())
	}
	assertCallsAllowed(t, f, mark, "run-policy", "bridge run, plan and status")

	for i := 0; i < 2; i++ {
		mark = f.Mark()
		if out, err := cli(t, "destroy", "sagemaker"); err != nil || !strings.Contains(out, "destroyed") {
			t.Fatalf("destroy %d: %q %v", i+1, out, err)
		}
		assertCallsAllowed(t, f, mark, "init-destroy-policy", "bridge destroy sagemaker")
	}
	if len(f.Endpoints())+len(f.EndpointConfigs())+len(f.Models())+len(f.Buckets())+len(f.Roles()) != 0 {
		t.Fatalf("destroy left endpoints %v configs %v models %v buckets %v roles %v",
			f.Endpoints(), f.EndpointConfigs(), f.Models(), f.Buckets(), f.Roles())
	}
}
