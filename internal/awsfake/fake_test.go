package awsfake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/iampolicy"
)

type clients struct {
	sm  *sagemaker.Client
	s3  *s3.Client
	iam *iam.Client
	cfg aws.Config
}

// start runs a fake and real SDK clients pointed at it through the SDK's
// own endpoint override (AWS_ENDPOINT_URL) and static test credentials.
func start(t *testing.T, opts awsfake.Options, region string) (*awsfake.Server, clients) {
	t.Helper()
	f := awsfake.New(opts)
	t.Cleanup(f.Close)
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_REGION", region)
	cfg, err := awsauth.Load(context.Background(), awsauth.Options{MaxAttempts: 10, MaxBackoff: 5 * time.Millisecond, NoRetryQuota: true})
	if err != nil {
		t.Fatal(err)
	}
	return f, clients{
		sm:  sagemaker.NewFromConfig(cfg),
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		iam: iam.NewFromConfig(cfg),
		cfg: cfg,
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, want, msgPart string) {
	t.Helper()
	if code(err) != want {
		t.Fatalf("error %v: want code %s", err, want)
	}
	if msgPart != "" && !strings.Contains(err.Error(), msgPart) {
		t.Fatalf("error %v: want message containing %q", err, msgPart)
	}
}

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// setupModel creates a bucket, an artifact, the execution role and a model.
func setupModel(t *testing.T, ctx context.Context, c clients, name, image string) {
	t.Helper()
	bucket := "art"
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if c.cfg.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(c.cfg.Region)}
	}
	if _, err := c.s3.CreateBucket(ctx, in); err != nil && code(err) != "BucketAlreadyOwnedByYou" {
		t.Fatal(err)
	}
	put := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(name), Body: strings.NewReader("tar")}
	if !strings.Contains(name, "untagged") {
		// AmazonSageMakerFullAccess lets the execution role read only
		// objects tagged SageMaker=true (outside *sagemaker* buckets).
		put.Tagging = aws.String("SageMaker=true")
	}
	if _, err := c.s3.PutObject(ctx, put); err != nil {
		t.Fatal(err)
	}
	if _, err := c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("exec"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil && code(err) != "EntityAlreadyExists" {
		t.Fatal(err)
	}
	_, err := c.sm.CreateModel(ctx, &sagemaker.CreateModelInput{
		ModelName:        aws.String(name),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"),
		PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String("s3://" + bucket + "/" + name)},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func createConfig(t *testing.T, ctx context.Context, c clients, name string, models ...string) {
	t.Helper()
	var vs []smtypes.ProductionVariant
	for i, m := range models {
		vs = append(vs, smtypes.ProductionVariant{VariantName: aws.String(fmt.Sprintf("v%d", i+1)), ModelName: aws.String(m),
			InstanceType: smtypes.ProductionVariantInstanceTypeMlT2Medium, InitialInstanceCount: aws.Int32(1), InitialVariantWeight: aws.Float32(1)})
	}
	if _, err := c.sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String(name), ProductionVariants: vs}); err != nil {
		t.Fatal(err)
	}
}

func describe(t *testing.T, ctx context.Context, c clients, name string) *sagemaker.DescribeEndpointOutput {
	t.Helper()
	out, err := c.sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEndpointLifecycle(t *testing.T) {
	clock := awsfake.NewManualClock()
	f, c := start(t, awsfake.Options{Clock: clock.Now, CreateDelay: time.Minute, UpdateDelay: time.Minute, DeleteDelay: time.Minute}, "eu-west-1")
	ctx := context.Background()
	setupModel(t, ctx, c, "m1", "img:ok")
	setupModel(t, ctx, c, "m2", "img:ok")
	setupModel(t, ctx, c, "bad", "img:fail")
	createConfig(t, ctx, c, "c1", "m1")
	createConfig(t, ctx, c, "c2", "m1", "m2")
	createConfig(t, ctx, c, "c3", "bad")

	_, err := c.sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("ep")})
	wantCode(t, err, "ValidationException", `Could not find endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/ep"`)

	if _, err := c.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("Ep"), EndpointConfigName: aws.String("c1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("ep"), EndpointConfigName: aws.String("c1")})
	wantCode(t, err, "ValidationException", "Cannot create already existing endpoint") // names are case-insensitive

	d := describe(t, ctx, c, "Ep")
	if d.EndpointStatus != smtypes.EndpointStatusCreating || aws.ToString(d.EndpointArn) != "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/ep" {
		t.Fatalf("after create: %s %s", d.EndpointStatus, aws.ToString(d.EndpointArn))
	}
	_, err = c.sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("Ep"), EndpointConfigName: aws.String("c2")})
	wantCode(t, err, "ValidationException", "Cannot update in-progress endpoint")
	_, err = c.sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String("Ep")})
	wantCode(t, err, "ValidationException", "Cannot delete in-progress endpoint")

	clock.Advance(time.Minute)
	if d := describe(t, ctx, c, "Ep"); d.EndpointStatus != smtypes.EndpointStatusInService || aws.ToString(d.EndpointConfigName) != "c1" {
		t.Fatalf("after create delay: %s %s", d.EndpointStatus, aws.ToString(d.EndpointConfigName))
	}

	// Blue/green update: the old config serves while the new one deploys.
	if _, err := c.sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("Ep"), EndpointConfigName: aws.String("c2")}); err != nil {
		t.Fatal(err)
	}
	d = describe(t, ctx, c, "Ep")
	if d.EndpointStatus != smtypes.EndpointStatusUpdating || aws.ToString(d.EndpointConfigName) != "c1" ||
		d.PendingDeploymentSummary == nil || aws.ToString(d.PendingDeploymentSummary.EndpointConfigName) != "c2" {
		t.Fatalf("during update: %+v", d)
	}
	clock.Advance(time.Minute)
	if d := describe(t, ctx, c, "Ep"); d.EndpointStatus != smtypes.EndpointStatusInService || aws.ToString(d.EndpointConfigName) != "c2" || len(d.ProductionVariants) != 2 {
		t.Fatalf("after update: %s %s %d", d.EndpointStatus, aws.ToString(d.EndpointConfigName), len(d.ProductionVariants))
	}

	// A failing update rolls back: InService on the old config, with a reason.
	if _, err := c.sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("Ep"), EndpointConfigName: aws.String("c3")}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if d := describe(t, ctx, c, "Ep"); d.EndpointStatus != smtypes.EndpointStatusInService || aws.ToString(d.EndpointConfigName) != "c2" || aws.ToString(d.FailureReason) == "" {
		t.Fatalf("after failed update: %s %s %q", d.EndpointStatus, aws.ToString(d.EndpointConfigName), aws.ToString(d.FailureReason))
	}

	// Model data the execution role cannot read fails the endpoint.
	setupModel(t, ctx, c, "untagged", "img:ok")
	createConfig(t, ctx, c, "c4", "untagged")
	if _, err := c.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("unreadable"), EndpointConfigName: aws.String("c4")}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if d := describe(t, ctx, c, "unreadable"); d.EndpointStatus != smtypes.EndpointStatusFailed || !strings.Contains(aws.ToString(d.FailureReason), "Failed to download model data") {
		t.Fatalf("untagged model data: %s %q", d.EndpointStatus, aws.ToString(d.FailureReason))
	}

	// A failing create ends Failed; only delete works then.
	if _, err := c.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("broken"), EndpointConfigName: aws.String("c3")}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if d := describe(t, ctx, c, "broken"); d.EndpointStatus != smtypes.EndpointStatusFailed || !strings.Contains(aws.ToString(d.FailureReason), "ping health check") {
		t.Fatalf("failed create: %s %q", d.EndpointStatus, aws.ToString(d.FailureReason))
	}
	_, err = c.sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("broken"), EndpointConfigName: aws.String("c1")})
	wantCode(t, err, "ValidationException", "")
	if _, err := c.sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String("broken")}); err != nil {
		t.Fatal(err)
	}
	if d := describe(t, ctx, c, "broken"); d.EndpointStatus != smtypes.EndpointStatusDeleting {
		t.Fatalf("deleting: %s", d.EndpointStatus)
	}
	clock.Advance(time.Minute)
	_, err = c.sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("broken")})
	wantCode(t, err, "ValidationException", "Could not find endpoint")

	// Deleting a config in use is allowed, as in AWS; deleting it twice is not.
	if _, err := c.sm.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String("c2")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.sm.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String("c2")})
	wantCode(t, err, "ValidationException", "Could not find endpoint configuration")
	_, err = c.sm.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: aws.String("nope")})
	wantCode(t, err, "ValidationException", "Could not find model")

	// SystemUpdating: neither update nor delete.
	if err := f.SystemUpdate("Ep", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err = c.sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("Ep"), EndpointConfigName: aws.String("c1")})
	wantCode(t, err, "ValidationException", "in-progress")
}

func TestCreateValidation(t *testing.T) {
	_, c := start(t, awsfake.Options{}, "us-east-1")
	ctx := context.Background()
	setupModel(t, ctx, c, "m1", "img")
	for _, tc := range []struct {
		name string
		call func() error
		msg  string
	}{
		{"duplicate model", func() error {
			_, err := c.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("M1"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"),
				PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String("img")}})
			return err
		}, "Cannot create already existing model"},
		{"unknown role", func() error {
			_, err := c.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("m2"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/none"),
				PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String("img")}})
			return err
		}, "Could not assume role"},
		{"missing model data", func() error {
			_, err := c.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("m3"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"),
				PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String("img"), ModelDataUrl: aws.String("s3://art/none")}})
			return err
		}, "Could not find model data"},
		{"bad name", func() error {
			_, err := c.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("bad_name"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"),
				PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String("img")}})
			return err
		}, "regular expression"},
		{"config of missing model", func() error {
			_, err := c.sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("c"), ProductionVariants: []smtypes.ProductionVariant{{
				VariantName: aws.String("v1"), ModelName: aws.String("nope"), InstanceType: smtypes.ProductionVariantInstanceTypeMlT2Medium, InitialInstanceCount: aws.Int32(1)}}})
			return err
		}, "Could not find model"},
		{"endpoint of missing config", func() error {
			_, err := c.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("e"), EndpointConfigName: aws.String("nope")})
			return err
		}, "Could not find endpoint configuration"},
		{"max results too big", func() error {
			_, err := c.sm.ListEndpoints(ctx, &sagemaker.ListEndpointsInput{MaxResults: aws.Int32(101)})
			return err
		}, "less than or equal to 100"},
		{"bad token", func() error {
			_, err := c.sm.ListModels(ctx, &sagemaker.ListModelsInput{NextToken: aws.String("garbage")})
			return err
		}, "Invalid pagination token"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), "ValidationException", tc.msg) })
	}
}

func TestListPagination(t *testing.T) {
	f, c := start(t, awsfake.Options{}, "us-east-1")
	ctx := context.Background()
	var models []string
	for i := 0; i < 150; i++ {
		models = append(models, fmt.Sprintf("brdg-m%03d-1", i))
	}
	models = append(models, "other-brdg-x", "unrelated")
	f.Plant("us-east-1", models, nil, "img")

	for _, tc := range []struct {
		name     string
		contains string
		max      int32
		want     int
		pages    int
	}{
		{"default page size is 10", "", 0, 152, 16},
		{"max 100", "", 100, 152, 2},
		{"name contains is a substring match", "brdg-", 100, 151, 2},
		{"case-insensitive", "UNRELATED", 100, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &sagemaker.ListModelsInput{SortBy: smtypes.ModelSortKeyName, SortOrder: smtypes.OrderKeyAscending}
			if tc.contains != "" {
				in.NameContains = aws.String(tc.contains)
			}
			if tc.max > 0 {
				in.MaxResults = aws.Int32(tc.max)
			}
			seen := map[string]bool{}
			pages := 0
			for p := sagemaker.NewListModelsPaginator(c.sm, in); p.HasMorePages(); {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, m := range out.Models {
					if seen[*m.ModelName] {
						t.Fatalf("%s listed twice", *m.ModelName)
					}
					seen[*m.ModelName] = true
				}
			}
			if len(seen) != tc.want || pages != tc.pages {
				t.Fatalf("got %d models in %d pages, want %d in %d", len(seen), pages, tc.want, tc.pages)
			}
		})
	}

	// Deleting between pages neither skips nor repeats the rest.
	out, err := c.sm.ListModels(ctx, &sagemaker.ListModelsInput{MaxResults: aws.Int32(50)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range out.Models {
		if _, err := c.sm.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: m.ModelName}); err != nil {
			t.Fatal(err)
		}
	}
	rest := 0
	for p := sagemaker.NewListModelsPaginator(c.sm, &sagemaker.ListModelsInput{MaxResults: aws.Int32(50), NextToken: out.NextToken}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rest += len(page.Models)
	}
	if rest != 102 {
		t.Fatalf("after deleting the first page, %d models followed, want 102", rest)
	}
}

func TestS3(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		t.Run(region, func(t *testing.T) {
			f, c := start(t, awsfake.Options{ForeignBuckets: []string{"taken"}}, region)
			ctx := context.Background()
			other := &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
			if region == "us-east-1" {
				other.LocationConstraint = s3types.BucketLocationConstraintEuWest1
			} else {
				_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bk1")})
				wantCode(t, err, "IllegalLocationConstraintException", "")
				other = nil
			}
			_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bk1"), CreateBucketConfiguration: other})
			if region == "us-east-1" {
				wantCode(t, err, "InvalidLocationConstraint", "")
			}
			var cfg *s3types.CreateBucketConfiguration
			if region != "us-east-1" {
				cfg = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
			}
			if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bk1"), CreateBucketConfiguration: cfg}); err != nil {
				t.Fatal(err)
			}
			_, err = c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bk1"), CreateBucketConfiguration: cfg})
			if region == "us-east-1" {
				if err != nil {
					t.Fatalf("us-east-1 re-create of an owned bucket: %v (AWS answers 200)", err)
				}
			} else {
				wantCode(t, err, "BucketAlreadyOwnedByYou", "")
			}
			_, err = c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("taken"), CreateBucketConfiguration: cfg})
			wantCode(t, err, "BucketAlreadyExists", "")

			// Multipart upload through the transfer manager, 12 MiB in 5 MiB parts.
			big := bytes.Repeat([]byte("0123456789abcdef"), 12<<16)
			up := manager.NewUploader(c.s3, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
			if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("bk1"), Key: aws.String("big/x.tar.gz"), Body: bytes.NewReader(big)}); err != nil {
				t.Fatal(err)
			}
			got, _ := f.Object("bk1", "big/x.tar.gz")
			if !bytes.Equal(got, big) {
				t.Fatalf("multipart object: %d bytes, want %d", len(got), len(big))
			}
			if ops := awsfake.Operations(f.Calls()); ops["s3:UploadPart"] != 3 || ops["s3:CompleteMultipartUpload"] != 1 {
				t.Fatalf("want a 3-part multipart upload, calls: %v", ops)
			}
			for i := 0; i < 25; i++ {
				if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bk1"), Key: aws.String(fmt.Sprintf("k/%02d", i)), Body: strings.NewReader("x")}); err != nil {
					t.Fatal(err)
				}
			}
			n := 0
			for p := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: aws.String("bk1"), Prefix: aws.String("k/"), MaxKeys: aws.Int32(10)}); p.HasMorePages(); {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				n += len(page.Contents)
			}
			if n != 25 {
				t.Fatalf("listed %d objects, want 25", n)
			}
			_, err = c.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bk1")})
			wantCode(t, err, "BucketNotEmpty", "")
			var ids []s3types.ObjectIdentifier
			for _, k := range f.Objects("bk1") {
				ids = append(ids, s3types.ObjectIdentifier{Key: aws.String(k)})
			}
			if _, err := c.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bk1"), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bk1")}); err != nil {
				t.Fatal(err)
			}
			_, err = c.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bk1")})
			wantCode(t, err, "NoSuchBucket", "")
			_, err = c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bk1")})
			wantCode(t, err, "NoSuchBucket", "")
		})
	}
}

func TestIAM(t *testing.T) {
	_, c := start(t, awsfake.Options{}, "us-east-1")
	ctx := context.Background()
	role := aws.String("bridge-sagemaker-execution")
	policy := aws.String("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
	steps := []struct {
		name string
		call func() error
		code string
	}{
		{"create", func() error {
			_, err := c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(trust)})
			return err
		}, ""},
		{"create again", func() error {
			_, err := c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(trust)})
			return err
		}, "EntityAlreadyExists"},
		{"attach", func() error {
			_, err := c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: policy})
			return err
		}, ""},
		{"attach is idempotent", func() error {
			_, err := c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: policy})
			return err
		}, ""},
		{"delete attached", func() error { _, err := c.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); return err }, "DeleteConflict"},
		{"detach", func() error {
			_, err := c.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: policy})
			return err
		}, ""},
		{"detach again", func() error {
			_, err := c.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: policy})
			return err
		}, "NoSuchEntity"},
		{"delete", func() error { _, err := c.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); return err }, ""},
		{"delete again", func() error { _, err := c.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); return err }, "NoSuchEntity"},
		{"attach to missing role", func() error {
			_, err := c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: policy})
			return err
		}, "NoSuchEntity"},
	}
	for _, s := range steps {
		err := s.call()
		if code(err) != s.code || (s.code == "" && err != nil) {
			t.Fatalf("%s: %v, want code %q", s.name, err, s.code)
		}
	}
}

func TestAssumeRoleWithSessionTags(t *testing.T) {
	f, _ := start(t, awsfake.Options{}, "us-east-1")
	ctx := context.Background()
	cfg, err := awsauth.Load(ctx, awsauth.Options{Role: "arn:aws:iam::123456789012:role/deployer", SessionName: "bridge-run",
		SessionTags: map[string]string{"Application": "bridge", "BridgeCommand": "run"}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := awsauth.CallerIdentity(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if id.Account != f.Account() || id.ARN != "arn:aws:sts::123456789012:assumed-role/deployer/bridge-run" {
		t.Fatalf("identity %+v", id)
	}
	s := f.AssumedSessions()
	if len(s) != 1 || s[0].Tags["BridgeCommand"] != "run" || s[0].Tags["Application"] != "bridge" {
		t.Fatalf("sessions %+v", s)
	}
	var sawTag bool
	for _, call := range f.Calls() {
		for _, a := range call.Authz {
			sawTag = sawTag || a.Action == "sts:TagSession"
		}
	}
	if !sawTag {
		t.Fatal("AssumeRole with tags must need sts:TagSession")
	}
	_, err = awsauth.Load(ctx, awsauth.Options{Role: "arn:aws:iam::999999999999:role/other", MaxAttempts: 1})
	if err == nil || !strings.Contains(err.Error(), "AWS_ROLE") {
		t.Fatalf("assuming a foreign role: %v", err)
	}
}

func TestUnknownAccessKey(t *testing.T) {
	f, _ := start(t, awsfake.Options{}, "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIANOTISSUEDBYAWS00")
	cfg, err := awsauth.Load(context.Background(), awsauth.Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"sagemaker": func() error {
			_, err := sagemaker.NewFromConfig(cfg).ListModels(context.Background(), &sagemaker.ListModelsInput{})
			return err
		},
		"s3": func() error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("bk1")})
			return err
		},
		"sts": func() error { _, err := awsauth.CallerIdentity(context.Background(), cfg); return err },
	} {
		want := map[string]string{"sagemaker": "UnrecognizedClientException", "s3": "InvalidAccessKeyId", "sts": "InvalidClientTokenId"}[name]
		if err := call(); code(err) != want {
			t.Errorf("%s with an unknown key: %v, want %s", name, err, want)
		}
	}
	if n := len(f.Calls()); n != 3 {
		t.Errorf("%d calls recorded, want 3", n)
	}
}

func TestFaultsAreRetried(t *testing.T) {
	f, c := start(t, awsfake.Options{}, "us-east-1")
	ctx := context.Background()
	f.SetFaults(awsfake.Faults{Throttle: 0.3, ServerError: 0.2})
	for i := 0; i < 30; i++ {
		if _, err := c.sm.ListEndpoints(ctx, &sagemaker.ListEndpointsInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	faults := map[string]int{}
	for _, call := range f.Calls() {
		faults[call.Fault]++
		if call.Fault == "throttle" && call.ErrorCode != "ThrottlingException" {
			t.Fatalf("throttle answered %s", call.ErrorCode)
		}
	}
	if faults["throttle"] == 0 || faults["server"] == 0 || faults[""] != 30 {
		t.Fatalf("fault mix %v: want some of each and 30 successes", faults)
	}

	// A lost response: the work happened, the retry meets "already exists".
	f.SetFaults(awsfake.Faults{LostResponse: 1})
	_, err := c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)})
	f.SetFaults(awsfake.Faults{})
	if err == nil {
		t.Fatal("want an error when every response is lost")
	}
	if len(f.Roles()) != 1 {
		t.Fatal("the lost-response create must still have happened")
	}
}

func TestCallRecordingForPolicies(t *testing.T) {
	f, c := start(t, awsfake.Options{}, "us-east-1")
	ctx := context.Background()
	mark := f.Mark()
	setupModel(t, ctx, c, "brdg-m-1", "img")
	calls := f.CallsSince(mark)
	run := iampolicy.MustPolicy(iampolicy.Run, "123456789012", "us-east-1")
	v := awsfake.Violations(calls, run)
	// The helper creates a bucket "art" and role "exec" that the run policy
	// does not cover; CreateModel itself needs sagemaker:CreateModel and
	// iam:PassRole on "exec".
	want := []string{"iam:CreateRole", "iam:PassRole", "s3:CreateBucket", "s3:PutObject", "s3:PutObjectTagging"}
	if len(v) != len(want) {
		t.Fatalf("violations %v, want one per %v", v, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(v[i], w+" ") {
			t.Fatalf("violation %d = %s, want %s", i, v[i], w)
		}
	}
}
