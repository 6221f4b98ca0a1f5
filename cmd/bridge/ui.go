package main

import (
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
)

func newUICmd(cl *bridgeCLI) *cobra.Command {
	var uiFlags struct {
		addr   string
		bridge string
	}
	uiCmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve the dashboard, read-only, for a running Bridge or a home folder",
		Long: `Serve Bridge's web dashboard on its own, read-only: what is served, the
traffic, error and latency history, captured requests, the registry's
models, monitoring schedules and executions.

bridge run serves the same dashboard at /ui/ of its router address, with
actions (promote, archive, set alias, approve) when BRIDGE_REGISTRY_TOKEN is
set. bridge ui never writes: it reads the serving state from the running
bridge run at --bridge (GET /status), or, when none answers, from the
registry's deploy tags; the registry, the time series, captures and
monitoring history from BRIDGE_HOME (or BRIDGE_MLFLOW_URI's registry).`,
		Example: `  bridge ui                                   # http://127.0.0.1:8080/ui/
  bridge ui --addr 127.0.0.1:9000 --bridge 127.0.0.1:3000
  bridge ui --home /srv/bridge/.bridge`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return bridgerun.ServeReadOnlyUI(cmd.Context(), cmd.OutOrStdout(), cl.cfg, uiFlags.addr, uiFlags.bridge)
		},
	}
	uiCmd.Flags().StringVar(&uiFlags.addr, "addr", "127.0.0.1:8080", "address the dashboard listens on")
	uiCmd.Flags().StringVar(&uiFlags.bridge, "bridge", "", "address or URL of the running bridge run (default 127.0.0.1:$PORT)")
	return uiCmd
}
