package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/status"
)

func newStatusCmd(cl *bridgeCLI) *cobra.Command {
	var statusFlags struct {
		output string
		addr   string
	}
	statusCmd := &cobra.Command{
		Use:   "status",
		Short: "Show every endpoint: its versions, weights, state and URL",
		Long: `Show what the deploy target serves: every endpoint with its versions and
their traffic weights, its state (Ready, Pending, Failed) and URL, and the
outcome of the last reconcile pass.

For the localhost target the models live inside the bridge run process, so
bridge status asks it (GET /status on --addr). When bridge run is not
answering, it shows the deploy tags the registry records instead. For
sagemaker it observes the endpoints directly.

Exit status: 0 when the last pass succeeded (or, without bridge run, no
version is tagged FAILED), 1 otherwise.`,
		Example: `  bridge status
  bridge status -o json
  bridge status --addr 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cliout.Check(statusFlags.output); err != nil {
				return err
			}
			doc, err := bridgerun.CurrentStatus(cmd.Context(), cl.cfg, statusFlags.addr, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := cliout.Print(cmd.OutOrStdout(), statusFlags.output == "json", doc, status.Print); err != nil {
				return err
			}
			if why := doc.Failing(); why != "" {
				return &exitError{code: 1, err: errors.New(why)}
			}
			return nil
		},
	}
	statusCmd.Flags().StringVarP(&statusFlags.output, "output", "o", "table", "output format: table or json")
	statusCmd.Flags().StringVar(&statusFlags.addr, "addr", "", "address of the running bridge run (default 127.0.0.1:$PORT)")
	return statusCmd
}
