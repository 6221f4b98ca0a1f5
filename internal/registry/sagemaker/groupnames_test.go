package sagemaker_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

// TestGroupNamesAsCreated: a group is the same model however
// BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS spells it (names are
// case-insensitive), so its endpoints keep their names.
func TestGroupNamesAsCreated(t *testing.T) {
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
	if _, err := c.CreateModelPackageGroup(ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("stsPackageGroup")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateModelPackage(ctx, &sm.CreateModelPackageInput{ModelPackageGroupName: aws.String("stsPackageGroup")}); err != nil {
		t.Fatal(err)
	}
	rules, _ := config.ParseSlotRules(config.DefaultPackageSlot)
	for _, groups := range [][]string{nil, {"stsPackageGroup"}, {"STSPACKAGEGROUP"}, {"stspackagegroup"}} {
		reg := regsm.New(c, config.RegistrySettings{Kind: config.RegistrySageMaker, Groups: groups, Slots: rules}, nil)
		if len(groups) > 0 && groups[0] == "stspackagegroup" {
			if err := reg.Check(ctx); err != nil {
				t.Fatal(err)
			}
		}
		vs, err := reg.Versions(ctx)
		if err != nil || len(vs) != 1 || vs[0].Name != "stsPackageGroup" {
			t.Fatalf("groups %v: %v %+v", groups, err, vs)
		}
	}
}
