package sagemaker_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/iampolicy"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/reconcile"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

const (
	pkgGroup  = "churn"
	pkgBucket = "sagemaker-us-east-1-123456789012"
	pkgImage  = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
)

// packageHarness drives the SageMaker target from a model package group
// registry on the fake.
type packageHarness struct {
	*harness
	admin *sm.Client // the data scientist's client: creates groups and packages
	reg   *regsm.Registry
	rec   *reconcile.Reconciler
}

func newPackageHarness(t *testing.T, env ...map[string]string) *packageHarness {
	o := harnessOpts{}
	if len(env) > 0 {
		o.env = env[0]
	}
	h := newHarness(t, o)
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	auth, err := awsauth.FromConfig(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	auth.MaxBackoff, auth.NoRetryQuota = 2*time.Millisecond, true
	awsCfg, err := awsauth.Load(h.ctx, auth)
	if err != nil {
		t.Fatal(err)
	}
	client := sm.NewFromConfig(awsCfg)
	rules, _ := config.ParseSlotRules(config.DefaultPackageSlot)
	reg := regsm.New(client, config.RegistrySettings{Kind: config.RegistrySageMaker, Groups: []string{pkgGroup}, Slots: rules}, nil)
	rec, err := reconcile.New(reconcile.Options{Registry: reg, Target: h.tgt, BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ph := &packageHarness{harness: h, admin: client, reg: reg, rec: rec}
	if _, err := client.CreateModelPackageGroup(h.ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String(pkgGroup)}); err != nil {
		t.Fatal(err)
	}
	return ph
}

// registerPackage registers a package version as a training pipeline's
// RegisterModel step does: image, model data, text/csv.
func (h *packageHarness) registerPackage(v int) string {
	h.t.Helper()
	key := "sts/model-" + string(rune('0'+v)) + "/model.tar.gz"
	h.fake.PlantObject(awsfake.DefaultRegion, pkgBucket, key, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	out, err := h.admin.CreateModelPackage(h.ctx, &sm.CreateModelPackageInput{
		ModelPackageGroupName: aws.String(pkgGroup),
		InferenceSpecification: &smtypes.InferenceSpecification{
			Containers:                              []smtypes.ModelPackageContainerDefinition{{Image: aws.String(pkgImage), ModelDataUrl: aws.String("s3://" + pkgBucket + "/" + key)}},
			SupportedContentTypes:                   []string{"text/csv"},
			SupportedResponseMIMETypes:              []string{"text/csv"},
			SupportedRealtimeInferenceInstanceTypes: []smtypes.ProductionVariantInstanceType{"ml.t2.medium"},
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return aws.ToString(out.ModelPackageArn)
}

// converge runs passes of the package loop until one changes nothing (no
// action, no tag write) and every endpoint is Ready.
func (h *packageHarness) converge(within time.Duration) model.Actual {
	h.t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for {
		// Observe before the pass: a quiet pass over endpoints that were
		// already ready has written their final deploy state.
		actual, oerr := h.tgt.Observe(h.ctx)
		ready := oerr == nil
		for _, e := range actual.Endpoints {
			ready = ready && e.Status == model.StatusReady
		}
		res, err := h.rec.RunOnce(h.ctx)
		if ready && err == nil && !res.Changed() && res.TagWrites == 0 && len(res.Failed) == 0 {
			return actual
		}
		last = fmt.Sprintf("%v %v", err, res.Failed)
		if time.Now().After(deadline) {
			h.t.Fatalf("no convergence in %s: %s", within, last)
		}
		select { // poll: the fake's endpoint transitions take tens of ms
		case <-h.ctx.Done():
			h.t.Fatal(h.ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (h *packageHarness) setApproval(v int, status string) {
	h.t.Helper()
	if _, err := h.reg.SetApproval(h.ctx, model.VersionRef{Model: pkgGroup, Version: v}, status, "reviewed"); err != nil {
		h.t.Fatal(err)
	}
}

func endpointNames(a model.Actual) []string {
	var out []string
	for _, e := range a.Endpoints {
		out = append(out, e.Key.String())
	}
	return out
}

// assertPolicy checks every call since mark against the seed's run policy
// plus the model package group statements.
func (h *packageHarness) assertPolicy(mark int) {
	h.t.Helper()
	extra, err := iampolicy.PackageGroupStatements(awsfake.DefaultAccount, h.tgt.Region(), []string{pkgGroup})
	if err != nil {
		h.t.Fatal(err)
	}
	p := seedPolicy(h.t, runPolicy, h.tgt.Region()).WithStatements(extra...)
	if v := awsfake.Violations(h.fake.CallsSince(mark), p, "sts:GetCallerIdentity"); len(v) > 0 {
		h.t.Fatalf("calls the run policy plus the package group statements do not allow:\n%s", strings.Join(v, "\n"))
	}
}

func TestModelPackageGroupDrivesEndpoints(t *testing.T) {
	h := newPackageHarness(t)
	arn1 := h.registerPackage(1)
	mark := h.fake.Mark()
	h.setApproval(1, regsm.Approved)
	a := h.converge(10 * time.Second)
	if got, want := endpointNames(a), []string{"churn/Latest", "churn/Production"}; !slices.Equal(got, want) {
		t.Fatalf("endpoints %v, want %v", got, want)
	}
	if got := h.endpointModels("brdg-churn-production"); !slices.Equal(got, []string{"brdg-churn-1"}) {
		t.Fatalf("brdg-churn-production serves %v", got)
	}
	c, ok := h.fake.ModelContainer("brdg-churn-1")
	if !ok || c["ModelPackageName"] != arn1 {
		t.Fatalf("brdg-churn-1 not created from the package: %v", c)
	}
	meta, _, _ := h.fake.PackageMetadata(arn1)
	if meta[model.TagDeployState] != model.StateDeployed || !strings.Contains(meta[model.TagDeployURL], "brdg-churn-production") {
		t.Fatalf("version 1 metadata %v", meta)
	}
	h.assertPolicy(mark)

	// A newer package waiting for approval: Staging and Latest move to it,
	// from its image and model data (SageMaker takes only Approved
	// packages as ModelPackageName).
	arn2 := h.registerPackage(2)
	mark = h.fake.Mark()
	a = h.converge(10 * time.Second)
	if got, want := endpointNames(a), []string{"churn/Latest", "churn/Production", "churn/Staging"}; !slices.Equal(got, want) {
		t.Fatalf("endpoints %v, want %v", got, want)
	}
	if c, _ := h.fake.ModelContainer("brdg-churn-2"); c["Image"] != pkgImage || c["ModelDataUrl"] == nil {
		t.Fatalf("brdg-churn-2 container %v", c)
	}

	// Approving it moves Production blue/green: the endpoint is updated,
	// not recreated.
	h.setApproval(2, regsm.Approved)
	a = h.converge(10 * time.Second)
	if got := h.endpointModels("brdg-churn-production"); !slices.Equal(got, []string{"brdg-churn-2"}) {
		t.Fatalf("after approving 2, production serves %v", got)
	}
	ops := awsfake.Operations(h.fake.CallsSince(mark))
	if ops["sagemaker:UpdateEndpoint"] == 0 {
		t.Fatalf("production moved without UpdateEndpoint: %v", ops)
	}
	if got, want := endpointNames(a), []string{"churn/Latest", "churn/Production"}; !slices.Equal(got, want) {
		t.Fatalf("endpoints %v, want %v (no package waits for approval)", got, want)
	}
	h.assertPolicy(mark)

	// Rejecting it: no endpoint serves it, its model goes, Production
	// falls back to the newest approved package and the deploy state
	// leaves version 2.
	h.setApproval(2, regsm.Rejected)
	h.converge(10 * time.Second)
	if got := h.endpointModels("brdg-churn-production"); !slices.Equal(got, []string{"brdg-churn-1"}) {
		t.Fatalf("after rejecting 2, production serves %v", got)
	}
	if slices.Contains(h.fake.Models(), "brdg-churn-2") {
		t.Fatal("model of the rejected package still exists")
	}
	meta, approval, _ := h.fake.PackageMetadata(arn2)
	if approval != regsm.Rejected || meta[model.TagDeployState] != "" || meta[model.TagDeployURL] != "" {
		t.Fatalf("rejected version 2: approval %s, metadata %v", approval, meta)
	}
	meta, _, _ = h.fake.PackageMetadata(arn1)
	if meta[model.TagDeployState] != model.StateDeployed {
		t.Fatalf("version 1 metadata %v", meta)
	}
	h.assertPolicy(mark)
}

func TestModelPackageBadInput(t *testing.T) {
	h := newPackageHarness(t)
	// A package without an inference specification fails clearly, and
	// nothing of it is created.
	out, err := h.admin.CreateModelPackage(h.ctx, &sm.CreateModelPackageInput{ModelPackageGroupName: aws.String(pkgGroup)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.rec.RunOnce(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if why := res.Failed[pkgGroup]; !strings.Contains(why, "no inference specification") {
		t.Fatalf("failures %v", res.Failed)
	}
	if slices.Contains(h.fake.Models(), "brdg-churn-1") || len(h.fake.Endpoints()) != 0 {
		t.Fatalf("half-deployed: models %v, endpoints %v", h.fake.Models(), h.fake.Endpoints())
	}
	meta, _, _ := h.fake.PackageMetadata(aws.ToString(out.ModelPackageArn))
	if meta[model.TagDeployState] != model.StateFailed || !strings.Contains(meta[model.TagDeployError], "inference specification") {
		t.Fatalf("metadata %v", meta)
	}

	// Approving a version that does not exist.
	if _, err := h.reg.SetApproval(h.ctx, model.VersionRef{Model: pkgGroup, Version: 7}, regsm.Approved, ""); err == nil ||
		!strings.Contains(err.Error(), "has no version 7 (versions: 1)") {
		t.Fatalf("approving a missing version: %v", err)
	}
	// A group that does not exist.
	if _, err := h.reg.SetApproval(h.ctx, model.VersionRef{Model: "nope", Version: 1}, regsm.Approved, ""); !errors.Is(err, regsm.ErrNoGroup) {
		t.Fatalf("approving in a missing group: %v", err)
	}
	missing := regsm.New(h.admin, config.RegistrySettings{Kind: config.RegistrySageMaker, Groups: []string{"nope"}}, nil)
	if err := missing.Check(h.ctx); !errors.Is(err, regsm.ErrNoGroup) || !strings.Contains(err.Error(), config.EnvPackageGroups) {
		t.Fatalf("Check with a missing group: %v", err)
	}

	// Throttled listings are retried with backoff; a listing throttled
	// past the retries fails the pass with the throttling error and
	// deploys nothing.
	h.fake.ThrottleNext("ListModelPackages", 3)
	if _, err := h.reg.Versions(h.ctx); err != nil {
		t.Fatalf("3 throttled listings were not retried: %v", err)
	}
	h.fake.ThrottleNext("ListModelPackages", 100)
	if _, err := h.reg.Versions(h.ctx); err == nil || !strings.Contains(err.Error(), "ThrottlingException") || !strings.Contains(err.Error(), "list model packages of group churn") {
		t.Fatalf("throttled past the retries: %v", err)
	}
	h.fake.ThrottleNext("ListModelPackages", 0)
}
