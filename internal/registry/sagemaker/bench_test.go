package sagemaker_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

// BenchmarkPackagePass measures one registry pass over a group of 1,000
// packages against the AWS fake (loopback HTTP, real SDK): the first pass
// reads every package's metadata once; later passes cost one listing per
// 100 packages. It reports the SageMaker calls of a later pass and of the
// first.
func BenchmarkPackagePass(b *testing.B) {
	ctx := context.Background()
	f := awsfake.New(awsfake.Options{})
	defer f.Close()
	for k, v := range f.Env() {
		b.Setenv(k, v)
	}
	cfg, err := awsauth.Load(ctx, awsauth.Options{MaxAttempts: 3})
	if err != nil {
		b.Fatal(err)
	}
	c := sm.NewFromConfig(cfg)
	if _, err := c.CreateModelPackageGroup(ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("big")}); err != nil {
		b.Fatal(err)
	}
	const n = 1000
	for i := 0; i < n; i++ {
		in := &sm.CreateModelPackageInput{ModelPackageGroupName: aws.String("big")}
		if i%10 == 0 {
			in.ModelApprovalStatus = smtypes.ModelApprovalStatusApproved
		}
		if _, err := c.CreateModelPackage(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	rules, _ := config.ParseSlotRules(config.DefaultPackageSlot)
	r := regsm.New(c, config.RegistrySettings{Kind: config.RegistrySageMaker, Groups: []string{"big"}, Slots: rules}, nil)
	mark := f.Mark()
	if vs, err := r.Versions(ctx); err != nil || len(vs) != n {
		b.Fatalf("first pass: %d versions, %v", len(vs), err)
	}
	first := len(f.CallsSince(mark))
	b.ResetTimer()
	mark = f.Mark()
	for i := 0; i < b.N; i++ {
		vs, err := r.Versions(ctx)
		if err != nil || len(vs) != n {
			b.Fatalf("%d versions, %v", len(vs), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(f.CallsSince(mark)))/float64(b.N), "calls/pass")
	b.ReportMetric(float64(first), "calls/first-pass")
}
