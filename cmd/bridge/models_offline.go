package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// modelsLocal is the embedded registry bridge models opened in-process when
// no registry server answered (nil otherwise).
var modelsLocal *mlflowapi.InProcess

// resolveModelsRegistry decides which registry the models commands talk to.
// A server that answers is used as always. When none answers at the default
// address (no --registry, no BRIDGE_MLFLOW_URI) and the home holds an
// embedded registry, that registry is opened in-process and served on a
// private loopback port for this one command: the commands work the same
// whether or not bridge run is up. Otherwise the error says in one line
// what to start.
func resolveModelsRegistry(ctx context.Context) error {
	closeModelsLocal()
	rs, err := cfg.Registry()
	if err != nil && modelsFlags.registry == "" {
		return err // a misspelt BRIDGE_REGISTRY is not the MLflow default
	}
	if err == nil && rs.Kind == config.RegistrySageMaker {
		return nil // model package groups: no MLflow server involved
	}
	explicit := modelsFlags.registry != "" || cfg.MLflowURI != ""
	u := modelsFlags.registry
	if u == "" {
		u = cfg.MLflowURI
	}
	if u == "" {
		u = defaultRegistryURL
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		return fmt.Errorf("registry URL %q: want http://host:port", u)
	}
	if netaddr.Reachable(ctx, parsed) {
		return nil
	}
	db := filepath.Join(cfg.Home, store.FileName)
	if explicit {
		return fmt.Errorf("no registry answers at %s: start it (bridge run, or bridge registry serve), or fix --registry / BRIDGE_MLFLOW_URI", u)
	}
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("no registry answers at %s and %s has no embedded registry: start one with `bridge run` (or `bridge registry serve`), or point --registry / BRIDGE_MLFLOW_URI at an MLflow server", u, cfg.Home)
	}
	modelsLocal, err = mlflowapi.ServeInProcess(ctx, cfg.Home)
	return err
}

// closeModelsLocal stops the in-process registry, if one was opened.
func closeModelsLocal() {
	if modelsLocal != nil {
		modelsLocal.Close()
		modelsLocal = nil
	}
}

func init() {
	modelsCmd.PersistentPostRun = func(*cobra.Command, []string) { closeModelsLocal() }
}
