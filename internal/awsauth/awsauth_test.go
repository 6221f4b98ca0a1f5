package awsauth_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
)

// isolate points the SDK at nothing of the machine's own AWS setup.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ROLE_ARN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		awsauth.EnvProfile, awsauth.EnvRole, awsauth.EnvSessionTags, awsauth.EnvMaxAttempts, awsauth.EnvMaxBackoff} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(dir, ".env"))
}

func loadConfig(t *testing.T) config.Config {
	t.Helper()
	c, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	c.Export()
	return c
}

func TestFromConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want awsauth.Options
		err  string
	}{
		{"defaults", nil, awsauth.Options{SessionName: "bridge", SessionTags: map[string]string{"Application": "bridge"}, MaxAttempts: 10}, ""},
		{"everything", map[string]string{
			awsauth.EnvProfile: "bridge-run", "AWS_DEFAULT_REGION": "eu-west-1", awsauth.EnvRole: "arn:aws:iam::123456789012:role/r",
			awsauth.EnvSessionTags: "team=ml, cost-center=42", awsauth.EnvMaxAttempts: "4", awsauth.EnvMaxBackoff: "0.5",
		}, awsauth.Options{Profile: "bridge-run", Region: "eu-west-1", Role: "arn:aws:iam::123456789012:role/r", SessionName: "bridge",
			SessionTags: map[string]string{"Application": "bridge", "team": "ml", "cost-center": "42"}, MaxAttempts: 4, MaxBackoff: 500 * time.Millisecond}, ""},
		{"AWS_REGION wins", map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"},
			awsauth.Options{Region: "us-west-2", SessionName: "bridge", SessionTags: map[string]string{"Application": "bridge"}, MaxAttempts: 10}, ""},
		{"bad attempts", map[string]string{awsauth.EnvMaxAttempts: "0"}, awsauth.Options{}, awsauth.EnvMaxAttempts},
		{"bad backoff", map[string]string{awsauth.EnvMaxBackoff: "soon"}, awsauth.Options{}, awsauth.EnvMaxBackoff},
		{"bad tags", map[string]string{awsauth.EnvSessionTags: "novalue"}, awsauth.Options{}, "key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := awsauth.FromConfig(loadConfig(t))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error mentioning %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLoadErrorsSayWhatToSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no region", map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s"}, "set AWS_REGION"},
		{"no credentials", map[string]string{"AWS_REGION": "eu-west-1"}, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{"unknown profile", map[string]string{"AWS_REGION": "eu-west-1", awsauth.EnvProfile: "nope"}, `AWS profile "nope" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			o, err := awsauth.FromConfig(loadConfig(t))
			if err != nil {
				t.Fatal(err)
			}
			_, err = awsauth.Load(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestProfileDotEnvRoleAndOverride goes through the whole chain against the
// fake: credentials and region from a named profile in a shared config
// file, the profile chosen in a .env file, a role assumed with session
// tags, and a per-service endpoint override (AWS_ENDPOINT_URL_STS) honoured
// by the SDK.
func TestProfileDotEnvRoleAndOverride(t *testing.T) {
	isolate(t)
	f := awsfake.New(awsfake.Options{})
	defer f.Close()
	dir := t.TempDir()
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte("[profile bridge-run]\nregion = eu-central-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := "[bridge-run]\naws_access_key_id = " + awsfake.DefaultAccessKey + "\naws_secret_access_key = " + awsfake.DefaultSecretKey + "\n"
	if err := os.WriteFile(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	env := filepath.Join(dir, ".env")
	dotenv := "BRDG_DEPLOY_AWS_PROFILE=bridge-run\nAWS_ROLE=arn:aws:iam::123456789012:role/bridge-deployer\nBRDG_DEPLOY_AWS_SESSION_TAGS=team=ml\nAWS_ENDPOINT_URL_STS=" + f.URL + "\n"
	if err := os.WriteFile(env, []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BRIDGE_ENV_FILE", env)
	t.Setenv("AWS_ENDPOINT_URL_STS", "") // set by .env through Export
	os.Unsetenv("AWS_ENDPOINT_URL_STS")

	o, err := awsauth.FromConfig(loadConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := awsauth.Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-central-1" {
		t.Fatalf("region %q, want the profile's eu-central-1", cfg.Region)
	}
	id, err := awsauth.CallerIdentity(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if id.ARN != "arn:aws:sts::123456789012:assumed-role/bridge-deployer/bridge" {
		t.Fatalf("caller %s, want the assumed role", id.ARN)
	}
	s := f.AssumedSessions()
	if len(s) != 1 || !reflect.DeepEqual(s[0].Tags, map[string]string{"Application": "bridge", "team": "ml"}) {
		t.Fatalf("assumed sessions %+v", s)
	}
	// Only STS is overridden: S3 keeps virtual-hosted addressing.
	if awsauth.EndpointOverridden(cfg, "S3") {
		t.Fatal("an STS-only override must not switch S3 to path-style")
	}
}

// TestEndpointOverridden: S3 switches to path-style addressing exactly
// when the SDK configuration overrides S3's endpoint (environment or
// profile), and not when only another service's is overridden or the
// overrides are to be ignored.
func TestEndpointOverridden(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		profile string
		s3, sm  bool
	}{
		{"none", nil, "", false, false},
		{"every service", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, "", true, true},
		{"S3 only", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, "", true, false},
		{"SageMaker only", map[string]string{"AWS_ENDPOINT_URL_SAGEMAKER": "http://127.0.0.1:9000"}, "", false, true},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", false, false},
		{"profile", nil, "[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:9000\n", true, true},
		{"profile services", nil, "[default]\nregion = eu-west-1\nservices = emu\n[services emu]\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SAGEMAKER", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.profile != "" {
				if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(tc.profile), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("AWS_REGION", "eu-west-1")
			t.Setenv("AWS_ACCESS_KEY_ID", awsfake.DefaultAccessKey)
			t.Setenv("AWS_SECRET_ACCESS_KEY", awsfake.DefaultSecretKey)
			cfg, err := awsauth.Load(context.Background(), awsauth.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := awsauth.EndpointOverridden(cfg, "S3"); got != tc.s3 {
				t.Errorf("S3 overridden = %v, want %v", got, tc.s3)
			}
			if got := awsauth.EndpointOverridden(cfg, "SageMaker"); got != tc.sm {
				t.Errorf("SageMaker overridden = %v, want %v", got, tc.sm)
			}
		})
	}
}
