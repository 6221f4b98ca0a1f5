package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/cliflags"
)

func newRunCmd(cl *bridgeCLI) *cobra.Command {
	var runFlags struct {
		once         bool
		addr         string
		registryAddr string
	}
	runCmd := &cobra.Command{
		Use:   "run",
		Short: "Make the deploy target serve what the registry says, and keep it so",
		Long: `Run the reconcile loop: read the registry (desired state) and the deploy
target (actual state), apply the difference model by model, and write the
outcome back to each version as tags (bridge_deploy_state, bridge_deploy_url,
bridge_deploy_error).

With BRIDGE_MLFLOW_URI unset the registry is the embedded one in BRIDGE_HOME,
and bridge run serves its MLflow REST API on --registry-addr. With
BRIDGE_DEPLOY_KIND=localhost (the default) the models are served on --addr
(127.0.0.1:$PORT unless given; --addr :3000 opens it to the network):

  POST /<model>/<stage-or-alias>/invocations
  POST /endpoints/brdg-<model>-<stage-or-alias>/invocations

On every target --addr also answers GET /healthz (the process is alive),
GET /readyz (200 once the last pass succeeded and every desired endpoint is
served, 503 with the reason before), GET /metrics, GET /status, and
POST /hooks/registry, which wakes the loop at once (for an external
registry's webhooks). The loop also wakes on every change of the embedded
registry and polls every BRIDGE_SCAN_INTERVAL_S seconds. The dashboard is at
/ui/ (BRIDGE_UI=false turns it off).

SIGINT or SIGTERM stops it cleanly: requests in flight finish, models drain,
captured data is flushed, all within BRIDGE_DRAIN_TIMEOUT_S (30). Versions
served on localhost are then tagged bridge_deploy_state=STOPPED; SageMaker
endpoints outlive bridge run and keep their tags.`,
		Example: `  bridge run
  bridge run --addr :8080 --registry-addr 127.0.0.1:5001   # open to the network
  BRIDGE_MLFLOW_URI=http://mlflow:5000 bridge run
  bridge run --once            # one pass; exit status 1 if a model failed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := bridgerun.Options{Addr: runFlags.addr, RegistryAddr: runFlags.registryAddr}
			if runFlags.once {
				res, err := bridgerun.Once(cmd.Context(), cl.cfg, opts)
				if err != nil {
					return err
				}
				if err := bridgerun.WriteOnce(cmd.OutOrStdout(), res); err != nil {
					return &exitError{code: 1, err: err}
				}
				return nil
			}
			a, err := bridgerun.Start(cmd.Context(), cl.cfg, opts)
			if err != nil {
				return err
			}
			slog.Info("bridge run serving", "target", a.Target.Name(), "addr", a.RouterAddr(), "registry", a.RegistryURL())
			return a.Wait()
		},
	}
	runCmd.Flags().BoolVar(&runFlags.once, "once", false, "run one reconcile pass and exit (status 1 if any model failed)")
	runCmd.Flags().StringVar(&runFlags.addr, "addr", "", "address of the front door (invocations, /healthz, /readyz, /metrics, /status, hooks), host:port; :3000 listens on every interface (default 127.0.0.1:$PORT, PORT default 3000)")
	runCmd.Flags().StringVar(&runFlags.registryAddr, "registry-addr", bridgerun.DefaultRegistryAddr, "address the embedded registry's MLflow API listens on (unused with BRIDGE_MLFLOW_URI)")
	addMonitorRunFlags(runCmd)
	return runCmd
}

// addMonitorRunFlags adds the data-capture and monitoring flags of bridge
// run; each overrides its variable (config.MonitoringSettings).
func addMonitorRunFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Bool("capture", false, "capture every endpoint's requests and responses in SageMaker's data-capture format (env BRIDGE_CAPTURE)")
	f.Float64("capture-sampling", 100, "percentage of invocations captured, 0-100 (env BRIDGE_CAPTURE_SAMPLING)")
	f.String("capture-mode", "both", "which halves to capture: input, output or both (env BRIDGE_CAPTURE_MODE)")
	f.String("capture-dir", "", "capture directory (env BRIDGE_CAPTURE_DIR, default $BRIDGE_HOME/datacapture)")
	f.StringArray("capture-endpoint", nil, "per-endpoint capture override NAME=SPEC, SPEC a comma list of a percentage, on, off, input, output, both; repeatable (env BRIDGE_CAPTURE_ENDPOINTS, overrides separated by ';')")
	f.Int("capture-queue", 8192, "captured invocations buffered before new ones are dropped and counted (env BRIDGE_CAPTURE_QUEUE)")
	f.Bool("monitor-schedules", true, "run the monitoring schedules (bridge monitor schedule create) (env BRIDGE_MONITOR_SCHEDULES)")
	f.String("alert-webhook", "", "URL that receives a JSON POST when a monitoring execution finds violations (env BRIDGE_ALERT_WEBHOOK)")
	for flag, setting := range map[string]string{
		"capture": "BRIDGE_CAPTURE", "capture-sampling": "BRIDGE_CAPTURE_SAMPLING", "capture-mode": "BRIDGE_CAPTURE_MODE",
		"capture-dir": "BRIDGE_CAPTURE_DIR", "capture-endpoint": "BRIDGE_CAPTURE_ENDPOINTS", "capture-queue": "BRIDGE_CAPTURE_QUEUE",
		"monitor-schedules": "BRIDGE_MONITOR_SCHEDULES", "alert-webhook": "BRIDGE_ALERT_WEBHOOK",
	} {
		cliflags.Overrides(f, flag, setting)
	}
}
