package sagemaker

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/config"
)

// Environment variables of the SageMaker target (see docs/sagemaker.md).
const (
	EnvImage          = "BRDG_DEPLOY_AWS_IMAGE"
	EnvInstanceType   = "BRDG_DEPLOY_AWS_INSTANCE_TYPE"
	EnvInstanceCount  = "BRDG_DEPLOY_AWS_INSTANCE_COUNT"
	EnvDataCapture    = "BRDG_DEPLOY_AWS_DATA_CAPTURE_PERCENT"
	EnvContainerEnv   = "BRDG_DEPLOY_AWS_CONTAINER_ENV"
	EnvWaitTimeout    = "BRDG_DEPLOY_AWS_WAIT_TIMEOUT_S"
	EnvPollInterval   = "BRDG_DEPLOY_AWS_POLL_INTERVAL_S"
	EnvUploadPartSize = "BRDG_DEPLOY_AWS_UPLOAD_PART_MB"
)

// Defaults.
const (
	DefaultInstanceType = "ml.t2.medium"
	defaultWaitTimeout  = 30 * time.Minute
	defaultPoll         = 10 * time.Second
	defaultPartMB       = 16
)

// Settings are the target's configuration, read from Bridge's config.
type Settings struct {
	Image         string            // serving image URI (required to create versions)
	InstanceType  string            // default instance type
	InstanceCount int               // default instance count per variant
	CapturePct    int               // data capture sampling percentage; 0 = off
	ContainerEnv  map[string]string // environment of the serving container
	WaitTimeout   time.Duration     // how long to wait for an endpoint to go away
	PollInterval  time.Duration     // how often to look while waiting
	PartSize      int64             // multipart upload part size in bytes

	get func(key, def string) string // per-slot overrides are read on use
}

// Capacity is the instance type and count of an endpoint's variants.
type Capacity struct {
	InstanceType string
	Count        int
}

// LoadSettings reads Settings from configuration.
func LoadSettings(c config.Config) (Settings, error) {
	s := Settings{
		Image:        c.Get(EnvImage, ""),
		InstanceType: c.Get(EnvInstanceType, DefaultInstanceType),
		ContainerEnv: map[string]string{
			// What MLflow's SageMaker serving container (mlflow sagemaker
			// build-and-push-container) reads to pick the model flavor.
			"MLFLOW_DEPLOYMENT_FLAVOR_NAME": "python_function",
			"SERVING_ENVIRONMENT":           "SageMaker",
		},
		get: c.Get,
	}
	var err error
	if s.InstanceCount, err = positiveInt(c, EnvInstanceCount, 1); err != nil {
		return Settings{}, err
	}
	pct := c.Get(EnvDataCapture, "")
	if pct != "" {
		n, err := strconv.Atoi(pct)
		if err != nil || n < 0 || n > 100 {
			return Settings{}, fmt.Errorf("%s=%q: want a whole percentage from 0 to 100", EnvDataCapture, pct)
		}
		s.CapturePct = n
	}
	if e := c.Get(EnvContainerEnv, ""); e != "" {
		extra, err := awsauth.ParseTags(e)
		if err != nil {
			return Settings{}, fmt.Errorf("%s: %w", EnvContainerEnv, err)
		}
		for k, v := range extra {
			s.ContainerEnv[k] = v
		}
	}
	if s.WaitTimeout, err = seconds(c, EnvWaitTimeout, defaultWaitTimeout); err != nil {
		return Settings{}, err
	}
	if s.PollInterval, err = seconds(c, EnvPollInterval, defaultPoll); err != nil {
		return Settings{}, err
	}
	mb, err := positiveInt(c, EnvUploadPartSize, defaultPartMB)
	if err != nil {
		return Settings{}, err
	}
	if mb < 5 {
		return Settings{}, fmt.Errorf("%s=%d: S3 parts must be at least 5 MB", EnvUploadPartSize, mb)
	}
	s.PartSize = int64(mb) << 20
	return s, nil
}

// SlotEnv returns the variable-name form of a slot: upper case, every
// other character than a letter or digit replaced by "_" (Production →
// PRODUCTION, my-alias → MY_ALIAS).
func SlotEnv(slot string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(slot) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Capacity returns the instance type and count for an endpoint slot:
// BRDG_DEPLOY_AWS_<SLOT>_INSTANCE_TYPE and _INSTANCE_COUNT override the
// defaults (e.g. BRDG_DEPLOY_AWS_PRODUCTION_INSTANCE_TYPE=ml.m5.large).
func (s Settings) Capacity(slot string) (Capacity, error) {
	get := s.get
	if get == nil {
		get = func(_, def string) string { return def }
	}
	prefix := "BRDG_DEPLOY_AWS_" + SlotEnv(slot)
	c := Capacity{InstanceType: get(prefix+"_INSTANCE_TYPE", s.InstanceType), Count: s.InstanceCount}
	if v := get(prefix+"_INSTANCE_COUNT", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Capacity{}, fmt.Errorf("%s_INSTANCE_COUNT=%q: want a positive number of instances", prefix, v)
		}
		c.Count = n
	}
	if !strings.HasPrefix(c.InstanceType, "ml.") {
		return Capacity{}, fmt.Errorf("instance type %q for %s: want a SageMaker instance type such as ml.m5.large", c.InstanceType, slot)
	}
	return c, nil
}

func positiveInt(c config.Config, key string, def int) (int, error) {
	v := c.Get(key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive whole number", key, v)
	}
	return n, nil
}

func seconds(c config.Config, key string, def time.Duration) (time.Duration, error) {
	v := c.Get(key, "")
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive number of seconds", key, v)
	}
	return time.Duration(f * float64(time.Second)), nil
}
