package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clearEnv unsets every setting for the test and points BRIDGE_ENV_FILE at
// dotenv (written to a temporary file when not empty).
func clearEnv(t *testing.T, dotenv string) {
	t.Helper()
	for _, s := range Settings {
		t.Setenv(s.Name, "")
		os.Unsetenv(s.Name)
	}
	path := filepath.Join(t.TempDir(), "test.env")
	if dotenv != "" {
		if err := os.WriteFile(path, []byte(dotenv), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("BRIDGE_ENV_FILE", path)
}

func TestPrecedence(t *testing.T) {
	clearEnv(t, "BRIDGE_HOME=/from-dotenv\nPORT=4000\nBRIDGE_DEPLOY_KIND=sagemaker\nBRIDGE_REGISTRY_TOKEN='tok en'\nBRIDGE_PYTHON_PRESTART=off\n")
	t.Setenv("PORT", "5000")
	t.Setenv("BRIDGE_HOME", "/from-env")
	c, err := LoadWithFlags(map[string]string{"BRIDGE_HOME": "/from-flag"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, got, want, source string
	}{
		{"BRIDGE_HOME", c.Home, "/from-flag", SourceFlag},
		{"BRIDGE_MODEL_CACHE_PATH", c.ModelCache, "/from-flag/cache", SourceDefault},
		{"PORT", strconv.Itoa(c.Port), "5000", SourceEnv},
		{"BRIDGE_DEPLOY_KIND", c.DeployKind, "sagemaker", SourceDotEnv},
		{"BRIDGE_REGISTRY_TOKEN", c.RegistryToken, "tok en", SourceDotEnv},
		{"BRIDGE_SCAN_INTERVAL_S", c.ScanInterval.String(), "5s", SourceDefault},
		{"BRIDGE_PYTHON_PRESTART", strconv.FormatBool(c.Python.Prestart), "false", SourceDotEnv},
	} {
		if tc.got != tc.want || c.Source(tc.name) != tc.source {
			t.Errorf("%s = %q from %s, want %q from %s", tc.name, tc.got, c.Source(tc.name), tc.want, tc.source)
		}
	}
	// Exporting the .env file for the AWS SDK does not change the sources.
	c.Export()
	if c.Source("BRIDGE_DEPLOY_KIND") != SourceDotEnv {
		t.Errorf("after Export BRIDGE_DEPLOY_KIND comes from %s", c.Source("BRIDGE_DEPLOY_KIND"))
	}
	for _, e := range c.Effective() {
		if e.Name == "BRIDGE_REGISTRY_TOKEN" && (strings.Contains(e.Value, "tok") || e.Value == "") {
			t.Errorf("the token is not masked: %q", e.Value)
		}
	}
}

func TestSections(t *testing.T) {
	clearEnv(t, "")
	t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
	t.Setenv("BRIDGE_MODEL_READY_TIMEOUT_S", "0.5")
	t.Setenv("BRIDGE_ENV_MANAGER", "virtualenv")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.AWS.Region != "eu-west-1" || c.AWS.S3Endpoint() != "http://127.0.0.1:9000" || c.Local.ReadyTimeout != 500*time.Millisecond ||
		c.Python.EnvManager != "virtualenv" || !c.Python.Prestart || c.DrainTimeout != 30*time.Second {
		t.Fatalf("sections: %+v %+v %+v drain %s", c.AWS, c.Local, c.Python, c.DrainTimeout)
	}
}

// TestEveryErrorAtOnce: bad values are all reported in one error.
func TestEveryErrorAtOnce(t *testing.T) {
	clearEnv(t, "LOG_LEVEL=loud\n")
	t.Setenv("BRIDGE_SCAN_INTERVAL_S", "0")
	t.Setenv("PORT", "70000")
	t.Setenv("BRIDGE_PYTHON_SERVER", "gunicorn")
	t.Setenv("BRIDGE_PYTHON_PRESTART", "maybe")
	t.Setenv("BRIDGE_DRAIN_TIMEOUT_S", "soon")
	_, err := Load()
	if err == nil {
		t.Fatal("Load accepted bad values")
	}
	for _, want := range []string{"6 configuration errors", "BRIDGE_SCAN_INTERVAL_S", "PORT", "LOG_LEVEL", "BRIDGE_PYTHON_SERVER", "BRIDGE_PYTHON_PRESTART", "BRIDGE_DRAIN_TIMEOUT_S"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if _, err := LoadWithFlags(map[string]string{"LOG_LEVEL": "chatty"}); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Errorf("a bad flag is reported as the flag: %v", err)
	}
}

// TestNoGetenvOutsideConfig: only this package reads the environment;
// every other part gets typed settings (not config.*FromEnv either). Test helpers (files importing
// "testing") may read it. os.Environ is allowed only where a child
// process's environment is built from this one (environOK).
func TestNoGetenvOutsideConfig(t *testing.T) {
	root := filepath.Join("..", "..")
	environOK := map[string]bool{
		"internal/pipeline/launch/local.go":  true, // pipeline steps' base environment
		"internal/pipeline/local/sandbox.go": true, // re-exec into the step sandbox
		"internal/serving/python/env.go":     true, // model server processes
		"internal/serving/trees/runtime.go":  true, // tree runtime helper processes
	}
	var offenders []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "testdata" || path == filepath.Join(root, "internal", "config") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"testing"` {
				return nil
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if ok && x.Name == "config" && strings.HasSuffix(sel.Sel.Name, "FromEnv") {
				// Parts get typed settings at construction, not from the
				// environment when they use them.
				offenders = append(offenders, fset.Position(sel.Pos()).String()+" (config."+sel.Sel.Name+" outside a test)")
				return true
			}
			if !ok || x.Name != "os" {
				return true
			}
			rel, _ := filepath.Rel(root, path)
			switch sel.Sel.Name {
			case "Getenv", "LookupEnv":
				offenders = append(offenders, fset.Position(sel.Pos()).String())
			case "Environ":
				if !environOK[filepath.ToSlash(rel)] {
					offenders = append(offenders, fset.Position(sel.Pos()).String()+" (os.Environ outside a child-process environment)")
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(offenders) > 0 {
		t.Fatalf("os.Getenv/os.LookupEnv/os.Environ outside internal/config (add a typed setting there):\n  %s", strings.Join(offenders, "\n  "))
	}
}
