package sagemaker_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"

	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

// TestDeletedPackageLeavesProduction: deleting the package Production
// serves moves Production back to the newest approved package left, and
// the deleted package's model goes.
func TestDeletedPackageLeavesProduction(t *testing.T) {
	h := newPackageHarness(t)
	h.registerPackage(1)
	arn2 := h.registerPackage(2)
	h.setApproval(1, regsm.Approved)
	h.setApproval(2, regsm.Approved)
	h.converge(10 * time.Second)
	if got := h.endpointModels("brdg-churn-production"); !slices.Equal(got, []string{"brdg-churn-2"}) {
		t.Fatalf("production serves %v", got)
	}
	if _, err := h.admin.DeleteModelPackage(h.ctx, &sm.DeleteModelPackageInput{ModelPackageName: aws.String(arn2)}); err != nil {
		t.Fatal(err)
	}
	h.converge(10 * time.Second)
	if got := h.endpointModels("brdg-churn-production"); !slices.Equal(got, []string{"brdg-churn-1"}) {
		t.Fatalf("after deleting package 2, production serves %v", got)
	}
	if slices.Contains(h.fake.Models(), "brdg-churn-2") {
		t.Fatal("the deleted package's model is still there")
	}
}
