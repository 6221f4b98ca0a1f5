// Package sagemaker is Bridge's AWS SageMaker deploy target: every version
// becomes a SageMaker model (its artifact uploaded to the bridge-models
// bucket), every (model, stage|alias) a real-time endpoint with one
// production variant per version, updated blue/green through new endpoint
// configs.
//
// The target calls only the actions of the least-privilege IAM policies in
// package iampolicy: Init and Destroy those of the init/destroy policy, the
// Target methods those of the run policy, plus sts:GetCallerIdentity. So it
// never tags resources, never reads the role (iam:GetRole) and never touches
// a resource whose name lacks the "brdg-" prefix. Versions that are SageMaker
// model packages (BRIDGE_REGISTRY=sagemaker) also need
// sagemaker:DescribeModelPackage, which the registry's policy statements
// grant (iampolicy.PackageGroupStatements).
package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/smithy-go"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/sgname"
	"github.com/bridgeops/bridge/internal/target"
)

// Kind is the target's name for BRIDGE_DEPLOY_KIND and bridge init|destroy.
const Kind = "sagemaker"

// Fixed resource names of the seed guide.
const (
	RoleName          = "bridge-sagemaker-execution"
	ManagedPolicyARN  = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
	artifactFile      = "artifact.tar.gz"
	originPrefix      = "_bridge/names/"
	dataCapturePrefix = "datacapture"
)

// TrustPolicy lets SageMaker assume the execution role.
const TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func init() {
	target.Register(Kind, func(ctx context.Context, deps target.Deps) (target.Target, error) {
		auth, err := awsauth.FromConfig(deps.Config)
		if err != nil {
			return nil, err
		}
		return Open(ctx, deps, auth)
	})
}

// BucketName is the artifact bucket of an account and region.
func BucketName(account, region string) string {
	return "bridge-models-" + account + "-" + region
}

// Target is the SageMaker deploy target.
type Target struct {
	set     Settings
	fetch   target.Fetcher
	log     *slog.Logger
	sm      *sm.Client
	s3      *s3.Client
	iam     *iam.Client
	up      *manager.Uploader
	account string
	region  string
	bucket  string
	roleARN string

	mu        sync.Mutex
	configs   map[string]*configInfo    // endpoint config name -> content (configs are immutable)
	described map[string]describedEntry // endpoint name -> last DescribeEndpoint
	origins   map[string]sgname.Origin  // hashed name -> what it stands for
	updates   map[string]string         // endpoint -> config of the last UpdateEndpoint
	warned    map[string]bool           // unmappable names already logged
	adopted   map[string]string         // Bridge's endpoint name -> the case-twin that exists (adopt.go)
}

var (
	_ target.Target      = (*Target)(nil)
	_ target.Initializer = (*Target)(nil)
)

// openTimeout bounds Open's identity check.
const openTimeout = 30 * time.Second

// Open builds the target: it loads AWS credentials and asks STS for the
// account id, and makes no other call.
func Open(ctx context.Context, deps target.Deps, auth awsauth.Options) (*Target, error) {
	set, err := LoadSettings(deps.Config)
	if err != nil {
		return nil, err
	}
	cfg, err := awsauth.Load(ctx, auth)
	if err != nil {
		return nil, err
	}
	// Bound the first call: an unreachable AWS is reported in seconds, not
	// after the whole retry budget.
	idCtx, cancel := context.WithTimeout(ctx, openTimeout)
	id, err := awsauth.CallerIdentity(idCtx, cfg)
	cancel()
	if err != nil {
		return nil, err
	}
	metrics, err := newCallMetrics(deps.Metrics)
	if err != nil {
		return nil, fmt.Errorf("register SageMaker target metrics: %w", err)
	}
	cfg.APIOptions = append(cfg.APIOptions, metrics.apiOption)
	pathStyle := awsauth.EndpointOverridden(cfg, "S3")
	t := &Target{
		set:     set,
		fetch:   deps.Fetcher,
		log:     slog.Default().With("target", Kind),
		sm:      sm.NewFromConfig(cfg),
		s3:      s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		iam:     iam.NewFromConfig(cfg),
		account: id.Account,
		region:  cfg.Region,
		bucket:  BucketName(id.Account, cfg.Region),
		roleARN: "arn:aws:iam::" + id.Account + ":role/" + RoleName,

		configs:   map[string]*configInfo{},
		described: map[string]describedEntry{},
		origins:   map[string]sgname.Origin{},
		updates:   map[string]string{},
		warned:    map[string]bool{},
	}
	t.up = manager.NewUploader(t.s3, func(u *manager.Uploader) {
		u.PartSize = set.PartSize
		// AbortMultipartUpload is not in the run policy (s3:*Object* does
		// not match it), so a failed upload leaves its parts; the next
		// attempt uploads the object again from the start.
		u.LeavePartsOnError = true
	})
	return t, nil
}

// Name implements target.Target.
func (t *Target) Name() string { return Kind }

// Account is the AWS account id of the credentials.
func (t *Target) Account() string { return t.account }

// Region is the AWS region.
func (t *Target) Region() string { return t.region }

// Bucket is the artifact bucket.
func (t *Target) Bucket() string { return t.bucket }

// URL implements target.Target: the endpoint's InvokeEndpoint URL.
func (t *Target) URL(key model.EndpointKey) string {
	domain := "amazonaws.com"
	if strings.HasPrefix(t.region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return fmt.Sprintf("https://runtime.sagemaker.%s.%s/endpoints/%s/invocations", t.region, domain, t.endpointName(key))
}

// ArtifactKey is where a version's model.tar.gz lives in the bucket.
func ArtifactKey(ref model.VersionRef) string {
	return fmt.Sprintf("%s/%d/%s", ref.Model, ref.Version, artifactFile)
}

// Error classification. SageMaker reports missing and duplicate resources
// and busy endpoints as ValidationException with a message.

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func isNotFound(err error) bool {
	switch apiCode(err) {
	case "ResourceNotFound", "NoSuchKey", "NotFound", "NoSuchEntity":
		return true
	case "ValidationException":
		return strings.Contains(apiMessage(err), "Could not find")
	}
	return false
}

func isAlreadyExists(err error) bool {
	return apiCode(err) == "ValidationException" && strings.Contains(apiMessage(err), "already existing")
}

func isInProgress(err error) bool {
	return apiCode(err) == "ValidationException" && strings.Contains(apiMessage(err), "in-progress")
}
