package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/sgname"
)

// Init implements target.Initializer: the private artifact bucket
// bridge-models-<account>-<region> and the execution role
// bridge-sagemaker-execution (trusted by sagemaker.amazonaws.com, with
// AmazonSageMakerFullAccess attached). Running it again changes nothing.
// New buckets are private by default (S3 Block Public Access and disabled
// ACLs), so no bucket policy call is needed, nor allowed by the policy.
func (t *Target) Init(ctx context.Context) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(t.bucket)}
	if t.region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(t.region)}
	}
	if _, err := t.s3.CreateBucket(ctx, in); err != nil {
		switch apiCode(err) {
		case "BucketAlreadyOwnedByYou":
		case "BucketAlreadyExists":
			return fmt.Errorf("create bucket %s: the name belongs to another AWS account; Bridge's bucket name is fixed, so use another account or region", t.bucket)
		default:
			return fmt.Errorf("create bucket %s: %w", t.bucket, err)
		}
	} else {
		t.log.Info("created bucket", "bucket", t.bucket)
	}
	_, err := t.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(RoleName),
		AssumeRolePolicyDocument: aws.String(TrustPolicy),
		Description:              aws.String("Execution role of SageMaker models deployed by Bridge"),
	})
	if err != nil && apiCode(err) != "EntityAlreadyExists" {
		return fmt.Errorf("create role %s: %w", RoleName, err)
	}
	if err == nil {
		t.log.Info("created role", "role", RoleName)
	}
	// Attaching an attached policy succeeds, so this is idempotent too.
	if _, err := t.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(RoleName), PolicyArn: aws.String(ManagedPolicyARN)}); err != nil {
		return fmt.Errorf("attach %s to role %s: %w", ManagedPolicyARN, RoleName, err)
	}
	return nil
}

// deletable endpoint statuses: DeleteEndpoint is refused in the others.
func deletable(s smtypes.EndpointStatus) bool {
	switch s {
	case smtypes.EndpointStatusInService, smtypes.EndpointStatusFailed, smtypes.EndpointStatusOutOfService, smtypes.EndpointStatusUpdateRollbackFailed:
		return true
	}
	return false
}

// Destroy implements target.Initializer: it deletes every "brdg-" endpoint
// (waiting for busy ones to settle, then until all are gone), every "brdg-"
// endpoint config and model, empties and deletes the bucket, detaches the
// managed policy and deletes the role. Missing resources are skipped, so it
// is safe to run again; resources without the prefix are never touched.
// It uses only list and delete actions (no describe: the init/destroy policy
// has none).
func (t *Target) Destroy(ctx context.Context) error {
	if err := t.destroyEndpoints(ctx); err != nil {
		return err
	}
	configs, err := t.listConfigs(ctx)
	if err != nil {
		return err
	}
	for _, c := range configs {
		if _, err := t.sm.DeleteEndpointConfig(ctx, &sm.DeleteEndpointConfigInput{EndpointConfigName: aws.String(c)}); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete endpoint config %s: %w", c, err)
		}
	}
	models, err := t.listModels(ctx)
	if err != nil {
		return err
	}
	for _, m := range models {
		if _, err := t.sm.DeleteModel(ctx, &sm.DeleteModelInput{ModelName: aws.String(m)}); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete model %s: %w", m, err)
		}
	}
	t.log.Info("deleted SageMaker resources", "endpoint_configs", len(configs), "models", len(models))
	if err := t.destroyBucket(ctx); err != nil {
		return err
	}
	_, err = t.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(RoleName), PolicyArn: aws.String(ManagedPolicyARN)})
	if err != nil && apiCode(err) != "NoSuchEntity" {
		return fmt.Errorf("detach %s from role %s: %w", ManagedPolicyARN, RoleName, err)
	}
	_, err = t.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(RoleName)})
	switch {
	case err == nil:
		t.log.Info("deleted role", "role", RoleName)
	case apiCode(err) == "NoSuchEntity":
	case apiCode(err) == "DeleteConflict":
		return fmt.Errorf("delete role %s: other policies are attached to it (not by Bridge); detach them and run destroy again: %w", RoleName, err)
	default:
		return fmt.Errorf("delete role %s: %w", RoleName, err)
	}
	t.mu.Lock()
	t.configs, t.described, t.origins, t.updates = map[string]*configInfo{}, map[string]describedEntry{}, map[string]sgname.Origin{}, map[string]string{}
	t.mu.Unlock()
	return nil
}

// destroyEndpoints deletes every "brdg-" endpoint and waits until none is
// left, within the wait timeout.
func (t *Target) destroyEndpoints(ctx context.Context) error {
	deadline := time.Now().Add(t.set.WaitTimeout)
	requested := map[string]bool{}
	for {
		eps, err := t.listEndpoints(ctx)
		if err != nil {
			return err
		}
		if len(eps) == 0 {
			if len(requested) > 0 {
				t.log.Info("deleted endpoints", "count", len(requested))
			}
			return nil
		}
		var busy []string
		for _, e := range eps {
			if !deletable(e.status) {
				busy = append(busy, e.name+" ("+string(e.status)+")")
				continue
			}
			_, err := t.sm.DeleteEndpoint(ctx, &sm.DeleteEndpointInput{EndpointName: aws.String(e.name)})
			switch {
			case err == nil:
				requested[e.name] = true
			case isNotFound(err), isInProgress(err):
				// Gone meanwhile, or busy after all: the next round looks again.
			default:
				return fmt.Errorf("delete endpoint %s: %w", e.name, err)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("endpoints still not deleted after %s (%s): %v", t.set.WaitTimeout, EnvWaitTimeout, busy)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(t.set.PollInterval):
		}
	}
}

// destroyBucket empties the bucket and deletes it; a missing bucket is fine.
func (t *Target) destroyBucket(ctx context.Context) error {
	for {
		keys, err := t.listKeys(ctx, "")
		if err != nil {
			var nb *noBucketError
			if errors.As(err, &nb) {
				return nil
			}
			return err
		}
		if len(keys) == 0 {
			break
		}
		if err := t.deleteKeys(ctx, keys); err != nil {
			return err
		}
	}
	if _, err := t.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(t.bucket)}); err != nil && apiCode(err) != "NoSuchBucket" {
		return fmt.Errorf("delete bucket %s: %w", t.bucket, err)
	}
	t.log.Info("deleted bucket", "bucket", t.bucket)
	return nil
}
