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
	"github.com/bridgeops/bridge/internal/target"
)

var planFlags struct {
	output string
	addr   string
}

var planCmd = &cobra.Command{
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
		p, err := computePlan(cmd.Context(), cfg, planFlags.addr, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		if planFlags.output == "json" {
			err = emitJSON(cmd.OutOrStdout(), p)
		} else {
			err = printPlan(cmd.OutOrStdout(), p)
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

func init() {
	planCmd.Flags().StringVarP(&planFlags.output, "output", "o", "table", "output format: table or json")
	planCmd.Flags().StringVar(&planFlags.addr, "addr", "", "address of the running bridge run, for the localhost target (default 127.0.0.1:$PORT)")
	rootCmd.AddCommand(planCmd)
}

// planDoc is what bridge plan prints.
type planDoc struct {
	Target  string        `json:"target"`
	Actions []plan.Action `json:"actions"`
	Tags    []tagDoc      `json:"tags"`
}

type tagDoc struct {
	Model   string            `json:"model"`
	Version int               `json:"version"`
	Set     map[string]string `json:"set,omitempty"`
	Delete  []string          `json:"delete,omitempty"`
}

// Changes reports whether the next pass would change anything.
func (p planDoc) Changes() bool { return len(p.Actions) > 0 || len(p.Tags) > 0 }

// computePlan reads the registry and the target and plans, changing
// nothing.
func computePlan(ctx context.Context, c config.Config, addr string, warn io.Writer) (planDoc, error) {
	doc, t, err := observe(ctx, c, addr)
	switch {
	case errors.Is(err, errNotRunning):
		fmt.Fprintf(warn, "%v: planning against a %s target that serves nothing\n", err, t.Name())
		doc = statusDoc{}
	case err != nil:
		return planDoc{}, err
	}
	reg, _, closeReg, err := openRegistry(ctx, c)
	if err != nil {
		return planDoc{}, err
	}
	defer closeReg()
	// The same engine as bridge run's loop, on what the target serves.
	loop, err := reconcile.New(reconcile.Options{Registry: reg, Target: observed{t, doc.Actual()}})
	if err != nil {
		return planDoc{}, err
	}
	pv, err := loop.Preview(ctx)
	if err != nil {
		return planDoc{}, err
	}
	p := planDoc{Target: t.Name(), Actions: pv.Actions, Tags: []tagDoc{}}
	if p.Actions == nil {
		p.Actions = []plan.Action{}
	}
	for _, op := range pv.Tags {
		p.Tags = append(p.Tags, tagDoc{Model: op.Ref.Model, Version: op.Ref.Version, Set: op.Set, Delete: op.Delete})
	}
	return p, nil
}

// observed is a target seen through what it reported (GET /status of the
// bridge run that holds it, or one Observe): planning changes nothing.
type observed struct {
	target.Target
	actual model.Actual
}

func (o observed) Observe(context.Context) (model.Actual, error) { return o.actual, nil }

func printPlan(w io.Writer, p planDoc) error {
	if !p.Changes() {
		_, err := fmt.Fprintf(w, "No changes: the %s target serves what the registry asks for.\n", p.Target)
		return err
	}
	for _, a := range p.Actions {
		fmt.Fprintf(w, "  %s\n", a)
	}
	for _, t := range p.Tags {
		fmt.Fprintf(w, "  %s\n", plan.TagOp{Ref: model.VersionRef{Model: t.Model, Version: t.Version}, Set: t.Set, Delete: t.Delete})
	}
	_, err := fmt.Fprintf(w, "Plan: %d action(s), %d version(s) to retag on %s.\n", len(p.Actions), len(p.Tags), p.Target)
	return err
}
