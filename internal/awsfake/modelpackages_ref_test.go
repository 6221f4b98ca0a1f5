package awsfake_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
)

// TestModelPackageReference checks the model registry rules of the API
// reference that clients other than Bridge rely on: VersionedArnOrName,
// the ModelPackageArn pattern, CustomerMetadataValue's character set and
// lengths, CreationTimeAfter/Before and NameContains.
func TestModelPackageReference(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock()
	t0 := clock.Now()
	f, c := start(t, awsfake.Options{Clock: clock.Now}, "eu-west-1")
	for _, g := range []string{"Churn", "fraud"} {
		if _, err := c.sm.CreateModelPackageGroup(ctx, &sagemaker.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	var arns []string
	for i := 0; i < 3; i++ {
		out, err := c.sm.CreateModelPackage(ctx, &sagemaker.CreateModelPackageInput{ModelPackageGroupName: aws.String("Churn")})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.ModelPackageArn))
		clock.Advance(time.Minute)
	}

	// DescribeModelPackage takes the ARN or GROUP/VERSION, in any case.
	for _, name := range []string{arns[1], "Churn/2", "churn/2", strings.Replace(arns[1], "churn", "CHURN", 1)} {
		d, err := c.sm.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String(name)})
		if err != nil || aws.ToString(d.ModelPackageArn) != arns[1] || aws.ToString(d.ModelPackageGroupName) != "Churn" {
			t.Errorf("describe %q: %v %v", name, err, d)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"churn/9", "does not exist"},
		{"churn", "does not exist"}, // a plain name is an unversioned package
		{"churn/x", "regular expression"},
		{"bad name/1", "regular expression"},
		{"churn-/1", "regular expression"},
	} {
		_, err := c.sm.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String(tc.name)})
		wantCode(t, err, "ValidationException", tc.want)
	}
	_, err := c.sm.CreateModelPackage(ctx, &sagemaker.CreateModelPackageInput{ModelPackageGroupName: aws.String("Churn"), ModelPackageName: aws.String("x")})
	wantCode(t, err, "ValidationException", "Both ModelPackageName and ModelPackageGroupName")
	// UpdateModelPackage takes an ARN only.
	_, err = c.sm.UpdateModelPackage(ctx, &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String("churn/1"), ModelApprovalStatus: smtypes.ModelApprovalStatusApproved})
	wantCode(t, err, "ValidationException", "modelPackageArn")

	// CustomerMetadataValue: 1..256 of letters, separators, numbers, _.:/=+-@.
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"http://127.0.0.1:8080/churn/Production/invocations http://127.0.0.1:8080/churn/Latest/invocations", true},
		{"DEPLOYED", true},
		{"größe 3 = ok @ 10:00", true},
		{"a,b", false},
		{`quoted "x"`, false},
		{"error (code 3)", false},
		{"it's", false},
		{"line\nbreak", false},
		{"", false},
	} {
		_, err := c.sm.UpdateModelPackage(ctx, &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String(arns[0]),
			CustomerMetadataProperties: map[string]string{"k": tc.value}})
		if tc.ok && err != nil {
			t.Errorf("value %q refused: %v", tc.value, err)
		}
		if !tc.ok {
			wantCode(t, err, "ValidationException", "customerMetadataProperties")
		}
	}
	_, err = c.sm.UpdateModelPackage(ctx, &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String(arns[0]), CustomerMetadataProperties: map[string]string{}})
	wantCode(t, err, "ValidationException", "greater than or equal to 1")
	_, err = c.sm.UpdateModelPackage(ctx, &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String(arns[0]), CustomerMetadataPropertiesToRemove: []string{"a,b"}})
	wantCode(t, err, "ValidationException", "customerMetadataPropertiesToRemove")
	if meta, _, _ := f.PackageMetadata(arns[0]); meta["k"] != "DEPLOYED" && !strings.HasPrefix(meta["k"], "größe") {
		t.Fatalf("a refused update changed the metadata: %v", meta)
	}

	// CreationTimeAfter/Before (strict) and NameContains on the package name.
	versions := func(in sagemaker.ListModelPackagesInput) []int {
		in.ModelPackageGroupName = aws.String("churn")
		out, err := c.sm.ListModelPackages(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		var v []int
		for _, s := range out.ModelPackageSummaryList {
			v = append(v, int(aws.ToInt32(s.ModelPackageVersion)))
		}
		return v
	}
	for _, tc := range []struct {
		name string
		in   sagemaker.ListModelPackagesInput
		want []int
	}{
		{"after", sagemaker.ListModelPackagesInput{CreationTimeAfter: aws.Time(t0.Add(2 * time.Minute))}, []int{2, 3}},
		{"before", sagemaker.ListModelPackagesInput{CreationTimeBefore: aws.Time(t0.Add(3 * time.Minute))}, []int{1}},
		{"name contains the group", sagemaker.ListModelPackagesInput{NameContains: aws.String("HUR")}, []int{1, 2, 3}},
		{"not the version", sagemaker.ListModelPackagesInput{NameContains: aws.String("0001")}, nil},
	} {
		if got := versions(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	groups, err := c.sm.ListModelPackageGroups(ctx, &sagemaker.ListModelPackageGroupsInput{CreationTimeAfter: aws.Time(t0)})
	if err != nil || len(groups.ModelPackageGroupSummaryList) != 1 || aws.ToString(groups.ModelPackageGroupSummaryList[0].ModelPackageGroupName) != "fraud" {
		t.Fatalf("groups created after the first: %v %+v", err, groups)
	}
}

// TestUnversionedModelPackages: a package created by name, outside any
// group, is unversioned: the default listing shows only those, a group's
// listing never does, and it has no version or approval status.
func TestUnversionedModelPackages(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, awsfake.Options{}, "eu-west-1")
	if _, err := c.sm.CreateModelPackageGroup(ctx, &sagemaker.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("churn")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.sm.CreateModelPackage(ctx, &sagemaker.CreateModelPackageInput{ModelPackageGroupName: aws.String("churn")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.sm.CreateModelPackage(ctx, &sagemaker.CreateModelPackageInput{ModelPackageName: aws.String("Market-One")})
	if err != nil || aws.ToString(out.ModelPackageArn) != "arn:aws:sagemaker:eu-west-1:123456789012:model-package/market-one" {
		t.Fatalf("create unversioned: %v %v", err, out)
	}
	_, err = c.sm.CreateModelPackage(ctx, &sagemaker.CreateModelPackageInput{ModelPackageName: aws.String("market-ONE")})
	wantCode(t, err, "ValidationException", "already exists")
	names := func(in sagemaker.ListModelPackagesInput) []string {
		out, err := c.sm.ListModelPackages(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, s := range out.ModelPackageSummaryList {
			n = append(n, aws.ToString(s.ModelPackageName)+"/"+strings.TrimPrefix(string(rune('0'+aws.ToInt32(s.ModelPackageVersion))), "0"))
		}
		return n
	}
	for _, tc := range []struct {
		name string
		in   sagemaker.ListModelPackagesInput
		want []string
	}{
		{"default: unversioned", sagemaker.ListModelPackagesInput{}, []string{"Market-One/"}},
		{"versioned", sagemaker.ListModelPackagesInput{ModelPackageType: smtypes.ModelPackageTypeVersioned}, []string{"churn/1"}},
		{"both", sagemaker.ListModelPackagesInput{ModelPackageType: smtypes.ModelPackageTypeBoth}, []string{"churn/1", "Market-One/"}},
		{"a group", sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("churn"), ModelPackageType: smtypes.ModelPackageTypeBoth}, []string{"churn/1"}},
	} {
		if got := names(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	d, err := c.sm.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String("market-one")})
	if err != nil || aws.ToString(d.ModelPackageName) != "Market-One" || d.ModelPackageVersion != nil || d.ModelApprovalStatus != "" || d.ModelPackageGroupName != nil {
		t.Fatalf("describe unversioned: %v %+v", err, d)
	}
}

// TestDeleteModelPackage: a deleted package is gone from describe and
// list, its version is not given again, and its group can then go.
func TestDeleteModelPackage(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, awsfake.Options{}, "eu-west-1")
	if _, err := c.sm.CreateModelPackageGroup(ctx, &sagemaker.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("churn")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.sm.CreateModelPackage(ctx, &sagemaker.CreateModelPackageInput{ModelPackageGroupName: aws.String("churn")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.sm.DeleteModelPackage(ctx, &sagemaker.DeleteModelPackageInput{ModelPackageName: aws.String("churn/2")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.sm.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String("churn/2")})
	wantCode(t, err, "ValidationException", "does not exist")
	_, err = c.sm.DeleteModelPackage(ctx, &sagemaker.DeleteModelPackageInput{ModelPackageName: aws.String("churn/2")})
	wantCode(t, err, "ValidationException", "does not exist")
	out, err := c.sm.CreateModelPackage(ctx, &sagemaker.CreateModelPackageInput{ModelPackageGroupName: aws.String("churn")})
	if err != nil || !strings.HasSuffix(aws.ToString(out.ModelPackageArn), "/churn/3") {
		t.Fatalf("next package after a deletion: %v %v", err, out)
	}
	list, err := c.sm.ListModelPackages(ctx, &sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("churn")})
	if err != nil || len(list.ModelPackageSummaryList) != 2 {
		t.Fatalf("list after a deletion: %v %+v", err, list)
	}
	for _, v := range []string{"churn/1", "churn/3"} {
		if _, err := c.sm.DeleteModelPackage(ctx, &sagemaker.DeleteModelPackageInput{ModelPackageName: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.sm.DeleteModelPackageGroup(ctx, &sagemaker.DeleteModelPackageGroupInput{ModelPackageGroupName: aws.String("churn")}); err != nil {
		t.Fatalf("delete the emptied group: %v", err)
	}
}
