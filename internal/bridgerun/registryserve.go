package bridgerun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// RegistryServeOptions are bridge registry serve's flags.
type RegistryServeOptions struct {
	Addr             string // host:port to listen on
	MaxBodyBytes     int64  // largest JSON request body accepted
	MaxArtifactBytes int64  // largest artifact file an upload may hold
}

// ServeRegistry serves the embedded registry in cfg.Home over MLflow's
// REST API on o.Addr until ctx ends, then stops gracefully. It says where
// on out once it listens; a registry reachable beyond this machine without
// BRIDGE_REGISTRY_TOKEN is warned about.
func ServeRegistry(ctx context.Context, out io.Writer, cfg config.Config, o RegistryServeOptions) error {
	st, err := store.Open(ctx, cfg.Home)
	if err != nil {
		return fmt.Errorf("%w (set --home or BRIDGE_HOME to a writable directory)", err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another address with --addr)", o.Addr, err)
	}
	if host, _, _ := net.SplitHostPort(o.Addr); cfg.RegistryToken == "" && !netaddr.IsLoopbackHost(host) {
		slog.Warn("the registry listens beyond this machine without authentication: set BRIDGE_REGISTRY_TOKEN", "addr", o.Addr)
	}
	api := mlflowapi.New(st, mlflowapi.Options{Token: cfg.RegistryToken, MaxBodyBytes: o.MaxBodyBytes, MaxArtifactBytes: o.MaxArtifactBytes})
	fmt.Fprintf(out, "Bridge registry serving MLflow's REST API on http://%s (home %s)\n", ln.Addr(), st.Home())
	fmt.Fprintf(out, "Point MLflow clients at it: MLFLOW_TRACKING_URI=http://%s\n", ln.Addr())
	if err := Serve(ctx, ln, api, 15*time.Second); err != nil {
		return fmt.Errorf("registry server: %w", err)
	}
	slog.Info("registry stopped")
	return nil
}
