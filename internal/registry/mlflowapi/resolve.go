package mlflowapi

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// DefaultURL is where client commands (bridge models) look for a registry
// when neither --registry nor BRIDGE_MLFLOW_URI names one.
const DefaultURL = "http://127.0.0.1:5000"

// Resolve decides which registry a client command talks to: flagURL, else
// mlflowURI, else DefaultURL. A server that answers is used as it is (the
// returned InProcess is nil). When none answers at the default address and
// home holds an embedded registry, that registry is opened in-process and
// served on a private loopback port for this one command (close it after),
// so the commands work the same whether or not bridge run is up. Otherwise
// the error says in one line what to start.
func Resolve(ctx context.Context, flagURL, mlflowURI, home string) (u string, local *InProcess, err error) {
	explicit := flagURL != "" || mlflowURI != ""
	u = flagURL
	if u == "" {
		u = mlflowURI
	}
	if u == "" {
		u = DefaultURL
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		return "", nil, fmt.Errorf("registry URL %q: want http://host:port", u)
	}
	if netaddr.Reachable(ctx, parsed) {
		return u, nil, nil
	}
	if explicit {
		return "", nil, fmt.Errorf("no registry answers at %s: start it (bridge run, or bridge registry serve), or fix --registry / BRIDGE_MLFLOW_URI", u)
	}
	if _, err := os.Stat(filepath.Join(home, store.FileName)); err != nil {
		return "", nil, fmt.Errorf("no registry answers at %s and %s has no embedded registry: start one with `bridge run` (or `bridge registry serve`), or point --registry / BRIDGE_MLFLOW_URI at an MLflow server", u, home)
	}
	local, err = ServeInProcess(ctx, home)
	if err != nil {
		return "", nil, err
	}
	return local.URL, local, nil
}
