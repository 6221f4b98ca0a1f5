package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/plan"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/status"
	"github.com/bridgeops/bridge/internal/target"
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
			if err := checkOutput(planFlags.output); err != nil {
				return err
			}
			p, err := computePlan(cmd.Context(), cl.cfg, planFlags.addr, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if planFlags.output == "json" {
				err = emitJSON(cmd.OutOrStdout(), p)
			} else {
				err = p.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
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

// computePlan reads the registry and the target and plans, changing
// nothing.
func computePlan(ctx context.Context, c config.Config, addr string, warn io.Writer) (plan.Report, error) {
	doc, t, err := observe(ctx, c, addr)
	switch {
	case errors.Is(err, status.ErrNotRunning):
		fmt.Fprintf(warn, "%v: planning against a %s target that serves nothing\n", err, t.Name())
		doc = statusDoc{}
	case err != nil:
		return plan.Report{}, err
	}
	reg, _, closeReg, err := openRegistry(ctx, c)
	if err != nil {
		return plan.Report{}, err
	}
	defer closeReg()
	// The same engine as bridge run's loop, on what the target serves.
	loop, err := reconcile.New(reconcile.Options{Registry: reg, Target: observed{t, doc.Actual()}})
	if err != nil {
		return plan.Report{}, err
	}
	pv, err := loop.Preview(ctx)
	if err != nil {
		return plan.Report{}, err
	}
	return plan.NewReport(t.Name(), pv.Actions, pv.Tags), nil
}

// observed is a target seen through what it reported (GET /status of the
// bridge run that holds it, or one Observe): planning changes nothing.
type observed struct {
	target.Target
	actual model.Actual
}

func (o observed) Observe(context.Context) (model.Actual, error) { return o.actual, nil }
