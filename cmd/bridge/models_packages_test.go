package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/iampolicy"
	"github.com/bridgeops/bridge/internal/model"
)

// TestSageMakerPackageCommands drives the SageMaker target from a model
// package group with the CLI: approve → brdg-<group>-production from the
// package; every call of bridge run and of the models commands is checked
// against the seed's run policy plus the statements bridge policy run
// prints.
func TestSageMakerPackageCommands(t *testing.T) {
	f := awsfake.New(awsfake.Options{CreateDelay: 5 * time.Millisecond, UpdateDelay: 5 * time.Millisecond, DeleteDelay: 5 * time.Millisecond})
	defer f.Close()
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	home := t.TempDir()
	t.Setenv("BRIDGE_HOME", home)
	t.Setenv("BRIDGE_DEPLOY_KIND", "sagemaker")
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(home, "none.env"))
	t.Setenv("BRDG_DEPLOY_AWS_IMAGE", "") // packages bring their image
	t.Setenv("BRDG_DEPLOY_AWS_POLL_INTERVAL_S", "0.005")
	t.Setenv("BRDG_DEPLOY_AWS_WAIT_TIMEOUT_S", "20")
	t.Setenv("BRIDGE_REGISTRY", "sagemaker")
	t.Setenv("BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS", "churn")

	if out, err := cli(t, "init", "sagemaker"); err != nil {
		t.Fatalf("init: %q %v", out, err)
	}
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin := sm.NewFromConfig(awsCfg)
	if _, err := admin.CreateModelPackageGroup(ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("churn")}); err != nil {
		t.Fatal(err)
	}
	f.PlantObject(awsfake.DefaultRegion, "sagemaker-us-east-1-123456789012", "churn/model.tar.gz", []byte{0x1f, 0x8b})
	pkg, err := admin.CreateModelPackage(ctx, &sm.CreateModelPackageInput{ModelPackageGroupName: aws.String("churn"),
		InferenceSpecification: &smtypes.InferenceSpecification{
			Containers: []smtypes.ModelPackageContainerDefinition{{Image: aws.String("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
				ModelDataUrl: aws.String("s3://sagemaker-us-east-1-123456789012/churn/model.tar.gz")}},
			SupportedContentTypes: []string{"text/csv"}, SupportedResponseMIMETypes: []string{"text/csv"}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(pkg.ModelPackageArn)

	doc, err := cli(t, "policy", "run", "--account", awsfake.DefaultAccount, "--region", awsfake.DefaultRegion)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := iampolicy.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("policy run output: %v\n%s", err, doc)
	}

	mark := f.Mark()
	if out, err := cli(t, "models", "approve", "churn", "1", "--description", "good"); err != nil || !strings.Contains(out, "Approved churn version 1") {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	c := runtest.Config(t)
	c.Home, c.DeployKind, c.ModelCache = home, "sagemaker", filepath.Join(home, "cache")
	c.ScanInterval = 20 * time.Millisecond
	a := runtest.Start(t, c)
	runtest.Eventually(t, 30*time.Second, "brdg-churn-production from the package", func() bool {
		meta, _, _ := f.PackageMetadata(arn)
		eps := f.Endpoints()
		// Converged: deployed, both endpoints in service, and the URL tag
		// names both (a pass may mark the state before the last URL).
		return meta[model.TagDeployState] == model.StateDeployed && len(eps) == 2 && eps[1].Name == "brdg-churn-production" && eps[1].Status == awsfake.StatusInService &&
			strings.Contains(meta[model.TagDeployURL], "brdg-churn-production") && strings.Contains(meta[model.TagDeployURL], "brdg-churn-latest")
	})
	a.Stop()
	if err := a.Wait(); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.ModelContainer("brdg-churn-1"); c["ModelPackageName"] != arn {
		t.Fatalf("brdg-churn-1 container %v", c)
	}
	if out, err := cli(t, "plan"); err != nil {
		t.Fatalf("plan after convergence: %v\n%s", err, out)
	}
	out, err := cli(t, "models", "show", "churn")
	if err != nil || !strings.Contains(out, "Approved") || !strings.Contains(out, "Latest,Production") && !strings.Contains(out, "Production,Latest") {
		t.Fatalf("models show: %v\n%s", err, out)
	}
	if out, err := cli(t, "models", "reject", "churn", "4"); err == nil || !strings.Contains(err.Error(), "has no version 4 (versions: 1)") {
		t.Fatalf("reject 4: %v\n%s", err, out)
	}
	if v := awsfake.Violations(f.CallsSince(mark), policy, "sts:GetCallerIdentity"); len(v) > 0 {
		t.Fatalf("calls outside bridge policy run's policy:\n%s", strings.Join(v, "\n"))
	}
	// Without the package group statements, the seed's run policy alone
	// does not allow reading the registry.
	if v := awsfake.Violations(f.CallsSince(mark), seedPolicyFor(t, "run-policy", awsfake.DefaultRegion), "sts:GetCallerIdentity"); len(v) == 0 {
		t.Fatal("the seed run policy alone allowed reading model packages")
	}
}
