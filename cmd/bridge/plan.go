package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/plan"
)

func newPlanCmd(cl *bridgeCLI) *cobra.Command {
	var planFlags struct {
		output string
		addr   string
	}
	planCmd := &cobra.Command{
		Use:   "plan",
		Short: "Print what the next reconcile pass would change, and change nothing",
		Long: `Compare the registry (desired state) with the deploy target (actual state)
and print the actions the next reconcile pass would apply: version creates,
endpoint routes, endpoint and version deletes, in the order the pass applies
them. When no action is due, it also lists deploy tags that would be
rewritten. Nothing is changed.

Exit status: 0 when nothing would change, 2 when something would, 1 on error.

For the localhost target the models live inside the bridge run process, so
bridge plan asks it what it serves (GET /status on --addr); when it is not
running, the plan is against a target that serves nothing.`,
		Example: `  bridge plan
  bridge plan -o json
  bridge plan && echo "in sync"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cliout.Check(planFlags.output); err != nil {
				return err
			}
			p, err := bridgerun.Plan(cmd.Context(), cl.cfg, planFlags.addr, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := cliout.Print(cmd.OutOrStdout(), planFlags.output == "json", p, func(w io.Writer, r plan.Report) error { return r.WriteText(w) }); err != nil {
				return err
			}
			if p.Changes() {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	planCmd.Flags().StringVarP(&planFlags.output, "output", "o", "table", "output format: table or json")
	planCmd.Flags().StringVar(&planFlags.addr, "addr", "", "address of the running bridge run, for the localhost target (default 127.0.0.1:$PORT)")
	return planCmd
}
