package main

import (
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
)

func newDemoCmd(cl *bridgeCLI) *cobra.Command {
	var demoFlags struct {
		addr         string
		registryAddr string
	}
	demoCmd := &cobra.Command{
		Use:   "demo",
		Short: "Seed an example model and serve it: the quickest way to see Bridge work",
		Long: `Train an example model (an Iris species classifier: logistic regression
trained in Go on the Iris dataset shipped with Bridge), register two versions
in the registry (one in Production, one in Staging), then run the reconcile
loop like bridge run and print curl commands to call the endpoints and to
promote the Staging version.

Running it again reuses what is there: versions are added only when the
example model has none.`,
		Example: `  go run ./cmd/bridge demo
  bridge demo --addr :8080 --registry-addr 127.0.0.1:5001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := bridgerun.Start(ctx, cl.cfg, bridgerun.Options{Addr: demoFlags.addr, RegistryAddr: demoFlags.registryAddr})
			if err != nil {
				return err
			}
			if err := a.SeedDemo(ctx, cmd.OutOrStdout()); err != nil {
				a.Stop()
				a.Wait()
				return err
			}
			return a.Wait()
		},
	}
	demoCmd.Flags().StringVar(&demoFlags.addr, "addr", "", "address of the model router, host:port; :3000 listens on every interface (default 127.0.0.1:$PORT, PORT default 3000)")
	demoCmd.Flags().StringVar(&demoFlags.registryAddr, "registry-addr", bridgerun.DefaultRegistryAddr, "address the embedded registry's MLflow API listens on")
	addMonitorRunFlags(demoCmd)
	return demoCmd
}
