package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// registryServeFlags are bridge registry serve's flags.
type registryServeFlags struct {
	addr         string
	maxBodyBytes int64
	maxArtifact  int64
}

func newRegistryCmd(cl *bridgeCLI) *cobra.Command {
	var flags registryServeFlags
	registryCmd := &cobra.Command{
		Use:   "registry",
		Short: "Bridge's embedded model registry (MLflow REST API)",
		Long: `Bridge's embedded model registry keeps registered models, versions, stages,
aliases and tags in $BRIDGE_HOME/registry.db (SQLite) and artifacts in
$BRIDGE_HOME/artifacts, and serves them over MLflow's REST API.`,
		Example: `  bridge registry serve --addr 127.0.0.1:5000
  MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python train.py`,
	}
	registryServeCmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the embedded registry over MLflow's REST API until interrupted",
		Long: `Serve the embedded registry in --home (BRIDGE_HOME) over MLflow's REST API:
the model registry under /api/2.0/mlflow/ and the artifact store under
/api/2.0/mlflow-artifacts/artifacts. MLflow clients use it with
MLFLOW_TRACKING_URI=http://ADDR. When BRIDGE_REGISTRY_TOKEN is set, every request
needs "Authorization: Bearer <token>" (MLFLOW_TRACKING_TOKEN) or HTTP Basic auth
with the token as password. Stops gracefully on SIGINT or SIGTERM.`,
		Example: `  bridge registry serve                                  # http://127.0.0.1:5000, home ./.bridge
  BRIDGE_REGISTRY_TOKEN=s3cret bridge --home /var/lib/bridge registry serve --addr 0.0.0.0:5000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serveRegistry(cmd.Context(), cmd, cl.cfg, flags)
		},
	}
	f := registryServeCmd.Flags()
	f.StringVar(&flags.addr, "addr", bridgerun.DefaultRegistryAddr, "address to listen on (host:port)")
	f.Int64Var(&flags.maxBodyBytes, "max-body-bytes", mlflowapi.DefaultMaxBodyBytes, "largest JSON request body accepted")
	f.Int64Var(&flags.maxArtifact, "max-artifact-bytes", mlflowapi.DefaultMaxArtifactBytes, "largest artifact file accepted by an upload")
	registryCmd.AddCommand(registryServeCmd)
	return registryCmd
}

// serveRegistry serves the registry in cfg.Home on f.addr until ctx ends.
func serveRegistry(ctx context.Context, cmd *cobra.Command, cfg config.Config, f registryServeFlags) error {
	st, err := store.Open(ctx, cfg.Home)
	if err != nil {
		return fmt.Errorf("%w (set --home or BRIDGE_HOME to a writable directory)", err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another address with --addr)", f.addr, err)
	}
	if host, _, _ := net.SplitHostPort(f.addr); cfg.RegistryToken == "" && !netaddr.IsLoopbackHost(host) {
		slog.Warn("the registry listens beyond this machine without authentication: set BRIDGE_REGISTRY_TOKEN", "addr", f.addr)
	}
	api := mlflowapi.New(st, mlflowapi.Options{Token: cfg.RegistryToken, MaxBodyBytes: f.maxBodyBytes, MaxArtifactBytes: f.maxArtifact})
	fmt.Fprintf(cmd.OutOrStdout(), "Bridge registry serving MLflow's REST API on http://%s (home %s)\n", ln.Addr(), st.Home())
	fmt.Fprintf(cmd.OutOrStdout(), "Point MLflow clients at it: MLFLOW_TRACKING_URI=http://%s\n", ln.Addr())
	if err := bridgerun.Serve(ctx, ln, api, 15*time.Second); err != nil {
		return fmt.Errorf("registry server: %w", err)
	}
	slog.Info("registry stopped")
	return nil
}
