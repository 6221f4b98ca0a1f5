package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/tsdb"
	"github.com/bridgeops/bridge/internal/ui"
	"github.com/bridgeops/bridge/internal/ui/bridgeapp"
)

func newUICmd(cl *bridgeCLI) *cobra.Command {
	var uiFlags struct {
		addr   string
		bridge string
	}
	uiCmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve the dashboard, read-only, for a running Bridge or a home folder",
		Long: `Serve Bridge's web dashboard on its own, read-only: what is served, the
traffic, error and latency history, captured requests, the registry's
models, monitoring schedules and executions.

bridge run serves the same dashboard at /ui/ of its router address, with
actions (promote, archive, set alias, approve) when BRIDGE_REGISTRY_TOKEN is
set. bridge ui never writes: it reads the serving state from the running
bridge run at --bridge (GET /status), or, when none answers, from the
registry's deploy tags; the registry, the time series, captures and
monitoring history from BRIDGE_HOME (or BRIDGE_MLFLOW_URI's registry).`,
		Example: `  bridge ui                                   # http://127.0.0.1:8080/ui/
  bridge ui --addr 127.0.0.1:9000 --bridge 127.0.0.1:3000
  bridge ui --home /srv/bridge/.bridge`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			srv, ln, closeAll, err := newReadOnlyUI(cmd.Context(), cl.cfg, uiFlags.addr, uiFlags.bridge)
			if err != nil {
				return err
			}
			defer closeAll()
			fmt.Fprintf(cmd.OutOrStdout(), "dashboard (read-only): http://%s/ui/\n", netaddr.Dialable(ln.Addr().String()))
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-cmd.Context().Done():
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				srv.Shutdown(sctx)
				return nil
			}
		},
	}
	uiCmd.Flags().StringVar(&uiFlags.addr, "addr", "127.0.0.1:8080", "address the dashboard listens on")
	uiCmd.Flags().StringVar(&uiFlags.bridge, "bridge", "", "address or URL of the running bridge run (default 127.0.0.1:$PORT)")
	return uiCmd
}

// newReadOnlyUI builds bridge ui's server and listener.
func newReadOnlyUI(ctx context.Context, c config.Config, addr, bridge string) (*http.Server, net.Listener, func(), error) {
	s, err := c.UI()
	if err != nil {
		return nil, nil, nil, err
	}
	bridge = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(bridge, "http://"), "https://"), "/")
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	reg, st, closeReg, err := openRegistry(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	closers = append(closers, closeReg)
	t, err := newTarget(ctx, c, nil, nil, nil)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	opts := ui.Options{
		Status:   bridgeapp.RemoteStatus{Addr: runAddr(c, bridge), Registry: reg, Target: t},
		Registry: reg,
		Series:   &tsdb.Follower{Path: s.SeriesPath, Every: 5 * time.Second},
		Refresh:  s.Refresh,
		ReadOnly: "bridge ui is read-only; actions are on bridge run's dashboard (/ui/ on its router address)",
	}
	opts.Captures = ui.CaptureDir{Root: c.Monitoring.CaptureDir}
	mdb := storeDB(st)
	if mdb == nil {
		if mdb, err = openMonitorDB(c.Home); err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		closers = append(closers, func() { mdb.Close() })
	}
	if opts.Monitor, err = bridgeapp.OpenScheduleStore(mdb); err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	opts.Pipelines = pipelineSource(mdb)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		closeAll()
		return nil, nil, nil, fmt.Errorf("listen on %s: %w (pick another address with --addr)", addr, err)
	}
	mux := http.NewServeMux()
	d := ui.New(opts)
	mux.Handle("/ui/", d)
	mux.Handle("/ui", d)
	mux.Handle("/{$}", http.RedirectHandler("/ui/", http.StatusFound))
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}, ln, closeAll, nil
}
