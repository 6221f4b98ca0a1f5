package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PythonSettings configure the Python model runtime.
type PythonSettings struct {
	Interpreter string // BRIDGE_PYTHON; empty means the runtime's default
	EnvManager  string // BRIDGE_ENV_MANAGER: local or virtualenv
	Server      string // BRIDGE_PYTHON_SERVER: auto, mlflow or bridge
	Prestart    bool   // BRIDGE_PYTHON_PRESTART: keep an idle server ready
}

// LocalSettings configure the localhost deploy target.
type LocalSettings struct {
	// ReadyTimeout bounds how long a loaded version may take to answer its
	// health check (BRIDGE_MODEL_READY_TIMEOUT_S); 0 means the target's
	// default.
	ReadyTimeout time.Duration
}

// AWSSettings are the AWS settings Bridge reads itself; the AWS SDK reads
// the rest (credentials, profiles) from the process environment (see
// Export).
type AWSSettings struct {
	Region        string // AWS_REGION, else AWS_DEFAULT_REGION
	EndpointURL   string // AWS_ENDPOINT_URL: every service (an emulator, MinIO)
	S3EndpointURL string // AWS_ENDPOINT_URL_S3
	// ArtifactS3EndpointURL is MLFLOW_S3_ENDPOINT_URL: the S3-compatible
	// server of s3:// model artifacts.
	ArtifactS3EndpointURL string
}

// S3Endpoint is the endpoint override for S3, if any: AWS_ENDPOINT_URL_S3,
// else AWS_ENDPOINT_URL.
func (a AWSSettings) S3Endpoint() string {
	if a.S3EndpointURL != "" {
		return a.S3EndpointURL
	}
	return a.EndpointURL
}

// Setting describes one configuration variable.
type Setting struct {
	Name    string // environment variable
	Flag    string // the command-line flag that overrides it (bridge run's, or global), if any
	Default string
	Secret  bool // masked by bridge config
	Help    string
}

// Settings lists every variable Bridge reads, in the order bridge config
// prints them. Variables of the AWS SDK that Bridge does not interpret
// (credentials, profiles) are not listed.
var Settings = []Setting{
	{Name: "BRIDGE_HOME", Flag: "--home", Default: ".bridge", Help: "state directory"},
	{Name: "BRIDGE_DEPLOY_KIND", Default: "localhost", Help: "deploy target: localhost or sagemaker"},
	{Name: "BRIDGE_MLFLOW_URI", Help: "MLflow server to follow instead of the embedded registry"},
	{Name: "BRIDGE_REGISTRY_TOKEN", Secret: true, Help: "bearer token of the registry API"},
	{Name: "BRIDGE_SCAN_INTERVAL_S", Default: "5", Help: "seconds between passes without a wake-up"},
	{Name: "BRIDGE_MODEL_CACHE_PATH", Default: "$BRIDGE_HOME/cache", Help: "where version artifacts are fetched to"},
	{Name: "BRIDGE_MODEL_READY_TIMEOUT_S", Default: "120", Help: "how long a loaded version may take to answer its health check"},
	{Name: "BRIDGE_DRAIN_TIMEOUT_S", Default: "30", Help: "how long bridge run may take to stop"},
	{Name: "PORT", Default: "3000", Help: "front door port (on 127.0.0.1 unless run --addr)"},
	{Name: "LOG_LEVEL", Flag: "--log-level", Default: "info", Help: "debug, info, warn or error"},
	{Name: "BRIDGE_PYTHON", Help: "interpreter for Python models"},
	{Name: "BRIDGE_ENV_MANAGER", Default: "local", Help: "local or virtualenv"},
	{Name: "BRIDGE_PYTHON_SERVER", Default: "auto", Help: "auto, mlflow or bridge"},
	{Name: "BRIDGE_PYTHON_PRESTART", Default: "1", Help: "0: no pre-started Python servers"},
	{Name: "BRIDGE_NATIVE", Default: "auto", Help: "off, auto or require: serve tree models in-process"},
	{Name: "BRIDGE_CAPTURE", Flag: "run --capture", Default: "false", Help: "capture every endpoint's requests and responses"},
	{Name: "BRIDGE_CAPTURE_SAMPLING", Flag: "run --capture-sampling", Default: "100", Help: "percentage of invocations captured"},
	{Name: "BRIDGE_CAPTURE_MODE", Flag: "run --capture-mode", Default: "both", Help: "input, output or both"},
	{Name: "BRIDGE_CAPTURE_DIR", Flag: "run --capture-dir", Default: "$BRIDGE_HOME/datacapture", Help: "capture directory"},
	{Name: "BRIDGE_CAPTURE_ENDPOINTS", Flag: "run --capture-endpoint", Help: "per-endpoint overrides NAME=SPEC;…"},
	{Name: "BRIDGE_CAPTURE_QUEUE", Flag: "run --capture-queue", Default: "8192", Help: "captured records buffered before drops"},
	{Name: "BRIDGE_MONITOR_SCHEDULES", Flag: "run --monitor-schedules", Default: "true", Help: "run the monitoring schedules"},
	{Name: "BRIDGE_ALERT_WEBHOOK", Flag: "run --alert-webhook", Secret: true, Help: "URL that receives violations"},
	{Name: "AWS_REGION", Help: "AWS region (else AWS_DEFAULT_REGION)"},
	{Name: "AWS_DEFAULT_REGION", Help: "AWS region when AWS_REGION is unset"},
	{Name: "AWS_ENDPOINT_URL", Help: "endpoint of every AWS service (an emulator)"},
	{Name: "AWS_ENDPOINT_URL_S3", Help: "endpoint of S3"},
	{Name: "MLFLOW_S3_ENDPOINT_URL", Help: "S3-compatible server of s3:// model artifacts"},
	{Name: "MLFLOW_TRACKING_TOKEN", Secret: true, Help: "token bridge models sends when BRIDGE_REGISTRY_TOKEN is unset"},
	{Name: "AWS_ROLE", Help: "role to assume on SageMaker"},
	{Name: "BRDG_DEPLOY_AWS_PROFILE", Help: "AWS profile of the sagemaker target"},
}

// Sources of a value, as bridge config prints them.
const (
	SourceFlag    = "flag"
	SourceEnv     = "env"
	SourceDotEnv  = ".env"
	SourceDefault = "default"
)

// Source says where the value of name came from.
func (c Config) Source(name string) string {
	if _, ok := c.flags[name]; ok {
		return SourceFlag
	}
	if c.inEnv != nil {
		if c.inEnv[name] {
			return SourceEnv
		}
	} else if _, ok := os.LookupEnv(name); ok {
		return SourceEnv
	}
	if _, ok := c.env[name]; ok {
		return SourceDotEnv
	}
	return SourceDefault
}

// Effective is one line of bridge config: a setting's effective value
// (secrets masked) and its source.
type Effective struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Help   string `json:"help"`
}

// Effective lists every setting with its value and source.
func (c Config) Effective() []Effective {
	out := make([]Effective, 0, len(Settings))
	for _, s := range Settings {
		v := c.Get(s.Name, s.Default)
		switch s.Name {
		case "BRIDGE_HOME":
			v = c.Home
		case "BRIDGE_MODEL_CACHE_PATH":
			v = c.ModelCache
		case "BRIDGE_CAPTURE_DIR":
			v = c.Monitoring.CaptureDir
		case "LOG_LEVEL":
			v = strings.ToLower(c.LogLevel.String())
		}
		if s.Secret && v != "" {
			v = "********"
		}
		out = append(out, Effective{Name: s.Name, Value: v, Source: c.Source(s.Name), Help: s.Help})
	}
	return out
}

// errList collects validation errors so that Load reports them all at once.
type errList []error

func (e *errList) add(format string, args ...any) { *e = append(*e, fmt.Errorf(format, args...)) }

func (e errList) err() error {
	if len(e) == 0 {
		return nil
	}
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	sort.Strings(msgs)
	if len(msgs) == 1 {
		return errors.New(msgs[0])
	}
	return fmt.Errorf("%d configuration errors:\n  %s", len(msgs), strings.Join(msgs, "\n  "))
}

// label names a value in an error: NAME="v", or --flag "v" when a flag
// set it.
func (c Config) label(name, v string) string {
	if c.Source(name) == SourceFlag {
		for _, s := range Settings {
			if s.Name == name && s.Flag != "" {
				f := s.Flag[strings.LastIndex(s.Flag, " ")+1:]
				return fmt.Sprintf("%s %q", f, v)
			}
		}
	}
	return fmt.Sprintf("%s=%q", name, v)
}

// seconds parses a positive number of seconds; empty means def.
func (c Config) seconds(errs *errList, name string, def time.Duration) time.Duration {
	s := c.Get(name, "")
	if s == "" {
		return def
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs <= 0 {
		errs.add("%s: want a positive number of seconds", c.label(name, s))
		return def
	}
	return time.Duration(secs * float64(time.Second))
}

// oneOf reads a setting that must be one of valid.
func (c Config) oneOf(errs *errList, name, def string, valid ...string) string {
	v := c.Get(name, def)
	for _, ok := range valid {
		if v == ok {
			return v
		}
	}
	errs.add("%s: want %s", c.label(name, v), strings.Join(valid, ", "))
	return def
}

// boolean reads an on/off setting (1/0, true/false, on/off, yes/no).
func (c Config) boolean(errs *errList, name string, def bool) bool {
	switch v := strings.ToLower(c.Get(name, "")); v {
	case "":
		return def
	case "1", "true", "on", "yes":
		return true
	case "0", "false", "off", "no":
		return false
	default:
		errs.add("%s: want 1 or 0 (true/false, on/off)", c.label(name, v))
		return def
	}
}

// loadSections fills the typed sections.
func (c *Config) loadSections(errs *errList) {
	c.Python = PythonSettings{
		Interpreter: c.Get("BRIDGE_PYTHON", ""),
		EnvManager:  c.oneOf(errs, "BRIDGE_ENV_MANAGER", "local", "local", "virtualenv"),
		Server:      c.oneOf(errs, "BRIDGE_PYTHON_SERVER", "auto", "auto", "mlflow", "bridge"),
		Prestart:    c.boolean(errs, "BRIDGE_PYTHON_PRESTART", true),
	}
	c.Native = c.nativeMode(errs)
	c.Local = LocalSettings{ReadyTimeout: c.seconds(errs, "BRIDGE_MODEL_READY_TIMEOUT_S", 0)}
	c.AWS = AWSSettings{
		Region:                c.Get("AWS_REGION", c.Get("AWS_DEFAULT_REGION", "")),
		EndpointURL:           c.Get("AWS_ENDPOINT_URL", ""),
		S3EndpointURL:         c.Get("AWS_ENDPOINT_URL_S3", ""),
		ArtifactS3EndpointURL: c.Get("MLFLOW_S3_ENDPOINT_URL", ""),
	}
}
