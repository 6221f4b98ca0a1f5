// Package config loads Bridge's configuration. Precedence: command-line flags
// (applied by the CLI) over environment variables over a .env file over
// defaults. Variable names are those of the original Bridge and its seeds.
package config

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the configuration shared by every command.
type Config struct {
	Home          string        // BRIDGE_HOME, default ./.bridge
	DeployKind    string        // BRIDGE_DEPLOY_KIND, default localhost
	MLflowURI     string        // BRIDGE_MLFLOW_URI; empty means the embedded registry
	ScanInterval  time.Duration // BRIDGE_SCAN_INTERVAL_S, default 5s
	ModelCache    string        // BRIDGE_MODEL_CACHE_PATH, default $BRIDGE_HOME/cache
	Port          int           // PORT, default 3000
	LogLevel      slog.Level    // LOG_LEVEL, default info
	RegistryToken string        // BRIDGE_REGISTRY_TOKEN: bearer token of the registry API
	DrainTimeout  time.Duration // BRIDGE_DRAIN_TIMEOUT_S, default 30s: how long bridge run may take to stop

	// Typed sections, one per part.
	Python     PythonSettings
	Native     NativeMode // BRIDGE_NATIVE: off, auto (default) or require
	Local      LocalSettings
	AWS        AWSSettings
	Monitoring MonitoringSettings

	env   map[string]string // .env file values
	flags map[string]string // command-line flags, by the variable they override
	inEnv map[string]bool   // settings set in the process environment at Load
}

// Load reads the environment and the .env file (path from BRIDGE_ENV_FILE,
// default ./.env; a missing file is fine).
func Load() (Config, error) { return LoadWithFlags(nil) }

// LoadWithFlags is Load with command-line flags that override variables
// (keyed by variable name, e.g. "BRIDGE_HOME" for --home). Every invalid
// value is reported, all in one error.
func LoadWithFlags(flags map[string]string) (Config, error) {
	path := os.Getenv("BRIDGE_ENV_FILE")
	if path == "" {
		path = ".env"
	}
	env, err := ReadDotEnv(path)
	if err != nil {
		return Config{}, err
	}
	c := Config{env: env, flags: flags, inEnv: map[string]bool{}}
	for _, s := range Settings {
		if _, ok := os.LookupEnv(s.Name); ok {
			c.inEnv[s.Name] = true
		}
	}
	var errs errList
	c.Home = c.Get("BRIDGE_HOME", ".bridge")
	c.DeployKind = c.Get("BRIDGE_DEPLOY_KIND", "localhost")
	c.MLflowURI = c.Get("BRIDGE_MLFLOW_URI", "")
	c.ModelCache = c.Get("BRIDGE_MODEL_CACHE_PATH", filepath.Join(c.Home, "cache"))
	c.RegistryToken = c.Get("BRIDGE_REGISTRY_TOKEN", "")
	c.ScanInterval = c.seconds(&errs, "BRIDGE_SCAN_INTERVAL_S", 5*time.Second)
	c.DrainTimeout = c.seconds(&errs, "BRIDGE_DRAIN_TIMEOUT_S", 30*time.Second)
	if c.Port, err = strconv.Atoi(c.Get("PORT", "3000")); err != nil || c.Port < 0 || c.Port > 65535 {
		errs.add("PORT=%q: want a TCP port number", c.Get("PORT", ""))
	}
	if err := c.LogLevel.UnmarshalText([]byte(c.Get("LOG_LEVEL", "info"))); err != nil {
		what := "LOG_LEVEL=%q"
		if c.Source("LOG_LEVEL") == SourceFlag {
			what = "--log-level %q"
		}
		errs.add(what+": want debug, info, warn or error", c.Get("LOG_LEVEL", ""))
	}
	c.loadSections(&errs)
	c.loadMonitoring(&errs)
	if err := errs.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Get returns the value of key from a flag, else the environment, else the
// .env file, else def.
func (c Config) Get(key, def string) string {
	if v, ok := c.flags[key]; ok {
		return v
	}
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	if v, ok := c.env[key]; ok {
		return v
	}
	return def
}

// DotEnv returns the values read from the .env file (for libraries such as
// the AWS SDK that read the process environment: see Export).
func (c Config) DotEnv() map[string]string { return c.env }

// Export copies .env values that are not set in the process environment into
// it, so that libraries reading os.Getenv (the AWS SDK) see them too.
func (c Config) Export() {
	for k, v := range c.env {
		if _, ok := os.LookupEnv(k); !ok {
			os.Setenv(k, v)
		}
	}
}

// ReadDotEnv parses a .env file: KEY=VALUE lines, optional `export `, # comments,
// single or double quotes around values. A missing file yields no values.
func ReadDotEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE", path, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}
