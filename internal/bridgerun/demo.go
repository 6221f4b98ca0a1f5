package bridgerun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/bridgeops/bridge/internal/demo"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/target/local"
)

// demoReadyTimeout bounds the wait for the example versions to be deployed.
const demoReadyTimeout = 2 * time.Minute

// SeedDemo is bridge demo on a started App: it seeds the example model
// through the registry's REST API, wakes the loop, waits until both
// versions are DEPLOYED and prints how to use them on out.
func (a *App) SeedDemo(ctx context.Context, out io.Writer) error {
	res, err := demo.Seed(ctx, demo.SeedOptions{
		RegistryURL: a.RegistryURL(),
		Token:       a.Config.RegistryToken,
		Dir:         filepath.Join(a.Config.Home, "demo"),
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
	a.Loop.Wake()
	eps, err := demo.WaitDeployed(ctx, demo.Deployment{
		Versions: a.Registry.Versions,
		LastPass: func() (time.Time, bool) { res, err, _ := a.Loop.Last(); return res.Started, err == nil },
		URL:      a.Target.URL,
	}, demo.ModelName, seeded, demoReadyTimeout)
	if err != nil {
		return err
	}
	g := demo.Guide{
		Target: a.Target.Name(), RouterURL: a.RouterURL(),
		Bridge: demo.BridgeCommand(a.Config.Home), RouterAddr: a.dialableRouterAddr(),
	}
	if _, ok := a.Target.(Invoker); ok {
		g.InvocationsName = local.EndpointName(model.EndpointKey{Model: demo.ModelName, Slot: model.StageProduction})
	}
	if a.registryLn != nil {
		g.RegistryURL = a.RegistryURL()
	}
	if a.Dashboard != nil {
		g.DashboardURL = a.RouterURL() + "/ui/"
	}
	g.Write(out, eps)
	return nil
}
