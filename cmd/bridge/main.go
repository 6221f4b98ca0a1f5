// Command bridge makes deployed model endpoints match the model registry.
//
// Every subcommand lives in its own file of this package as a constructor
// (newXxxCmd) that newRootCmd calls: each call builds a fresh command tree
// with its own flag values. This package is wiring only: flags,
// environment and configuration, then calls into internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/cliflags"
	"github.com/bridgeops/bridge/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// bridgeCLI is what the commands of one command tree share: the configuration
// the root command loads (flags > env > .env > defaults) before any
// subcommand runs.
type bridgeCLI struct {
	cfg config.Config
}

// load loads the configuration with cmd's setting flags and sets up
// logging; the root command runs it before every subcommand.
func (cl *bridgeCLI) load(cmd *cobra.Command, args []string) error {
	c, err := config.LoadWithFlags(cliflags.Settings(cmd.Flags()))
	if err != nil {
		return err
	}
	c.Export()
	cl.cfg = c
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel})))
	return nil
}

// newRootCmd builds the whole command tree, fresh: flag values and the
// loaded configuration belong to this tree only.
func newRootCmd() *cobra.Command {
	cl := &bridgeCLI{}
	var home, logLevel string
	root := &cobra.Command{
		Use:   "bridge",
		Short: "RegistryOps for machine-learning models: endpoints that follow the model registry",
		Long: `Bridge makes deployed model endpoints match the model registry.

The registry (embedded, or any MLflow server) is the source of truth: for every
(model, stage) and (model, alias) Bridge keeps one stable endpoint serving exactly
the versions the registry names, on localhost or on AWS SageMaker, writes the
outcome back to the registry as version tags, and monitors what it serves.`,
		Example: `  bridge demo                       # seed an example model and serve it
  bridge run                        # reconcile forever (embedded registry)
  bridge plan                       # what the next pass would change
  bridge models list --registry http://127.0.0.1:5000`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: cl.load,
	}
	root.PersistentFlags().StringVar(&home, "home", "", "Bridge's state directory (env BRIDGE_HOME, default ./.bridge)")
	root.PersistentFlags().StringVar(&logLevel, "log-level", "", "debug, info, warn or error (env LOG_LEVEL, default info)")
	cliflags.Overrides(root.PersistentFlags(), "home", "BRIDGE_HOME")
	cliflags.Overrides(root.PersistentFlags(), "log-level", "LOG_LEVEL")
	root.AddCommand(
		newVersionCmd(),
		newConfigCmd(cl),
		newRunCmd(cl), newPlanCmd(cl), newStatusCmd(cl), newDemoCmd(cl),
		newInitCmd(cl), newDestroyCmd(cl), newPolicyCmd(cl),
		newRegistryCmd(cl), newModelsCmd(cl), newMonitorCmd(cl),
		newPipelineCmd(cl), newUICmd(cl),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print Bridge's version",
		Example: "  bridge version",
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bridge %s\n", v)
		},
	}
}

// exitError carries a specific exit code (bridge plan exits 2 on changes).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil {
				fmt.Fprintln(os.Stderr, "bridge:", ee.err)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}
