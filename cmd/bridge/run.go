package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/serving/python"
	"github.com/bridgeops/bridge/internal/target"
)

// defaultRegistryAddr is where bridge run serves the embedded registry's
// MLflow API.
const defaultRegistryAddr = "127.0.0.1:5000"

// maxRegistryBody bounds request bodies of the embedded registry API.
const maxRegistryBody = 16 << 20

var runFlags struct {
	once         bool
	addr         string
	registryAddr string
}

var runCmd = &cobra.Command{
	Use:   "run",
	Short: "Make the deploy target serve what the registry says, and keep it so",
	Long: `Run the reconcile loop: read the registry (desired state) and the deploy
target (actual state), apply the difference model by model, and write the
outcome back to each version as tags (bridge_deploy_state, bridge_deploy_url,
bridge_deploy_error).

With BRIDGE_MLFLOW_URI unset the registry is the embedded one in BRIDGE_HOME,
and bridge run serves its MLflow REST API on --registry-addr. With
BRIDGE_DEPLOY_KIND=localhost (the default) the models are served on --addr:

  POST /<model>/<stage-or-alias>/invocations
  POST /endpoints/brdg-<model>-<stage-or-alias>/invocations

next to GET /ping, /healthz, /metrics, /status and the dashboard at /ui/, and
POST /hooks/registry, which wakes the loop at once (for an external
registry's webhooks). The loop
also wakes on every change of the embedded registry and polls every
BRIDGE_SCAN_INTERVAL_S seconds. SIGINT or SIGTERM stops it cleanly.`,
	Example: `  bridge run
  bridge run --addr :8080 --registry-addr 127.0.0.1:5001
  BRIDGE_MLFLOW_URI=http://mlflow:5000 bridge run
  bridge run --once            # one pass; exit status 1 if a model failed`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, args []string) error {
		opts := appOptions{Addr: runFlags.addr, RegistryAddr: runFlags.registryAddr, Cmd: cmd}
		if runFlags.once {
			return runOnce(cmd.Context(), cfg, opts, cmd)
		}
		a, err := startApp(cmd.Context(), cfg, opts)
		if err != nil {
			return err
		}
		slog.Info("bridge run serving", "target", a.target.Name(), "addr", a.RouterAddr(), "registry", a.RegistryURL())
		return a.Wait()
	},
}

func init() {
	runCmd.Flags().BoolVar(&runFlags.once, "once", false, "run one reconcile pass and exit (status 1 if any model failed)")
	runCmd.Flags().StringVar(&runFlags.addr, "addr", "", "address of the model router and hooks, host:port or :port (default :$PORT, PORT default 3000)")
	runCmd.Flags().StringVar(&runFlags.registryAddr, "registry-addr", defaultRegistryAddr, "address the embedded registry's MLflow API listens on (unused with BRIDGE_MLFLOW_URI)")
	addMonitorRunFlags(runCmd)
	rootCmd.AddCommand(runCmd)
}

// appOptions configure the parts of bridge run.
type appOptions struct {
	// Addr is the router's listen address; empty means :$PORT.
	Addr string
	// RegistryAddr is the embedded registry API's listen address; empty
	// means defaultRegistryAddr.
	RegistryAddr string
	// Cmd carries the monitoring flags (addMonitorRunFlags).
	Cmd *cobra.Command
	// Reconcile overrides loop settings (tests: backoff); Registry, Target,
	// Metrics and Interval are filled in.
	Reconcile reconcile.Options
}

// app is a running bridge run: registry, target, loop and HTTP servers.
type app struct {
	cfg      config.Config
	store    *store.Store // nil with an external registry
	registry registry.Registry
	target   target.Target
	loop     *reconcile.Reconciler
	metrics  *prometheus.Registry
	ui       http.Handler // the dashboard (ui_wiring.go); nil when off

	routerLn, registryLn net.Listener
	servers              []served

	cancel      context.CancelFunc
	done        chan struct{} // closed when the loop and servers have stopped
	errMu       sync.Mutex
	err         error
	closers     []func(context.Context) error // run in reverse order by shutdown
	stopOnce    sync.Once
	serversOnce sync.Once
}

// newApp builds every part of bridge run without starting anything but
// what later steps need (the registry and the target).
func newApp(ctx context.Context, c config.Config, o appOptions) (a *app, err error) {
	a = &app{cfg: c, metrics: newMetrics(), done: make(chan struct{})}
	built := a // the error returns below set a to nil
	defer func() {
		if err != nil {
			built.shutdown(context.Background())
		}
	}()
	reg, st, closeReg, err := openRegistry(ctx, c)
	if err != nil {
		return nil, err
	}
	a.store, a.registry = st, reg
	a.closers = append(a.closers, func(context.Context) error { closeReg(); return nil })

	sink, stopMonitoring, err := startMonitoring(ctx, o.Cmd, storeDB(st), a.metrics)
	if err != nil {
		return nil, fmt.Errorf("start monitoring: %w", err)
	}
	a.closers = append(a.closers, func(context.Context) error { stopMonitoring(); return nil })

	tgt, err := newTarget(ctx, c, newFetcher(c, st, reg), a.metrics, sink)
	if err != nil {
		return nil, err
	}
	a.target = tgt
	// Idle pre-started Python servers go after the target's models (closers
	// run in reverse order).
	a.closers = append(a.closers, func(context.Context) error { python.Default().StopPrestarted(); return nil })
	a.closers = append(a.closers, func(ctx context.Context) error { return closeTarget(ctx, tgt) })

	ro := o.Reconcile
	ro.Registry, ro.Target, ro.Metrics, ro.Interval = reg, tgt, a.metrics, c.ScanInterval
	if a.loop, err = reconcile.New(ro); err != nil {
		return nil, err
	}
	return a, nil
}

func storeDB(st *store.Store) *sql.DB {
	if st == nil {
		return nil
	}
	return st.DB()
}

// startApp starts bridge run: it listens on the router and registry
// addresses, serves them and runs the loop until ctx is done or Stop.
func startApp(ctx context.Context, c config.Config, o appOptions) (*app, error) {
	a, err := newApp(ctx, c, o)
	if err != nil {
		return nil, err
	}
	if err := a.listen(o); err != nil {
		a.shutdown(context.Background())
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	var served sync.WaitGroup
	for _, s := range a.servers {
		served.Add(1)
		go func() {
			defer served.Done()
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.setErr(fmt.Errorf("serve %s: %w", s.ln.Addr(), err))
				cancel()
			}
		}()
	}
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		if err := a.loop.Run(runCtx); err != nil {
			a.setErr(err)
		}
	}()
	// Stop on the caller's context (SIGINT/SIGTERM) as on Stop.
	go func() {
		select {
		case <-ctx.Done():
			cancel()
		case <-runCtx.Done():
		}
	}()
	go func() {
		<-runCtx.Done()
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		// No new requests; in-flight ones finish. The loop finishes its
		// pass (its context is cancelled) before the target and the
		// registry close under it.
		a.stopServers(sctx)
		served.Wait()
		<-loopDone
		a.shutdown(sctx)
		close(a.done)
	}()
	return a, nil
}

// listen opens the listeners and builds the HTTP servers: the router (the
// target's, or one of our own for targets without one) and, for the
// embedded registry, its MLflow API.
func (a *app) listen(o appOptions) error {
	addr := o.Addr
	if addr == "" {
		addr = ":" + strconv.Itoa(a.cfg.Port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (pick another address with --addr or PORT)", addr, err)
	}
	a.routerLn = ln
	if err := a.setupUI(o); err != nil {
		return err
	}
	if s, ok := a.target.(addrSetter); ok {
		s.SetAddr(ln.Addr().String())
	}
	a.servers = append(a.servers, served{newServer(a.routerHandler()), ln})

	if a.store != nil {
		raddr := o.RegistryAddr
		if raddr == "" {
			raddr = defaultRegistryAddr
		}
		rln, err := net.Listen("tcp", raddr)
		if err != nil {
			return fmt.Errorf("listen on %s for the registry API: %w (pick another address with --registry-addr)", raddr, err)
		}
		a.registryLn = rln
		api := mlflowapi.New(a.store, mlflowapi.Options{ArtifactRoot: a.store.ArtifactRoot(), Token: a.cfg.RegistryToken, MaxBodyBytes: maxRegistryBody})
		a.servers = append(a.servers, served{newServer(api), rln})
	}
	return nil
}

// served is an HTTP server and the listener it serves.
type served struct {
	srv *http.Server
	ln  net.Listener
}

func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
}

// routerHandler is what --addr serves: the target's router with the hook
// and /status mounted, or for targets without a router a mux with
// /metrics, /healthz, /status and the hook.
func (a *app) routerHandler() http.Handler {
	hook := http.HandlerFunc(a.serveHook)
	status := http.HandlerFunc(a.serveStatus)
	if r, ok := a.target.(router); ok {
		r.Handle("POST /hooks/registry", hook)
		r.Handle("GET /status", status)
		a.mountUI(r.Handle)
		return r.Handler()
	}
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/registry", hook)
	mux.Handle("GET /status", status)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", a.serveHealth)
	mux.HandleFunc("GET /ping", a.serveHealth)
	a.mountUI(mux.Handle)
	return mux
}

// serveHook wakes the loop. Waking is harmless (a pass acts on observed
// state only) and coalesced, so the hook takes no body and no credentials.
func (a *app) serveHook(w http.ResponseWriter, r *http.Request) {
	a.loop.Wake()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, `{"status":"reconcile pass scheduled"}`)
}

// serveHealth answers for targets without a router: 200 when the last pass
// could observe the registry and the target, 503 with the reason otherwise.
func (a *app) serveHealth(w http.ResponseWriter, r *http.Request) {
	_, err, at := a.loop.Last()
	w.Header().Set("Content-Type", "application/json")
	body := map[string]any{"target": a.target.Name(), "last_pass": at}
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		body["error"] = err.Error()
	}
	json.NewEncoder(w).Encode(body)
}

// serveStatus answers GET /status: what the target serves now and how the
// last reconcile pass went (bridge status and bridge plan read it).
func (a *app) serveStatus(w http.ResponseWriter, r *http.Request) {
	actual, err := a.target.Observe(r.Context())
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf("observe %s target: %v", a.target.Name(), err)})
		return
	}
	res, lastErr, at := a.loop.Last()
	doc := newStatusDoc(a.target.Name(), actual)
	doc.Reconcile = &passDoc{LastPass: at, Duration: res.Duration.String(), Failed: res.Failed, Deferred: res.Deferred, Actions: passActions(res)}
	if lastErr != nil {
		doc.Reconcile.Error = lastErr.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(doc)
}

func (a *app) setErr(err error) {
	a.errMu.Lock()
	defer a.errMu.Unlock()
	if a.err == nil {
		a.err = err
	}
}

// RouterAddr is the address the router listens on.
func (a *app) RouterAddr() string { return a.routerLn.Addr().String() }

// RouterURL is the router's base URL (http://127.0.0.1:PORT).
func (a *app) RouterURL() string { return "http://" + loopbackAddr(a.routerLn.Addr()) }

// RegistryURL is the registry's base URL: the embedded API's, or
// BRIDGE_MLFLOW_URI.
func (a *app) RegistryURL() string {
	if a.registryLn == nil {
		return a.cfg.MLflowURI
	}
	return "http://" + loopbackAddr(a.registryLn.Addr())
}

// loopbackAddr turns a wildcard listen address into one a local client can
// dial.
func loopbackAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Stop stops the loop and the servers; Wait returns once they have.
func (a *app) Stop() { a.cancel() }

// Wait blocks until the app has stopped and returns the first error that
// stopped it (nil after a signal or Stop).
func (a *app) Wait() error {
	<-a.done
	a.errMu.Lock()
	defer a.errMu.Unlock()
	return a.err
}

// stopServers shuts the HTTP servers down: listeners close, in-flight
// requests finish.
func (a *app) stopServers(ctx context.Context) {
	a.serversOnce.Do(func() {
		for _, s := range a.servers {
			if err := s.srv.Shutdown(ctx); err != nil {
				slog.Warn("shut down HTTP server", "err", err)
			}
		}
	})
}

// shutdown stops the servers, then closes the target (models drain and
// close), monitoring and the registry. Only the first call acts.
func (a *app) shutdown(ctx context.Context) {
	a.stopOnce.Do(func() {
		a.stopServers(ctx)
		for _, ln := range []net.Listener{a.routerLn, a.registryLn} {
			if ln != nil {
				ln.Close() // listeners never served (a failed start)
			}
		}
		for i := len(a.closers) - 1; i >= 0; i-- {
			if err := a.closers[i](ctx); err != nil {
				slog.Warn("shut down", "err", err)
			}
		}
	})
}

// runOnce is bridge run --once: one pass, no servers.
func runOnce(ctx context.Context, c config.Config, o appOptions, cmd *cobra.Command) error {
	a, err := newApp(ctx, c, o)
	if err != nil {
		return err
	}
	defer a.shutdown(context.WithoutCancel(ctx))
	res, err := a.loop.RunOnce(ctx)
	if err != nil {
		return err
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
