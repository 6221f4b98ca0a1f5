package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// modelsLocal is the embedded registry bridge models opened in-process when
// no registry server answered (nil otherwise).
var modelsLocal struct {
	url   string
	store *store.Store
	srv   *http.Server
}

// resolveModelsRegistry decides which registry the models commands talk to.
// A server that answers is used as always. When none answers at the default
// address (no --registry, no BRIDGE_MLFLOW_URI) and the home holds an
// embedded registry, that registry is opened in-process and served on a
// private loopback port for this one command: the commands work the same
// whether or not bridge run is up. Otherwise the error says in one line
// what to start.
func resolveModelsRegistry(ctx context.Context) error {
	closeModelsLocal()
	if rs, err := cfg.Registry(); err == nil && rs.Kind == config.RegistrySageMaker {
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
	if reachable(ctx, parsed) {
		return nil
	}
	db := filepath.Join(cfg.Home, store.FileName)
	if explicit {
		return fmt.Errorf("no registry answers at %s: start it (bridge run, or bridge registry serve), or fix --registry / BRIDGE_MLFLOW_URI", u)
	}
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("no registry answers at %s and %s has no embedded registry: start one with `bridge run` (or `bridge registry serve`), or point --registry / BRIDGE_MLFLOW_URI at an MLflow server", u, cfg.Home)
	}
	st, err := store.Open(ctx, cfg.Home)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		return fmt.Errorf("serve the embedded registry in-process: %w", err)
	}
	srv := &http.Server{Handler: mlflowapi.New(st, mlflowapi.Options{}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	modelsLocal.url, modelsLocal.store, modelsLocal.srv = "http://"+ln.Addr().String(), st, srv
	return nil
}

// reachable reports whether something accepts connections at u's host.
func reachable(ctx context.Context, u *url.URL) bool {
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// closeModelsLocal stops the in-process registry, if one was opened.
func closeModelsLocal() {
	if modelsLocal.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	modelsLocal.srv.Shutdown(ctx)
	modelsLocal.store.Close()
	modelsLocal.url, modelsLocal.store, modelsLocal.srv = "", nil, nil
}

func init() {
	modelsCmd.PersistentPostRun = func(*cobra.Command, []string) { closeModelsLocal() }
}
