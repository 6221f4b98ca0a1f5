package bridgerun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	appmgr "github.com/bridgeops/bridge/internal/app"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/frontdoor"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/serving/runtimes"
	"github.com/bridgeops/bridge/internal/status"
	"github.com/bridgeops/bridge/internal/target"
)

// DefaultRegistryAddr is where bridge run serves the embedded registry's
// MLflow API.
const DefaultRegistryAddr = "127.0.0.1:5000"

// maxRegistryBody bounds request bodies of the embedded registry API.
const maxRegistryBody = 16 << 20

// Options configure the parts of bridge run.
type Options struct {
	// Addr is the front door's listen address; empty means 127.0.0.1:$PORT.
	Addr string
	// RegistryAddr is the embedded registry API's listen address; empty
	// means DefaultRegistryAddr.
	RegistryAddr string
	// Reconcile overrides loop settings (tests: backoff); Registry, Target,
	// Metrics and Interval are filled in.
	Reconcile reconcile.Options
}

// App is bridge run: its parts, run by an app.Manager in the order they
// are added (and stopped in reverse): registry, monitoring, Python
// runtime, deploy target, reconcile loop, registry API, front door.
type App struct {
	Config   config.Config
	Store    *store.Store // nil with an external registry
	Registry registry.Registry
	Target   target.Target
	Loop     *reconcile.Reconciler
	// Dashboard is the dashboard mounted at /ui/; nil when BRIDGE_UI=false.
	Dashboard http.Handler

	metrics *prometheus.Registry
	door    *frontdoor.Door
	parts   *appmgr.Manager

	routerLn, registryLn net.Listener
}

// newApp builds every part of bridge run without starting any (the
// registry and the target are opened: later steps need them). On error
// what was opened is closed again.
func newApp(ctx context.Context, c config.Config, o Options) (_ *App, err error) {
	a := &App{Config: c, metrics: newMetrics(), parts: appmgr.New(slog.Default(), c.DrainTimeout)}
	defer func() {
		if err != nil {
			a.parts.Shutdown(context.Background())
		}
	}()
	reg, st, closeReg, err := OpenRegistry(ctx, c)
	if err != nil {
		return nil, err
	}
	a.Store, a.Registry = st, reg
	a.parts.Add("registry", appmgr.Closer(func(context.Context) error { closeReg(); return nil }))

	sink, stopMonitoring, err := startMonitoring(ctx, c, StoreDB(st), a.metrics)
	if err != nil {
		return nil, fmt.Errorf("start monitoring: %w", err)
	}
	a.parts.Add("monitoring", appmgr.Closer(func(context.Context) error { stopMonitoring(); return nil }))
	// The model runtimes stop after the target has closed its models: no
	// Python server (pre-started or left over) outlives them.
	models := runtimes.New(runtimes.FromConfig(c))
	a.parts.Add("model runtimes", models)

	tgt, err := NewTarget(ctx, c, newFetcher(c, st, reg), a.metrics, sink, models)
	if err != nil {
		return nil, err
	}
	a.Target = tgt
	a.parts.Add("deploy target", appmgr.Closer(func(ctx context.Context) error { return closeTarget(ctx, tgt) }))

	ro := o.Reconcile
	ro.Registry, ro.Target, ro.Metrics, ro.Interval = reg, tgt, a.metrics, c.ScanInterval
	if a.Loop, err = reconcile.New(ro); err != nil {
		return nil, err
	}
	a.parts.Add("reconcile loop", appmgr.Background(a.Loop.Run, a.markStopped))
	return a, nil
}

// markStopped tags the versions of a process-bound target (localhost)
// STOPPED once nothing serves them any more; SageMaker endpoints outlive
// Bridge and keep their tags.
func (a *App) markStopped(ctx context.Context) error {
	if pb, ok := a.Target.(target.ProcessBound); !ok || !pb.ProcessBound() {
		return nil
	}
	n, err := a.Loop.MarkStopped(ctx)
	if err != nil {
		return fmt.Errorf("tag versions %s: %w", model.StateStopped, err)
	}
	if n > 0 {
		slog.Info("tagged served versions "+model.StateStopped, "tag_writes", n)
	}
	return nil
}

// Start starts bridge run: it listens on the front door's and the
// registry's addresses and starts every part, which run until ctx is done,
// Stop, or a part fails.
func Start(ctx context.Context, c config.Config, o Options) (*App, error) {
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

// Invoker is implemented by targets that serve invocations in this
// process (localhost): the front door mounts their routes.
type Invoker interface{ Invocations() http.Handler }

// listen opens the listeners and adds the HTTP servers: the embedded
// registry's MLflow API (without BRIDGE_MLFLOW_URI) and the front door.
func (a *App) listen(o Options) error {
	addr := o.Addr
	if addr == "" {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Config.Port))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another address with --addr or PORT)", addr, err)
	}
	a.routerLn = ln
	if s, ok := a.Target.(addrSetter); ok {
		s.SetAddr(ln.Addr().String())
	}
	if a.Store != nil {
		raddr := o.RegistryAddr
		if raddr == "" {
			raddr = DefaultRegistryAddr
		}
		rln, err := net.Listen("tcp", raddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s for the registry API: %w (pick another address with --registry-addr)", raddr, err)
		}
		a.registryLn = rln
		api := mlflowapi.New(a.Store, mlflowapi.Options{ArtifactRoot: a.Store.ArtifactRoot(), Token: a.Config.RegistryToken, MaxBodyBytes: maxRegistryBody})
		a.parts.Add("registry API", appmgr.Server(rln, api))
	}
	fo := frontdoor.Options{
		Target: a.Target.Name(), Metrics: a.metrics, Ready: a.Loop.Ready,
		Status: status.Handler(a.Target, a.Loop.Last), Wake: a.Loop.Wake,
	}
	if inv, ok := a.Target.(Invoker); ok {
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
func (a *App) RouterAddr() string { return a.routerLn.Addr().String() }

// RouterURL is the front door's base URL (http://127.0.0.1:PORT).
func (a *App) RouterURL() string { return "http://" + a.dialableRouterAddr() }

func (a *App) dialableRouterAddr() string { return netaddr.Dialable(a.RouterAddr()) }

// RegistryURL is the registry's base URL: the embedded API's, or
// BRIDGE_MLFLOW_URI.
func (a *App) RegistryURL() string {
	if a.registryLn == nil {
		return a.Config.MLflowURI
	}
	return "http://" + netaddr.Dialable(a.registryLn.Addr().String())
}

// ServesRegistryAPI reports whether bridge run serves the embedded
// registry's MLflow API (no BRIDGE_MLFLOW_URI).
func (a *App) ServesRegistryAPI() bool { return a.registryLn != nil }

// Stop stops every part; Wait returns once they have.
func (a *App) Stop() { a.parts.Stop() }

// Wait blocks until the app has stopped and returns the first error that
// stopped it (nil after a signal or Stop).
func (a *App) Wait() error { return a.parts.Wait() }

// Once is bridge run --once: it builds the parts without servers, runs one
// pass, tags what the pass loaded STOPPED (it stops with this process)
// and closes everything.
func Once(ctx context.Context, c config.Config, o Options) (reconcile.Result, error) {
	a, err := newApp(ctx, c, o)
	if err != nil {
		return reconcile.Result{}, err
	}
	defer a.parts.Shutdown(context.WithoutCancel(ctx))
	res, err := a.Loop.RunOnce(ctx)
	if err != nil {
		return res, err
	}
	if err := a.markStopped(context.WithoutCancel(ctx)); err != nil {
		slog.Warn("after the pass", "err", err)
	}
	return res, nil
}

// WriteOnce prints a pass's actions and totals, as bridge run --once does,
// and returns an error naming the models that failed (nil when none did).
func WriteOnce(out io.Writer, res reconcile.Result) error {
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
	if len(res.Failed) == 0 {
		return nil
	}
	models := make([]string, 0, len(res.Failed))
	for m, why := range res.Failed {
		models = append(models, m+": "+why)
	}
	sort.Strings(models)
	return fmt.Errorf("%d model(s) failed:\n  %s", len(models), strings.Join(models, "\n  "))
}
