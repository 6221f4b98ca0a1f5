// Package cliargs parses and checks the command-line arguments and flag
// values the bridge commands share, and words their errors for a user at a
// terminal.
package cliargs

import (
	"fmt"
	"strings"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

// KeyValues parses repeated KEY=VALUE flag values; flag and want name them
// in the error.
func KeyValues(kvs []string, flag, want string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want %s", flag, kv, want)
		}
		out[k] = v
	}
	return out, nil
}

// Version parses a model version argument.
func Version(s string) (int, error) {
	v, err := model.ParseVersion(s)
	if err != nil {
		return 0, fmt.Errorf("%w (versions are the numbers bridge models show prints)", err)
	}
	return v, nil
}

// RegistryHint adds what to do next to a missing-model error from the
// registry; other errors are returned as they are.
func RegistryHint(err error, name string) error {
	if mlflow.IsNotFound(err) && strings.Contains(err.Error(), "Registered Model") {
		return fmt.Errorf("%w (create it with: bridge models create %s)", err, name)
	}
	return err
}
