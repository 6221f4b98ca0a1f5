package awsfake_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
)

func TestModelPackages(t *testing.T) {
	ctx := context.Background()
	f, c := start(t, awsfake.Options{}, "eu-west-1")
	if _, err := c.sm.CreateModelPackageGroup(ctx, &sagemaker.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("Churn")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.sm.CreateModelPackageGroup(ctx, &sagemaker.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("churn")})
	wantCode(t, err, "ValidationException", "already exists") // names are case-insensitive
	_, err = c.sm.CreateModelPackage(ctx, &sagemaker.CreateModelPackageInput{ModelPackageGroupName: aws.String("nope")})
	wantCode(t, err, "ValidationException", "does not exist")
	_, err = c.sm.DescribeModelPackageGroup(ctx, &sagemaker.DescribeModelPackageGroupInput{ModelPackageGroupName: aws.String("nope")})
	wantCode(t, err, "ValidationException", "does not exist")

	f.PlantObject("eu-west-1", "sagemaker-eu-west-1-123456789012", "m/model.tar.gz", []byte{0x1f, 0x8b})
	spec := &smtypes.InferenceSpecification{
		Containers:            []smtypes.ModelPackageContainerDefinition{{Image: aws.String("img"), ModelDataUrl: aws.String("s3://sagemaker-eu-west-1-123456789012/m/model.tar.gz")}},
		SupportedContentTypes: []string{"text/csv"}, SupportedResponseMIMETypes: []string{"text/csv"},
	}
	var arns []string
	for i := 0; i < 12; i++ {
		in := &sagemaker.CreateModelPackageInput{ModelPackageGroupName: aws.String("churn"), InferenceSpecification: spec}
		if i == 3 {
			in.ModelApprovalStatus = smtypes.ModelApprovalStatusApproved
		}
		out, err := c.sm.CreateModelPackage(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.ModelPackageArn))
	}
	if arns[0] != "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/1" {
		t.Fatalf("first ARN %s", arns[0])
	}

	list := func(in sagemaker.ListModelPackagesInput) []int {
		var out []int
		p := sagemaker.NewListModelPackagesPaginator(c.sm, &in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.ModelPackageSummaryList {
				out = append(out, int(aws.ToInt32(s.ModelPackageVersion)))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   sagemaker.ListModelPackagesInput
		want []int
	}{
		{"default order is ascending (oldest first)", sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("churn"), MaxResults: aws.Int32(5)}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"descending", sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("churn"), SortOrder: smtypes.SortOrderDescending, MaxResults: aws.Int32(5)}, []int{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"approved only", sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("churn"), ModelApprovalStatus: smtypes.ModelApprovalStatusApproved}, []int{4}},
		{"group by ARN", sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/churn"), MaxResults: aws.Int32(100)}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"no group lists unversioned packages only", sagemaker.ListModelPackagesInput{}, nil},
		{"unknown group", sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("other")}, nil},
	} {
		if got := list(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	_, err = c.sm.ListModelPackages(ctx, &sagemaker.ListModelPackagesInput{MaxResults: aws.Int32(101)})
	wantCode(t, err, "ValidationException", "maxResults")
	_, err = c.sm.ListModelPackages(ctx, &sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("churn"), NextToken: aws.String("bogus")})
	wantCode(t, err, "ValidationException", "pagination token")

	d, err := c.sm.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String(arns[0])})
	if err != nil {
		t.Fatal(err)
	}
	if d.ModelApprovalStatus != smtypes.ModelApprovalStatusPendingManualApproval || aws.ToInt32(d.ModelPackageVersion) != 1 ||
		d.ModelPackageStatus != smtypes.ModelPackageStatusCompleted || aws.ToString(d.InferenceSpecification.Containers[0].Image) != "img" {
		t.Fatalf("describe: %+v", d)
	}
	_, err = c.sm.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String(strings.TrimSuffix(arns[0], "1") + "99")})
	wantCode(t, err, "ValidationException", "does not exist")

	// Metadata properties merge and are removed; approval changes.
	if _, err := c.sm.UpdateModelPackage(ctx, &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String(arns[0]),
		ModelApprovalStatus: smtypes.ModelApprovalStatusApproved, ApprovalDescription: aws.String("ok"),
		CustomerMetadataProperties: map[string]string{"bridge_deploy_state": "DEPLOYED", "a": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.sm.UpdateModelPackage(ctx, &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String(arns[0]),
		CustomerMetadataPropertiesToRemove: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	meta, approval, _ := f.PackageMetadata(arns[0])
	if approval != "Approved" || len(meta) != 1 || meta["bridge_deploy_state"] != "DEPLOYED" {
		t.Fatalf("after updates: %s %v", approval, meta)
	}
	_, err = c.sm.UpdateModelPackage(ctx, &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String(arns[1]), ModelApprovalStatus: "Maybe"})
	wantCode(t, err, "ValidationException", "modelApprovalStatus")
	_, err = c.sm.UpdateModelPackage(ctx, &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String(arns[1]), CustomerMetadataProperties: map[string]string{"k": strings.Repeat("v", 257)}})
	wantCode(t, err, "ValidationException", "256")

	// CreateModel from a package: only Approved ones.
	execRole := "arn:aws:iam::123456789012:role/exec"
	if _, err := c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("exec"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("from-pending"), ExecutionRoleArn: aws.String(execRole),
		Containers: []smtypes.ContainerDefinition{{ModelPackageName: aws.String(arns[1])}}})
	wantCode(t, err, "ValidationException", "not approved")
	if _, err := c.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("from-approved"), ExecutionRoleArn: aws.String(execRole),
		Containers: []smtypes.ContainerDefinition{{ModelPackageName: aws.String(arns[0])}}}); err != nil {
		t.Fatal(err)
	}

	// Groups: sorting, and no deleting a group with packages.
	if _, err := c.sm.CreateModelPackageGroup(ctx, &sagemaker.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("aaa")}); err != nil {
		t.Fatal(err)
	}
	groups, err := c.sm.ListModelPackageGroups(ctx, &sagemaker.ListModelPackageGroupsInput{SortBy: smtypes.ModelPackageGroupSortByName})
	if err != nil || len(groups.ModelPackageGroupSummaryList) != 2 || aws.ToString(groups.ModelPackageGroupSummaryList[0].ModelPackageGroupName) != "aaa" {
		t.Fatalf("groups by name: %v %+v", err, groups)
	}
	_, err = c.sm.DeleteModelPackageGroup(ctx, &sagemaker.DeleteModelPackageGroupInput{ModelPackageGroupName: aws.String("churn")})
	wantCode(t, err, "ConflictException", "contains model packages")
	if _, err := c.sm.DeleteModelPackageGroup(ctx, &sagemaker.DeleteModelPackageGroupInput{ModelPackageGroupName: aws.String("aaa")}); err != nil {
		t.Fatal(err)
	}

	// Throttling: the SDK retries.
	f.ThrottleNext("ListModelPackages", 2)
	if got := list(sagemaker.ListModelPackagesInput{ModelPackageGroupName: aws.String("churn"), ModelApprovalStatus: smtypes.ModelApprovalStatusApproved}); !slices.Equal(got, []int{1, 4}) {
		t.Fatalf("after throttling: %v", got)
	}
	throttled := 0
	for _, call := range f.Calls() {
		if call.Operation == "ListModelPackages" && call.ErrorCode == "ThrottlingException" {
			throttled++
		}
	}
	if throttled != 2 {
		t.Fatalf("%d throttled calls recorded, want 2", throttled)
	}
}
