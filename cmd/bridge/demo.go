package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/demo"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/target/local"
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
			a, err := startApp(ctx, cl.cfg, appOptions{Addr: demoFlags.addr, RegistryAddr: demoFlags.registryAddr})
			if err != nil {
				return err
			}
			if err := seedAndWait(ctx, a, cmd.OutOrStdout()); err != nil {
				a.Stop()
				a.Wait()
				return err
			}
			return a.Wait()
		},
	}
	demoCmd.Flags().StringVar(&demoFlags.addr, "addr", "", "address of the model router, host:port or :port (default :$PORT, PORT default 3000)")
	demoCmd.Flags().StringVar(&demoFlags.registryAddr, "registry-addr", defaultRegistryAddr, "address the embedded registry's MLflow API listens on")
	addMonitorRunFlags(demoCmd)
	return demoCmd
}

// demoReadyTimeout bounds the wait for the example versions to be deployed.
const demoReadyTimeout = 2 * time.Minute

// seedAndWait seeds the example model through the registry's REST API,
// wakes the loop, waits until both versions are DEPLOYED and prints how to
// use them.
func seedAndWait(ctx context.Context, a *app, out io.Writer) error {
	res, err := demo.Seed(ctx, demo.SeedOptions{
		RegistryURL: a.RegistryURL(),
		Token:       a.cfg.RegistryToken,
		Dir:         filepath.Join(a.cfg.Home, "demo"),
	})
	if err != nil {
		return fmt.Errorf("seed the example model: %w", err)
	}
	if res.Created {
		slog.Info("registered the example model", "model", demo.ModelName, "versions", res.Versions)
	} else {
		slog.Info("the example model is already registered; leaving it as it is", "model", demo.ModelName)
	}
	seeded := time.Now()
	a.loop.Wake()
	eps, err := demo.WaitDeployed(ctx, demo.Deployment{
		Versions: a.registry.Versions,
		LastPass: func() (time.Time, bool) { res, err, _ := a.loop.Last(); return res.Started, err == nil },
		URL:      a.target.URL,
	}, demo.ModelName, seeded, demoReadyTimeout)
	if err != nil {
		return err
	}
	g := demo.Guide{
		Target: a.target.Name(), RouterURL: a.RouterURL(),
		Bridge: bridgeCommand(a.cfg), RouterAddr: netaddr.Dialable(a.RouterAddr()),
	}
	if _, ok := a.target.(invoker); ok {
		g.InvocationsName = local.EndpointName(model.EndpointKey{Model: demo.ModelName, Slot: model.StageProduction})
	}
	if a.registryLn != nil {
		g.RegistryURL = a.RegistryURL()
	}
	if a.ui != nil {
		g.DashboardURL = a.RouterURL() + "/ui/"
	}
	g.Write(out, eps)
	return nil
}

// bridgeCommand is how to call bridge again with the same home.
func bridgeCommand(c config.Config) string {
	if c.Home == ".bridge" {
		return selfCommand()
	}
	return selfCommand() + " --home " + shellQuote(c.Home)
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
