package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	appmgr "github.com/bridgeops/bridge/internal/app"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/frontdoor"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/serving/python"
	"github.com/bridgeops/bridge/internal/status"
	"github.com/bridgeops/bridge/internal/target"
)

// defaultRegistryAddr is where bridge run serves the embedded registry's
// MLflow API.
const defaultRegistryAddr = "127.0.0.1:5000"

// maxRegistryBody bounds request bodies of the embedded registry API.
const maxRegistryBody = 16 << 20

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
			opts := appOptions{Addr: runFlags.addr, RegistryAddr: runFlags.registryAddr}
			if runFlags.once {
				return runOnce(cmd.Context(), cl.cfg, opts, cmd)
			}
			a, err := startApp(cmd.Context(), cl.cfg, opts)
			if err != nil {
				return err
			}
			slog.Info("bridge run serving", "target", a.target.Name(), "addr", a.RouterAddr(), "registry", a.RegistryURL())
			return a.Wait()
		},
	}
	runCmd.Flags().BoolVar(&runFlags.once, "once", false, "run one reconcile pass and exit (status 1 if any model failed)")
	runCmd.Flags().StringVar(&runFlags.addr, "addr", "", "address of the front door (invocations, /healthz, /readyz, /metrics, /status, hooks), host:port; :3000 listens on every interface (default 127.0.0.1:$PORT, PORT default 3000)")
	runCmd.Flags().StringVar(&runFlags.registryAddr, "registry-addr", defaultRegistryAddr, "address the embedded registry's MLflow API listens on (unused with BRIDGE_MLFLOW_URI)")
	addMonitorRunFlags(runCmd)
	return runCmd
}

// appOptions configure the parts of bridge run.
type appOptions struct {
	// Addr is the front door's listen address; empty means 127.0.0.1:$PORT.
	Addr string
	// RegistryAddr is the embedded registry API's listen address; empty
	// means defaultRegistryAddr.
	RegistryAddr string
	// Reconcile overrides loop settings (tests: backoff); Registry, Target,
	// Metrics and Interval are filled in.
	Reconcile reconcile.Options
}

// app is bridge run: its parts, run by an app.Manager in the order they
// are added (and stopped in reverse): registry, monitoring, Python
// runtime, deploy target, reconcile loop, registry API, front door.
type app struct {
	cfg      config.Config
	store    *store.Store // nil with an external registry
	registry registry.Registry
	target   target.Target
	loop     *reconcile.Reconciler
	metrics  *prometheus.Registry
	door     *frontdoor.Door
	parts    *appmgr.Manager
	ui       http.Handler // the dashboard (ui_wiring.go); nil when off

	routerLn, registryLn net.Listener
}

// newApp builds every part of bridge run without starting any (the
// registry and the target are opened: later steps need them). On error
// what was opened is closed again.
func newApp(ctx context.Context, c config.Config, o appOptions) (_ *app, err error) {
	a := &app{cfg: c, metrics: newMetrics(), parts: appmgr.New(slog.Default(), c.DrainTimeout)}
	defer func() {
		if err != nil {
			a.parts.Shutdown(context.Background())
		}
	}()
	reg, st, closeReg, err := openRegistry(ctx, c)
	if err != nil {
		return nil, err
	}
	a.store, a.registry = st, reg
	a.parts.Add("registry", appmgr.Closer(func(context.Context) error { closeReg(); return nil }))

	sink, stopMonitoring, err := startMonitoring(ctx, c, storeDB(st), a.metrics)
	if err != nil {
		return nil, fmt.Errorf("start monitoring: %w", err)
	}
	a.parts.Add("monitoring", appmgr.Closer(func(context.Context) error { stopMonitoring(); return nil }))
	// Idle pre-started Python servers stop after the target's models.
	a.parts.Add("python runtime", appmgr.Closer(func(context.Context) error { python.Default().StopPrestarted(); return nil }))

	tgt, err := newTarget(ctx, c, newFetcher(c, st, reg), a.metrics, sink)
	if err != nil {
		return nil, err
	}
	a.target = tgt
	a.parts.Add("deploy target", appmgr.Closer(func(ctx context.Context) error { return closeTarget(ctx, tgt) }))

	ro := o.Reconcile
	ro.Registry, ro.Target, ro.Metrics, ro.Interval = reg, tgt, a.metrics, c.ScanInterval
	if a.loop, err = reconcile.New(ro); err != nil {
		return nil, err
	}
	a.parts.Add("reconcile loop", appmgr.Background(a.loop.Run, a.markStopped))
	return a, nil
}

// markStopped tags the versions of a process-bound target (localhost)
// STOPPED once nothing serves them any more; SageMaker endpoints outlive
// Bridge and keep their tags.
func (a *app) markStopped(ctx context.Context) error {
	if pb, ok := a.target.(target.ProcessBound); !ok || !pb.ProcessBound() {
		return nil
	}
	n, err := a.loop.MarkStopped(ctx)
	if err != nil {
		return fmt.Errorf("tag versions %s: %w", model.StateStopped, err)
	}
	if n > 0 {
		slog.Info("tagged served versions "+model.StateStopped, "tag_writes", n)
	}
	return nil
}

func storeDB(st *store.Store) *sql.DB {
	if st == nil {
		return nil
	}
	return st.DB()
}

// startApp starts bridge run: it listens on the front door's and the
// registry's addresses and starts every part, which run until ctx is done,
// Stop, or a part fails.
func startApp(ctx context.Context, c config.Config, o appOptions) (*app, error) {
	a, err := newApp(ctx, c, o)
	if err != nil {
		return nil, err
	}
	if err := a.listen(o); err != nil {
		a.parts.Shutdown(context.Background())
		return nil, err
	}
	if err := a.parts.Start(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// invoker is implemented by targets that serve invocations in this
// process (localhost): the front door mounts their routes.
type invoker interface{ Invocations() http.Handler }

// listen opens the listeners and adds the HTTP servers: the embedded
// registry's MLflow API (without BRIDGE_MLFLOW_URI) and the front door.
func (a *app) listen(o appOptions) error {
	addr := o.Addr
	if addr == "" {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.cfg.Port))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another address with --addr or PORT)", addr, err)
	}
	a.routerLn = ln
	if s, ok := a.target.(addrSetter); ok {
		s.SetAddr(ln.Addr().String())
	}
	if a.store != nil {
		raddr := o.RegistryAddr
		if raddr == "" {
			raddr = defaultRegistryAddr
		}
		rln, err := net.Listen("tcp", raddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s for the registry API: %w (pick another address with --registry-addr)", raddr, err)
		}
		a.registryLn = rln
		api := mlflowapi.New(a.store, mlflowapi.Options{ArtifactRoot: a.store.ArtifactRoot(), Token: a.cfg.RegistryToken, MaxBodyBytes: maxRegistryBody})
		a.parts.Add("registry API", appmgr.Server(rln, api))
	}
	fo := frontdoor.Options{
		Target: a.target.Name(), Metrics: a.metrics, Ready: a.loop.Ready,
		Status: status.Handler(a.target, a.loop.Last), Wake: a.loop.Wake,
	}
	if inv, ok := a.target.(invoker); ok {
		fo.Invocations = inv.Invocations()
	}
	a.door = frontdoor.New(fo)
	// New pages go here, like the dashboard.
	if err := a.setupUI(); err != nil {
		ln.Close()
		if a.registryLn != nil {
			a.registryLn.Close()
		}
		return err
	}
	a.mountUI(a.door.Handle)
	a.parts.Add("front door", appmgr.Server(ln, a.door))
	return nil
}

// RouterAddr is the address the front door listens on.
func (a *app) RouterAddr() string { return a.routerLn.Addr().String() }

// RouterURL is the front door's base URL (http://127.0.0.1:PORT).
func (a *app) RouterURL() string { return "http://" + netaddr.Dialable(a.RouterAddr()) }

// RegistryURL is the registry's base URL: the embedded API's, or
// BRIDGE_MLFLOW_URI.
func (a *app) RegistryURL() string {
	if a.registryLn == nil {
		return a.cfg.MLflowURI
	}
	return "http://" + netaddr.Dialable(a.registryLn.Addr().String())
}

// Stop stops every part; Wait returns once they have.
func (a *app) Stop() { a.parts.Stop() }

// Wait blocks until the app has stopped and returns the first error that
// stopped it (nil after a signal or Stop).
func (a *app) Wait() error { return a.parts.Wait() }

// runOnce is bridge run --once: one pass, no servers.
func runOnce(ctx context.Context, c config.Config, o appOptions, cmd *cobra.Command) error {
	a, err := newApp(ctx, c, o)
	if err != nil {
		return err
	}
	defer a.parts.Shutdown(context.WithoutCancel(ctx))
	res, err := a.loop.RunOnce(ctx)
	if err != nil {
		return err
	}
	// What the pass loaded stops with this process.
	if err := a.markStopped(context.WithoutCancel(ctx)); err != nil {
		slog.Warn("after the pass", "err", err)
	}
	out := cmd.OutOrStdout()
	for _, ap := range res.Actions {
		switch {
		case ap.Skipped:
			fmt.Fprintf(out, "skipped  %s\n", ap.Action)
		case ap.Err != nil:
			fmt.Fprintf(out, "FAILED   %s: %v\n", ap.Action, ap.Err)
		default:
			fmt.Fprintf(out, "done     %s\n", ap.Action)
		}
	}
	fmt.Fprintf(out, "%d action(s), %d tag write(s) in %s\n", len(res.Actions), res.TagWrites, res.Duration.Round(time.Millisecond))
	if len(res.Failed) > 0 {
		models := make([]string, 0, len(res.Failed))
		for m, why := range res.Failed {
			models = append(models, m+": "+why)
		}
		sort.Strings(models)
		return &exitError{code: 1, err: fmt.Errorf("%d model(s) failed:\n  %s", len(models), strings.Join(models, "\n  "))}
	}
	return nil
}
