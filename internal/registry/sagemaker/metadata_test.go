package sagemaker_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

func TestMetadataValue(t *testing.T) {
	long := strings.Repeat("é", 150) + strings.Repeat("x", 150)
	for _, tc := range []struct{ in, want string }{
		{"DEPLOYED", "DEPLOYED"},
		{"http://h:1/a/Production/invocations,http://h:1/a/Latest/invocations", "http://h:1/a/Production/invocations http://h:1/a/Latest/invocations"},
		{`create version a/4: "model.tar.gz" is not a gzip-compressed tar (model.tar.gz); retry`, "create version a/4: model.tar.gz is not a gzip-compressed tar model.tar.gz retry"},
		{"line\nbreak\t", "line break"},
		{"", "-"},
		{"(),", "-"},
		{long, strings.Repeat("é", 96) + " ... " + strings.Repeat("é", 5) + strings.Repeat("x", 150)},
	} {
		got := regsm.MetadataValue(tc.in)
		if got != tc.want {
			t.Errorf("MetadataValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > 256 {
			t.Errorf("MetadataValue(%q) has %d characters", tc.in, n)
		}
	}
	// A long error keeps what failed and its root cause.
	msg := "create version a/4: fetch a/4 from " + strings.Repeat("arn:aws:sagemaker:eu-west-1:123456789012:model-package/a/4 ", 4) +
		"is not a gzip-compressed tar (model.tar.gz)"
	got := regsm.MetadataValue(msg)
	if !strings.HasPrefix(got, "create version a/4: fetch a/4 from arn:") || !strings.HasSuffix(got, "is not a gzip-compressed tar model.tar.gz") ||
		!strings.Contains(got, " ... ") || utf8.RuneCountInString(got) != 256 {
		t.Errorf("long error: %q", got)
	}
}

// TestDeployStateWritesSettle writes deploy states SageMaker refuses as
// they are (a comma-separated URL list, an error with quotes and
// parentheses, longer than 256 characters) as the loop does each pass,
// comparing in the stored form (reconcile.TagStorer): the first pass
// writes, later passes and a new process write nothing.
func TestDeployStateWritesSettle(t *testing.T) {
	ctx := context.Background()
	f := awsfake.New(awsfake.Options{})
	t.Cleanup(f.Close)
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	cfg, err := awsauth.Load(ctx, awsauth.Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := sm.NewFromConfig(cfg)
	if _, err := c.CreateModelPackageGroup(ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("churn")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateModelPackage(ctx, &sm.CreateModelPackageInput{ModelPackageGroupName: aws.String("churn")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ModelPackageArn)
	want := map[string]string{
		model.TagDeployState: model.StateFailed,
		model.TagDeployURL:   "http://127.0.0.1:8080/churn/Staging/invocations,http://127.0.0.1:8080/churn/Latest/invocations",
		model.TagDeployError: `create version churn/1: model data at "s3://b/k" is not a gzip-compressed tar (model.tar.gz): ` + strings.Repeat("x", 300),
	}
	ref := model.VersionRef{Model: "churn", Version: 1}
	rules, _ := config.ParseSlotRules(config.DefaultPackageSlot)
	set := config.RegistrySettings{Kind: config.RegistrySageMaker, Groups: []string{"churn"}, Slots: rules}

	// pass lists the versions and writes the tags that differ, as the
	// reconcile loop does; it returns how many it wrote.
	pass := func(reg *regsm.Registry) int {
		vs, err := reg.Versions(ctx)
		if err != nil || len(vs) != 1 {
			t.Fatalf("versions: %v %v", err, vs)
		}
		writes := 0
		for k, v := range want {
			if vs[0].Tags[k] != reg.StoredTagValue(k, v) {
				if err := reg.SetVersionTag(ctx, ref, k, v); err != nil {
					t.Fatalf("set %s: %v", k, err)
				}
				writes++
			}
		}
		return writes
	}
	reg := regsm.New(c, set, nil)
	if n := pass(reg); n != 3 {
		t.Fatalf("first pass wrote %d tags, want 3", n)
	}
	for i := 0; i < 2; i++ {
		if n := pass(reg); n != 0 {
			t.Fatalf("pass %d wrote %d tags again", i+2, n)
		}
	}
	meta, _, _ := f.PackageMetadata(arn)
	for k, v := range want {
		if meta[k] != regsm.MetadataValue(v) {
			t.Errorf("%s on SageMaker: %q, want %q", k, meta[k], regsm.MetadataValue(v))
		}
	}
	restarted := regsm.New(c, set, nil)
	if n := pass(restarted); n != 0 {
		t.Fatalf("a new process wrote %d tags again", n)
	}
}
