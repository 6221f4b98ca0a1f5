// Package awsauth builds the AWS SDK configuration Bridge's SageMaker target
// uses: the SDK's standard credential chain (environment keys, shared
// config and credentials files, named profiles, SSO, container and instance
// roles), an optional named profile (BRDG_DEPLOY_AWS_PROFILE), the region
// (AWS_REGION or AWS_DEFAULT_REGION), an optional role to assume with
// session tags (AWS_ROLE), and the standard retryer with more attempts, so
// throttling is ridden out rather than reported.
//
// Endpoint overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SAGEMAKER,
// AWS_ENDPOINT_URL_S3, ...; endpoint_url in a profile) are read by the SDK
// itself, which is how Bridge is pointed at an AWS emulator.
package awsauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/bridgeops/bridge/internal/config"
)

// Environment variables read by FromConfig (besides those the SDK reads).
const (
	EnvProfile     = "BRDG_DEPLOY_AWS_PROFILE"
	EnvRole        = "AWS_ROLE"
	EnvSessionTags = "BRDG_DEPLOY_AWS_SESSION_TAGS"
	EnvMaxAttempts = "BRDG_DEPLOY_AWS_MAX_ATTEMPTS"
	EnvMaxBackoff  = "BRDG_DEPLOY_AWS_MAX_BACKOFF_S"
)

// DefaultMaxAttempts is how often a call is tried before its error is
// returned (the SDK's default is 3).
const DefaultMaxAttempts = 10

// Options say how to build the configuration.
type Options struct {
	// Profile is a named profile of the shared config files; empty means
	// AWS_PROFILE or "default".
	Profile string
	// Region overrides the region; empty means AWS_REGION,
	// AWS_DEFAULT_REGION or the profile's region.
	Region string
	// Role is the ARN of a role to assume with the loaded credentials.
	Role string
	// SessionName names the assumed-role session (default "bridge").
	SessionName string
	// SessionTags are passed when assuming Role (needs sts:TagSession).
	SessionTags map[string]string
	// MaxAttempts per call (default DefaultMaxAttempts).
	MaxAttempts int
	// MaxBackoff caps the delay between attempts (default the SDK's 20s).
	MaxBackoff time.Duration
	// NoRetryQuota turns off the client-side retry token bucket, which
	// otherwise stops retries after many failures in a row.
	NoRetryQuota bool
}

// FromConfig reads Options from Bridge's configuration (environment, then
// .env). The assumed-role session is named "bridge" and tagged
// Application=bridge plus the tags of BRDG_DEPLOY_AWS_SESSION_TAGS.
func FromConfig(c config.Config) (Options, error) {
	o := Options{
		Profile:     c.Get(EnvProfile, ""),
		Region:      c.Get("AWS_REGION", c.Get("AWS_DEFAULT_REGION", "")),
		Role:        c.Get(EnvRole, ""),
		SessionName: "bridge",
		SessionTags: map[string]string{"Application": "bridge"},
		MaxAttempts: DefaultMaxAttempts,
	}
	if s := c.Get(EnvMaxBackoff, ""); s != "" {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || secs <= 0 {
			return Options{}, fmt.Errorf("%s=%q: want a positive number of seconds", EnvMaxBackoff, s)
		}
		o.MaxBackoff = time.Duration(secs * float64(time.Second))
	}
	if s := c.Get(EnvMaxAttempts, ""); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return Options{}, fmt.Errorf("%s=%q: want a positive number of attempts", EnvMaxAttempts, s)
		}
		o.MaxAttempts = n
	}
	if s := c.Get(EnvSessionTags, ""); s != "" {
		tags, err := ParseTags(s)
		if err != nil {
			return Options{}, fmt.Errorf("%s: %w", EnvSessionTags, err)
		}
		for k, v := range tags {
			o.SessionTags[k] = v
		}
	}
	return o, nil
}

// ParseTags parses "key=value,key2=value2".
func ParseTags(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%q: want key=value pairs separated by commas", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// ErrNoRegion and ErrNoCredentials are wrapped by Load's errors.
var (
	ErrNoRegion      = errors.New("no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION, or region in your AWS profile)")
	ErrNoCredentials = errors.New("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or BRDG_DEPLOY_AWS_PROFILE) to a profile in ~/.aws/config, or run where an instance or container role is available")
)

// Load builds the SDK configuration and checks that a region and
// credentials are there, so a missing one is reported up front in one
// sentence rather than at the first call.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				if o.MaxBackoff > 0 {
					so.MaxBackoff = o.MaxBackoff
				}
				if o.NoRetryQuota {
					so.RateLimiter = ratelimit.None
				}
			})
		}),
	}
	if o.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe awsconfig.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return aws.Config{}, fmt.Errorf("AWS profile %q not found: set %s or AWS_PROFILE to a profile in ~/.aws/config (or unset it to use the default chain)", pe.Profile, EnvProfile)
		}
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	if cfg.Credentials == nil {
		return aws.Config{}, ErrNoCredentials
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("%w (%v)", ErrNoCredentials, err)
	}
	if o.Role != "" {
		name := o.SessionName
		if name == "" {
			name = "bridge"
		}
		prov := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), o.Role, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = name
			ao.Tags = sessionTags(o.SessionTags)
		})
		cfg.Credentials = aws.NewCredentialsCache(prov)
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return aws.Config{}, fmt.Errorf("assume role %s (AWS_ROLE): %w; the caller needs sts:AssumeRole and sts:TagSession on it, and the role's trust policy must allow both", o.Role, err)
		}
	}
	return cfg, nil
}

func sessionTags(m map[string]string) []ststypes.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ststypes.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, ststypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// Identity is the caller as STS reports it.
type Identity struct {
	Account string
	ARN     string
}

// CallerIdentity asks STS who the credentials belong to
// (sts:GetCallerIdentity needs no permission).
func CallerIdentity(ctx context.Context, cfg aws.Config) (Identity, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
			return Identity{}, fmt.Errorf("sts get-caller-identity: %w; AWS is not reachable from here: check the network, AWS_REGION and any AWS_ENDPOINT_URL", err)
		}
		return Identity{}, fmt.Errorf("sts get-caller-identity: %w; check the AWS credentials", err)
	}
	return Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}, nil
}

// EndpointOverridden reports whether an endpoint override is configured
// for the service (sdkID as the SDK names it: "S3", "SageMaker"): the
// config's BaseEndpoint (AWS_ENDPOINT_URL, endpoint_url of the profile) or
// the service's own (AWS_ENDPOINT_URL_<SERVICE>, the profile's services
// section), as the SDK resolves them when cfg was loaded, and unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is set. Emulators need S3 path-style
// addressing then.
func EndpointOverridden(cfg aws.Config, sdkID string) bool {
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return true
	}
	ctx := context.Background()
	type ignorer interface {
		GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
	}
	type serviceEndpoint interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
	for _, src := range cfg.ConfigSources {
		if ig, ok := src.(ignorer); ok {
			if v, found, err := ig.GetIgnoreConfiguredEndpoints(ctx); err == nil && found && v {
				return false
			}
		}
	}
	for _, src := range cfg.ConfigSources {
		if se, ok := src.(serviceEndpoint); ok {
			if v, found, err := se.GetServiceBaseEndpoint(ctx, sdkID); err == nil && found && v != "" {
				return true
			}
		}
	}
	return false
}
