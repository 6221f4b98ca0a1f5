package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// resolveModelsRegistry decides which registry the models commands talk to.
// A server that answers is used as always. When none answers at the default
// address (no --registry, no BRIDGE_MLFLOW_URI) and the home holds an
// embedded registry, that registry is opened in-process and served on a
// private loopback port for this one command: the commands work the same
// whether or not bridge run is up. Otherwise the error says in one line
// what to start.
func (m *modelsCLI) resolveRegistry(ctx context.Context) error {
	m.closeLocal()
	if rs, err := m.cl.cfg.Registry(); err == nil && rs.Kind == config.RegistrySageMaker {
		return nil // model package groups: no MLflow server involved
	}
	explicit := m.registry != "" || m.cl.cfg.MLflowURI != ""
	u := m.registry
	if u == "" {
		u = m.cl.cfg.MLflowURI
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
	db := filepath.Join(m.cl.cfg.Home, store.FileName)
	if explicit {
		return fmt.Errorf("no registry answers at %s: start it (bridge run, or bridge registry serve), or fix --registry / BRIDGE_MLFLOW_URI", u)
	}
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("no registry answers at %s and %s has no embedded registry: start one with `bridge run` (or `bridge registry serve`), or point --registry / BRIDGE_MLFLOW_URI at an MLflow server", u, m.cl.cfg.Home)
	}
	m.local, err = mlflowapi.ServeInProcess(ctx, m.cl.cfg.Home)
	return err
}

// closeLocal stops the in-process registry, if one was opened.
func (m *modelsCLI) closeLocal() {
	if m.local != nil {
		m.local.Close()
		m.local = nil
	}
}
