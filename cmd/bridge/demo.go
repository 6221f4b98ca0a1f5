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

var demoFlags struct {
	addr         string
	registryAddr string
}

var demoCmd = &cobra.Command{
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
		a, err := startApp(ctx, cfg, appOptions{Addr: demoFlags.addr, RegistryAddr: demoFlags.registryAddr})
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

func init() {
	demoCmd.Flags().StringVar(&demoFlags.addr, "addr", "", "address of the model router, host:port or :port (default :$PORT, PORT default 3000)")
	demoCmd.Flags().StringVar(&demoFlags.registryAddr, "registry-addr", defaultRegistryAddr, "address the embedded registry's MLflow API listens on")
	addMonitorRunFlags(demoCmd)
	rootCmd.AddCommand(demoCmd)
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
	eps, err := waitDeployed(ctx, a, demo.ModelName, seeded, demoReadyTimeout)
	if err != nil {
		return err
	}
	printDemo(out, a, eps)
	return nil
}

// demoEndpoint is one endpoint of the example model: its URL and the
// versions it serves.
type demoEndpoint struct {
	URL      string
	Versions []int
}

// waitDeployed polls until a reconcile pass that started after since has
// finished and every served version of m is DEPLOYED, and returns its
// endpoints by slot. A FAILED version ends the wait with its reason.
func waitDeployed(ctx context.Context, a *app, m string, since time.Time, timeout time.Duration) (map[string]demoEndpoint, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if res, err, _ := a.loop.Last(); err == nil && !res.Started.Before(since) {
			if urls, done, err := deployedURLs(ctx, a, m); err != nil || done {
				return urls, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the example model was not deployed within %s (see the log above, or run: bridge status)", timeout)
		case <-tick.C:
		}
	}
}

// deployedURLs reports whether every served version of m is DEPLOYED and,
// if so, m's endpoints by slot.
func deployedURLs(ctx context.Context, a *app, m string) (map[string]demoEndpoint, bool, error) {
	versions, err := a.registry.Versions(ctx)
	if err != nil {
		return nil, false, nil // the loop reports it; keep waiting
	}
	var mine []model.ModelVersion
	for _, v := range versions {
		if v.Name == m {
			mine = append(mine, v)
		}
	}
	d := model.DesiredFrom(mine)
	if len(d.Versions) == 0 {
		return nil, false, nil
	}
	for _, v := range d.Versions {
		switch v.Tags[model.TagDeployState] {
		case model.StateDeployed:
		case model.StateFailed:
			return nil, false, fmt.Errorf("%s version %d failed to deploy: %s", m, v.Ref.Version, v.Tags[model.TagDeployError])
		default:
			return nil, false, nil
		}
	}
	eps := map[string]demoEndpoint{}
	for _, e := range d.Endpoints {
		ep := demoEndpoint{URL: a.target.URL(e.Key)}
		for _, w := range e.Versions {
			ep.Versions = append(ep.Versions, w.Version)
		}
		eps[e.Key.Slot] = ep
	}
	return eps, true, nil
}

// demoRows are three Iris flowers, one of each species.
const demoRows = `[[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]]`

func printDemo(w io.Writer, a *app, eps map[string]demoEndpoint) {
	body := `{"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "data": ` + demoRows + `}}`
	fmt.Fprintf(w, "\nBridge is serving the example model %q (%s target).\n\n", demo.ModelName, a.target.Name())
	for _, slot := range []string{model.StageProduction, model.StageStaging} {
		ep, ok := eps[slot]
		if !ok {
			continue
		}
		u := ep.URL
		fmt.Fprintf(w, "# Ask the %s endpoint (the X-Bridge-Model-Version header names the version that answered):\n", slot)
		fmt.Fprintf(w, "curl -i -X POST %s \\\n  -H 'Content-Type: application/json' \\\n  -d '%s'\n\n", u, body)
	}
	if _, ok := a.target.(invoker); ok {
		name := local.EndpointName(model.EndpointKey{Model: demo.ModelName, Slot: model.StageProduction})
		fmt.Fprintf(w, "# The same endpoint, SageMaker-runtime style, with CSV rows:\n")
		fmt.Fprintf(w, "curl -X POST %s/endpoints/%s/invocations -H 'Content-Type: text/csv' --data-binary $'5.1,3.5,1.4,0.2\\n6.3,3.3,6.0,2.5'\n\n", a.RouterURL(), name)
	}
	if a.registryLn != nil {
		// Only while a version is left in Staging (not after it was
		// promoted, on a restart).
		if st := eps[model.StageStaging]; len(st.Versions) > 0 {
			fmt.Fprintf(w, "# Promote the Staging version to Production (archiving the old one); the endpoint follows within a second:\n")
			fmt.Fprintf(w, "curl -X POST %s/api/2.0/mlflow/model-versions/transition-stage -H 'Content-Type: application/json' \\\n  -d '{\"name\": %q, \"version\": \"%d\", \"stage\": \"Production\", \"archive_existing_versions\": true}'\n\n", a.RegistryURL(), demo.ModelName, st.Versions[len(st.Versions)-1])
		}
		fmt.Fprintf(w, "# What the registry records (bridge_deploy_state, bridge_deploy_url tags):\n")
		fmt.Fprintf(w, "curl '%s/api/2.0/mlflow/model-versions/search?filter=name%%3D%%27%s%%27'\n\n", a.RegistryURL(), demo.ModelName)
	}
	fmt.Fprintf(w, "# Everything served, and what the next pass would change:\n")
	fmt.Fprintf(w, "%s status --addr %s\n%s plan --addr %s\n\n", bridgeCommand(a.cfg), netaddr.Dialable(a.RouterAddr()), bridgeCommand(a.cfg), netaddr.Dialable(a.RouterAddr()))
	if a.ui != nil {
		fmt.Fprintf(w, "Dashboard: %s/ui/\n", a.RouterURL())
	}
	fmt.Fprintf(w, "Metrics: %s/metrics   Stop with Ctrl-C.\n", a.RouterURL())
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
