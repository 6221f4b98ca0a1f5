package registrar

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/objectstore"
	"github.com/bridgeops/bridge/internal/pipeline"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// request is a RegisterModel step's resolved Arguments, as the SDK writes them.
func request(approval string) map[string]any {
	return map[string]any{
		"ModelPackageGroupName": "stsPackageGroup",
		"ModelApprovalStatus":   approval,
		"InferenceSpecification": map[string]any{
			"Containers":                              []any{map[string]any{"Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", "ModelDataUrl": "s3://bucket-b/model/output/model.tar.gz"}},
			"SupportedContentTypes":                   []any{"text/csv"},
			"SupportedResponseMIMETypes":              []any{"text/csv"},
			"SupportedRealtimeInferenceInstanceTypes": []any{"ml.m5.large"},
		},
		"ModelMetrics":               map[string]any{"ModelQuality": map[string]any{"Statistics": map[string]any{"ContentType": "application/json", "S3Uri": "s3://bucket-b/evaluation/evaluation.json"}}},
		"CustomerMetadataProperties": map[string]any{"rows": 2000},
	}
}

func TestRegistersModelPackages(t *testing.T) {
	f := awsfake.New(awsfake.Options{})
	t.Cleanup(f.Close)
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := awsauth.Load(ctx, awsauth.Options{Region: "eu-west-1", MaxAttempts: 3, MaxBackoff: time.Millisecond, NoRetryQuota: true})
	if err != nil {
		t.Fatal(err)
	}
	api := sm.NewFromConfig(cfg)
	var r local.Registrar = SageMaker{API: api}
	if _, ok := r.(local.RemoteArtifacts); !ok {
		t.Fatal("the package registrar must ask for artifacts SageMaker can read")
	}
	tags := map[string]string{local.TagExecution: "exec1", local.TagStep: "Register"}

	v, err := r.Register(ctx, local.NewVersion{Model: "stsPackageGroup", Stage: "Production", Tags: tags, Request: request("Approved"), Token: "exec1-Register"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != 1 || !strings.HasSuffix(v.Arn, ":model-package/stspackagegroup/1") {
		t.Fatalf("first package %+v", v)
	}
	meta, approval, ok := f.PackageMetadata(v.Arn)
	if !ok || approval != "Approved" || meta[local.TagExecution] != "exec1" || meta["rows"] != "2000" {
		t.Fatalf("package metadata %v, approval %q", meta, approval)
	}
	d, err := api.DescribeModelPackage(ctx, &sm.DescribeModelPackageInput{ModelPackageName: aws.String(v.Arn)})
	if err != nil {
		t.Fatal(err)
	}
	if d.ModelMetrics == nil || aws.ToString(d.ModelMetrics.ModelQuality.Statistics.S3Uri) != "s3://bucket-b/evaluation/evaluation.json" ||
		aws.ToString(d.InferenceSpecification.Containers[0].ModelDataUrl) != "s3://bucket-b/model/output/model.tar.gz" {
		t.Fatalf("package %+v", d)
	}

	v2, err := r.Register(ctx, local.NewVersion{Model: "stsPackageGroup", Tags: tags, Request: request("PendingManualApproval"), Token: "exec2-Register"})
	if err != nil || v2.Version != 2 {
		t.Fatalf("second package %+v, %v", v2, err)
	}
	if _, approval, _ := f.PackageMetadata(v2.Arn); approval != "PendingManualApproval" {
		t.Errorf("second package approval %q", approval)
	}

	// SageMaker refuses the request: the group made for it is removed again.
	bad := request("Maybe")
	if _, err := r.Register(ctx, local.NewVersion{Model: "freshGroup", Tags: tags, Request: bad, Token: "exec3-Register"}); err == nil || !strings.Contains(err.Error(), "modelApprovalStatus") {
		t.Fatalf("bad approval: %v", err)
	}
	if _, err := api.DescribeModelPackageGroup(ctx, &sm.DescribeModelPackageGroupInput{ModelPackageGroupName: aws.String("freshGroup")}); err == nil {
		t.Error("group freshGroup left behind by a failed registration")
	}
	// Arguments that are not a CreateModelPackage request.
	odd := request("Approved")
	odd["InferenceSpecification"] = "not an object"
	if _, err := r.Register(ctx, local.NewVersion{Model: "stsPackageGroup", Request: odd}); err == nil || !strings.Contains(err.Error(), "CreateModelPackage") {
		t.Fatalf("odd request: %v", err)
	}
}

// A local run whose objects live in S3 (here the emulator's) registers its
// RegisterModel step as a model package: the metrics file is read and
// checked first, the package carries ModelMetrics and the approval, and the
// step's ModelPackageArn property is the package's ARN.
func TestPipelineRunRegistersPackage(t *testing.T) {
	f := awsfake.New(awsfake.Options{})
	t.Cleanup(f.Close)
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := awsauth.Load(ctx, awsauth.Options{Region: "eu-west-1", MaxAttempts: 3, MaxBackoff: time.Millisecond, NoRetryQuota: true})
	if err != nil {
		t.Fatal(err)
	}
	f.PlantObject("eu-west-1", "bucket-b", "model/output/model.tar.gz", []byte("not really a tarball"))
	f.PlantObject("eu-west-1", "bucket-b", "evaluation/evaluation.json", []byte(`{"regression_metrics": {"mse": {"value": 1.25}}}`))
	home := t.TempDir()
	st, err := store.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hist, err := local.OpenHistory(ctx, st.DB())
	if err != nil {
		t.Fatal(err)
	}
	def, err := json.Marshal(map[string]any{"Version": "2020-12-01", "Parameters": []any{
		map[string]any{"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval"}},
		"Steps": []any{map[string]any{"Name": "Register", "Type": "RegisterModel", "Arguments": func() map[string]any {
			a := request("")
			a["ModelApprovalStatus"] = map[string]any{"Get": "Parameters.ModelApprovalStatus"}
			return a
		}()}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := pipeline.Parse(def, "p.json")
	if err != nil {
		t.Fatal(err)
	}
	params, err := d.ParamValues(map[string]string{"ModelApprovalStatus": "Approved"})
	if err != nil {
		t.Fatal(err)
	}
	api := sm.NewFromConfig(cfg)
	e, err := local.Run(ctx, d, params, local.Options{Home: home, DefinitionDir: home, Registrar: SageMaker{API: api}, History: hist,
		Objects: objectstore.NewRemoteClient(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })), RemoteS3: true,
		Region: "eu-west-1", ApprovedStage: "Production"})
	if err != nil {
		t.Fatal(err)
	}
	full, err := hist.Execution(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if full.Status != local.StatusSucceeded {
		t.Fatalf("%s: %+v", full.Status, full.Steps)
	}
	arn, _ := full.Steps[0].Properties["ModelPackageArn"].(string)
	meta, approval, ok := f.PackageMetadata(arn)
	if !ok || approval != "Approved" || meta[local.TagExecution] != e.ID {
		t.Fatalf("package %q: %v %q", arn, meta, approval)
	}
	if vs, _ := st.Versions(ctx); len(vs) != 0 {
		t.Errorf("the embedded store got versions too: %+v", vs)
	}
}
