package main

import (
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
)

func newRegistryCmd(cl *bridgeCLI) *cobra.Command {
	var flags bridgerun.RegistryServeOptions
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
			return bridgerun.ServeRegistry(cmd.Context(), cmd.OutOrStdout(), cl.cfg, flags)
		},
	}
	f := registryServeCmd.Flags()
	f.StringVar(&flags.Addr, "addr", bridgerun.DefaultRegistryAddr, "address to listen on (host:port)")
	f.Int64Var(&flags.MaxBodyBytes, "max-body-bytes", mlflowapi.DefaultMaxBodyBytes, "largest JSON request body accepted")
	f.Int64Var(&flags.MaxArtifactBytes, "max-artifact-bytes", mlflowapi.DefaultMaxArtifactBytes, "largest artifact file accepted by an upload")
	registryCmd.AddCommand(registryServeCmd)
	return registryCmd
}
